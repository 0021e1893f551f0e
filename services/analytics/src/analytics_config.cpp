#include "analytics_config.h"

namespace tel::analytics {

AnalyticsConfig AnalyticsConfig::load(config::Config& source) {
  AnalyticsConfig config;
  config.grpc_listen = source.getHostPort("grpc.listen", "127.0.0.1:17160");
  config.admin_listen = source.getHostPort("admin.listen", "127.0.0.1:17161");
  config.database_url = source.getSecret("database.url");
  config.database_pool_size = static_cast<int>(source.getInt("database.pool_size", 1, 64, 4));
  config.workers = static_cast<int>(source.getInt("workers", 1, 64, 4));
  config.limits.max_rows = static_cast<int>(source.getInt("reports.max_rows", 1, 1000000, 5000));
  config.limits.statement_timeout =
      source.getDuration("reports.statement_timeout", std::chrono::seconds(10));
  config.rollup_merge_interval =
      source.getDuration("reports.rollup_merge_interval", std::chrono::seconds(30));
  config.visits.writers = static_cast<int>(source.getInt("tracking.visit_writers", 1, 64, 2));
  config.visits.max_batch = static_cast<size_t>(source.getInt("tracking.visit_batch", 1, 1000, 64));
  if (config.visits.writers >= config.database_pool_size) {
    throw config::ConfigError("tracking.visit_writers",
                              "must be less than database.pool_size: reports need connections too");
  }
  config.log_level = log::parseLevel(source.getString("log.level", "info"));
  source.rejectUnknownKeys();
  return config;
}

}  // namespace tel::analytics
