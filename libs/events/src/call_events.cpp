#include "tel/events/call_events.h"

#include <regex>

#include "tel/crypto/crypto.h"

namespace tel::events {

bool isUuid(const std::string& text) {
  static const std::regex kUuid(
      R"(^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$)");
  return std::regex_match(text, kUuid);
}

std::string newEventId() {
  const std::string hex = crypto::toHex(crypto::randomBytes(16));
  // UUID v4 layout: version nibble 4, variant bits 10.
  std::string id = hex.substr(0, 8) + "-" + hex.substr(8, 4) + "-4" + hex.substr(13, 3) + "-";
  static constexpr char kVariant[] = "89ab";
  id += kVariant[std::stoi(hex.substr(16, 1), nullptr, 16) & 3];
  id += hex.substr(17, 3) + "-" + hex.substr(20, 12);
  return id;
}

EncodedEvent encodeCallEvent(const std::string& tenant_id, const std::string& call_id,
                             uint64_t sequence, const calls::v1::CallEvent& event,
                             std::chrono::system_clock::time_point occurred_at,
                             const std::string& producer) {
  v1::EventEnvelope envelope;
  envelope.set_event_id(newEventId());
  envelope.set_tenant_id(tenant_id);
  envelope.set_call_id(call_id);
  envelope.set_sequence(sequence);
  envelope.set_producer(producer);
  const auto micros =
      std::chrono::duration_cast<std::chrono::microseconds>(occurred_at.time_since_epoch()).count();
  envelope.mutable_occurred_at()->set_seconds(micros / 1000000);
  envelope.mutable_occurred_at()->set_nanos(static_cast<int32_t>(micros % 1000000) * 1000);
  envelope.mutable_payload()->PackFrom(event);
  // The type is derived from the payload so that it can never disagree with it.
  static const std::pair<calls::v1::CallEvent::KindCase, const char*> kTypes[] = {
      {calls::v1::CallEvent::kCallStarted, "call.started"},
      {calls::v1::CallEvent::kLegCreated, "call.leg_created"},
      {calls::v1::CallEvent::kLegRinging, "call.ringing"},
      {calls::v1::CallEvent::kLegAnswered, "call.answered"},
      {calls::v1::CallEvent::kCallBridged, "call.bridged"},
      {calls::v1::CallEvent::kLegEnded, "call.leg_ended"},
      {calls::v1::CallEvent::kCallEnded, kCallEndedType},
      {calls::v1::CallEvent::kRouteStep, "call.route_step"},
  };
  for (const auto& [kind, type] : kTypes) {
    if (event.kind_case() == kind) envelope.set_type(type);
  }
  return {envelope.event_id(), call_id, envelope.SerializeAsString()};
}

absl::StatusOr<DecodedCallEvent> decodeCallEvent(const std::string& value) {
  DecodedCallEvent decoded;
  if (!decoded.envelope.ParseFromString(value)) {
    return absl::InvalidArgumentError("not an EventEnvelope");
  }
  const auto& envelope = decoded.envelope;
  if (envelope.event_id().empty() || envelope.event_id().size() > 64) {
    return absl::InvalidArgumentError("event_id: required, at most 64 bytes");
  }
  if (!isUuid(envelope.tenant_id()))
    return absl::InvalidArgumentError("tenant_id: not a tenant id");
  if (envelope.call_id().empty() || envelope.call_id().size() > 128) {
    return absl::InvalidArgumentError("call_id: required, at most 128 bytes");
  }
  if (envelope.sequence() == 0) return absl::InvalidArgumentError("sequence: starts at 1");
  if (!envelope.has_occurred_at() || envelope.occurred_at().seconds() <= 0) {
    return absl::InvalidArgumentError("occurred_at: required");
  }
  if (!envelope.payload().UnpackTo(&decoded.event)) {
    return absl::InvalidArgumentError("payload: not a tel.calls.v1.CallEvent");
  }
  if (decoded.event.kind_case() == calls::v1::CallEvent::KIND_NOT_SET) {
    return absl::InvalidArgumentError("payload: empty CallEvent");
  }
  decoded.occurred_micros =
      envelope.occurred_at().seconds() * 1000000 + envelope.occurred_at().nanos() / 1000;
  return decoded;
}

}  // namespace tel::events
