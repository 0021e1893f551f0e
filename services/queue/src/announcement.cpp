#include "announcement.h"

namespace tel::queue {

int spokenMinutes(int64_t wait_ms) {
  const int64_t minutes = (wait_ms + 59999) / 60000;  // "about 2 minutes" rather than promise 1
  if (wait_ms < 60000) return 0;
  if (minutes <= 10) return static_cast<int>(minutes);
  if (minutes <= 30) return static_cast<int>((minutes + 4) / 5 * 5);
  if (minutes <= 60) return static_cast<int>((minutes + 9) / 10 * 10);
  return -1;
}

std::vector<std::string> announcement(uint32_t position, std::optional<int64_t> wait_ms) {
  std::vector<std::string> prompts;
  if (position > 30) {
    prompts.push_back("@queue-many-ahead");
  } else {
    prompts = {"@queue-you-are-number", "@number-" + std::to_string(position), "@queue-in-line"};
  }
  if (!wait_ms) return prompts;
  const int minutes = spokenMinutes(*wait_ms);
  if (minutes == 0) {
    prompts.push_back("@queue-wait-under-minute");
  } else if (minutes < 0) {
    prompts.push_back("@queue-wait-over-hour");
  } else {
    prompts.push_back("@queue-wait-about");
    prompts.push_back("@number-" + std::to_string(minutes));
    prompts.push_back(minutes == 1 ? "@queue-minute" : "@queue-minutes");
  }
  return prompts;
}

}  // namespace tel::queue
