#include "segmentation_service.h"

#include "tel/grpc/run_logged.h"

namespace tel::analytics {

grpc::ServerUnaryReactor* SegmentationService::CreateCategory(grpc::CallbackServerContext* context,
                                                              const v1::CreateCategoryRequest* request,
                                                              v1::Category* response) {
  return grpc_util::runLogged(executor_, log_, context, "CreateCategory",
                   [=, this] { return store_.createCategory(*request, response); });
}

grpc::ServerUnaryReactor* SegmentationService::ListCategories(grpc::CallbackServerContext* context,
                                                              const v1::ListCategoriesRequest* request,
                                                              v1::ListCategoriesResponse* response) {
  return grpc_util::runLogged(executor_, log_, context, "ListCategories",
                   [=, this] { return store_.listCategories(request->tenant_id(), response); });
}

grpc::ServerUnaryReactor* SegmentationService::DeleteCategory(grpc::CallbackServerContext* context,
                                                              const v1::CategoryRef* request,
                                                              v1::SegmentationEmpty*) {
  return grpc_util::runLogged(executor_, log_, context, "DeleteCategory",
                   [=, this] { return store_.deleteCategory(*request); });
}

grpc::ServerUnaryReactor* SegmentationService::CreateRule(grpc::CallbackServerContext* context,
                                                          const v1::CreateRuleRequest* request,
                                                          v1::CategoryRule* response) {
  return grpc_util::runLogged(executor_, log_, context, "CreateRule",
                   [=, this] { return store_.createRule(*request, response); });
}

grpc::ServerUnaryReactor* SegmentationService::ListRules(grpc::CallbackServerContext* context,
                                                         const v1::ListCategoriesRequest* request,
                                                         v1::ListRulesResponse* response) {
  return grpc_util::runLogged(executor_, log_, context, "ListRules",
                   [=, this] { return store_.listRules(request->tenant_id(), response); });
}

grpc::ServerUnaryReactor* SegmentationService::DeleteRule(grpc::CallbackServerContext* context,
                                                          const v1::CategoryRef* request,
                                                          v1::SegmentationEmpty*) {
  return grpc_util::runLogged(executor_, log_, context, "DeleteRule", [=, this] { return store_.deleteRule(*request); });
}

grpc::ServerUnaryReactor* SegmentationService::SetCallCategory(grpc::CallbackServerContext* context,
                                                               const v1::SetCallCategoryRequest* request,
                                                               v1::SegmentationEmpty*) {
  return grpc_util::runLogged(executor_, log_, context, "SetCallCategory",
                   [=, this] { return store_.setCallCategory(*request); });
}

}  // namespace tel::analytics
