#pragma once

#include <prometheus/counter.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include <atomic>
#include <chrono>

#include "cdr_store.h"
#include "tel/kafka/kafka.h"
#include "tel/log/log.h"
#include "tenant_metrics.h"

namespace tel::cdr {

struct IngestOptions {
  size_t max_batch = 5000;
  std::chrono::milliseconds poll_wait{100};
  size_t max_tenant_series = 1000;  // see TenantCallMetrics
};

// Kafka -> Postgres. Polls a batch, decodes it (malformed events are counted, logged and skipped:
// they can never become valid), writes it through the store in one transaction, and only then
// commits the offsets. A crash between the database commit and the offset commit replays the batch,
// which the store absorbs (event ids are idempotency keys). A failing database is retried with
// backoff without committing, so nothing is lost. Runs on the calling thread until `stop`.
class IngestLoop {
 public:
  IngestLoop(kafka::Consumer& consumer, CdrStore& store, IngestOptions options, log::Logger logger,
             prometheus::Registry& registry);
  void run(const std::atomic<bool>& stop);
  // True once the group has given this instance partitions: before that, events wait.
  bool consuming() const { return consuming_; }

 private:
  kafka::Consumer& consumer_;
  CdrStore& store_;
  IngestOptions options_;
  log::Logger log_;
  TenantCallMetrics tenant_metrics_;
  prometheus::Counter& consumed_;
  prometheus::Counter& rejected_;
  prometheus::Counter& new_events_;
  prometheus::Counter& calls_updated_;
  prometheus::Counter& write_failures_;
  prometheus::Histogram& batch_seconds_;
  prometheus::Histogram& ended_to_stored_seconds_;
  std::atomic<bool> consuming_{false};
};

}  // namespace tel::cdr
