#pragma once

#include <grpcpp/grpcpp.h>

#include <memory>

#include "tel/analytics/v1/segmentation.pb.h"
#include "tel/pg/connection_pool.h"

namespace tel::analytics {

namespace v1 = ::tel::analytics::v1;

// Call categories, their rules and the category of a call, in Postgres (tables of
// deploy/migrations/0011_segmentation.sql; the rules themselves run in the database when a call's
// record completes). Every method is one transaction scoped to the tenant. Thread-safe.
class SegmentationStore {
 public:
  explicit SegmentationStore(std::shared_ptr<pg::ConnectionPool> pool) : pool_(std::move(pool)) {}

  grpc::Status createCategory(const v1::CreateCategoryRequest& request, v1::Category* out);
  grpc::Status listCategories(const std::string& tenant_id, v1::ListCategoriesResponse* out);
  grpc::Status deleteCategory(const v1::CategoryRef& ref);
  grpc::Status createRule(const v1::CreateRuleRequest& request, v1::CategoryRule* out);
  grpc::Status listRules(const std::string& tenant_id, v1::ListRulesResponse* out);
  grpc::Status deleteRule(const v1::CategoryRef& ref);
  grpc::Status setCallCategory(const v1::SetCallCategoryRequest& request);

 private:
  std::shared_ptr<pg::ConnectionPool> pool_;
};

// Checks that change nothing: INVALID_ARGUMENT naming the field.
grpc::Status checkCategory(const v1::CreateCategoryRequest& request);
grpc::Status checkRule(const v1::CategoryRule& rule);

}  // namespace tel::analytics
