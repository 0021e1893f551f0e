#include <algorithm>
#include <catch2/catch.hpp>
#include <google/protobuf/util/message_differencer.h>
#include <random>

#include "call_projection.h"

using namespace tel::cdr;

namespace {

constexpr int64_t kStart = 1'790'000'000'000'000;  // micros

// An answered inbound call: started, two legs rung in parallel, b1 answers, b2 cancelled, caller
// hangs up after 42 s of talk.
std::vector<CallEventRecord> answeredCall() {
  std::vector<CallEventRecord> events;
  uint64_t sequence = 0;
  auto add = [&](int64_t at_ms, auto fill) {
    CallEventRecord record;
    record.sequence = ++sequence;
    record.event_id = "e" + std::to_string(sequence);
    record.occurred_micros = kStart + at_ms * 1000;
    fill(record.event);
    events.push_back(record);
  };
  add(0, [](v1::CallEvent& e) {
    auto* s = e.mutable_call_started();
    s->set_direction(v1::DIRECTION_INBOUND);
    s->set_caller("+380441112233");
    s->set_called("+15550001000");
  });
  add(10, [](v1::CallEvent& e) {
    auto* l = e.mutable_leg_created();
    l->set_leg_id("b1");
    l->set_extension("101");
    l->set_target_kind(v1::LEG_TARGET_ACCOUNT);
  });
  add(11, [](v1::CallEvent& e) { e.mutable_leg_created()->set_leg_id("b2"); });
  add(200, [](v1::CallEvent& e) { e.mutable_leg_ringing()->set_leg_id("b1"); });
  add(5400, [](v1::CallEvent& e) { e.mutable_leg_answered()->set_leg_id("b1"); });
  add(5410, [](v1::CallEvent& e) {
    auto* l = e.mutable_leg_ended();
    l->set_leg_id("b2");
    l->set_sip_status(487);
    l->set_reason("cancelled");
  });
  add(47400, [](v1::CallEvent& e) {
    auto* l = e.mutable_leg_ended();
    l->set_leg_id("b1");
    l->set_sip_status(200);
    l->set_reason("bye");
    l->mutable_media()->set_packets_in(2100);
  });
  add(47401, [](v1::CallEvent& e) {
    auto* c = e.mutable_call_ended();
    c->set_hangup_side(v1::SIDE_CALLER);
    c->set_cause("normal clearing");
    c->mutable_caller_media()->set_packets_in(2100);
    c->mutable_recording()->set_file("t1/c1.wav");
    c->mutable_recording()->set_duration_ms(42000);
    c->mutable_recording()->set_bytes(44 + 42 * 32000);
  });
  return events;
}

}  // namespace

TEST_CASE("an answered call folds into one record with times, parties and legs") {
  auto record = projectCall("t1", "c1", answeredCall());
  CHECK(record.direction() == v1::DIRECTION_INBOUND);
  CHECK(record.caller() == "+380441112233");
  CHECK(record.disposition() == v1::DISPOSITION_ANSWERED);
  CHECK(record.hangup_side() == v1::SIDE_CALLER);
  CHECK(record.answered_leg_id() == "b1");
  CHECK(record.answered_by() == "101");
  CHECK(record.ring_seconds() == 5);
  CHECK(record.talk_seconds() == 42);
  CHECK(record.complete());
  CHECK(record.events() == 8);
  REQUIRE(record.legs_size() == 2);
  CHECK(record.legs(0).leg_id() == "b1");
  CHECK(record.legs(0).media().packets_in() == 2100);
  CHECK(record.legs(1).end_reason() == "cancelled");
  CHECK(record.caller_media().packets_in() == 2100);
  CHECK(record.recording().file() == "t1/c1.wav");  // the recording call.ended names
  CHECK(record.recording().duration_ms() == 42000);
}

