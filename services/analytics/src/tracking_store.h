#pragma once

#include <grpcpp/grpcpp.h>

#include <memory>
#include <vector>

#include "tel/analytics/v1/tracking.pb.h"
#include "tel/pg/connection_pool.h"

namespace tel::analytics {

namespace v1 = ::tel::analytics::v1;

// Call tracking in Postgres (deploy/migrations/0007_call_tracking.sql and 0009): sites, their
// numbers, visitor sessions and the holds of pool numbers that attribute calls. Every method runs
// in one transaction scoped to the tenant; visits are one statement per batch of visits
// (tel_tracking_visit per visit), each finding its tenant from the public site key.
// Number assignment is safe with several analytics instances at once: a free number is taken
// under a row lock (FOR UPDATE SKIP LOCKED), so two sessions never hold one number together.
// Thread-safe: every call leases its own connection.
class TrackingStore {
 public:
  explicit TrackingStore(std::shared_ptr<pg::ConnectionPool> pool) : pool_(std::move(pool)) {}

  grpc::Status createSite(const v1::CreateSiteRequest& request, v1::Site* out);
  grpc::Status listSites(const std::string& tenant_id, v1::ListSitesResponse* out);
  grpc::Status getSite(const v1::SiteRef& ref, v1::Site* out);
  grpc::Status deleteSite(const v1::SiteRef& ref);
  grpc::Status addNumber(const v1::AddNumberRequest& request, v1::TrackingNumber* out);
  grpc::Status removeNumber(const v1::RemoveNumberRequest& request);
  grpc::Status poolUsage(const v1::PoolUsageRequest& request, v1::PoolUsage* out);

  // Visits of any sites (each already through checkVisit), in one statement: tel_tracking_visit
  // once per visit, in order, then one commit. statuses[i] answers requests[i] and responses[i]:
  // NOT_FOUND for an unknown site key, UNAVAILABLE for all when the database is unreachable.
  // Throws on any other database error (then no visit of the batch took effect).
  std::vector<grpc::Status> visitBatch(const std::vector<const v1::VisitRequest*>& requests,
                                       const std::vector<v1::VisitResponse*>& responses);

 private:
  std::shared_ptr<pg::ConnectionPool> pool_;
};

}  // namespace tel::analytics
