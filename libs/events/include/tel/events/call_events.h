#pragma once

#include <absl/status/statusor.h>

#include <chrono>
#include <string>

#include "tel/calls/v1/calls.pb.h"
#include "tel/events/v1/envelope.pb.h"

namespace tel::events {

inline constexpr char kCallEventsTopic[] = "call-events";
// The envelope type of the event that ends a call (every call has exactly one).
inline constexpr char kCallEndedType[] = "call.ended";

// A call event ready for Kafka: the key (the call id, so a call's events share a partition and
// keep their order) and the serialized EventEnvelope carrying the CallEvent.
struct EncodedEvent {
  std::string event_id;
  std::string key;
  std::string value;
};

// Wraps `event` in an envelope with a fresh event id. `sequence` counts the call's events from 1.
EncodedEvent encodeCallEvent(const std::string& tenant_id, const std::string& call_id,
                             uint64_t sequence, const calls::v1::CallEvent& event,
                             std::chrono::system_clock::time_point occurred_at,
                             const std::string& producer);

struct DecodedCallEvent {
  v1::EventEnvelope envelope;
  calls::v1::CallEvent event;
  int64_t occurred_micros = 0;
};

// Parses and validates a Kafka value: an envelope with an event id, a tenant id that is a UUID, a
// call id, a sequence from 1, and a CallEvent payload whose kind is set. Anything else is an
// InvalidArgument saying what is wrong.
absl::StatusOr<DecodedCallEvent> decodeCallEvent(const std::string& value);

std::string newEventId();

// A UUID in the lowercase text form Postgres and newEventId() write.
bool isUuid(const std::string& text);

}  // namespace tel::events
