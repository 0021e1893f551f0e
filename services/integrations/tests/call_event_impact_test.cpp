#include "call_event_impact.h"

#include <catch2/catch.hpp>

using namespace tel::integrations;
namespace calls_v1 = tel::calls::v1;

TEST_CASE("an inbound call's start raises call.started and notes its numbers") {
  calls_v1::CallEvent event;
  auto* started = event.mutable_call_started();
  started->set_direction(calls_v1::DIRECTION_INBOUND);
  started->set_caller("+15557654321");
  started->set_called("+15550001000");
  started->set_number_id("n-1");
  const auto impact = impactOf(event);
  REQUIRE(impact.facts);
  CHECK(impact.facts->direction == "inbound");
  CHECK(impact.facts->numbers == std::vector<std::string>{"+15557654321", "+15550001000"});
  CHECK(impact.facts->extensions.empty());
  REQUIRE(impact.events.size() == 1);
  CHECK(impact.events[0].type == "call.started");
  CHECK((*impact.events[0].data)["caller"] == "+15557654321");
  CHECK((*impact.events[0].data)["direction"] == "inbound");
}

TEST_CASE("an internal call notes both extensions and an outbound call the caller's") {
  calls_v1::CallEvent internal;
  internal.mutable_call_started()->set_direction(calls_v1::DIRECTION_INTERNAL);
  internal.mutable_call_started()->set_caller("102");
  internal.mutable_call_started()->set_called("101");
  CHECK(impactOf(internal).facts->extensions == std::vector<std::string>{"102", "101"});
  calls_v1::CallEvent outbound;
  outbound.mutable_call_started()->set_direction(calls_v1::DIRECTION_OUTBOUND);
  outbound.mutable_call_started()->set_caller("102");
  outbound.mutable_call_started()->set_called("+15559998888");
  const auto impact = impactOf(outbound);
  CHECK(impact.facts->extensions == std::vector<std::string>{"102"});
  CHECK(impact.facts->numbers == std::vector<std::string>{"+15559998888"});
}

TEST_CASE("a new leg is remembered and its ringing and answer raise events about it") {
  calls_v1::CallEvent created;
  auto* leg = created.mutable_leg_created();
  leg->set_leg_id("b1.1");
  leg->set_target_kind(calls_v1::LEG_TARGET_ACCOUNT);
  leg->set_target("alice");
  leg->set_extension("101");
  const auto noted = impactOf(created);
  REQUIRE(noted.facts);
  CHECK(noted.events.empty());
  CHECK(noted.facts->leg_id == "b1.1");
  CHECK(noted.facts->leg["target_kind"] == "account");
  CHECK(noted.facts->extensions == std::vector<std::string>{"101"});

  calls_v1::CallEvent ringing;
  ringing.mutable_leg_ringing()->set_leg_id("b1.1");
  ringing.mutable_leg_ringing()->set_early_media(true);
  const auto rang = impactOf(ringing);
  REQUIRE(rang.events.size() == 1);
  CHECK(rang.events[0].type == "call.ringing");
  CHECK(rang.events[0].leg_id == "b1.1");
  CHECK((*rang.events[0].data)["early_media"] == true);

  calls_v1::CallEvent answered;
  answered.mutable_leg_answered()->set_leg_id("b1.1");
  const auto answer = impactOf(answered);
  REQUIRE(answer.events.size() == 1);
  CHECK(answer.events[0].type == "call.answered");
  CHECK(answer.events[0].leg_id == "b1.1");
  // An answer ends any wait in a queue (the queue's own answered step may never come).
  REQUIRE(answer.queue);
  CHECK(answer.queue->waiting_in.empty());
}

TEST_CASE("a call's end raises call.ended waiting for the record and call.missed unless answered") {
  calls_v1::CallEvent ended;
  ended.mutable_call_ended()->set_disposition(calls_v1::DISPOSITION_ANSWERED);
  auto impact = impactOf(ended);
  // queue.caller_abandoned is raised last, and recorded only for a caller still waiting in a queue.
  REQUIRE(impact.events.size() == 2);
  CHECK(impact.events[0].type == "call.ended");
  CHECK_FALSE(impact.events[0].data);
  CHECK(impact.events[1].type == "queue.caller_abandoned");

  ended.mutable_call_ended()->set_disposition(calls_v1::DISPOSITION_NO_ANSWER);
  impact = impactOf(ended);
  REQUIRE(impact.events.size() == 3);
  CHECK(impact.events[1].type == "call.missed");
  CHECK_FALSE(impact.events[1].data);
}

TEST_CASE("a recorded call's end raises recording.ready, a voicemail's voicemail.received, both with the record") {
  calls_v1::CallEvent ended;
  ended.mutable_call_ended()->set_disposition(calls_v1::DISPOSITION_ANSWERED);
  ended.mutable_call_ended()->mutable_recording()->set_file("t/c.wav");
  auto impact = impactOf(ended);
  REQUIRE(impact.events.size() == 3);
  CHECK(impact.events[1].type == "recording.ready");
  CHECK_FALSE(impact.events[1].data);  // the call record, once complete, is its data

  ended.mutable_call_ended()->set_disposition(calls_v1::DISPOSITION_NO_ANSWER);
  ended.mutable_call_ended()->mutable_recording()->set_voicemail(true);
  impact = impactOf(ended);
  REQUIRE(impact.events.size() == 4);
  CHECK(impact.events[1].type == "call.missed");
  CHECK(impact.events[2].type == "voicemail.received");
  CHECK_FALSE(impact.events[2].data);
}

TEST_CASE("bridging and a leg's end raise nothing") {
  calls_v1::CallEvent bridged;
  bridged.mutable_call_bridged()->set_leg_id("b1.1");
  CHECK_FALSE(impactOf(bridged).facts);
  CHECK(impactOf(bridged).events.empty());
  calls_v1::CallEvent leg_ended;
  leg_ended.mutable_leg_ended()->set_leg_id("b1.1");
  CHECK(impactOf(leg_ended).events.empty());
}

TEST_CASE("a queue's joined step raises queue.caller_joined and notes the queue until answered or sent on") {
  calls_v1::CallEvent joined;
  auto* step = joined.mutable_route_step();
  step->set_type("queue");
  step->set_node("q1");
  step->set_outcome("joined");
  step->set_detail("position 2");
  auto impact = impactOf(joined);
  REQUIRE(impact.events.size() == 1);
  CHECK(impact.events[0].type == "queue.caller_joined");
  CHECK(*impact.events[0].data == nlohmann::json{{"queue_id", "q1"}, {"detail", "position 2"}});
  REQUIRE(impact.queue);
  CHECK(impact.queue->waiting_in == "q1");

  for (const char* outcome : {"answered", "overflow"}) {
    step->set_outcome(outcome);
    impact = impactOf(joined);
    CHECK(impact.events.empty());
    REQUIRE(impact.queue);
    CHECK(impact.queue->waiting_in.empty());
  }
  for (const char* outcome : {"announced", "offered", "missed"}) {
    step->set_outcome(outcome);
    CHECK_FALSE(impactOf(joined).queue);
  }
  step->set_type("menu");
  step->set_outcome("joined");
  CHECK(impactOf(joined).events.empty());
  CHECK_FALSE(impactOf(joined).queue);
}
