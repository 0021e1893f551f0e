#pragma once

#include <absl/status/statusor.h>
#include <grpcpp/grpcpp.h>

#include <memory>
#include <optional>
#include <string>

#include "dial_plan.h"
#include "tel/cache/ttl_cache.h"
#include "tel/pg/connection_pool.h"
#include "tel/routing/v1/dial_plans.pb.h"

namespace tel::routing {

// Where routing reads the plan a new call follows. Blocking; thread-safe.
class PlanSource {
 public:
  virtual ~PlanSource() = default;
  // The tenant's current plan; nullptr when the tenant has none (its numbers use their own route).
  virtual absl::StatusOr<std::shared_ptr<const DialPlan>> plan(const std::string& tenant_id) = 0;
};

// Dial plans in Postgres (table dial_plans, migration 0016), every read and write in the tenant's
// transaction. Calls read through a short cache (`cache_ttl`): a saved plan reaches the calls of
// this instance at once and those of other routing instances within the TTL. Thread-safe.
class PlanStore final : public PlanSource {
 public:
  PlanStore(std::shared_ptr<pg::ConnectionPool> pool, std::chrono::milliseconds cache_ttl);

  absl::StatusOr<std::shared_ptr<const DialPlan>> plan(const std::string& tenant_id) override;

  // The gRPC methods' work (tel.routing.v1.DialPlans).
  grpc::Status get(const std::string& tenant_id, v1::DialPlan* out);
  grpc::Status put(const v1::PutDialPlanRequest& request, v1::DialPlan* out);
  grpc::Status preview(const v1::PreviewCallRequest& request, absl::Time now, v1::CallPreview* out);

 private:
  struct Stored {
    std::shared_ptr<const DialPlan> plan;  // nullptr: none saved
    std::string time_zone;                 // the tenant's
    std::optional<int64_t> updated_at_micros;
  };
  Stored loadInTransaction(pqxx::work& txn, const std::string& tenant_id);

  std::shared_ptr<pg::ConnectionPool> pool_;
  cache::TtlCache<std::shared_ptr<const DialPlan>> cache_;
};

}  // namespace tel::routing
