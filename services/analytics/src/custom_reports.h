#pragma once

#include <grpcpp/grpcpp.h>

#include <string>
#include <vector>

#include "tel/analytics/v1/reports.pb.h"

namespace tel::analytics {

namespace v1 = ::tel::analytics::v1;

// A column a custom report may show: its name in the API, its type, and the SQL that computes it
// from a call `c` and its category `k` (times in the session's time zone, the tenant's).
struct CustomColumn {
  std::string name;
  v1::ColumnType type;
  std::string sql;
};

// Every column, in the order the documentation lists them.
const std::vector<CustomColumn>& customColumns();
const CustomColumn* customColumnNamed(const std::string& name);

// Checks a custom report before it is saved: a name, 1 to 30 known columns without repeats, and
// well-formed filters. INVALID_ARGUMENT names the field.
grpc::Status checkCustomReport(const v1::CustomReport& report);

}  // namespace tel::analytics
