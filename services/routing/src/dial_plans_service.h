#pragma once

#include "plan_store.h"
#include "tel/grpc/blocking_executor.h"
#include "tel/log/log.h"
#include "tel/routing/v1/dial_plans.grpc.pb.h"

namespace tel::routing {

// tel.routing.v1.DialPlans for the gateway; database work runs on a BlockingExecutor.
class DialPlansService final : public v1::DialPlans::CallbackService {
 public:
  DialPlansService(PlanStore& store, int workers, log::Logger log)
      : store_(store), log_(std::move(log)), executor_(workers) {}

  grpc::ServerUnaryReactor* GetDialPlan(grpc::CallbackServerContext* context, const v1::GetDialPlanRequest* request,
                                        v1::DialPlan* response) override;
  grpc::ServerUnaryReactor* PutDialPlan(grpc::CallbackServerContext* context, const v1::PutDialPlanRequest* request,
                                        v1::DialPlan* response) override;
  grpc::ServerUnaryReactor* PreviewCall(grpc::CallbackServerContext* context, const v1::PreviewCallRequest* request,
                                        v1::CallPreview* response) override;

 private:
  PlanStore& store_;
  log::Logger log_;
  grpc_util::BlockingExecutor executor_;
};

}  // namespace tel::routing
