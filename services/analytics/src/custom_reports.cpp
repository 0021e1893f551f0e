#include "custom_reports.h"

#include <algorithm>
#include <set>

#include "call_codes.h"
#include "report_filter.h"
#include "tel/grpc/status.h"
#include "tracking_validation.h"

namespace tel::analytics {
namespace {

using grpc_util::invalidArgument;

std::string time(const std::string& column) {
  return "to_char(c." + column + R"(, 'YYYY-MM-DD"T"HH24:MI:SSTZH:TZM'))";
}

template <size_t N>
std::string caseOf(const std::string& column, const char* const (&names)[N]) {
  std::string sql = "CASE c." + column;
  for (size_t i = 1; i < N; ++i) sql += " WHEN " + std::to_string(i) + " THEN '" + names[i] + "'";
  return sql + " ELSE '' END";
}

}  // namespace

const std::vector<CustomColumn>& customColumns() {
  static const std::vector<CustomColumn> kColumns = {
      {"id", v1::COLUMN_TYPE_TEXT, "c.call_id"},
      {"started_at", v1::COLUMN_TYPE_TIME, time("started_at")},
      {"answered_at", v1::COLUMN_TYPE_TIME, time("answered_at")},
      {"ended_at", v1::COLUMN_TYPE_TIME, time("ended_at")},
      {"direction", v1::COLUMN_TYPE_TEXT, caseOf("direction", kDirectionNames)},
      {"caller", v1::COLUMN_TYPE_TEXT, "c.caller"},
      {"called", v1::COLUMN_TYPE_TEXT, "c.called"},
      {"disposition", v1::COLUMN_TYPE_TEXT, caseOf("disposition", kDispositionNames)},
      {"ring_seconds", v1::COLUMN_TYPE_INTEGER, "c.ring_seconds"},
      {"talk_seconds", v1::COLUMN_TYPE_INTEGER, "c.talk_seconds"},
      {"answered_by", v1::COLUMN_TYPE_TEXT, "c.answered_by"},
      {"hangup_side", v1::COLUMN_TYPE_TEXT, "CASE c.hangup_side WHEN 1 THEN 'caller' WHEN 2 THEN 'callee' WHEN 3 THEN 'system' ELSE '' END"},
      {"cause", v1::COLUMN_TYPE_TEXT, "c.cause"},
      {"utm_source", v1::COLUMN_TYPE_TEXT, "c.utm_source"},
      {"utm_medium", v1::COLUMN_TYPE_TEXT, "c.utm_medium"},
      {"utm_campaign", v1::COLUMN_TYPE_TEXT, "c.utm_campaign"},
      {"utm_term", v1::COLUMN_TYPE_TEXT, "c.utm_term"},
      {"category", v1::COLUMN_TYPE_TEXT, "coalesce(k.name, '')"},
      {"value", v1::COLUMN_TYPE_DECIMAL, "coalesce(k.value, 0)::float8"},
  };
  return kColumns;
}

const CustomColumn* customColumnNamed(const std::string& name) {
  for (const auto& column : customColumns()) {
    if (column.name == name) return &column;
  }
  return nullptr;
}

grpc::Status checkCustomReport(const v1::CustomReport& report) {
  if (report.name().empty() || report.name().size() > 100 ||
      std::any_of(report.name().begin(), report.name().end(),
                  [](unsigned char c) { return c < 0x20 || c == 0x7f; })) {
    return invalidArgument("name", "1 to 100 printable characters");
  }
  if (report.columns().empty() || report.columns_size() > 30) return invalidArgument("columns", "1 to 30 columns");
  std::set<std::string> seen;
  for (const auto& name : report.columns()) {
    if (customColumnNamed(name) == nullptr) {
      return invalidArgument("columns", "\"" + name.substr(0, 32) + "\" is not a column of the call log");
    }
    if (!seen.insert(name).second) return invalidArgument("columns", "\"" + name + "\" is given twice");
  }
  if (codeNamed(kDirectionNames, report.direction()) < 0) {
    return invalidArgument("direction", "inbound, outbound, internal, or empty for any");
  }
  if (codeNamed(kDispositionNames, report.disposition()) < 0) {
    return invalidArgument("disposition", "answered, busy, no_answer, failed, cancelled, or empty for any");
  }
  if (!report.category_id().empty() && !isUuid(report.category_id())) {
    return invalidArgument("category_id", "not a category id");
  }
  // The list filters follow the reports' rules.
  v1::ReportFilter filter;
  *filter.mutable_numbers() = report.numbers();
  *filter.mutable_extensions() = report.extensions();
  *filter.mutable_sources() = report.sources();
  return checkFilter(v1::REPORT_KIND_CUSTOM, filter);
}

}  // namespace tel::analytics
