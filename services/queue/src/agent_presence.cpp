#include "agent_presence.h"

#include <thread>

#include "tel/events/call_events.h"

namespace tel::queue {

std::optional<PresenceChange> presenceChangeOf(const calls::v1::CallEvent& event) {
  switch (event.kind_case()) {
    case calls::v1::CallEvent::kCallStarted:
      if (event.call_started().caller_account_id().empty()) return std::nullopt;
      return PresenceChange{"engaged", "caller", event.call_started().caller_account_id()};
    case calls::v1::CallEvent::kLegCreated:
      if (event.leg_created().account_id().empty()) return std::nullopt;  // a number outside
      return PresenceChange{"leg", event.leg_created().leg_id(), event.leg_created().account_id()};
    case calls::v1::CallEvent::kLegAnswered:
      return PresenceChange{"engaged", event.leg_answered().leg_id(), ""};
    case calls::v1::CallEvent::kLegEnded:
      return PresenceChange{"released", event.leg_ended().leg_id(), ""};
    case calls::v1::CallEvent::kCallEnded:
      return PresenceChange{"ended", "", ""};
    default:
      return std::nullopt;
  }
}

AgentPresence::AgentPresence(kafka::Consumer& consumer, LiveQueues& live, std::chrono::milliseconds lapse,
                             log::Logger logger, prometheus::Registry& registry)
    : consumer_(consumer),
      live_(live),
      lapse_(lapse),
      log_(std::move(logger)),
      changes_(prometheus::BuildCounter()
                   .Name("tel_queue_presence_changes_total")
                   .Help("Accounts engaged in or released from calls, from the call events (kind)")
                   .Register(registry)),
      rejected_(prometheus::BuildCounter()
                    .Name("tel_queue_presence_rejected_events_total")
                    .Help("Malformed call events skipped")
                    .Register(registry)
                    .Add({})),
      failures_(prometheus::BuildCounter()
                    .Name("tel_queue_presence_failures_total")
                    .Help("Batches of call events Redis did not take, retried")
                    .Register(registry)
                    .Add({})) {
  for (const char* kind : {"leg", "engaged", "released", "ended"}) changes_.Add({{"kind", kind}});
}

bool AgentPresence::apply(const std::vector<kafka::Message>& batch) {
  const int64_t now_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
          .count();
  for (const auto& message : batch) {
    auto decoded = events::decodeCallEvent(message.value);
    if (!decoded.ok()) {
      // It can never become valid: skipped, so that it does not stop the partition.
      rejected_.Increment();
      continue;
    }
    const auto change = presenceChangeOf(decoded->event);
    if (!change) continue;
    const auto& envelope = decoded->envelope;
    auto applied = live_.presence(envelope.tenant_id(), change->kind, envelope.call_id(), change->leg,
                                  change->account_id, now_ms, lapse_.count());
    if (!applied.ok()) {
      log_.warn("agent presence not recorded; retrying the batch",
                {{"call_id", envelope.call_id()}, {"tenant_id", envelope.tenant_id()},
                 {"error", std::string(applied.status().message())}});
      return false;
    }
    changes_.Add({{"kind", change->kind}}).Increment();
  }
  return true;
}

void AgentPresence::run(const std::atomic<bool>& stop) {
  auto backoff = std::chrono::milliseconds(100);
  while (!stop) {
    auto batch = consumer_.poll(500, std::chrono::milliseconds(100));
    if (!batch.ok()) {
      log_.warn("kafka poll failed", {{"error", std::string(batch.status().message())}});
      std::this_thread::sleep_for(std::chrono::milliseconds(500));
      continue;
    }
    if (batch->empty()) continue;
    // Retried until applied: committing offsets of unapplied events would leave agents busy or free
    // by mistake.
    while (!apply(*batch)) {
      failures_.Increment();
      if (stop) return;  // the batch will be read again
      std::this_thread::sleep_for(backoff);
      backoff = std::min(backoff * 2, std::chrono::milliseconds(5000));
    }
    backoff = std::chrono::milliseconds(100);
    if (auto status = consumer_.commit(*batch); !status.ok()) {
      log_.warn("offset commit failed", {{"error", std::string(status.message())}});
    }
  }
}

}  // namespace tel::queue
