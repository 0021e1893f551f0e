#pragma once

#include <absl/status/statusor.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "tel/queue/v1/queues.pb.h"
#include "tel/redis/redis_client.h"

namespace tel::queue {

// Where a caller stands after joining.
struct Joined {
  enum class Kind { kJoined, kRejoined, kFull };
  Kind kind = Kind::kJoined;
  uint32_t position = 0;  // 1: next; 0 for a caller being offered
  int64_t joined_ms = 0;
  std::string state;  // "waiting", "offered" (agents ringing), "connected"
};

// A caller paired with the agents to ring, taken from the queue in one step.
struct Offer {
  std::string call_id;
  std::vector<std::string> agents;  // account ids
};

// An agent missed an offer; `paused` once it missed pause_after_misses in a row.
struct Miss {
  std::string account_id;
  bool paused = false;
};

// A waiting caller's position (1: next; 0 when not waiting) and estimated wait: the rounds of
// callers ahead, served by the agents working (available, ringing, on a call or wrapping up), at
// the queue's average handle time; unknown before a call of the queue has ended.
struct Estimate {
  uint32_t position = 0;
  std::optional<int64_t> wait_ms;
};

// The tenant's epoch (a value set with its first caller: another value, or none, means Redis lost
// the tenant's state) and the calls asked about that Redis does not have.
struct Touched {
  std::string epoch;
  std::vector<std::string> lost;
};

// A caller to put back as its instance knows it.
struct Restored {
  std::string caller;
  std::string owner;
  int64_t joined_ms = 0;
  uint32_t priority = 0;
  std::string state;                 // "waiting", "offered", "connected"
  std::string agent;                 // connected: the agent on the call
  std::vector<std::string> offered;  // offered: the agents ringing
};

// What a caller's leaving found: how long they waited, and whether an agent was talking to them.
struct Left {
  bool was_connected = false;
  int64_t waited_ms = 0;
};

// The live state of every tenant's queues in Redis, shared by all queue instances. Every change is
// one Lua script, so it is atomic: a caller is taken from the head of its queue together with the
// agents it is offered to, and no other instance can take either meanwhile. Keys are
// "tq:{<tenant>}:...", one hash slot per tenant:
//   w:<queue>    sorted set of the callers waiting (score: when they joined, less 10^13 per level of
//                priority, so the longest wait of the highest priority is first)
//   off:<queue>  sorted set of the callers being offered to agents (the same score)
//   c:<call>     hash: queue, caller, joined, owner (the instance driving the call), seen (its last
//                sign of life), state (waiting, offered, connected), agents offered, agent answering
//   a:<account>  hash: own (available, paused, logged_out), reason, since, call and activity
//                (ringing, on_call) while the agent has a caller, wrap_until, last_end, calls and
//                day (calls taken today), misses (in a row)
//   rr:<queue>   the last agent offered (round robin)
//   h:<queue>    aht_ms: the average handle time (weighted to recent calls), for estimated waits
//   s:<queue>:<day>  today's figures (answered, within, abandoned, overflowed, wait_ms,
//                abandoned_wait_ms), kept 3 days
//   epoch        set with the tenant's first caller: its change tells the instances that Redis lost
//                the tenant's state, which they then put back (their callers, the agents' own states)
// An agent nobody set is available. Thread-safe (the client is).
class LiveQueues {
 public:
  explicit LiveQueues(redis::RedisClient& redis) : redis_(redis) {}

  // Puts the caller at the end of the line (or finds it there: a call offered again after its
  // instance went, which now owns it). kFull when `max_callers` are waiting already.
  // A caller of a higher `priority` (0..9) goes before every caller of a lower one.
  absl::StatusOr<Joined> join(const std::string& tenant, const std::string& queue, const std::string& call_id,
                              const std::string& caller, const std::string& owner, int64_t now_ms,
                              uint32_t max_callers, std::optional<int64_t> joined_ms = std::nullopt,
                              uint32_t priority = 0);
  // The caller at the head of the queue with the agents the strategy picks, when the head is
  // this owner's and an agent is free; nullopt otherwise. A head whose owner has given no sign of
  // life for `stale_ms` is dropped (its call ended while no instance had it).
  absl::StatusOr<std::optional<Offer>> claim(const std::string& tenant, const std::string& queue,
                                             const v1::QueueSettings& settings, const std::string& owner,
                                             int64_t now_ms, int64_t stale_ms);
  // An offered agent answered: it is on the call, the others offered are free again. The wait.
  absl::StatusOr<int64_t> answered(const std::string& tenant, const std::string& queue, const std::string& call_id,
                                   const std::string& account_id, int64_t now_ms, int64_t service_level_ms);
  // Nobody offered answered: each missed (unless not `counted`: the offer was never sent) and is
  // offered no caller for `retry_ms`, and the caller is back at its place in line.
  absl::StatusOr<std::vector<Miss>> missed(const std::string& tenant, const std::string& queue,
                                           const std::string& call_id, int64_t now_ms, uint32_t pause_after,
                                           int64_t retry_ms, bool counted = true);
  // The caller left: "abandoned" (hung up waiting), "overflowed", or "done" (the call with the
  // agent ended: the agent wraps up for `wrapup_ms`).
  absl::StatusOr<Left> left(const std::string& tenant, const std::string& queue, const std::string& call_id,
                            const std::string& outcome, int64_t now_ms, int64_t wrapup_ms);
  absl::Status setAgentState(const std::string& tenant, const std::string& account_id, const std::string& state,
                             const std::string& reason, int64_t now_ms);
  // Marks the owner's callers alive; says which Redis no longer has, and the tenant's epoch.
  absl::StatusOr<Touched> touch(const std::string& tenant, const std::vector<std::string>& call_ids, int64_t now_ms);
  // Puts back a caller Redis lost (nothing when it has the caller).
  absl::Status restore(const std::string& tenant, const std::string& queue, const std::string& call_id,
                       const Restored& caller, int64_t now_ms);
  absl::StatusOr<Estimate> estimate(const std::string& tenant, const std::string& queue, const std::string& call_id,
                                    const v1::QueueSettings& settings);
  // The caller's position (1: next), 0 when not waiting.
  absl::StatusOr<uint32_t> position(const std::string& tenant, const std::string& queue, const std::string& call_id);
  absl::StatusOr<v1::Wallboard> wallboard(const std::string& tenant, const std::string& queue,
                                          const v1::QueueSettings& settings, int64_t now_ms);
  absl::StatusOr<v1::Agent> agent(const std::string& tenant, const std::string& account_id, int64_t now_ms);
  // An account's part in a call, from the call events (AgentPresence): "leg" (a leg rings it),
  // "engaged" (that leg answered, or it placed the call: leg "caller", with `account_id`),
  // "released" (that leg ended) or "ended" (the call ended: every leg of it released). An agent
  // engaged in any call is not offered a caller, and shows as on a call. Each part lapses after
  // `lapse_ms` even if its end never comes. True when the account was freed (its last call
  // ended): the lines are matched again.
  absl::StatusOr<bool> presence(const std::string& tenant, const std::string& kind, const std::string& call_id,
                                const std::string& leg, const std::string& account_id, int64_t now_ms,
                                int64_t lapse_ms);

 private:
  redis::RedisClient& redis_;
};

// Where every change that frees an agent (a call's end, a miss, an agent's own state) is published,
// with the tenant's key prefix: every instance then matches its lines at once instead of at its
// next tick.
inline constexpr const char* kWakeChannel = "tq:wake";

// "2026-11-28": the day figures and calls taken count in (UTC).
std::string dayOf(int64_t now_ms);

}  // namespace tel::queue
