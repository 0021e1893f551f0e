#pragma once

#include <grpcpp/grpcpp.h>

#include <chrono>
#include <memory>

#include "tel/analytics/v1/reports.pb.h"
#include "tel/pg/connection_pool.h"

namespace tel::analytics {

namespace v1 = ::tel::analytics::v1;

struct ReportLimits {
  // Rows of a listing report (missed calls) beyond this are cut and the table says truncated.
  int max_rows = 5000;
  // A report's queries are cancelled by Postgres after this long.
  std::chrono::milliseconds statement_timeout{10000};
};

// Runs reports over the calls, call_legs and sip_accounts tables in Postgres, each in one
// read-only transaction scoped to the tenant (row-level security), in the tenant's time zone.
// Thread-safe: every call leases its own connection.
class ReportStore {
 public:
  ReportStore(std::shared_ptr<pg::ConnectionPool> pool, ReportLimits limits)
      : pool_(std::move(pool)), limits_(limits) {}

  // INVALID_ARGUMENT for a bad filter (the field named), NOT_FOUND for an unknown tenant.
  grpc::Status run(const v1::ReportRequest& request, v1::ReportTable* out);

  // The tenant's settings (defaults when it never set them); changing them checks the whole
  // result (INVALID_ARGUMENT naming the field) and recomputes the tenant's target calls in the
  // same transaction (seconds for a million calls).
  grpc::Status settings(const std::string& tenant_id, v1::ReportSettings* out);
  grpc::Status updateSettings(const v1::UpdateReportSettingsRequest& request, v1::ReportSettings* out);

  // Custom reports: saved after checkCustomReport (ALREADY_EXISTS for a name in use); run through
  // run() with REPORT_KIND_CUSTOM.
  grpc::Status createCustomReport(const v1::CreateCustomReportRequest& request, v1::CustomReport* out);
  grpc::Status listCustomReports(const std::string& tenant_id, v1::ListCustomReportsResponse* out);
  grpc::Status getCustomReport(const v1::CustomReportRef& ref, v1::CustomReport* out);
  grpc::Status deleteCustomReport(const v1::CustomReportRef& ref);

  bool healthy() { return pool_->ping(); }

 private:
  std::shared_ptr<pg::ConnectionPool> pool_;
  ReportLimits limits_;
};

}  // namespace tel::analytics
