#pragma once

#include "cdr_store.h"
#include "tel/calls/v1/calls.grpc.pb.h"
#include "tel/grpc/blocking_executor.h"

namespace tel::cdr {

// tel.calls.v1.CallLog: the call records of one tenant, for the gateway. Database reads run on a
// BlockingExecutor, never on gRPC's threads.
class CallLogService final : public v1::CallLog::CallbackService {
 public:
  CallLogService(CdrStore& store, int workers) : store_(store), executor_(workers) {}

  grpc::ServerUnaryReactor* ListCalls(grpc::CallbackServerContext* context,
                                      const v1::ListCallsRequest* request,
                                      v1::ListCallsResponse* response) override {
    return executor_.runUnary(context, [=, this] { return store_.listCalls(*request, response); });
  }
  grpc::ServerUnaryReactor* GetCall(grpc::CallbackServerContext* context,
                                    const v1::GetCallRequest* request,
                                    v1::CallRecord* response) override {
    return executor_.runUnary(context, [=, this] {
      return store_.getCall(request->tenant_id(), request->call_id(), response);
    });
  }

  grpc::ServerUnaryReactor* MarkVoicemail(grpc::CallbackServerContext* context,
                                          const v1::MarkVoicemailRequest* request,
                                          v1::CallRecord* response) override {
    return executor_.runUnary(context, [=, this] { return store_.markVoicemail(*request, response); });
  }

 private:
  CdrStore& store_;
  grpc_util::BlockingExecutor executor_;
};

}  // namespace tel::cdr
