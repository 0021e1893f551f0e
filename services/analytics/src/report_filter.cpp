#include "report_filter.h"

#include <charconv>
#include <regex>

#include "tel/grpc/status.h"

namespace tel::analytics {
namespace {

using std::chrono::day;
using std::chrono::month;
using std::chrono::sys_days;
using std::chrono::year;
using std::chrono::year_month_day;

bool readNumber(std::string_view text, int* out) {
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), *out);
  return ec == std::errc() && end == text.data() + text.size();
}

bool allDigits(std::string_view text) {
  return !text.empty() && text.find_first_not_of("0123456789") == std::string_view::npos;
}

grpc::Status checkValues(const google::protobuf::RepeatedPtrField<std::string>& values,
                         const std::string& field, const std::regex& pattern,
                         const std::string& shape) {
  if (values.size() > kMaxFilterValues) {
    return grpc_util::invalidArgument(field, "at most " + std::to_string(kMaxFilterValues) + " values");
  }
  for (const auto& value : values) {
    if (!std::regex_match(value, pattern)) {
      return grpc_util::invalidArgument(field, "\"" + value.substr(0, 32) + "\" is not " + shape);
    }
  }
  return grpc::Status::OK;
}

}  // namespace

std::optional<year_month_day> parseDay(std::string_view text) {
  if (text.size() != 10 || text[4] != '-' || text[7] != '-') return std::nullopt;
  const auto y = text.substr(0, 4), m = text.substr(5, 2), d = text.substr(8, 2);
  if (!allDigits(y) || !allDigits(m) || !allDigits(d)) return std::nullopt;
  int yy = 0, mm = 0, dd = 0;
  if (!readNumber(y, &yy) || !readNumber(m, &mm) || !readNumber(d, &dd)) return std::nullopt;
  const year_month_day parsed{year{yy}, month{static_cast<unsigned>(mm)}, day{static_cast<unsigned>(dd)}};
  if (!parsed.ok() || yy < 1970) return std::nullopt;
  return parsed;
}

std::string formatDay(year_month_day value) {
  char text[16];
  std::snprintf(text, sizeof text, "%04d-%02u-%02u", static_cast<int>(value.year()),
                static_cast<unsigned>(value.month()), static_cast<unsigned>(value.day()));
  return text;
}

grpc::Status resolvePeriod(const v1::ReportFilter& filter, year_month_day today, ReportPeriod* out) {
  const char* kShape = "must be a day as YYYY-MM-DD, e.g. 2026-11-27";
  year_month_day last = today;
  if (!filter.to_date().empty()) {
    auto parsed = parseDay(filter.to_date());
    if (!parsed) return grpc_util::invalidArgument("to", kShape);
    last = *parsed;
  }
  year_month_day first = sys_days{last} - std::chrono::days{6};
  if (!filter.from_date().empty()) {
    auto parsed = parseDay(filter.from_date());
    if (!parsed) return grpc_util::invalidArgument("from", kShape);
    first = *parsed;
  }
  const auto days = (sys_days{last} - sys_days{first}).count() + 1;
  if (days < 1) return grpc_util::invalidArgument("from", "must not be after to");
  if (days > kMaxPeriodDays) {
    return grpc_util::invalidArgument(
        "from", "a report covers at most " + std::to_string(kMaxPeriodDays) + " days");
  }
  *out = {first, last};
  return grpc::Status::OK;
}

grpc::Status checkFilter(v1::ReportKind kind, const v1::ReportFilter& filter) {
  if (reportName(kind).empty()) return grpc_util::invalidArgument("report", "unknown report");
  static const std::regex kNumber(R"(^\+[1-9][0-9]{6,14}$)");
  static const std::regex kExtension(R"(^[1-9][0-9]{1,5}$)");
  if (auto status = checkValues(filter.numbers(), "number", kNumber, "an E.164 number such as +15550001000");
      !status.ok()) {
    return status;
  }
  if (auto status = checkValues(filter.extensions(), "extension", kExtension, "an extension (2 to 6 digits)");
      !status.ok()) {
    return status;
  }
  if (filter.sources_size() > kMaxFilterValues) {
    return grpc_util::invalidArgument("source", "at most " + std::to_string(kMaxFilterValues) + " values");
  }
  for (const auto& source : filter.sources()) {
    if (source.empty() || source.size() > 256) return grpc_util::invalidArgument("source", "1 to 256 bytes each");
  }
  if (kind == v1::REPORT_KIND_EMPLOYEES && !filter.numbers().empty()) {
    return grpc_util::invalidArgument("number", "the employees report does not filter by number");
  }
  if (kind == v1::REPORT_KIND_EMPLOYEES && !filter.sources().empty()) {
    return grpc_util::invalidArgument("source", "the employees report does not filter by source");
  }
  if (kind != v1::REPORT_KIND_MISSED && filter.unprocessed_only()) {
    return grpc_util::invalidArgument("unprocessed", "only the missed report takes it");
  }
  return grpc::Status::OK;
}

grpc::Status checkSettings(const v1::ReportSettings& settings) {
  if (settings.target_min_talk_seconds() < 0 || settings.target_min_talk_seconds() > 86399) {
    return grpc_util::invalidArgument("target_min_talk_seconds", "from 0 to 86399");
  }
  if (settings.target_max_talk_seconds() <= settings.target_min_talk_seconds() ||
      settings.target_max_talk_seconds() > 86400) {
    return grpc_util::invalidArgument("target_max_talk_seconds",
                                      "more than target_min_talk_seconds, at most 86400");
  }
  if (settings.deal_window_days() < 1 || settings.deal_window_days() > 366) {
    return grpc_util::invalidArgument("deal_window_days", "from 1 to 366");
  }
  return grpc::Status::OK;
}

std::string reportName(v1::ReportKind kind) {
  switch (kind) {
    case v1::REPORT_KIND_INCOMING: return "incoming";
    case v1::REPORT_KIND_DISTRIBUTION: return "distribution";
    case v1::REPORT_KIND_MISSED: return "missed";
    case v1::REPORT_KIND_EMPLOYEES: return "employees";
    case v1::REPORT_KIND_ADS: return "ads";
    case v1::REPORT_KIND_TARGET: return "target";
    case v1::REPORT_KIND_CATEGORIES: return "categories";
    case v1::REPORT_KIND_CUSTOM: return "custom";
    default: return "";
  }
}

std::optional<v1::ReportKind> reportKindNamed(std::string_view name) {
  for (auto kind : {v1::REPORT_KIND_INCOMING, v1::REPORT_KIND_DISTRIBUTION, v1::REPORT_KIND_MISSED,
                    v1::REPORT_KIND_EMPLOYEES, v1::REPORT_KIND_ADS, v1::REPORT_KIND_TARGET, v1::REPORT_KIND_CATEGORIES}) {
    if (reportName(kind) == name) return kind;
  }
  return std::nullopt;
}

}  // namespace tel::analytics
