#include "reports_service.h"

#include <chrono>

#include "report_filter.h"
#include "tel/grpc/run_logged.h"
#include "tel/metrics/admin_server.h"

namespace tel::analytics {

ReportsService::ReportsService(ReportStore& store, int workers, log::Logger log,
                               prometheus::Registry& registry)
    : store_(store),
      log_(std::move(log)),
      reports_(prometheus::BuildCounter()
                   .Name("tel_analytics_reports_total")
                   .Help("Reports run, per report and outcome (ok, invalid_argument, ...)")
                   .Register(registry)),
      durations_(prometheus::BuildHistogram()
                     .Name("tel_analytics_report_duration_seconds")
                     .Help("Time to run a report, per report (successful runs)")
                     .Register(registry)),
      executor_(workers) {
  // Every report's series exists from the start, so that rates and alerts see zeros, not gaps.
  for (int kind = v1::ReportKind_MIN + 1; kind <= v1::ReportKind_MAX; ++kind) {
    const std::string name = reportName(static_cast<v1::ReportKind>(kind));
    reports_.Add({{"report", name}, {"outcome", "ok"}});
    durations_.Add({{"report", name}}, metrics::latencyBuckets());
  }
}

grpc::ServerUnaryReactor* ReportsService::RunReport(grpc::CallbackServerContext* context,
                                                    const v1::ReportRequest* request,
                                                    v1::ReportTable* response) {
  return executor_.runUnary(context, [=, this] { return runMeasured(*request, response); });
}

grpc::ServerUnaryReactor* ReportsService::GetSettings(grpc::CallbackServerContext* context,
                                                      const v1::GetReportSettingsRequest* request,
                                                      v1::ReportSettings* response) {
  return grpc_util::runLogged(executor_, log_, context, "GetSettings",
                   [=, this] { return store_.settings(request->tenant_id(), response); });
}

grpc::ServerUnaryReactor* ReportsService::UpdateSettings(grpc::CallbackServerContext* context,
                                                         const v1::UpdateReportSettingsRequest* request,
                                                         v1::ReportSettings* response) {
  return grpc_util::runLogged(executor_, log_, context, "UpdateSettings",
                   [=, this] { return store_.updateSettings(*request, response); });
}

grpc::ServerUnaryReactor* ReportsService::CreateCustomReport(grpc::CallbackServerContext* context,
                                                             const v1::CreateCustomReportRequest* request,
                                                             v1::CustomReport* response) {
  return grpc_util::runLogged(executor_, log_, context, "CreateCustomReport",
                   [=, this] { return store_.createCustomReport(*request, response); });
}

grpc::ServerUnaryReactor* ReportsService::ListCustomReports(grpc::CallbackServerContext* context,
                                                            const v1::GetReportSettingsRequest* request,
                                                            v1::ListCustomReportsResponse* response) {
  return grpc_util::runLogged(executor_, log_, context, "ListCustomReports",
                   [=, this] { return store_.listCustomReports(request->tenant_id(), response); });
}

grpc::ServerUnaryReactor* ReportsService::GetCustomReport(grpc::CallbackServerContext* context,
                                                          const v1::CustomReportRef* request,
                                                          v1::CustomReport* response) {
  return grpc_util::runLogged(executor_, log_, context, "GetCustomReport",
                   [=, this] { return store_.getCustomReport(*request, response); });
}

grpc::ServerUnaryReactor* ReportsService::DeleteCustomReport(grpc::CallbackServerContext* context,
                                                             const v1::CustomReportRef* request,
                                                             v1::CustomReportDeleted*) {
  return grpc_util::runLogged(executor_, log_, context, "DeleteCustomReport",
                   [=, this] { return store_.deleteCustomReport(*request); });
}

grpc::Status ReportsService::runMeasured(const v1::ReportRequest& request, v1::ReportTable* response) {
  const auto started = std::chrono::steady_clock::now();
  std::string name = reportName(request.kind());
  if (name.empty()) name = "unknown";
  grpc::Status status;
  try {
    status = store_.run(request, response);
  } catch (const std::exception& e) {
    log_.error("report failed", {{"tenant_id", request.tenant_id()}, {"report", name}, {"error", e.what()}});
    status = grpc::Status(grpc::StatusCode::INTERNAL, "the report failed");
  }
  const std::chrono::duration<double> elapsed = std::chrono::steady_clock::now() - started;
  std::string outcome = "ok";
  if (!status.ok()) {
    outcome = status.error_code() == grpc::StatusCode::INVALID_ARGUMENT ? "invalid_argument"
              : status.error_code() == grpc::StatusCode::NOT_FOUND      ? "not_found"
              : status.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED ? "timeout"
                                                                        : "error";
  } else {
    durations_.Add({{"report", name}}, metrics::latencyBuckets()).Observe(elapsed.count());
  }
  reports_.Add({{"report", name}, {"outcome", outcome}}).Increment();
  if (status.ok() || status.error_code() == grpc::StatusCode::INVALID_ARGUMENT) {
    log_.debug("report", {{"tenant_id", request.tenant_id()}, {"report", name},
                          {"outcome", outcome}, {"seconds", std::to_string(elapsed.count())}});
  } else if (status.error_code() != grpc::StatusCode::INTERNAL) {
    log_.warn("report not run", {{"tenant_id", request.tenant_id()}, {"report", name},
                                 {"outcome", outcome}, {"error", status.error_message()}});
  }
  return status;
}

}  // namespace tel::analytics
