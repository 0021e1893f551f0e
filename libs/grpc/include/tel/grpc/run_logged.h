#pragma once

#include <grpcpp/grpcpp.h>

#include <functional>

#include "tel/grpc/blocking_executor.h"
#include "tel/log/log.h"

namespace tel::grpc_util {

// Runs a request's `work` on `executor` (database work never runs on gRPC's threads); an exception
// escaping it is logged with the method and answered as INTERNAL.
grpc::ServerUnaryReactor* runLogged(BlockingExecutor& executor, const log::Logger& log,
                                    grpc::CallbackServerContext* context, const char* method,
                                    std::function<grpc::Status()> work);

}  // namespace tel::grpc_util
