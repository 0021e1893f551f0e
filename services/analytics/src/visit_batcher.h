#pragma once

#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#include "tel/log/log.h"
#include "tracking_store.h"

namespace tel::analytics {

struct VisitBatchOptions {
  int writers = 2;          // batches written at once (each holds a database connection meanwhile)
  size_t max_batch = 64;    // visits per statement
  size_t max_queued = 10000;  // beyond this, a visit is refused at once (RESOURCE_EXHAUSTED)
};

// Gathers concurrent tracking visits into batches for TrackingStore::visitBatch, so that a busy
// site's page views cost one round trip and one commit per batch instead of per visit. No visit
// waits for company: a free writer takes whatever is queued (up to max_batch) at once. A batch
// that fails as a whole (a deadlock with another batch, say) is retried visit by visit, so one
// visit's trouble is not its neighbours'.
//
// Threading: `writers` threads of its own; submit() from any thread; `done` runs on a writer
// thread. stop() writes what is queued, then joins.
class VisitBatcher {
 public:
  using Done = std::function<void(const grpc::Status&)>;

  VisitBatcher(TrackingStore& store, VisitBatchOptions options, log::Logger log,
               prometheus::Registry& registry);
  ~VisitBatcher();
  VisitBatcher(const VisitBatcher&) = delete;
  VisitBatcher& operator=(const VisitBatcher&) = delete;

  void start();
  void stop();

  // `request` (checked by checkVisit) and `response` must live until `done` has run.
  void submit(const v1::VisitRequest* request, v1::VisitResponse* response, Done done);

 private:
  struct Pending {
    const v1::VisitRequest* request;
    v1::VisitResponse* response;
    Done done;
  };

  void writeLoop();
  void write(std::vector<Pending>& batch);
  // Runs visitBatch; an exception is logged and becomes INTERNAL for the whole batch.
  std::vector<grpc::Status> tryBatch(const std::vector<Pending>& batch, bool* failed);

  TrackingStore& store_;
  VisitBatchOptions options_;
  log::Logger log_;
  prometheus::Histogram& batch_sizes_;

  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<Pending> queue_;
  bool stopping_ = false;
  std::vector<std::thread> writers_;
};

}  // namespace tel::analytics