TEST_CASE("order of arrival and duplicates do not change the record") {
  const auto expected = projectCall("t1", "c1", answeredCall());
  std::mt19937 random(7);
  for (int round = 0; round < 20; ++round) {
    auto events = answeredCall();
    auto duplicates = events;
    events.insert(events.end(), duplicates.begin(), duplicates.begin() + round % 8);
    std::shuffle(events.begin(), events.end(), random);
    const auto record = projectCall("t1", "c1", events);
    CHECK(google::protobuf::util::MessageDifferencer::Equals(record, expected));
  }
}

TEST_CASE("a call still in progress is incomplete, and dispositions are derived when not given") {
  auto events = answeredCall();
  events.resize(3);
  auto partial = projectCall("t1", "c1", events);
  CHECK_FALSE(partial.complete());
  CHECK(partial.disposition() == v1::DISPOSITION_UNSPECIFIED);
  CHECK(partial.events() == 3);

  for (auto [status, disposition] : std::vector<std::pair<uint32_t, v1::Disposition>>{
           {486, v1::DISPOSITION_BUSY}, {480, v1::DISPOSITION_NO_ANSWER},
           {487, v1::DISPOSITION_CANCELLED}, {503, v1::DISPOSITION_FAILED}}) {
    std::vector<CallEventRecord> unanswered(2);
    unanswered[0] = {"s", 1, kStart, {}};
    unanswered[0].event.mutable_call_started()->set_caller("x");
    unanswered[1] = {"e", 2, kStart + 20'000'000, {}};
    unanswered[1].event.mutable_call_ended()->set_sip_status(status);
    auto record = projectCall("t1", "c2", unanswered);
    CHECK(record.disposition() == disposition);
    CHECK(record.ring_seconds() == 20);
    CHECK(record.talk_seconds() == 0);
  }
}

TEST_CASE("events without a call.started still give the call a start time") {
  std::vector<CallEventRecord> events(1);
  events[0] = {"x", 3, kStart + 5'000'000, {}};
  events[0].event.mutable_leg_ringing()->set_leg_id("b1");
  auto record = projectCall("t1", "c3", events);
  CHECK(record.started_at().seconds() == (kStart + 5'000'000) / 1000000);
  CHECK(eventType(events[0].event) == "call.ringing");
}

TEST_CASE("route steps become the record's route, in sequence order, whatever order they arrive in") {
  std::vector<CallEventRecord> events = answeredCall();
  // sip-edge publishes a dial's route steps right before its legs: sequences 2-4 here.
  for (auto& event : events) {
    if (event.sequence > 1) event.sequence += 3;
  }
  const char* steps[][3] = {{"main", "schedule", "open"}, {"sales", "scheme", "ring"}, {"sales", "step", "1"}};
  uint64_t sequence = 2;
  for (const auto& step : steps) {
    CallEventRecord record;
    record.sequence = sequence++;
    record.event_id = std::string("r") + std::to_string(record.sequence);
    record.occurred_micros = kStart + 5000;
    auto* route = record.event.mutable_route_step();
    route->set_node(step[0]);
    route->set_type(step[1]);
    route->set_outcome(step[2]);
    route->set_plan_version(7);
    events.push_back(record);
  }
  std::mt19937 shuffle_seed(7);
  std::shuffle(events.begin(), events.end(), shuffle_seed);
  events.push_back(events.front());  // a duplicate delivery
  const v1::CallRecord record = projectCall("t", "c", events);
  REQUIRE(record.route_size() == 3);
  CHECK(record.route(0).node() == "main");
  CHECK(record.route(1).type() == "scheme");
  CHECK(record.route(2).outcome() == "1");
  CHECK(record.route(2).plan_version() == 7);
  CHECK(record.answered_by() == "101");
  v1::CallEvent step_event;
  step_event.mutable_route_step();
  CHECK(eventType(step_event) == "call.route_step");
}

