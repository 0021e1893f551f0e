#pragma once

#include <absl/status/statusor.h>

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "tel/redis/redis_client.h"

// The calls each sip-edge instance has open, kept outside the process so that a surviving instance
// can close them when one is lost (SIGKILL, node failure): without this, a lost instance's calls
// would keep their media ports until the relay's media timeout, their number channels until the
// hold lapses, and their records would never be complete.
namespace tel::sip {

// What a survivor needs to close one call.
struct LedgerEntry {
  std::string call_id;
  std::string tenant_id;
  std::string number_id;  // the number whose channel the call holds; empty when it holds none
  std::string media_relay;    // address of the media-relay holding the session
  std::string media_session;  // empty when the call has no media session
  std::string answered_leg;   // the B leg that answered; empty while unanswered
  std::vector<std::string> limits;  // keys of the concurrency limits the call holds a slot of

  // One line of tab-separated fields (no field can hold a tab: ids and host:port; limit keys,
  // which hold neither tab nor comma, are joined by commas). Lines written before the limits field
  // existed decode with none.
  std::string encode() const;
  static std::optional<LedgerEntry> decode(const std::string& call_id, const std::string& line);
};

// The ledger of one instance (`self`) and the view of the others'. Every method blocks (Redis):
// worker threads only.
class CallLedger {
 public:
  using Clock = std::chrono::system_clock;
  virtual ~CallLedger() = default;
  virtual const std::string& self() const = 0;

  // This instance's own calls.
  virtual absl::Status record(const LedgerEntry& entry) = 0;  // adds or replaces
  // Replaces the entry only while it is there: a late update never brings back a call that a
  // concurrent erase() has closed.
  virtual absl::Status update(const LedgerEntry& entry) = 0;
  virtual absl::Status erase(const std::string& call_id) = 0;
  // This instance is alive until `until`; past it, any instance may declare it lost.
  virtual absl::Status heartbeat(Clock::time_point until) = 0;

  // Instances whose heartbeat lapsed before `now`.
  virtual absl::StatusOr<std::vector<std::string>> lapsed(Clock::time_point now) = 0;
  // Takes the exclusive right to close `instance`'s calls for `hold`; false when another has it.
  virtual absl::StatusOr<bool> claim(const std::string& instance,
                                     std::chrono::milliseconds hold) = 0;
  virtual absl::StatusOr<std::vector<LedgerEntry>> callsOf(const std::string& instance) = 0;
  virtual absl::Status eraseOf(const std::string& instance, const std::string& call_id) = 0;
  // Removes `instance` from the cluster with its ledger (once its calls are closed, or on a clean
  // exit).
  virtual absl::Status forget(const std::string& instance) = 0;
};

// Redis: a sorted set of instances scored by heartbeat deadline (ms since the epoch), and a hash per
// instance from call id to entry. Several sip-edges share one Redis.
class RedisCallLedger final : public CallLedger {
 public:
  RedisCallLedger(std::shared_ptr<redis::RedisClient> redis, std::string self)
      : redis_(std::move(redis)), self_(std::move(self)) {}
  const std::string& self() const override { return self_; }
  absl::Status record(const LedgerEntry& entry) override;
  absl::Status update(const LedgerEntry& entry) override;
  absl::Status erase(const std::string& call_id) override;
  absl::Status heartbeat(Clock::time_point until) override;
  absl::StatusOr<std::vector<std::string>> lapsed(Clock::time_point now) override;
  absl::StatusOr<bool> claim(const std::string& instance,
                             std::chrono::milliseconds hold) override;
  absl::StatusOr<std::vector<LedgerEntry>> callsOf(const std::string& instance) override;
  absl::Status eraseOf(const std::string& instance, const std::string& call_id) override;
  absl::Status forget(const std::string& instance) override;

  static constexpr const char* kInstancesKey = "tel:sip-edge:instances";
  static std::string callsKey(const std::string& instance);

 private:
  std::shared_ptr<redis::RedisClient> redis_;
  std::string self_;
};

// A name no other running instance has: host, process id and random bits (a restarted process is a
// new instance; the old one's calls are closed by whoever sees it lapse, the new process included).
std::string newInstanceId();

}  // namespace tel::sip
