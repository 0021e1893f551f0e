#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "tel/calls/v1/calls.pb.h"

namespace tel::integrations {

// What one call event means for webhooks: facts to remember about the call (subscription filters
// and leg events need them later) and the webhook events it raises. Pure: unit-tested alone.
struct CallFacts {
  std::string direction;                // inbound, outbound, internal; "" when not known here
  std::vector<std::string> numbers;     // E.164 numbers of the call
  std::vector<std::string> extensions;  // extensions that placed or were offered the call
  std::string leg_id;                   // a leg just created, with its details
  nlohmann::json leg;
};

// The queue the caller waits in: a queue id once it joined, "" once an agent answered or the queue
// sent it on. Its end then tells whether the caller hung up waiting (queue.caller_abandoned).
struct QueueFact {
  std::string waiting_in;
};

struct RaisedEvent {
  std::string type;
  // Nullopt for call.ended and call.missed: they carry the call record, read once it is complete.
  std::optional<nlohmann::json> data;
  std::string leg_id;  // the event is about this leg: its details are added from the call's facts
};

struct CallEventImpact {
  std::optional<CallFacts> facts;
  std::vector<RaisedEvent> events;
  std::optional<QueueFact> queue{};
};

CallEventImpact impactOf(const calls::v1::CallEvent& event);

}  // namespace tel::integrations
