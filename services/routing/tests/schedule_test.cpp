// Working hours with an injected clock: every time below is an explicit instant.
#include "schedule.h"

#include <catch2/catch.hpp>

using namespace tel::routing;

namespace {

absl::Time utc(int y, int mo, int d, int h, int mi) {
  return absl::FromCivil(absl::CivilMinute(y, mo, d, h, mi), absl::UTCTimeZone());
}

Schedule officeHours(const std::string& zone) {
  Schedule schedule;
  schedule.zone_name = zone;
  REQUIRE(absl::LoadTimeZone(zone, &schedule.zone));
  for (int day = 0; day < 5; ++day) schedule.weekly[day] = {{9 * 60, 13 * 60}, {14 * 60, 18 * 60}};
  return schedule;
}

}  // namespace

TEST_CASE("clock times parse as minutes of the day") {
  CHECK(parseClockMinute("00:00") == 0);
  CHECK(parseClockMinute("09:30") == 570);
  CHECK(parseClockMinute("24:00") == 1440);
  CHECK(parseClockMinute("24:01") == -1);
  CHECK(parseClockMinute("9:30") == -1);
  CHECK(parseClockMinute("09:60") == -1);
  CHECK(parseClockMinute("ab:cd") == -1);
  CHECK(clockText(570) == "09:30");
  CHECK(weekdayIndex("sun") == 6);
  CHECK(weekdayIndex("Sunday") == -1);
}

TEST_CASE("a week of office hours in Berlin, hour by hour") {
  const Schedule schedule = officeHours("Europe/Berlin");
  // Monday 2026-11-30 00:00 Berlin is 2026-11-29 23:00 UTC (CET, UTC+1).
  const absl::Time monday = utc(2026, 11, 29, 23, 0);
  int open_hours = 0;
  for (int hour = 0; hour < 7 * 24; ++hour) {
    const auto verdict = evaluateSchedule(schedule, monday + absl::Hours(hour) + absl::Minutes(30));
    const int day = hour / 24, local = hour % 24;
    const bool expected = day < 5 && ((local >= 9 && local < 13) || (local >= 14 && local < 18));
    INFO("day " << day << " hour " << local << ": " << verdict.reason);
    CHECK(verdict.open == expected);
    open_hours += verdict.open;
  }
  CHECK(open_hours == 5 * 8);
  CHECK(evaluateSchedule(schedule, utc(2026, 11, 30, 8, 30)).reason == "monday 09:00-13:00");
  CHECK(evaluateSchedule(schedule, utc(2026, 11, 30, 12, 30)).reason == "monday 13:30 is outside the hours");
  CHECK(evaluateSchedule(schedule, utc(2026, 12, 5, 12, 0)).reason == "closed on saturday");
}

TEST_CASE("holidays close the whole day and exceptions replace its hours") {
  Schedule schedule = officeHours("Europe/Berlin");
  schedule.holidays[absl::CivilDay(2026, 12, 25)] = "Christmas";
  schedule.exceptions[absl::CivilDay(2026, 12, 24)] = {{9 * 60, 12 * 60}};
  schedule.exceptions[absl::CivilDay(2026, 12, 31)] = {};
  // Friday 2026-12-25 10:00 Berlin: a working day's hours, but a holiday.
  auto christmas = evaluateSchedule(schedule, utc(2026, 12, 25, 9, 0));
  CHECK_FALSE(christmas.open);
  CHECK(christmas.reason == "holiday 2026-12-25: Christmas");
  // The holiday is a local date: 23:30 UTC on the 24th is already the 25th in Berlin.
  CHECK_FALSE(evaluateSchedule(schedule, utc(2026, 12, 24, 23, 30)).open);
  CHECK(evaluateSchedule(schedule, utc(2026, 12, 24, 10, 0)).open);         // 11:00 local
  auto afternoon = evaluateSchedule(schedule, utc(2026, 12, 24, 13, 0));  // 14:00: normally open
  CHECK_FALSE(afternoon.open);
  CHECK(afternoon.reason == "exception 2026-12-24: closed at 14:00");
  CHECK_FALSE(evaluateSchedule(schedule, utc(2026, 12, 31, 10, 0)).open);
  // An exception on a holiday opens it.
  schedule.exceptions[absl::CivilDay(2026, 12, 25)] = {{10 * 60, 11 * 60}};
  CHECK(evaluateSchedule(schedule, utc(2026, 12, 25, 9, 30)).open);
}

TEST_CASE("the tenant's time zone decides the day and the hour") {
  Schedule schedule = officeHours("America/New_York");
  // Tuesday 01:00 UTC is Monday 20:00 in New York (EST, UTC-5): Monday's hours apply, closed.
  auto evening = evaluateSchedule(schedule, utc(2026, 12, 1, 1, 0));
  CHECK_FALSE(evening.open);
  CHECK(evening.reason == "monday 20:00 is outside the hours");
  // Monday 14:30 UTC is 09:30 in New York: open, while it is long past noon in Berlin.
  CHECK(evaluateSchedule(schedule, utc(2026, 11, 30, 14, 30)).open);
  // Saturday 03:00 UTC is still Friday 22:00 in New York.
  CHECK(evaluateSchedule(schedule, utc(2026, 12, 5, 3, 0)).reason == "friday 22:00 is outside the hours");
  schedule.weekly[4] = {{0, 1440}};
  CHECK(evaluateSchedule(schedule, utc(2026, 12, 5, 3, 0)).open);
}

TEST_CASE("hours follow daylight saving time") {
  const Schedule schedule = officeHours("Europe/Berlin");
  // 07:30 UTC is 08:30 in winter (CET), closed; the week after the change it is 09:30 (CEST), open.
  CHECK_FALSE(evaluateSchedule(schedule, utc(2026, 3, 23, 7, 30)).open);
  CHECK(evaluateSchedule(schedule, utc(2026, 3, 30, 7, 30)).open);
}
