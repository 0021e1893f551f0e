#pragma once

#include <mutex>
#include <string>
#include <unordered_set>

namespace tel::metrics {

// The tenant_id label of per-tenant telephony metrics. One series per tenant suits hundreds or
// thousands of tenants, not millions: the first `max_tenants` distinct tenants get their own label,
// every later one counts as "other". Thread-safe.
class TenantLabels {
 public:
  static constexpr const char* kOther = "other";
  explicit TenantLabels(size_t max_tenants) : max_tenants_(max_tenants) {}

  std::string of(const std::string& tenant_id) {
    std::lock_guard lock(mutex_);
    if (tenants_.contains(tenant_id)) return tenant_id;
    if (tenants_.size() >= max_tenants_) return kOther;
    tenants_.insert(tenant_id);
    return tenant_id;
  }

 private:
  const size_t max_tenants_;
  std::mutex mutex_;
  std::unordered_set<std::string> tenants_;
};

}  // namespace tel::metrics
