#include <catch2/catch.hpp>

#include "report_filter.h"
#include "refused_field.h"

namespace {

using namespace tel::analytics;
using std::chrono::day;
using std::chrono::month;
using std::chrono::year;
using std::chrono::year_month_day;

const year_month_day kToday{year{2026}, month{11}, day{27}};

v1::ReportFilter period(const std::string& from, const std::string& to) {
  v1::ReportFilter filter;
  filter.set_from_date(from);
  filter.set_to_date(to);
  return filter;
}


}  // namespace

TEST_CASE("days parse only as real calendar days in YYYY-MM-DD") {
  CHECK(parseDay("2026-11-27") == kToday);
  CHECK(parseDay("2024-02-29").has_value());
  for (const char* bad : {"2026-02-29", "2026-13-01", "2026-11-31", "2026-1-27", "26-11-27",
                          "2026/11/27", "2026-11-27T00:00:00Z", "", "+026-11-27", "1969-12-31",
                          "2026-11-2x"}) {
    INFO(bad);
    CHECK_FALSE(parseDay(bad).has_value());
  }
  CHECK(formatDay(kToday) == "2026-11-27");
}

TEST_CASE("the default period is the week up to the tenant's today") {
  ReportPeriod out;
  REQUIRE(resolvePeriod(v1::ReportFilter{}, kToday, &out).ok());
  CHECK(formatDay(out.first_day) == "2026-11-21");
  CHECK(formatDay(out.last_day) == "2026-11-27");

  REQUIRE(resolvePeriod(period("", "2026-03-02"), kToday, &out).ok());
  CHECK(formatDay(out.first_day) == "2026-02-24");
  REQUIRE(resolvePeriod(period("2026-11-01", ""), kToday, &out).ok());
  CHECK(formatDay(out.first_day) == "2026-11-01");
  CHECK(formatDay(out.last_day) == "2026-11-27");
}

TEST_CASE("periods are refused naming the bad end") {
  ReportPeriod out;
  CHECK(refusedField(resolvePeriod(period("2026-11-31", "2026-12-01"), kToday, &out)) == "from");
  CHECK(refusedField(resolvePeriod(period("2026-11-01", "tomorrow"), kToday, &out)) == "to");
  CHECK(refusedField(resolvePeriod(period("2026-11-02", "2026-11-01"), kToday, &out)) == "from");
  // A leap year fits; a day more does not.
  CHECK(resolvePeriod(period("2024-01-01", "2024-12-31"), kToday, &out).ok());
  CHECK(refusedField(resolvePeriod(period("2024-01-01", "2025-01-01"), kToday, &out)) == "from");
  CHECK(resolvePeriod(period("2026-11-27", "2026-11-27"), kToday, &out).ok());
}

TEST_CASE("filters are checked against what the report takes") {
  v1::ReportFilter filter;
  filter.add_numbers("+15550001000");
  filter.add_extensions("101");
  CHECK(checkFilter(v1::REPORT_KIND_INCOMING, filter).ok());
  CHECK(checkFilter(v1::REPORT_KIND_MISSED, filter).ok());
  CHECK(refusedField(checkFilter(v1::REPORT_KIND_EMPLOYEES, filter)) == "number");
  CHECK(refusedField(checkFilter(v1::REPORT_KIND_UNSPECIFIED, filter)) == "report");

  v1::ReportFilter unprocessed;
  unprocessed.set_unprocessed_only(true);
  CHECK(checkFilter(v1::REPORT_KIND_MISSED, unprocessed).ok());
  CHECK(refusedField(checkFilter(v1::REPORT_KIND_INCOMING, unprocessed)) == "unprocessed");

  for (const char* bad : {"15550001000", "+0555000100", "+1555", "+1555000100012345", "' OR 1=1", ""}) {
    INFO(bad);
    v1::ReportFilter numbers;
    numbers.add_numbers(bad);
    CHECK(refusedField(checkFilter(v1::REPORT_KIND_INCOMING, numbers)) == "number");
  }
  for (const char* bad : {"1", "0101", "1234567", "10a", "\"101\""}) {
    INFO(bad);
    v1::ReportFilter extensions;
    extensions.add_extensions(bad);
    CHECK(refusedField(checkFilter(v1::REPORT_KIND_DISTRIBUTION, extensions)) == "extension");
  }
  v1::ReportFilter many;
  for (int i = 0; i <= kMaxFilterValues; ++i) many.add_extensions(std::to_string(100 + i));
  CHECK(refusedField(checkFilter(v1::REPORT_KIND_INCOMING, many)) == "extension");
}

TEST_CASE("report names map both ways") {
  for (const char* name : {"incoming", "distribution", "missed", "employees", "ads", "target", "categories"}) {
    auto kind = reportKindNamed(name);
    REQUIRE(kind.has_value());
    CHECK(reportName(*kind) == name);
  }
  CHECK_FALSE(reportKindNamed("Incoming").has_value());
  CHECK_FALSE(reportKindNamed("").has_value());
}

TEST_CASE("report settings: talk bounds in order, a deal window of a day to a year") {
  v1::ReportSettings settings;
  settings.set_target_min_talk_seconds(15);
  settings.set_target_max_talk_seconds(300);
  settings.set_deal_window_days(30);
  CHECK(checkSettings(settings).ok());
  settings.set_target_max_talk_seconds(15);
  CHECK(refusedField(checkSettings(settings)) == "target_max_talk_seconds");
  settings.set_target_max_talk_seconds(300);
  settings.set_target_min_talk_seconds(-1);
  CHECK(refusedField(checkSettings(settings)) == "target_min_talk_seconds");
  settings.set_target_min_talk_seconds(0);
  settings.set_deal_window_days(0);
  CHECK(refusedField(checkSettings(settings)) == "deal_window_days");
  settings.set_deal_window_days(367);
  CHECK(refusedField(checkSettings(settings)) == "deal_window_days");
}
