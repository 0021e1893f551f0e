#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace tel::queue {

// What a waiting caller hears, as the platform's spoken prompts ("@name", rendered by routing):
// "You are number 3 in line. Your estimated wait is about 5 minutes." The position is said up
// to 30 (past it: "There are many callers ahead of you"); the wait is rounded as a person would
// say it: under a minute, whole minutes up to 10, fives up to 30, tens up to 60, over an hour.
// Without an estimate (no call of the queue has ended yet) only the position is said.
std::vector<std::string> announcement(uint32_t position, std::optional<int64_t> wait_ms);

// The wait as said, in minutes (0: under a minute, -1: over an hour).
int spokenMinutes(int64_t wait_ms);

}  // namespace tel::queue
