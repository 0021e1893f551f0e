#pragma once

#include <absl/time/civil_time.h>
#include <absl/time/time.h>

#include <array>
#include <map>
#include <string>
#include <vector>

namespace tel::routing {

// A stretch of a local day, [start, end) in minutes since midnight; end may be 1440 (24:00).
struct DayInterval {
  int start_minute = 0;
  int end_minute = 0;
  bool operator==(const DayInterval&) const = default;
};

// A tenant's working hours: per weekday, with holidays (closed all day) and one-off exceptions
// (other hours on one date, or none: closed), all in local time of one time zone. Immutable once
// built; shared by the calls that use it.
struct Schedule {
  absl::TimeZone zone;
  std::string zone_name;
  std::array<std::vector<DayInterval>, 7> weekly;  // [0] Monday ... [6] Sunday, sorted, disjoint
  std::map<absl::CivilDay, std::string> holidays;  // date -> name
  std::map<absl::CivilDay, std::vector<DayInterval>> exceptions;
};

struct ScheduleVerdict {
  bool open = false;
  std::string reason;  // "holiday: New Year", "monday 09:00-18:00", "closed on sunday", ...
};

// Whether the schedule is open at `at`. A date that is both a holiday and an exception follows the
// exception (an opening on a holiday is the more specific choice).
ScheduleVerdict evaluateSchedule(const Schedule& schedule, absl::Time at);

// "09:30" -> 570; "24:00" -> 1440 (only as an end). -1 when malformed.
int parseClockMinute(const std::string& text);
std::string clockText(int minute);
// 0 for "mon" ... 6 for "sun", -1 for anything else.
int weekdayIndex(const std::string& name);
const char* weekdayName(int index);

}  // namespace tel::routing
