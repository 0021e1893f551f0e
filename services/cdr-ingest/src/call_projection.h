#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "tel/calls/v1/calls.pb.h"

namespace tel::cdr {

namespace v1 = ::tel::calls::v1;

// One call event as cdr-ingest keeps it.
struct CallEventRecord {
  std::string event_id;
  uint64_t sequence = 0;
  int64_t occurred_micros = 0;
  v1::CallEvent event;
};

// Folds a call's events into its call record. The result depends only on the set of events:
// order of arrival and duplicates (same event id) do not change it, which is what makes ingest
// idempotent and safe to replay. Events are applied in sequence order.
v1::CallRecord projectCall(const std::string& tenant_id, const std::string& call_id,
                           std::vector<CallEventRecord> events);

// Sets the record's queue visits from its route's queue steps (and its end, for a caller who hung up
// waiting): what the call log shows of queues. Replaces those the record had.
void setQueueVisits(v1::CallRecord* record);

// The event type in dotted form ("call.started"), or "" for an empty event.
std::string eventType(const v1::CallEvent& event);

}  // namespace tel::cdr
