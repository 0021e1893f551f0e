#pragma once

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include <string>
#include <unordered_set>

#include "cdr_store.h"

namespace tel::cdr {

// Telephony metrics per tenant, from the calls whose end was just recorded: calls by disposition
// (answer rate = answered / all) and time to answer. One series per tenant suits hundreds or
// thousands of tenants, not millions: beyond `max_tenants` distinct tenants, calls are counted
// under tenant_id="other". Used from the ingest thread only.
class TenantCallMetrics {
 public:
  TenantCallMetrics(prometheus::Registry& registry, size_t max_tenants);
  void record(const CompletedCall& call);

 private:
  std::string tenantLabel(const std::string& tenant_id);

  prometheus::Family<prometheus::Counter>& calls_;
  prometheus::Family<prometheus::Histogram>& time_to_answer_;
  size_t max_tenants_;
  std::unordered_set<std::string> tenants_;
};

}  // namespace tel::cdr
