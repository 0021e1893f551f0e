#include "call_projection.h"

#include <algorithm>
#include <map>
#include <set>

namespace tel::cdr {
namespace {

void setTime(int64_t micros, google::protobuf::Timestamp* out) {
  out->set_seconds(micros / 1000000);
  out->set_nanos(static_cast<int32_t>((micros % 1000000) * 1000));
}

int64_t micros(const google::protobuf::Timestamp& time) {
  return time.seconds() * 1000000 + time.nanos() / 1000;
}

// Whole seconds, rounded to nearest, never negative.
uint32_t seconds(int64_t from, int64_t to) {
  if (to <= from) return 0;
  return static_cast<uint32_t>((to - from + 500000) / 1000000);
}

v1::Disposition deriveDisposition(const v1::CallRecord& record) {
  if (record.has_answered_at()) return v1::DISPOSITION_ANSWERED;
  switch (record.sip_status()) {
    case 486:
    case 600:
      return v1::DISPOSITION_BUSY;
    case 408:
    case 480:
      return v1::DISPOSITION_NO_ANSWER;
    case 487:
      return v1::DISPOSITION_CANCELLED;
    default:
      return v1::DISPOSITION_FAILED;
  }
}

}  // namespace

void setQueueVisits(v1::CallRecord* record) {
  record->clear_queue_visits();
  v1::QueueVisit* open = nullptr;  // the visit whose caller is still in line
  // Steps recorded before they carried their times have none: their waits are unknown (0).
  auto close = [&](const char* outcome, int64_t at) {
    open->set_outcome(outcome);
    if (open->has_joined_at() && at != 0) open->set_wait_seconds(seconds(micros(open->joined_at()), at));
    open = nullptr;
  };
  // The queue service's steps (routing's own step for the plan's queue node, "enqueue", is not one).
  static const std::set<std::string> kQueueOutcomes = {"joined", "announced", "offered", "missed", "answered",
                                                       "overflow"};
  for (const auto& step : record->route()) {
    if (step.type() != "queue" || !kQueueOutcomes.contains(step.outcome())) continue;
    const int64_t at = micros(step.at());
    // A queue that sends its caller on at once (full, gone) has no joined step: a visit of no wait.
    if (step.outcome() == "joined" || open == nullptr || open->queue_id() != step.node()) {
      open = record->add_queue_visits();
      open->set_queue_id(step.node());
      if (at != 0) *open->mutable_joined_at() = step.at();
      open->set_outcome("waiting");
      if (step.outcome() == "joined") continue;
    }
    if (step.outcome() == "offered") {
      open->set_offers(open->offers() + 1);
    } else if (step.outcome() == "missed") {
      open->set_missed(open->missed() + 1);
    } else if (step.outcome() == "answered") {
      open->set_account_id(step.account_id());
      close("answered", at);
    } else if (step.outcome() == "overflow") {
      open->set_overflow_reason(step.detail());
      close("overflowed", at);
    }
  }
  // An agent's leg answered after the caller joined: answered, even without the queue's own step
  // (the call may have ended before the queue could put it on the record).
  if (open != nullptr && record->has_answered_at() &&
      (!open->has_joined_at() || micros(record->answered_at()) >= micros(open->joined_at()))) {
    for (const auto& leg : record->legs()) {
      if (leg.leg_id() == record->answered_leg_id()) open->set_account_id(leg.account_id());
    }
    close("answered", micros(record->answered_at()));
  }
  if (open != nullptr && record->complete()) close("abandoned", micros(record->ended_at()));
}

std::string eventType(const v1::CallEvent& event) {
  switch (event.kind_case()) {
    case v1::CallEvent::kCallStarted: return "call.started";
    case v1::CallEvent::kLegCreated: return "call.leg_created";
    case v1::CallEvent::kLegRinging: return "call.ringing";
    case v1::CallEvent::kLegAnswered: return "call.answered";
    case v1::CallEvent::kCallBridged: return "call.bridged";
    case v1::CallEvent::kLegEnded: return "call.leg_ended";
    case v1::CallEvent::kCallEnded: return "call.ended";
    case v1::CallEvent::kRouteStep: return "call.route_step";
    case v1::CallEvent::KIND_NOT_SET: return "";
  }
  return "";
}

v1::CallRecord projectCall(const std::string& tenant_id, const std::string& call_id,
                           std::vector<CallEventRecord> events) {
  // Sequence order, ties broken by event id so that the fold is deterministic; duplicates out.
  std::sort(events.begin(), events.end(), [](const auto& a, const auto& b) {
    return a.sequence != b.sequence ? a.sequence < b.sequence : a.event_id < b.event_id;
  });
  std::set<std::string> seen;
  v1::CallRecord record;
  record.set_call_id(call_id);
  record.set_tenant_id(tenant_id);
  std::map<std::string, v1::CallLeg> legs;  // by leg id, so legs come out in a stable order
  std::vector<std::string> leg_order;
  auto leg = [&](const std::string& id) -> v1::CallLeg& {
    auto [it, inserted] = legs.try_emplace(id);
    if (inserted) {
      it->second.set_leg_id(id);
      leg_order.push_back(id);
    }
    return it->second;
  };
  int64_t first_event = INT64_MAX;
  int64_t answered_micros = 0;

  for (const auto& item : events) {
    if (!seen.insert(item.event_id).second) continue;
    first_event = std::min(first_event, item.occurred_micros);
    const auto& event = item.event;
    switch (event.kind_case()) {
      case v1::CallEvent::kCallStarted: {
        const auto& started = event.call_started();
        record.set_direction(started.direction());
        record.set_caller(started.caller());
        record.set_called(started.called());
        record.set_number_id(started.number_id());
        record.set_caller_account_id(started.caller_account_id());
        setTime(item.occurred_micros, record.mutable_started_at());
        break;
      }
      case v1::CallEvent::kLegCreated: {
        const auto& created = event.leg_created();
        auto& l = leg(created.leg_id());
        l.set_target_kind(created.target_kind());
        l.set_target(created.target());
        l.set_account_id(created.account_id());
        l.set_extension(created.extension());
        setTime(item.occurred_micros, l.mutable_created_at());
        break;
      }
      case v1::CallEvent::kLegRinging: {
        auto& l = leg(event.leg_ringing().leg_id());
        if (!l.has_ringing_at()) setTime(item.occurred_micros, l.mutable_ringing_at());
        break;
      }
      case v1::CallEvent::kLegAnswered:
      case v1::CallEvent::kCallBridged: {
        const std::string& id = event.has_leg_answered() ? event.leg_answered().leg_id()
                                                         : event.call_bridged().leg_id();
        auto& l = leg(id);
        if (!l.has_answered_at()) setTime(item.occurred_micros, l.mutable_answered_at());
        // The call is answered by the first leg that answered.
        if (answered_micros == 0 || item.occurred_micros < answered_micros) {
          answered_micros = item.occurred_micros;
          record.set_answered_leg_id(id);
        }
        break;
      }
      case v1::CallEvent::kLegEnded: {
        const auto& ended = event.leg_ended();
        auto& l = leg(ended.leg_id());
        setTime(item.occurred_micros, l.mutable_ended_at());
        l.set_sip_status(ended.sip_status());
        l.set_end_reason(ended.reason());
        *l.mutable_media() = ended.media();
        break;
      }
      case v1::CallEvent::kCallEnded: {
        const auto& ended = event.call_ended();
        setTime(item.occurred_micros, record.mutable_ended_at());
        record.set_disposition(ended.disposition());
        record.set_hangup_side(ended.hangup_side());
        record.set_sip_status(ended.sip_status());
        record.set_cause(ended.cause());
        *record.mutable_caller_media() = ended.caller_media();
        if (ended.has_recording()) *record.mutable_recording() = ended.recording();
        record.set_complete(true);
        break;
      }
      case v1::CallEvent::kRouteStep: {
        auto* step = record.add_route();
        *step = event.route_step();
        setTime(item.occurred_micros, step->mutable_at());
        // Routing names the box in the step that starts the message (router.cpp, takeMessage).
        if (event.route_step().type() == "voicemail" && event.route_step().outcome() == "recording") {
          record.set_voicemail_box(event.route_step().detail());
        }
        break;
      }
      case v1::CallEvent::KIND_NOT_SET:
        break;
    }
  }
  // A box is only a voicemail's once its message was recorded (a caller may hang up in the greeting).
  if (!record.has_recording() || !record.recording().voicemail()) record.clear_voicemail_box();
  record.set_events(seen.size());
  if (!record.has_started_at() && first_event != INT64_MAX) setTime(first_event, record.mutable_started_at());
  if (answered_micros != 0) {
    setTime(answered_micros, record.mutable_answered_at());
    const auto& answered = legs[record.answered_leg_id()];
    record.set_answered_by(!answered.extension().empty() ? answered.extension() : answered.target());
  }
  if (record.complete() && record.disposition() == v1::DISPOSITION_UNSPECIFIED) {
    record.set_disposition(deriveDisposition(record));
  }
  const int64_t start = micros(record.started_at());
  if (record.has_answered_at()) {
    record.set_ring_seconds(seconds(start, answered_micros));
    if (record.has_ended_at()) record.set_talk_seconds(seconds(answered_micros, micros(record.ended_at())));
  } else if (record.has_ended_at()) {
    record.set_ring_seconds(seconds(start, micros(record.ended_at())));
  }
  for (const auto& id : leg_order) *record.add_legs() = legs[id];
  setQueueVisits(&record);
  return record;
}

}  // namespace tel::cdr
