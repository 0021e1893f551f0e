#include "visit_batcher.h"

namespace tel::analytics {

VisitBatcher::VisitBatcher(TrackingStore& store, VisitBatchOptions options, log::Logger log,
                           prometheus::Registry& registry)
    : store_(store),
      options_(options),
      log_(std::move(log)),
      batch_sizes_(prometheus::BuildHistogram()
                       .Name("tel_analytics_tracking_visit_batch_size")
                       .Help("Tracking visits written per statement")
                       .Register(registry)
                       .Add({}, prometheus::Histogram::BucketBoundaries{1, 2, 4, 8, 16, 32, 64, 128})) {}

VisitBatcher::~VisitBatcher() { stop(); }

void VisitBatcher::start() {
  for (int i = 0; i < options_.writers; ++i) writers_.emplace_back([this] { writeLoop(); });
}

void VisitBatcher::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  for (auto& writer : writers_) writer.join();
  writers_.clear();
}

void VisitBatcher::submit(const v1::VisitRequest* request, v1::VisitResponse* response, Done done) {
  {
    std::lock_guard lock(mutex_);
    if (!stopping_ && queue_.size() < options_.max_queued) {
      queue_.push_back({request, response, std::move(done)});
      wake_.notify_one();
      return;
    }
  }
  done(grpc::Status(grpc::StatusCode::RESOURCE_EXHAUSTED, "too many visits at once; try again"));
}

void VisitBatcher::writeLoop() {
  std::vector<Pending> batch;
  std::unique_lock lock(mutex_);
  while (true) {
    wake_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
    if (queue_.empty()) return;  // stopping, and everything queued is written
    while (!queue_.empty() && batch.size() < options_.max_batch) {
      batch.push_back(std::move(queue_.front()));
      queue_.pop_front();
    }
    lock.unlock();
    write(batch);
    batch.clear();
    lock.lock();
  }
}

void VisitBatcher::write(std::vector<Pending>& batch) {
  batch_sizes_.Observe(static_cast<double>(batch.size()));
  bool failed = false;
  std::vector<grpc::Status> statuses = tryBatch(batch, &failed);
  if (failed && batch.size() > 1) {
    for (size_t i = 0; i < batch.size(); ++i) {
      std::vector<Pending> alone{batch[i]};
      statuses[i] = tryBatch(alone, &failed)[0];
    }
  }
  for (size_t i = 0; i < batch.size(); ++i) batch[i].done(statuses[i]);
}

std::vector<grpc::Status> VisitBatcher::tryBatch(const std::vector<Pending>& batch, bool* failed) {
  std::vector<const v1::VisitRequest*> requests;
  std::vector<v1::VisitResponse*> responses;
  for (const auto& pending : batch) {
    requests.push_back(pending.request);
    responses.push_back(pending.response);
  }
  try {
    *failed = false;
    return store_.visitBatch(requests, responses);
  } catch (const std::exception& e) {
    *failed = true;
    log_.error("tracking visits failed",
               {{"visits", std::to_string(batch.size())}, {"error", e.what()}});
    return std::vector<grpc::Status>(batch.size(),
                                     grpc::Status(grpc::StatusCode::INTERNAL, "request failed"));
  }
}

}  // namespace tel::analytics
