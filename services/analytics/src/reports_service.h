#pragma once

#include <prometheus/counter.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include "report_store.h"
#include "tel/analytics/v1/reports.grpc.pb.h"
#include "tel/grpc/blocking_executor.h"
#include "tel/log/log.h"

namespace tel::analytics {

// tel.analytics.v1.Reports for the gateway. Reports run on a BlockingExecutor, never on gRPC's
// threads; each is counted per report and outcome and timed
// (tel_analytics_reports_total, tel_analytics_report_duration_seconds).
class ReportsService final : public v1::Reports::CallbackService {
 public:
  ReportsService(ReportStore& store, int workers, log::Logger log, prometheus::Registry& registry);

  grpc::ServerUnaryReactor* RunReport(grpc::CallbackServerContext* context,
                                      const v1::ReportRequest* request,
                                      v1::ReportTable* response) override;
  grpc::ServerUnaryReactor* GetSettings(grpc::CallbackServerContext* context,
                                        const v1::GetReportSettingsRequest* request,
                                        v1::ReportSettings* response) override;
  grpc::ServerUnaryReactor* UpdateSettings(grpc::CallbackServerContext* context,
                                           const v1::UpdateReportSettingsRequest* request,
                                           v1::ReportSettings* response) override;
  grpc::ServerUnaryReactor* CreateCustomReport(grpc::CallbackServerContext* context,
                                               const v1::CreateCustomReportRequest* request,
                                               v1::CustomReport* response) override;
  grpc::ServerUnaryReactor* ListCustomReports(grpc::CallbackServerContext* context,
                                              const v1::GetReportSettingsRequest* request,
                                              v1::ListCustomReportsResponse* response) override;
  grpc::ServerUnaryReactor* GetCustomReport(grpc::CallbackServerContext* context,
                                            const v1::CustomReportRef* request,
                                            v1::CustomReport* response) override;
  grpc::ServerUnaryReactor* DeleteCustomReport(grpc::CallbackServerContext* context,
                                               const v1::CustomReportRef* request,
                                               v1::CustomReportDeleted* response) override;

 private:
  grpc::Status runMeasured(const v1::ReportRequest& request, v1::ReportTable* response);

  ReportStore& store_;
  log::Logger log_;
  prometheus::Family<prometheus::Counter>& reports_;
  prometheus::Family<prometheus::Histogram>& durations_;
  grpc_util::BlockingExecutor executor_;
};

}  // namespace tel::analytics
