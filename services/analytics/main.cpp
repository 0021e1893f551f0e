// analytics: reports over the tenants' call records (tel.analytics.v1.Reports), call tracking
// (Tracking) and segmentation (Segmentation), for the gateway.
#include "analytics_config.h"
#include "report_store.h"
#include "reports_service.h"
#include "rollup_maintainer.h"
#include "segmentation_service.h"
#include "segmentation_store.h"
#include "tracking_service.h"
#include "tracking_store.h"
#include "visit_batcher.h"
#include "tel/grpc/server.h"
#include "tel/grpc/shutdown_signal.h"
#include "tel/metrics/admin_server.h"

int main(int argc, char** argv) {
  tel::grpc_util::ShutdownSignal shutdown_signal;
  const auto config = tel::config::loadServiceConfig<tel::analytics::AnalyticsConfig>(
      argc, argv, "analytics", "TEL_ANALYTICS");
  auto log = tel::log::Logger::create("analytics", config.log_level);
  try {
    auto registry = std::make_shared<prometheus::Registry>();
    tel::metrics::registerProcessMetrics(*registry, "analytics", TEL_VERSION);
    auto pool =
        std::make_shared<tel::pg::ConnectionPool>(config.database_url, config.database_pool_size);
    tel::analytics::ReportStore store(pool, config.limits);
    tel::analytics::ReportsService reports(store, config.workers, log, *registry);
    tel::analytics::RollupMaintainer maintainer(pool, config.rollup_merge_interval, log, *registry);
    tel::analytics::TrackingStore tracking_store(pool);
    tel::analytics::VisitBatcher visits(tracking_store, config.visits, log, *registry);
    tel::analytics::TrackingService tracking(tracking_store, visits, config.workers, log, *registry);
    tel::analytics::SegmentationStore segmentation_store(pool);
    tel::analytics::SegmentationService segmentation(segmentation_store, config.workers, log);
    tel::metrics::AdminServer admin("analytics", registry, [&] {
      return store.healthy() ? tel::metrics::HealthReport{}
                             : tel::metrics::HealthReport{false, "database unreachable"};
    });
    const int admin_port = admin.start(config.admin_listen.host, config.admin_listen.port);
    tel::grpc_util::GrpcServer server(config.grpc_listen.str(), {&reports, &tracking, &segmentation});
    const int grpc_port = server.start();
    log.info("analytics serving", {{"grpc_port", std::to_string(grpc_port)},
                                   {"admin_port", std::to_string(admin_port)}});
    maintainer.start();
    visits.start();
    const int signal = shutdown_signal.wait();
    log.info("shutting down", {{"signal", std::to_string(signal)}});
    server.shutdown(std::chrono::seconds(5));
    visits.stop();  // after the server: visits in flight are written and answered first
    maintainer.stop();
    admin.stop();
  } catch (const std::exception& e) {
    log.error("fatal", {{"error", e.what()}});
    return 1;
  }
  return 0;
}
