#include <catch2/catch.hpp>
#include <regex>

#include "tel/events/call_events.h"

using namespace tel::events;

TEST_CASE("call events round-trip through the envelope") {
  tel::calls::v1::CallEvent event;
  event.mutable_leg_answered()->set_leg_id("b1");
  const auto now = std::chrono::system_clock::now();
  const auto encoded = encodeCallEvent("123e4567-e89b-42d3-a456-426614174000", "call-1", 4, event,
                                       now, "sip-edge-0");
  CHECK(encoded.key == "call-1");
  auto decoded = decodeCallEvent(encoded.value);
  REQUIRE(decoded.ok());
  CHECK(decoded->envelope.type() == "call.answered");
  CHECK(decoded->envelope.sequence() == 4);
  CHECK(decoded->envelope.event_id() == encoded.event_id);
  CHECK(decoded->event.leg_answered().leg_id() == "b1");
  CHECK(std::regex_match(encoded.event_id,
                         std::regex("^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")));
  CHECK(newEventId() != encoded.event_id);
}

TEST_CASE("malformed events are refused with the reason") {
  CHECK_FALSE(decodeCallEvent("garbage \xff\xfe").ok());
  tel::calls::v1::CallEvent event;
  event.mutable_call_started()->set_caller("x");
  const auto now = std::chrono::system_clock::now();
  auto bad_tenant = decodeCallEvent(encodeCallEvent("tenant-1", "c", 1, event, now, "p").value);
  CHECK(bad_tenant.status().message().find("tenant_id") != std::string::npos);
  auto no_sequence = decodeCallEvent(
      encodeCallEvent("123e4567-e89b-42d3-a456-426614174000", "c", 0, event, now, "p").value);
  CHECK(no_sequence.status().message().find("sequence") != std::string::npos);
  auto empty = decodeCallEvent(encodeCallEvent("123e4567-e89b-42d3-a456-426614174000", "c", 1,
                                               tel::calls::v1::CallEvent(), now, "p")
                                   .value);
  CHECK_FALSE(empty.ok());
}
