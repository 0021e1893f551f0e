#pragma once

#include <grpcpp/grpcpp.h>

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include "tel/analytics/v1/reports.pb.h"

namespace tel::analytics {

namespace v1 = ::tel::analytics::v1;

// The days a report covers, both inclusive, in the tenant's time zone.
struct ReportPeriod {
  std::chrono::year_month_day first_day;
  std::chrono::year_month_day last_day;
};

// The longest period one report may cover: a year, leap or not.
inline constexpr int kMaxPeriodDays = 366;
// How many numbers or extensions one filter may name.
inline constexpr int kMaxFilterValues = 50;

// "2026-11-27" -> that day; anything else (other shapes, 2026-02-30) -> nullopt.
std::optional<std::chrono::year_month_day> parseDay(std::string_view text);
std::string formatDay(std::chrono::year_month_day day);

// Applies the defaults (the week up to `today`, the tenant's current date) and checks the period:
// real days, first <= last, at most kMaxPeriodDays. INVALID_ARGUMENT names from/to.
grpc::Status resolvePeriod(const v1::ReportFilter& filter, std::chrono::year_month_day today,
                           ReportPeriod* out);

// Checks the rest of the filter against what `kind` accepts: well-formed numbers (E.164) and
// extensions, at most kMaxFilterValues of each, and no filter the report does not take (a filter
// that would be silently ignored is refused instead). INVALID_ARGUMENT names the field.
grpc::Status checkFilter(v1::ReportKind kind, const v1::ReportFilter& filter);

// Target calls, for tenants that did not choose (ReportSettings).
inline constexpr int kDefaultTargetMinTalk = 15;
inline constexpr int kDefaultTargetMaxTalk = 300;
inline constexpr int kDefaultDealWindowDays = 30;

// Bounds: 0 <= min < max <= 86400 seconds; a deal window of 1 to 366 days.
grpc::Status checkSettings(const v1::ReportSettings& settings);

// The report's name in the REST API ("incoming"), and back; nullopt for unknown names.
std::string reportName(v1::ReportKind kind);
std::optional<v1::ReportKind> reportKindNamed(std::string_view name);

}  // namespace tel::analytics
