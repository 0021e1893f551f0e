#pragma once

#include <prometheus/counter.h>
#include <prometheus/registry.h>

#include <atomic>
#include <chrono>
#include <optional>
#include <string>

#include "live_queues.h"
#include "tel/calls/v1/calls.pb.h"
#include "tel/kafka/kafka.h"
#include "tel/log/log.h"

namespace tel::queue {

// What one call event says about the accounts in the call (LiveQueues::presence).
struct PresenceChange {
  std::string kind;        // "leg", "engaged", "released", "ended"
  std::string leg;         // the leg, "caller" for the account that placed the call
  std::string account_id;  // leg and engaged: the account
};

// Pure: a leg to an account is noted ("leg"), and engages the account once it answers; a call
// placed by an account engages it at once. The leg's end releases it, the call's end releases
// all. A leg that only rings engages nobody: sip-edge reports the end of a leg that was not
// answered only with the call's (a queued caller's missed offers would otherwise hold their
// agents as long as the caller waits). Other events change nothing.
std::optional<PresenceChange> presenceChangeOf(const calls::v1::CallEvent& event);

// Follows every call of the platform on Kafka (call-events, its own consumer group) so that an
// agent on any call (a direct call to its extension, one it placed, another queue's) is not offered
// a queued caller. Each change is one Redis script, idempotent, so a batch read again after a crash
// changes nothing; offsets are committed once a batch is in Redis, and a batch Redis refuses is
// retried with backoff. Runs on the calling thread until `stop`.
class AgentPresence {
 public:
  AgentPresence(kafka::Consumer& consumer, LiveQueues& live, std::chrono::milliseconds lapse, log::Logger logger,
                prometheus::Registry& registry);
  void run(const std::atomic<bool>& stop);

 private:
  // Applies the batch's changes; false when Redis failed (the batch is retried).
  bool apply(const std::vector<kafka::Message>& batch);

  kafka::Consumer& consumer_;
  LiveQueues& live_;
  const std::chrono::milliseconds lapse_;
  log::Logger log_;
  prometheus::Family<prometheus::Counter>& changes_;
  prometheus::Counter& rejected_;
  prometheus::Counter& failures_;
};

}  // namespace tel::queue
