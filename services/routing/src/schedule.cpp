#include "schedule.h"

namespace tel::routing {
namespace {

constexpr std::array<const char*, 7> kShortNames = {"mon", "tue", "wed", "thu", "fri", "sat", "sun"};
constexpr std::array<const char*, 7> kLongNames = {"monday", "tuesday", "wednesday", "thursday",
                                                   "friday", "saturday", "sunday"};

int mondayBasedIndex(absl::Weekday weekday) {
  switch (weekday) {
    case absl::Weekday::monday: return 0;
    case absl::Weekday::tuesday: return 1;
    case absl::Weekday::wednesday: return 2;
    case absl::Weekday::thursday: return 3;
    case absl::Weekday::friday: return 4;
    case absl::Weekday::saturday: return 5;
    case absl::Weekday::sunday: return 6;
  }
  return 0;
}

const DayInterval* covering(const std::vector<DayInterval>& intervals, int minute) {
  for (const auto& interval : intervals) {
    if (minute >= interval.start_minute && minute < interval.end_minute) return &interval;
  }
  return nullptr;
}

std::string intervalText(const DayInterval& interval) {
  return clockText(interval.start_minute) + "-" + clockText(interval.end_minute);
}

}  // namespace

int parseClockMinute(const std::string& text) {
  if (text.size() != 5 || text[2] != ':') return -1;
  for (size_t i : {0, 1, 3, 4}) {
    if (text[i] < '0' || text[i] > '9') return -1;
  }
  const int hours = (text[0] - '0') * 10 + (text[1] - '0');
  const int minutes = (text[3] - '0') * 10 + (text[4] - '0');
  if (minutes > 59) return -1;
  if (hours == 24 && minutes == 0) return 1440;
  if (hours > 23) return -1;
  return hours * 60 + minutes;
}

std::string clockText(int minute) {
  char buffer[16];
  std::snprintf(buffer, sizeof buffer, "%02d:%02d", minute / 60, minute % 60);
  return buffer;
}

int weekdayIndex(const std::string& name) {
  for (int i = 0; i < 7; ++i) {
    if (name == kShortNames[i]) return i;
  }
  return -1;
}

const char* weekdayName(int index) { return kLongNames.at(index); }

ScheduleVerdict evaluateSchedule(const Schedule& schedule, absl::Time at) {
  const absl::CivilMinute local = absl::ToCivilMinute(at, schedule.zone);
  const absl::CivilDay day(local);
  const int minute = local.hour() * 60 + local.minute();
  const std::string date = absl::FormatCivilTime(day);
  if (auto exception = schedule.exceptions.find(day); exception != schedule.exceptions.end()) {
    if (const auto* interval = covering(exception->second, minute)) {
      return {true, "exception " + date + " " + intervalText(*interval)};
    }
    return {false, "exception " + date + ": closed at " + clockText(minute)};
  }
  if (auto holiday = schedule.holidays.find(day); holiday != schedule.holidays.end()) {
    return {false, "holiday " + date + (holiday->second.empty() ? "" : ": " + holiday->second)};
  }
  const int weekday = mondayBasedIndex(absl::GetWeekday(day));
  const auto& hours = schedule.weekly[weekday];
  if (hours.empty()) return {false, std::string("closed on ") + weekdayName(weekday)};
  if (const auto* interval = covering(hours, minute)) {
    return {true, std::string(weekdayName(weekday)) + " " + intervalText(*interval)};
  }
  return {false, std::string(weekdayName(weekday)) + " " + clockText(minute) + " is outside the hours"};
}

}  // namespace tel::routing
