#include "tel/events/call_record_json.h"

#include <google/protobuf/util/time_util.h>

namespace tel::events {

using nlohmann::json;
namespace calls_v1 = ::tel::calls::v1;

std::string apiEnumName(int value, const google::protobuf::EnumDescriptor* descriptor,
                        const std::string& prefix) {
  const auto* entry = descriptor->FindValueByNumber(value);
  if (entry == nullptr || entry->number() == 0) return "";
  std::string name = entry->name().substr(prefix.size());
  for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return name;
}

namespace {

json time(const google::protobuf::Timestamp& value, bool present) {
  if (!present) return nullptr;
  return google::protobuf::util::TimeUtil::ToString(value);
}

json media(const calls_v1::MediaCounters& counters) {
  return {{"packets_in", counters.packets_in()}, {"packets_out", counters.packets_out()},
          {"bytes_in", counters.bytes_in()}, {"bytes_out", counters.bytes_out()}};
}

}  // namespace

json callRecordJson(const calls_v1::CallRecord& call, bool with_legs) {
  json out = {
      {"id", call.call_id()},
      {"direction", apiEnumName(call.direction(), calls_v1::Direction_descriptor(), "DIRECTION_")},
      {"caller", call.caller()},
      {"called", call.called()},
      {"number_id", call.number_id()},
      {"caller_account_id", call.caller_account_id()},
      {"started_at", time(call.started_at(), call.has_started_at())},
      {"answered_at", time(call.answered_at(), call.has_answered_at())},
      {"ended_at", time(call.ended_at(), call.has_ended_at())},
      {"ring_seconds", call.ring_seconds()},
      {"talk_seconds", call.talk_seconds()},
      {"disposition", call.complete() ? apiEnumName(call.disposition(), calls_v1::Disposition_descriptor(), "DISPOSITION_")
                                      : "in_progress"},
      {"hangup_side", apiEnumName(call.hangup_side(), calls_v1::Side_descriptor(), "SIDE_")},
      {"sip_status", call.sip_status()},
      {"cause", call.cause()},
      {"answered_by", call.answered_by()},
      {"answered_leg_id", call.answered_leg_id()},
      {"caller_media", media(call.caller_media())},
      {"complete", call.complete()},
  };
  if (call.has_source()) {
    const auto& source = call.source();
    out["source"] = {{"session_id", source.session_id()},     {"utm_source", source.utm_source()},
                     {"utm_medium", source.utm_medium()},     {"utm_campaign", source.utm_campaign()},
                     {"utm_term", source.utm_term()},         {"utm_content", source.utm_content()},
                     {"referrer", source.referrer()},         {"landing_page", source.landing_page()}};
  } else {
    out["source"] = nullptr;
  }
  // Where the API serves the recording; the file's place in the store is the platform's business.
  // A recording deleted after the tenant's retention keeps its length, without a URL.
  out["recording"] = call.has_recording()
                         ? json{{"duration_ms", call.recording().duration_ms()},
                                {"bytes", call.recording().bytes()},
                                {"expired", call.recording().expired()},
                                {"channels", call.recording().channels()},
                                {"voicemail", call.recording().voicemail()},
                                {"url", call.recording().expired()
                                            ? json(nullptr)
                                            : json("/v1/calls/" + call.call_id() + "/recording")}}
                         : json(nullptr);
  // A call that left a voicemail message: its box, and whether someone has heard it.
  out["voicemail"] = call.voicemail_box().empty()
                         ? json(nullptr)
                         : json{{"box", call.voicemail_box()},
                                {"heard", call.has_voicemail_heard_at()},
                                {"heard_at", time(call.voicemail_heard_at(), call.has_voicemail_heard_at())}};
  out["category"] = call.category_id().empty()
                        ? json(nullptr)
                        : json{{"id", call.category_id()}, {"name", call.category()}, {"set_by", call.category_set_by()}};
  // The queues the call waited in: small, so the call log's list has them too (a wallboard's history).
  out["queue_visits"] = json::array();
  for (const auto& visit : call.queue_visits()) {
    out["queue_visits"].push_back({{"queue_id", visit.queue_id()},
                                   {"joined_at", time(visit.joined_at(), visit.has_joined_at())},
                                   {"outcome", visit.outcome()},
                                   {"wait_seconds", visit.wait_seconds()},
                                   {"account_id", visit.account_id()},
                                   {"offers", visit.offers()},
                                   {"missed", visit.missed()},
                                   {"overflow_reason", visit.overflow_reason()}});
  }
  if (with_legs) {
    out["legs"] = json::array();
    for (const auto& leg : call.legs()) {
      out["legs"].push_back({
          {"id", leg.leg_id()},
          {"target_kind", apiEnumName(leg.target_kind(), calls_v1::LegTargetKind_descriptor(), "LEG_TARGET_")},
          {"target", leg.target()},
          {"account_id", leg.account_id()},
          {"extension", leg.extension()},
          {"created_at", time(leg.created_at(), leg.has_created_at())},
          {"ringing_at", time(leg.ringing_at(), leg.has_ringing_at())},
          {"answered_at", time(leg.answered_at(), leg.has_answered_at())},
          {"ended_at", time(leg.ended_at(), leg.has_ended_at())},
          {"sip_status", leg.sip_status()},
          {"end_reason", leg.end_reason()},
          {"media", media(leg.media())},
      });
    }
    out["route"] = json::array();
    for (const auto& step : call.route()) {
      out["route"].push_back({{"node", step.node()},
                              {"type", step.type()},
                              {"outcome", step.outcome()},
                              {"detail", step.detail()},
                              {"plan_version", step.plan_version()},
                              {"account_id", step.account_id()},
                              {"at", time(step.at(), step.has_at())}});
    }
  }
  return out;
}

}  // namespace tel::events
