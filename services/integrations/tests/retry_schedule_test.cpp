#include "retry_schedule.h"

#include <catch2/catch.hpp>

using namespace std::chrono_literals;
using tel::integrations::RetrySchedule;

TEST_CASE("the default schedule waits as written and gives up after its last entry") {
  std::string error;
  auto schedule = RetrySchedule::parse({"0s", "5s", "5m", "30m", "2h", "5h", "10h", "10h"}, &error);
  REQUIRE(schedule);
  CHECK(schedule->maxAttempts() == 8);
  CHECK(RetrySchedule::standard().maxAttempts() == 8);
  CHECK(schedule->delayAfter(0) == 0ms);
  CHECK(schedule->delayAfter(1) == 5s);
  CHECK(schedule->delayAfter(2) == 5min);
  CHECK(schedule->delayAfter(7) == 10h);
  CHECK_FALSE(schedule->delayAfter(8));
  CHECK_FALSE(schedule->delayAfter(-1));
}

TEST_CASE("bad schedules are refused with the reason") {
  std::string error;
  CHECK_FALSE(RetrySchedule::parse({}, &error));
  CHECK(error.find("1 to 30") != std::string::npos);
  CHECK_FALSE(RetrySchedule::parse({"0s", "soon"}, &error));
  CHECK(error.find("\"soon\"") != std::string::npos);
  CHECK_FALSE(RetrySchedule::parse(std::vector<std::string>(31, "0s"), &error));
  CHECK_FALSE(RetrySchedule::parse({"5s", "1m"}, &error));
  CHECK(error.find("first") != std::string::npos);
}
