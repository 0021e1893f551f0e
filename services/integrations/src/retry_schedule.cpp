#include "retry_schedule.h"

#include "tel/config/config.h"

namespace tel::integrations {

RetrySchedule RetrySchedule::standard() {
  std::string error;
  return *parse(config::splitCommaList(kStandard), &error);
}

std::optional<RetrySchedule> RetrySchedule::parse(const std::vector<std::string>& entries,
                                                  std::string* error) {
  if (entries.empty() || entries.size() > 30) {
    *error = "1 to 30 durations, such as \"0s, 5s, 5m, 30m, 2h\"";
    return std::nullopt;
  }
  std::vector<std::chrono::milliseconds> delays;
  for (const auto& entry : entries) {
    auto delay = config::parseDuration(entry);
    if (!delay) {
      *error = "\"" + entry + "\" is not a duration (250ms, 10s, 5m, 2h)";
      return std::nullopt;
    }
    delays.push_back(*delay);
  }
  if (delays.front().count() != 0) {
    *error = "the first entry is the first attempt's wait: 0s (deliveries go out as soon as they are due)";
    return std::nullopt;
  }
  return RetrySchedule(std::move(delays));
}

std::optional<std::chrono::milliseconds> RetrySchedule::delayAfter(int attempts_made) const {
  if (attempts_made < 0 || static_cast<size_t>(attempts_made) >= delays_.size()) return std::nullopt;
  return delays_[static_cast<size_t>(attempts_made)];
}

}  // namespace tel::integrations
