#pragma once

#include <prometheus/counter.h>
#include <prometheus/registry.h>

#include <atomic>
#include <chrono>
#include <memory>

#include "tel/events/call_events.h"
#include "tel/kafka/kafka.h"
#include "tel/log/log.h"
#include "tel/pg/connection_pool.h"

namespace tel::integrations {

// Call events from Kafka into webhook events and their deliveries, for tenants with subscriptions.
// A batch is recorded in one transaction and only then are its offsets committed; a batch read again after a crash changes
// nothing (webhook event ids derive from the call events' ids). A failing database is retried
// with backoff without committing, so no event is lost. Runs on the calling thread until `stop`.
class EventIngest {
 public:
  EventIngest(kafka::Consumer& consumer, std::shared_ptr<pg::ConnectionPool> pool, log::Logger logger,
              prometheus::Registry& registry);
  void run(const std::atomic<bool>& stop);
  // True once the group has given this instance partitions.
  bool consuming() const { return consuming_; }

 private:
  // Records the batch's webhook events; returns the deliveries queued.
  int64_t record(const std::vector<events::DecodedCallEvent>& batch);

  kafka::Consumer& consumer_;
  std::shared_ptr<pg::ConnectionPool> pool_;
  log::Logger log_;
  prometheus::Counter& consumed_;
  prometheus::Counter& rejected_;
  prometheus::Family<prometheus::Counter>& raised_;
  prometheus::Counter& queued_;
  prometheus::Counter& write_failures_;
  std::atomic<bool> consuming_{false};
};

}  // namespace tel::integrations
