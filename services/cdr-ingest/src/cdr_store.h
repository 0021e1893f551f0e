#pragma once

#include <grpcpp/grpcpp.h>

#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "call_projection.h"
#include "tel/pg/connection_pool.h"

namespace tel::cdr {

// A decoded event on its way into the store.
struct IncomingEvent {
  std::string tenant_id;
  std::string call_id;
  std::string type;
  std::string payload;  // serialized CallEvent
  CallEventRecord record;
};

// A call whose end this batch recorded for the first time (a replayed end is not one).
struct CompletedCall {
  std::string tenant_id;
  v1::Disposition disposition = v1::DISPOSITION_UNSPECIFIED;
  std::optional<double> ring_seconds;  // answered calls: from start to answer
};

struct BatchResult {
  size_t new_events = 0;     // events not seen before
  size_t calls_updated = 0;  // call records recomputed
  std::vector<CompletedCall> completed;
};

// Call events and call records in Postgres.
//
// writeBatch stores a batch in one transaction: the events go in with ON CONFLICT DO NOTHING (the
// event id is the idempotency key), and only calls that received new events are recomputed from
// all their stored events and upserted with their legs. Replaying a topic therefore inserts
// nothing and changes nothing. Each tenant's rows are written with that tenant set, so row-level
// security checks every row. Thread-safe (the pool is).
// The events stored for the given calls by earlier transactions, as a query: one probe of
// call_events' key per call, whatever the statistics say about the tenant. Public so that a test
// can check its plan.
std::string storedEventsQuery(pqxx::work& txn, const std::string& tenant_id,
                              const std::set<std::string>& call_ids);

class CdrStore {
 public:
  explicit CdrStore(std::shared_ptr<pg::ConnectionPool> pool);

  // Throws on database errors; the caller retries the whole batch (it is idempotent).
  BatchResult writeBatch(const std::vector<IncomingEvent>& events);

  grpc::Status listCalls(const v1::ListCallsRequest& request, v1::ListCallsResponse* out);
  grpc::Status getCall(const std::string& tenant_id, const std::string& call_id,
                       v1::CallRecord* out);
  // Sets or clears the message's heard time; NOT_FOUND for a call without a voicemail message.
  grpc::Status markVoicemail(const v1::MarkVoicemailRequest& request, v1::CallRecord* out);

  bool healthy() { return pool_->ping(); }

 private:
  BatchResult writeTenant(pqxx::work& txn, const std::string& tenant_id,
                          const std::vector<const IncomingEvent*>& events);

  std::shared_ptr<pg::ConnectionPool> pool_;
};

}  // namespace tel::cdr
