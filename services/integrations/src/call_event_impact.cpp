#include "call_event_impact.h"

#include "tel/events/call_record_json.h"

namespace tel::integrations {
namespace {

namespace calls_v1 = ::tel::calls::v1;
using nlohmann::json;

bool isE164(const std::string& text) { return text.size() > 1 && text[0] == '+'; }

CallEventImpact callStarted(const calls_v1::CallStarted& started) {
  CallFacts facts;
  facts.direction = events::apiEnumName(started.direction(), calls_v1::Direction_descriptor(), "DIRECTION_");
  for (const auto* party : {&started.caller(), &started.called()}) {
    if (isE164(*party)) facts.numbers.push_back(*party);
  }
  // An account's call names the account's extension as the caller; an internal call dials one.
  if (started.direction() != calls_v1::DIRECTION_INBOUND && !started.caller().empty() &&
      !isE164(started.caller())) {
    facts.extensions.push_back(started.caller());
  }
  if (started.direction() == calls_v1::DIRECTION_INTERNAL) facts.extensions.push_back(started.called());
  json data = {{"direction", facts.direction},
               {"caller", started.caller()},
               {"called", started.called()},
               {"number_id", started.number_id()},
               {"caller_account_id", started.caller_account_id()}};
  return {std::move(facts), {{"call.started", std::move(data), ""}}};
}

CallEventImpact legCreated(const calls_v1::LegCreated& leg) {
  CallFacts facts;
  if (!leg.extension().empty()) facts.extensions.push_back(leg.extension());
  facts.leg_id = leg.leg_id();
  facts.leg = {{"id", leg.leg_id()},
               {"target_kind", events::apiEnumName(leg.target_kind(), calls_v1::LegTargetKind_descriptor(),
                                                   "LEG_TARGET_")},
               {"target", leg.target()},
               {"account_id", leg.account_id()},
               {"extension", leg.extension()}};
  return {std::move(facts), {}};
}

// The queue's steps (services/queue, dispatcher.cpp): the step's node is the queue's id.
CallEventImpact queueStep(const calls_v1::RouteStep& step) {
  if (step.type() != "queue") return {};
  if (step.outcome() == "joined") {
    CallEventImpact impact{std::nullopt,
                           {{"queue.caller_joined", json{{"queue_id", step.node()}, {"detail", step.detail()}}, ""}},
                           QueueFact{step.node()}};
    return impact;
  }
  if (step.outcome() == "answered" || step.outcome() == "overflow") return {std::nullopt, {}, QueueFact{""}};
  return {};
}

}  // namespace

CallEventImpact impactOf(const calls_v1::CallEvent& event) {
  switch (event.kind_case()) {
    case calls_v1::CallEvent::kCallStarted:
      return callStarted(event.call_started());
    case calls_v1::CallEvent::kLegCreated:
      return legCreated(event.leg_created());
    case calls_v1::CallEvent::kLegRinging:
      return {std::nullopt,
              {{"call.ringing", json{{"early_media", event.leg_ringing().early_media()}},
                event.leg_ringing().leg_id()}}};
    case calls_v1::CallEvent::kLegAnswered:
      // Whoever answered, a caller in a queue is no longer waiting in it.
      return {std::nullopt, {{"call.answered", json::object(), event.leg_answered().leg_id()}}, QueueFact{""}};
    case calls_v1::CallEvent::kCallEnded: {
      CallEventImpact impact{std::nullopt, {{"call.ended", std::nullopt, ""}}};
      // Whether it was inbound is the call's fact, known where the event is recorded.
      if (event.call_ended().disposition() != calls_v1::DISPOSITION_ANSWERED) {
        impact.events.push_back({"call.missed", std::nullopt, ""});
      }
      // The file is finished when the call ends: a CRM can fetch it from the record's URL.
      if (event.call_ended().has_recording()) {
        impact.events.push_back(
            {event.call_ended().recording().voicemail() ? "voicemail.received" : "recording.ready", std::nullopt, ""});
      }
      // Only for a caller still waiting in a queue, known where the event is recorded.
      impact.events.push_back({"queue.caller_abandoned", std::nullopt, ""});
      return impact;
    }
    case calls_v1::CallEvent::kRouteStep:
      return queueStep(event.route_step());
    default:  // bridged, leg ended: nothing a subscriber is told on its own
      return {};
  }
}

}  // namespace tel::integrations
