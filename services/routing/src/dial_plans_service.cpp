#include "dial_plans_service.h"

#include "tel/grpc/run_logged.h"

namespace tel::routing {

using grpc_util::runLogged;

grpc::ServerUnaryReactor* DialPlansService::GetDialPlan(grpc::CallbackServerContext* context,
                                                        const v1::GetDialPlanRequest* request,
                                                        v1::DialPlan* response) {
  return runLogged(executor_, log_, context, "GetDialPlan",
                   [=, this] { return store_.get(request->tenant_id(), response); });
}

grpc::ServerUnaryReactor* DialPlansService::PutDialPlan(grpc::CallbackServerContext* context,
                                                        const v1::PutDialPlanRequest* request,
                                                        v1::DialPlan* response) {
  return runLogged(executor_, log_, context, "PutDialPlan", [=, this] {
    auto status = store_.put(*request, response);
    if (status.ok()) {
      log_.info("dial plan saved",
                {{"tenant_id", request->tenant_id()}, {"version", std::to_string(response->version())}});
    }
    return status;
  });
}

grpc::ServerUnaryReactor* DialPlansService::PreviewCall(grpc::CallbackServerContext* context,
                                                        const v1::PreviewCallRequest* request,
                                                        v1::CallPreview* response) {
  return runLogged(executor_, log_, context, "PreviewCall",
                   [=, this] { return store_.preview(*request, absl::Now(), response); });
}

}  // namespace tel::routing
