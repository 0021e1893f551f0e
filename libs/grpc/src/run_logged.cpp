#include "tel/grpc/run_logged.h"

namespace tel::grpc_util {

grpc::ServerUnaryReactor* runLogged(BlockingExecutor& executor, const log::Logger& log,
                                    grpc::CallbackServerContext* context, const char* method,
                                    std::function<grpc::Status()> work) {
  return executor.runUnary(context, [&log, method, work = std::move(work)] {
    try {
      return work();
    } catch (const std::exception& e) {
      log.error("request failed", {{"method", method}, {"error", e.what()}});
      return grpc::Status(grpc::StatusCode::INTERNAL, "request failed");
    }
  });
}

}  // namespace tel::grpc_util
