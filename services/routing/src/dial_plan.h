#pragma once

#include <absl/status/statusor.h>

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "schedule.h"
#include "tel/routing/v1/dial_plans.pb.h"

namespace tel::routing {

// Something a forwarding scheme rings: a SIP account by extension (all its registered devices), a
// phone number through the tenant's carrier (FMC: the callee sees the company number), or a SIP URI.
struct SchemeTarget {
  enum class Kind { kExtension, kNumber, kUri };
  Kind kind = Kind::kExtension;
  std::string value;
  std::string describe() const;  // "extension 101"
};

// One step of a scheme: its targets ring together for ring_seconds; the first to answer wins.
struct SchemeStep {
  std::vector<SchemeTarget> targets;
  uint32_t ring_seconds = 20;
};

// A node of the plan. Schedules branch, schemes ring, menus ask the caller, voicemail takes a
// message, hangups end the call.
struct PlanNode {
  enum class Type { kSchedule, kScheme, kHangup, kMenu, kVoicemail, kQueue };
  Type type = Type::kHangup;
  // kSchedule: the schedule and the node for each branch.
  std::string schedule;
  std::string open;
  std::string closed;
  // kScheme: the steps in order (the backup number, when set, is the last one) and the node that
  // takes the call when every step failed (empty: the caller hears why the last step failed).
  std::vector<SchemeStep> steps;
  std::string then;
  bool record = false;  // the call is recorded once someone answers
  // kHangup: the final status the caller gets.
  uint32_t status = 480;
  std::string reason;
  // kMenu (a voice menu): the caller is answered and hears `prompt`; a key with a choice leads to
  // its node. No key within timeout_seconds of the prompt's end, or a key without a choice, plays
  // timeout_prompt or invalid_prompt and the menu again, `retries` times; then `fallback` takes
  // the call (empty: it ends). With dial_by_extension the caller may type an extension instead
  // (ended by # or a pause), which rings that account; `repeat_key` plays the menu again.
  std::string prompt;
  std::map<std::string, std::string> choices;  // key ("0"-"9", "*", "#") -> node
  std::string repeat_key;
  uint32_t timeout_seconds = 5;
  uint32_t retries = 2;
  std::string timeout_prompt;
  std::string invalid_prompt;
  std::string fallback;
  bool dial_by_extension = false;
  // kVoicemail: the caller is answered, hears `prompt` (the greeting, if set) and a beep, and
  // speaks a message into `box` until # , `silence_seconds` of silence or `max_seconds`.
  std::string box;
  uint32_t max_seconds = 120;
  uint32_t silence_seconds = 5;
  // kQueue: the call waits in `queue` (the queue service takes it over) with `priority` (0..9:
  // before every caller of a lower one); `then` takes it when the queue overflows (its maximum
  // wait or length) or no queue service is there.
  std::string queue;
  uint32_t priority = 0;
};

// The tenant's rules for calls its accounts place to numbers outside (toll-fraud defaults on).
struct OutboundRules {
  struct CallerIdRule {
    std::string prefix;     // E.164 prefix of the destination, e.g. "+44"
    std::string caller_id;  // one of the tenant's numbers
  };
  std::vector<CallerIdRule> caller_ids;  // the longest matching prefix wins
  // The caller id of each SIP account (by extension) where no prefix rule matches.
  std::map<std::string, std::string> account_caller_ids;
  bool premium_rate = false;             // allow kPremiumRatePrefixes
  std::vector<std::string> blocked_prefixes;
  // Outbound calls at once: of one SIP account, of the whole tenant (sip-edge counts them).
  uint32_t max_concurrent_per_account = 2;
  uint32_t max_concurrent = 20;

  // The refusal for `destination` (E.164), or nullopt when it may be called.
  std::optional<std::string> refusal(const std::string& destination) const;
  // The caller id for a call from `extension` to `destination`: the longest prefix rule's, else
  // the account's own; empty: the carrier's.
  std::string callerIdFor(const std::string& destination, const std::string& extension = "") const;
};

// Premium-rate and international-network ranges blocked unless the tenant allows premium_rate:
// the usual targets of toll fraud through hijacked phones.
extern const std::vector<std::string> kPremiumRatePrefixes;

// A tenant's dial plan, parsed and checked. Immutable: a call keeps the version it started with.
struct DialPlan {
  int64_t version = 0;
  std::map<std::string, Schedule> schedules;
  std::map<std::string, PlanNode> nodes;
  std::map<std::string, std::string> numbers;  // E.164 -> entry node
  OutboundRules outbound;
  std::string document;                        // the normalised JSON as stored
};

// What a plan may name, read from the tenant's accounts when a plan is saved.
struct PlanFacts {
  std::set<std::string> extensions;
  std::set<std::string> numbers;  // E.164
  // Whether the tenant has a prompt of this name; unset: prompts are not checked.
  std::function<bool(const std::string& name)> prompt_exists{};
};

// The context a call handed over to the queue service carries, and what it hands back.
inline constexpr const char* kQueueApplication = "queue";
inline constexpr const char* kQueueContextQueue = "queue";          // the queue id
inline constexpr const char* kQueueContextOverflow = "overflow";    // the plan node taking overflow
inline constexpr const char* kQueueContextNode = "node";            // handed back: the node to follow
inline constexpr const char* kQueueContextPriority = "priority";    // the caller's, 0..9 (absent: 0)

// Parses and checks a plan document (docs/dialplan.md). INVALID_ARGUMENT names what is wrong:
// the node, schedule or number, and the field. With `facts`, extensions and numbers must exist (a
// save); without, a stored plan is loaded even if an extension was deleted since (the call skips
// it). Schedules without a time_zone use `tenant_time_zone`.
absl::StatusOr<std::shared_ptr<const DialPlan>> parseDialPlan(const std::string& document,
                                                              const std::string& tenant_time_zone,
                                                              const PlanFacts* facts);

// Follows the plan from `node_id` at time `at` through schedules to the node that acts (a scheme,
// a menu or a hangup), appending each node passed to `path`. Plans are checked for loops when saved;
// the walk is bounded anyway.
absl::StatusOr<const PlanNode*> walkPlan(const DialPlan& plan, const std::string& node_id,
                                         absl::Time at, std::vector<v1::PreviewStep>* path);

}  // namespace tel::routing
