#pragma once

#include <grpcpp/grpcpp.h>

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace tel::grpc_util {

// Runs blocking request handlers (database work) off gRPC's callback threads, which must never
// block. A fixed pool of named workers takes tasks in FIFO order.
//
//   grpc::ServerUnaryReactor* GetThing(grpc::CallbackServerContext* ctx, ...) override {
//     return executor_.runUnary(ctx, [=] { return store_.getThing(...); });
//   }
//
// The destructor drains queued tasks and joins the workers.
class BlockingExecutor {
 public:
  explicit BlockingExecutor(int workers);
  ~BlockingExecutor();
  BlockingExecutor(const BlockingExecutor&) = delete;
  BlockingExecutor& operator=(const BlockingExecutor&) = delete;

  void post(std::function<void()> task);

  // Runs `handler` on a worker and finishes the call with its status. Exceptions escaping the
  // handler become INTERNAL (and never reach gRPC's threads).
  grpc::ServerUnaryReactor* runUnary(grpc::CallbackServerContext* context,
                                     std::function<grpc::Status()> handler);

  size_t queued() const;

 private:
  void workerLoop();

  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<std::function<void()>> tasks_;
  bool stopping_ = false;
  std::vector<std::thread> workers_;
};

}  // namespace tel::grpc_util
