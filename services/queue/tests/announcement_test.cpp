#include <catch2/catch.hpp>

#include "announcement.h"

using tel::queue::announcement;
using tel::queue::spokenMinutes;

TEST_CASE("the estimated wait is rounded as a person would say it") {
  CHECK(spokenMinutes(0) == 0);
  CHECK(spokenMinutes(59'000) == 0);
  CHECK(spokenMinutes(60'000) == 1);
  CHECK(spokenMinutes(61'000) == 2);
  CHECK(spokenMinutes(9 * 60'000 + 1) == 10);
  CHECK(spokenMinutes(11 * 60'000) == 15);
  CHECK(spokenMinutes(26 * 60'000) == 30);
  CHECK(spokenMinutes(31 * 60'000) == 40);
  CHECK(spokenMinutes(60 * 60'000) == 60);
  CHECK(spokenMinutes(61 * 60'000) == -1);
}

TEST_CASE("an announcement says the position and the wait when it is known") {
  CHECK(announcement(3, std::nullopt) ==
        std::vector<std::string>{"@queue-you-are-number", "@number-3", "@queue-in-line"});
  CHECK(announcement(1, 30'000) == std::vector<std::string>{"@queue-you-are-number", "@number-1", "@queue-in-line",
                                                            "@queue-wait-under-minute"});
  CHECK(announcement(2, 60'000) == std::vector<std::string>{"@queue-you-are-number", "@number-2", "@queue-in-line",
                                                            "@queue-wait-about", "@number-1", "@queue-minute"});
  CHECK(announcement(31, 4 * 3600'000) == std::vector<std::string>{"@queue-many-ahead", "@queue-wait-over-hour"});
  CHECK(announcement(12, 13 * 60'000).at(4) == "@number-15");
}
