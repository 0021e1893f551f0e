#pragma once

#include <prometheus/counter.h>
#include <prometheus/registry.h>

#include <atomic>
#include <chrono>
#include <memory>

#include "tel/calls/v1/calls.grpc.pb.h"
#include "tel/log/log.h"
#include "tel/pg/connection_pool.h"

namespace tel::integrations {

// Gives call.ended and call.missed their data: the call record from cdr-ingest's call log, read
// once it is complete (cdr-ingest writes it from the same events, usually within a second), so a
// CRM gets exactly what GET /v1/calls/{id} shows. Deliveries of an event wait until it has data.
// A record still missing after `give_up_after` (cdr-ingest down for long) is sent without it,
// saying so, rather than holding the call's later events forever.
class RecordResolver {
 public:
  RecordResolver(std::shared_ptr<pg::ConnectionPool> pool, calls::v1::CallLog::StubInterface& call_log,
                 std::chrono::milliseconds give_up_after, log::Logger logger, prometheus::Registry& registry);

  // One pass over the events waiting for a record; returns how many got their data.
  int resolveWaiting();
  // Passes every `interval` until `stop`.
  void run(const std::atomic<bool>& stop, std::chrono::milliseconds interval);

 private:
  std::shared_ptr<pg::ConnectionPool> pool_;
  calls::v1::CallLog::StubInterface& call_log_;
  std::chrono::milliseconds give_up_after_;
  log::Logger log_;
  prometheus::Counter& resolved_;
  prometheus::Counter& without_record_;
  prometheus::Counter& failures_;
};

}  // namespace tel::integrations
