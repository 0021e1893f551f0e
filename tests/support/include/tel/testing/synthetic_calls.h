#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "tel/events/call_events.h"

namespace tel::testing {

// The 7 events of an inbound call answered by extension 101 on leg "b1", as sip-edge publishes them:
// started at `start`, ringing at +100 ms, answered at +4 s, ended by the caller at +64.001 s.
// For benchmarks that feed call events straight into Kafka.
std::vector<events::EncodedEvent> answeredCallEvents(const std::string& tenant_id, const std::string& call_id,
                                                     std::chrono::system_clock::time_point start);

}  // namespace tel::testing
