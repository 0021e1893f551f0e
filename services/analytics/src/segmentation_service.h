#pragma once

#include "segmentation_store.h"
#include "tel/analytics/v1/segmentation.grpc.pb.h"
#include "tel/grpc/blocking_executor.h"
#include "tel/log/log.h"

namespace tel::analytics {

// tel.analytics.v1.Segmentation for the gateway; database work runs on a BlockingExecutor.
class SegmentationService final : public v1::Segmentation::CallbackService {
 public:
  SegmentationService(SegmentationStore& store, int workers, log::Logger log)
      : store_(store), log_(std::move(log)), executor_(workers) {}

  grpc::ServerUnaryReactor* CreateCategory(grpc::CallbackServerContext* context,
                                           const v1::CreateCategoryRequest* request,
                                           v1::Category* response) override;
  grpc::ServerUnaryReactor* ListCategories(grpc::CallbackServerContext* context,
                                           const v1::ListCategoriesRequest* request,
                                           v1::ListCategoriesResponse* response) override;
  grpc::ServerUnaryReactor* DeleteCategory(grpc::CallbackServerContext* context,
                                           const v1::CategoryRef* request,
                                           v1::SegmentationEmpty* response) override;
  grpc::ServerUnaryReactor* CreateRule(grpc::CallbackServerContext* context,
                                       const v1::CreateRuleRequest* request,
                                       v1::CategoryRule* response) override;
  grpc::ServerUnaryReactor* ListRules(grpc::CallbackServerContext* context,
                                      const v1::ListCategoriesRequest* request,
                                      v1::ListRulesResponse* response) override;
  grpc::ServerUnaryReactor* DeleteRule(grpc::CallbackServerContext* context, const v1::CategoryRef* request,
                                       v1::SegmentationEmpty* response) override;
  grpc::ServerUnaryReactor* SetCallCategory(grpc::CallbackServerContext* context,
                                            const v1::SetCallCategoryRequest* request,
                                            v1::SegmentationEmpty* response) override;

 private:
  SegmentationStore& store_;
  log::Logger log_;
  grpc_util::BlockingExecutor executor_;
};

}  // namespace tel::analytics
