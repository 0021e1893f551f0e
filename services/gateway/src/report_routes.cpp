// GET /v1/reports/{report}: the analytics service's reports, as JSON or CSV.
#include <charconv>
#include <cmath>
#include <nlohmann/json.hpp>

#include "csv.h"
#include "gateway_forward.h"
#include "json_request.h"

namespace tel::gateway {
namespace {

using nlohmann::json;
namespace analytics_v1 = ::tel::analytics::v1;

const char* kReportNames[] = {"incoming", "distribution", "missed", "employees", "ads", "target", "categories"};
const char* kReportParameters[] = {"from", "to", "number", "extension", "source", "unprocessed", "format"};

std::optional<analytics_v1::ReportKind> reportKind(const std::string& name) {
  if (std::find(std::begin(kReportNames), std::end(kReportNames), name) == std::end(kReportNames)) {
    return std::nullopt;
  }
  std::string upper = "REPORT_KIND_";
  for (char c : name) upper += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  analytics_v1::ReportKind kind;
  if (!analytics_v1::ReportKind_Parse(upper, &kind) || kind == analytics_v1::REPORT_KIND_UNSPECIFIED) {
    return std::nullopt;
  }
  return kind;
}

std::string columnType(analytics_v1::ColumnType type) {
  switch (type) {
    case analytics_v1::COLUMN_TYPE_INTEGER: return "integer";
    case analytics_v1::COLUMN_TYPE_DECIMAL: return "decimal";
    case analytics_v1::COLUMN_TYPE_BOOLEAN: return "boolean";
    case analytics_v1::COLUMN_TYPE_DATE: return "date";
    case analytics_v1::COLUMN_TYPE_TIME: return "time";
    default: return "text";
  }
}

json valueJson(const analytics_v1::Value& value) {
  switch (value.kind_case()) {
    case analytics_v1::Value::kText: return value.text();
    case analytics_v1::Value::kInteger: return value.integer();
    case analytics_v1::Value::kDecimal: return value.decimal();
    case analytics_v1::Value::kBoolean: return value.boolean();
    default: return nullptr;
  }
}

json reportJson(const std::string& name, const analytics_v1::ReportTable& table) {
  json out = {{"report", name},         {"timezone", table.timezone()}, {"from", table.from_date()},
              {"to", table.to_date()},  {"columns", json::array()},     {"rows", json::array()},
              {"summary", json::object()}, {"truncated", table.truncated()}};
  for (const auto& column : table.columns()) {
    out["columns"].push_back({{"name", column.name()}, {"type", columnType(column.type())}});
  }
  for (const auto& row : table.rows()) {
    json item = json::object();
    for (int i = 0; i < row.values_size() && i < table.columns_size(); ++i) {
      item[table.columns(i).name()] = valueJson(row.values(i));
    }
    out["rows"].push_back(std::move(item));
  }
  for (const auto& field : table.summary()) out["summary"][field.column().name()] = valueJson(field.value());
  return out;
}

std::string csvValue(const analytics_v1::Value& value) {
  switch (value.kind_case()) {
    case analytics_v1::Value::kText: return csvField(value.text());
    case analytics_v1::Value::kInteger: return std::to_string(value.integer());
    case analytics_v1::Value::kBoolean: return value.boolean() ? "true" : "false";
    case analytics_v1::Value::kDecimal: {
      char buffer[32];
      auto [end, ec] = std::to_chars(buffer, buffer + sizeof buffer, value.decimal());
      return ec == std::errc() ? std::string(buffer, end) : "";
    }
    default: return "";
  }
}

std::string reportCsv(const analytics_v1::ReportTable& table) {
  std::string out;
  for (int i = 0; i < table.columns_size(); ++i) out += (i ? "," : "") + table.columns(i).name();
  out += "\r\n";
  for (const auto& row : table.rows()) {
    for (int i = 0; i < row.values_size(); ++i) out += (i ? "," : "") + csvValue(row.values(i));
    out += "\r\n";
  }
  return out;
}

// A list filter: comma-separated, and the parameter may repeat.
void readList(const httplib::Request& request, const char* name,
              google::protobuf::RepeatedPtrField<std::string>* out) {
  const size_t count = request.get_param_value_count(name);
  for (size_t i = 0; i < count; ++i) {
    const std::string value = request.get_param_value(name, i);
    size_t start = 0;
    while (start <= value.size()) {
      const size_t comma = std::min(value.find(',', start), value.size());
      out->Add(value.substr(start, comma - start));
      start = comma + 1;
    }
  }
}

// The request's filters; an error names the parameter. The analytics service checks their values.
std::optional<ApiError> readReportFilter(const httplib::Request& request,
                                         analytics_v1::ReportFilter* out, bool* csv) {
  for (const auto& [name, value] : request.params) {
    if (std::find(std::begin(kReportParameters), std::end(kReportParameters), name) ==
        std::end(kReportParameters)) {
      return ApiError::invalid(name.substr(0, 64), name.substr(0, 64) +
                                                       ": unknown parameter; reports take from, to, "
                                                       "number, extension, source, unprocessed and format");
    }
    if (request.get_param_value_count(name.c_str()) > 1 && name != "number" && name != "extension" &&
        name != "source") {
      return ApiError::invalid(name, name + ": given more than once");
    }
  }
  out->set_from_date(request.get_param_value("from"));
  out->set_to_date(request.get_param_value("to"));
  if (request.has_param("from") && out->from_date().empty()) return ApiError::invalid("from", "from: empty");
  if (request.has_param("to") && out->to_date().empty()) return ApiError::invalid("to", "to: empty");
  readList(request, "number", out->mutable_numbers());
  readList(request, "extension", out->mutable_extensions());
  readList(request, "source", out->mutable_sources());
  if (request.has_param("unprocessed")) {
    const std::string value = request.get_param_value("unprocessed");
    if (value != "true" && value != "false") {
      return ApiError::invalid("unprocessed", "unprocessed: true or false");
    }
    out->set_unprocessed_only(value == "true");
  }
  const std::string format = request.has_param("format") ? request.get_param_value("format") : "json";
  if (format != "json" && format != "csv") return ApiError::invalid("format", "format: json or csv");
  *csv = format == "csv";
  return std::nullopt;
}

}  // namespace

void GatewayServer::registerReportRoutes() {
  using Stub = analytics_v1::Reports::StubInterface;
  auto render = [](const analytics_v1::ReportSettings& settings) { return messageJson(settings); };
  route("GET", "/v1/report-settings", "/v1/report-settings", Access::kTenant, [=, this](Call& call) {
    analytics_v1::GetReportSettingsRequest request;
    request.set_tenant_id(call.principal.tenant_id);
    forwardTo(call, *reports_, &Stub::GetSettings, request, 200, render);
  });
  route("PATCH", "/v1/report-settings", "/v1/report-settings", Access::kTenant, [=, this](Call& call) {
    JsonRequest body = JsonRequest::parse(call.request.body, {{"target_min_talk_seconds", FieldType::kInteger},
                                                              {"target_max_talk_seconds", FieldType::kInteger},
                                                              {"deal_window_days", FieldType::kInteger}});
    if (!body.ok()) return writeError(call.response, *body.error);
    analytics_v1::UpdateReportSettingsRequest request;
    request.set_tenant_id(call.principal.tenant_id);
    // Out-of-range values stay out of range (the service names the field), without overflowing.
    auto bounded = [](int64_t value) { return static_cast<int32_t>(std::clamp<int64_t>(value, -1, 1 << 30)); };
    if (auto value = body.integer("target_min_talk_seconds")) request.set_target_min_talk_seconds(bounded(*value));
    if (auto value = body.integer("target_max_talk_seconds")) request.set_target_max_talk_seconds(bounded(*value));
    if (auto value = body.integer("deal_window_days")) request.set_deal_window_days(bounded(*value));
    forwardTo(call, *reports_, &Stub::UpdateSettings, request, 200, render);
  });

  route("GET", R"(/v1/reports/([^/]+))", "/v1/reports/{report}", Access::kTenant, [this](Call& call) {
    const std::string name = call.request.matches[1];
    const auto kind = reportKind(name);
    if (!kind) {
      return writeError(call.response,
                        ApiError::notFound("no such report; reports: incoming, distribution, missed, employees, ads, target, categories"));
    }
    analytics_v1::ReportRequest request;
    request.set_tenant_id(call.principal.tenant_id);
    request.set_kind(*kind);
    bool csv = false;
    if (auto error = readReportFilter(call.request, request.mutable_filter(), &csv)) {
      return writeError(call.response, *error);
    }
    answerReport(call, request, name, csv);
  });

  // Custom reports: saved call-log filters with chosen columns, run for a period.
  route("POST", "/v1/custom-reports", "/v1/custom-reports", Access::kTenant, [=, this](Call& call) {
    JsonRequest body = JsonRequest::parse(
        call.request.body,
        {{"name", FieldType::kString, true}, {"columns", FieldType::kStringArray, true},
         {"direction", FieldType::kString}, {"disposition", FieldType::kString},
         {"numbers", FieldType::kStringArray}, {"extensions", FieldType::kStringArray},
         {"sources", FieldType::kStringArray}, {"category_id", FieldType::kString}});
    if (!body.ok()) return writeError(call.response, *body.error);
    analytics_v1::CreateCustomReportRequest request;
    request.set_tenant_id(call.principal.tenant_id);
    auto* report = request.mutable_report();
    report->set_name(*body.string("name"));
    report->set_direction(body.string("direction").value_or(""));
    report->set_disposition(body.string("disposition").value_or(""));
    report->set_category_id(body.string("category_id").value_or(""));
    for (const auto& [field, target] : {std::pair{"columns", report->mutable_columns()},
                                        std::pair{"numbers", report->mutable_numbers()},
                                        std::pair{"extensions", report->mutable_extensions()},
                                        std::pair{"sources", report->mutable_sources()}}) {
      for (auto& value : body.strings(field).value_or(std::vector<std::string>{})) target->Add(std::move(value));
    }
    forwardTo(call, *reports_, &Stub::CreateCustomReport, request, 201,
              [](const analytics_v1::CustomReport& saved) { return messageJson(saved); });
  });
  route("GET", "/v1/custom-reports", "/v1/custom-reports", Access::kTenant, [=, this](Call& call) {
    analytics_v1::GetReportSettingsRequest request;
    request.set_tenant_id(call.principal.tenant_id);
    forwardTo(call, *reports_, &Stub::ListCustomReports, request, 200,
              [](const analytics_v1::ListCustomReportsResponse& reply) {
                json items = json::array();
                for (const auto& report : reply.reports()) items.push_back(messageJson(report));
                return json{{"items", items}, {"next_page_token", ""}};
              });
  });
  const std::string custom_pattern = R"(/v1/custom-reports/([^/]+))";
  route("GET", custom_pattern, "/v1/custom-reports/{id}", Access::kTenant, [=, this](Call& call) {
    analytics_v1::CustomReportRef request;
    request.set_tenant_id(call.principal.tenant_id);
    request.set_id(call.request.matches[1]);
    forwardTo(call, *reports_, &Stub::GetCustomReport, request, 200,
              [](const analytics_v1::CustomReport& report) { return messageJson(report); });
  });
  route("DELETE", custom_pattern, "/v1/custom-reports/{id}", Access::kTenant, [=, this](Call& call) {
    analytics_v1::CustomReportRef request;
    request.set_tenant_id(call.principal.tenant_id);
    request.set_id(call.request.matches[1]);
    forwardTo(call, *reports_, &Stub::DeleteCustomReport, request, 204, [](const auto&) { return json(); });
  });
  route("GET", custom_pattern + "/run", "/v1/custom-reports/{id}/run", Access::kTenant, [=, this](Call& call) {
    analytics_v1::ReportRequest request;
    request.set_tenant_id(call.principal.tenant_id);
    request.set_kind(analytics_v1::REPORT_KIND_CUSTOM);
    request.set_custom_report_id(call.request.matches[1]);
    for (const auto& [name, value] : call.request.params) {
      if (name != "from" && name != "to" && name != "format") {
        return writeError(call.response, ApiError::invalid(name.substr(0, 64), name.substr(0, 64) +
                                                                                 ": a custom report takes from, to and format; its filters are saved with it"));
      }
    }
    bool csv = false;
    if (auto error = readReportFilter(call.request, request.mutable_filter(), &csv)) {
      return writeError(call.response, *error);
    }
    answerReport(call, request, "custom", csv);
  });
}

void GatewayServer::answerReport(Call& call, const analytics_v1::ReportRequest& request,
                                 const std::string& name, bool csv) {
  analytics_v1::ReportTable table;
  auto context = backendContext();
  const grpc::Status status = reports_->RunReport(context.get(), request, &table);
  if (!status.ok()) return writeError(call.response, fromGrpc(status));
  if (!csv) return writeJson(call.response, 200, reportJson(name, table));
  call.response.status = 200;
  call.response.set_header("Content-Disposition", "attachment; filename=\"" + name + "-" +
                                                      table.from_date() + "-" + table.to_date() + ".csv\"");
  call.response.set_content(reportCsv(table), kCsvContentType);
}

}  // namespace tel::gateway