TEST_CASE("a call that left a voicemail message is listed in the box its route names") {
  auto step = [](uint64_t sequence, const std::string& type, const std::string& outcome, const std::string& detail) {
    CallEventRecord record{"r" + std::to_string(sequence), sequence, kStart + static_cast<int64_t>(sequence) * 1000, {}};
    auto* route = record.event.mutable_route_step();
    route->set_node("vm");
    route->set_type(type);
    route->set_outcome(outcome);
    route->set_detail(detail);
    return record;
  };
  std::vector<CallEventRecord> events(1);
  events[0] = {"s", 1, kStart, {}};
  events[0].event.mutable_call_started()->set_caller("+380441112233");
  events.push_back(step(2, "voicemail", "recording", "sales"));
  events.push_back(step(3, "voicemail", "silence", "sales: 7400 ms"));
  // The caller hung up in the greeting: no message, so no voicemail either.
  CallEventRecord ended{"e", 4, kStart + 20'000'000, {}};
  ended.event.mutable_call_ended()->set_disposition(v1::DISPOSITION_NO_ANSWER);
  events.push_back(ended);
  CHECK(projectCall("t1", "c9", events).voicemail_box().empty());
  // With the message recorded, the record is the box's.
  auto* recording = events.back().event.mutable_call_ended()->mutable_recording();
  recording->set_file("t1/c9.wav");
  recording->set_channels(1);
  recording->set_voicemail(true);
  auto record = projectCall("t1", "c9", events);
  CHECK(record.voicemail_box() == "sales");
  CHECK(record.recording().voicemail());
  CHECK(record.route_size() == 2);
  // A conversation's recording is no voicemail, whatever its route.
  recording->set_voicemail(false);
  CHECK(projectCall("t1", "c9", events).voicemail_box().empty());
}

namespace {

// A queue step at `at_s` seconds after the start.
CallEventRecord queueStep(uint64_t sequence, int64_t at_s, const std::string& queue, const std::string& outcome,
                          const std::string& account = "", const std::string& detail = "") {
  CallEventRecord record{"q" + std::to_string(sequence), sequence, kStart + at_s * 1'000'000, {}};
  auto* route = record.event.mutable_route_step();
  route->set_node(queue);
  route->set_type("queue");
  route->set_outcome(outcome);
  route->set_account_id(account);
  route->set_detail(detail);
  return record;
}

CallEventRecord callEnded(uint64_t sequence, int64_t at_s) {
  CallEventRecord ended{"end", sequence, kStart + at_s * 1'000'000, {}};
  ended.event.mutable_call_ended()->set_disposition(v1::DISPOSITION_ANSWERED);
  return ended;
}

}  // namespace

TEST_CASE("a queue's steps become the record's queue visit: answered after its wait by the agent") {
  std::vector<CallEventRecord> events(1);
  events[0] = {"s", 1, kStart, {}};
  // Routing's step for the plan's queue node, handing the call over, is no visit.
  events[0].event.mutable_route_step()->set_type("queue");
  events[0].event.mutable_route_step()->set_node("line");
  events[0].event.mutable_route_step()->set_outcome("enqueue");
  events.push_back(queueStep(2, 1, "q1", "joined", "", "position 1"));
  events.push_back(queueStep(3, 2, "q1", "offered"));
  events.push_back(queueStep(4, 17, "q1", "missed", "agent-1"));
  events.push_back(queueStep(5, 18, "q1", "offered"));
  events.push_back(queueStep(6, 25, "q1", "answered", "agent-2"));
  auto record = projectCall("t", "c", events);
  REQUIRE(record.queue_visits_size() == 1);
  const auto& visit = record.queue_visits(0);
  CHECK(visit.queue_id() == "q1");
  CHECK(visit.outcome() == "answered");
  CHECK(visit.wait_seconds() == 24);
  CHECK(visit.account_id() == "agent-2");
  CHECK(visit.offers() == 2);
  CHECK(visit.missed() == 1);
  CHECK(visit.joined_at().seconds() == (kStart / 1'000'000) + 1);
  // Every step has its time.
  CHECK(record.route(5).at().seconds() == (kStart / 1'000'000) + 25);
  CHECK(record.route(3).account_id() == "agent-1");
  // The call's end does not change an answered visit.
  events.push_back(callEnded(7, 90));
  CHECK(projectCall("t", "c", events).queue_visits(0).outcome() == "answered");
}

