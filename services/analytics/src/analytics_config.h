#pragma once

#include "report_store.h"
#include "visit_batcher.h"
#include "tel/config/config.h"
#include "tel/log/log.h"

namespace tel::analytics {

// Everything analytics reads at start; environment prefix TEL_ANALYTICS.
struct AnalyticsConfig {
  config::HostPort grpc_listen;
  config::HostPort admin_listen;
  std::string database_url;  // secret
  int database_pool_size = 4;
  int workers = 4;
  ReportLimits limits;
  // How often the report rollups are maintained (RollupMaintainer).
  std::chrono::milliseconds rollup_merge_interval{30000};
  VisitBatchOptions visits;
  log::Level log_level = log::Level::kInfo;

  static AnalyticsConfig load(config::Config& source);
};

}  // namespace tel::analytics
