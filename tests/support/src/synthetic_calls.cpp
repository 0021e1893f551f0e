#include "tel/testing/synthetic_calls.h"

#include <functional>

namespace tel::testing {

std::vector<events::EncodedEvent> answeredCallEvents(const std::string& tenant_id, const std::string& call_id,
                                                     std::chrono::system_clock::time_point start) {
  using namespace std::chrono_literals;
  namespace calls = tel::calls::v1;
  std::vector<events::EncodedEvent> out;
  uint64_t sequence = 0;
  auto add = [&](std::chrono::milliseconds at, const std::function<void(calls::CallEvent&)>& fill) {
    calls::CallEvent event;
    fill(event);
    out.push_back(events::encodeCallEvent(tenant_id, call_id, ++sequence, event, start + at, "bench"));
  };
  add(0ms, [](auto& e) {
    e.mutable_call_started()->set_direction(calls::DIRECTION_INBOUND);
    e.mutable_call_started()->set_caller("+380441234567");
    e.mutable_call_started()->set_called("+15550001000");
  });
  add(5ms, [](auto& e) { e.mutable_leg_created()->set_leg_id("b1"); e.mutable_leg_created()->set_extension("101"); });
  add(100ms, [](auto& e) { e.mutable_leg_ringing()->set_leg_id("b1"); });
  add(4000ms, [](auto& e) { e.mutable_leg_answered()->set_leg_id("b1"); });
  add(4001ms, [](auto& e) { e.mutable_call_bridged()->set_leg_id("b1"); });
  add(64000ms, [](auto& e) { e.mutable_leg_ended()->set_leg_id("b1"); e.mutable_leg_ended()->set_sip_status(200); });
  add(64001ms, [](auto& e) { e.mutable_call_ended()->set_hangup_side(calls::SIDE_CALLER); });
  return out;
}

}  // namespace tel::testing