TEST_CASE("a caller who hangs up in line abandoned the queue, after the wait until the end") {
  std::vector<CallEventRecord> events = {queueStep(2, 3, "q1", "joined"), queueStep(3, 8, "q1", "announced")};
  auto record = projectCall("t", "c", events);
  REQUIRE(record.queue_visits_size() == 1);
  CHECK(record.queue_visits(0).outcome() == "waiting");  // not over yet
  CHECK(record.queue_visits(0).wait_seconds() == 0);
  events.push_back(callEnded(4, 40));
  record = projectCall("t", "c", events);
  CHECK(record.queue_visits(0).outcome() == "abandoned");
  CHECK(record.queue_visits(0).wait_seconds() == 37);
  CHECK(record.queue_visits(0).account_id().empty());
}

TEST_CASE("overflow ends a visit, and a second queue is a second visit") {
  std::vector<CallEventRecord> events = {
      queueStep(2, 0, "q1", "joined"), queueStep(3, 60, "q1", "overflow", "", "max_wait"),
      // Overflow to another queue, which is full: a visit of no wait.
      queueStep(4, 60, "q2", "overflow", "", "full"), queueStep(5, 61, "q3", "joined"), callEnded(6, 70)};
  std::mt19937 shuffle_seed(3);
  std::shuffle(events.begin(), events.end(), shuffle_seed);
  auto record = projectCall("t", "c", events);
  REQUIRE(record.queue_visits_size() == 3);
  CHECK(record.queue_visits(0).outcome() == "overflowed");
  CHECK(record.queue_visits(0).overflow_reason() == "max_wait");
  CHECK(record.queue_visits(0).wait_seconds() == 60);
  CHECK(record.queue_visits(1).queue_id() == "q2");
  CHECK(record.queue_visits(1).outcome() == "overflowed");
  CHECK(record.queue_visits(1).wait_seconds() == 0);
  CHECK(record.queue_visits(2).outcome() == "abandoned");
  CHECK(record.queue_visits(2).wait_seconds() == 9);
  // Derived again from the route alone (as the call log reads a stored record), the same.
  auto reread = record;
  reread.clear_queue_visits();
  setQueueVisits(&reread);
  CHECK(google::protobuf::util::MessageDifferencer::Equals(reread, record));
}

TEST_CASE("an agent's answer closes the visit even when the queue's answered step is missing") {
  std::vector<CallEventRecord> events = {queueStep(2, 1, "q1", "joined"), queueStep(3, 2, "q1", "offered")};
  CallEventRecord leg{"l", 4, kStart + 2'100'000, {}};
  leg.event.mutable_leg_created()->set_leg_id("b1.1");
  leg.event.mutable_leg_created()->set_account_id("agent-1");
  events.push_back(leg);
  CallEventRecord answered{"a", 5, kStart + 9'000'000, {}};
  answered.event.mutable_leg_answered()->set_leg_id("b1.1");
  events.push_back(answered);
  events.push_back(callEnded(6, 10));  // the agent hung up at once: no Note made it
  const auto record = projectCall("t", "c", events);
  REQUIRE(record.queue_visits_size() == 1);
  CHECK(record.queue_visits(0).outcome() == "answered");
  CHECK(record.queue_visits(0).account_id() == "agent-1");
  CHECK(record.queue_visits(0).wait_seconds() == 8);
}

TEST_CASE("queue steps stored before they had times give visits of unknown wait, not 1970") {
  v1::CallRecord record;
  auto* joined = record.add_route();
  joined->set_type("queue");
  joined->set_node("q1");
  joined->set_outcome("joined");
  record.set_complete(true);
  record.mutable_ended_at()->set_seconds(1'790'000'100);
  setQueueVisits(&record);
  REQUIRE(record.queue_visits_size() == 1);
  CHECK(record.queue_visits(0).outcome() == "abandoned");
  CHECK_FALSE(record.queue_visits(0).has_joined_at());
  CHECK(record.queue_visits(0).wait_seconds() == 0);
}
