#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

namespace tel::integrations {

// When a webhook delivery is tried: entry i is the wait before attempt i + 1 (the first, the
// first attempt's, is 0s: an event goes out as soon as it is due), so a schedule of N entries
// makes at most N attempts before the delivery is given up. Configured as "0s, 5s, 5m, 30m, 2h, 5h, 10h, 10h".
class RetrySchedule {
 public:
  static constexpr const char* kStandard = "0s, 5s, 5m, 30m, 2h, 5h, 10h, 10h";
  static RetrySchedule standard();

  // Nullopt, with `error` saying why, for an empty schedule, an entry that is not a duration, a
  // first entry other than 0s, or more than 30 entries.
  static std::optional<RetrySchedule> parse(const std::vector<std::string>& entries, std::string* error);

  // The wait before the next attempt once `attempts_made` attempts have failed; nullopt: give up.
  std::optional<std::chrono::milliseconds> delayAfter(int attempts_made) const;
  size_t maxAttempts() const { return delays_.size(); }

 private:
  explicit RetrySchedule(std::vector<std::chrono::milliseconds> delays) : delays_(std::move(delays)) {}
  std::vector<std::chrono::milliseconds> delays_;
};

}  // namespace tel::integrations
