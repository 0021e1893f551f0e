#include "tel/grpc/blocking_executor.h"

#include <exception>

namespace tel::grpc_util {

BlockingExecutor::BlockingExecutor(int workers) {
  for (int i = 0; i < workers; ++i) workers_.emplace_back([this] { workerLoop(); });
}

BlockingExecutor::~BlockingExecutor() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  for (auto& worker : workers_) worker.join();
}

void BlockingExecutor::post(std::function<void()> task) {
  {
    std::lock_guard lock(mutex_);
    tasks_.push_back(std::move(task));
  }
  wake_.notify_one();
}

size_t BlockingExecutor::queued() const {
  std::lock_guard lock(mutex_);
  return tasks_.size();
}

void BlockingExecutor::workerLoop() {
  for (;;) {
    std::function<void()> task;
    {
      std::unique_lock lock(mutex_);
      wake_.wait(lock, [this] { return stopping_ || !tasks_.empty(); });
      if (tasks_.empty()) return;  // stopping and drained
      task = std::move(tasks_.front());
      tasks_.pop_front();
    }
    task();
  }
}

grpc::ServerUnaryReactor* BlockingExecutor::runUnary(grpc::CallbackServerContext* context,
                                                     std::function<grpc::Status()> handler) {
  auto* reactor = context->DefaultReactor();
  post([reactor, handler = std::move(handler)] {
    grpc::Status status;
    try {
      status = handler();
    } catch (const std::exception& e) {
      status = grpc::Status(grpc::StatusCode::INTERNAL, std::string("internal error: ") + e.what());
    } catch (...) {
      status = grpc::Status(grpc::StatusCode::INTERNAL, "internal error");
    }
    reactor->Finish(status);
  });
  return reactor;
}

}  // namespace tel::grpc_util
