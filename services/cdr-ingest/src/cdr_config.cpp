#include "cdr_config.h"

namespace tel::cdr {

CdrConfig CdrConfig::load(config::Config& source) {
  CdrConfig config;
  config.grpc_listen = source.getHostPort("grpc.listen", "127.0.0.1:17130");
  config.admin_listen = source.getHostPort("admin.listen", "127.0.0.1:17131");
  config.database_url = source.getSecret("database.url");
  config.database_pool_size = static_cast<int>(source.getInt("database.pool_size", 2, 64, 4));
  config.kafka_brokers = source.getString("kafka.brokers");
  config.kafka_topic = source.getString("kafka.topic", "call-events");
  config.kafka_group = source.getString("kafka.group", "cdr-ingest");
  // How long a crashed member keeps its partitions before the group hands them to the others.
  config.kafka_session_timeout =
      source.getDuration("kafka.session_timeout", std::chrono::seconds(10));
  config.kafka_fetch_max_wait =
      source.getDuration("kafka.fetch_max_wait", std::chrono::milliseconds(50));
  config.ingest.max_batch = static_cast<size_t>(source.getInt("batch.max_events", 1, 100000, 5000));
  config.ingest.poll_wait = source.getDuration("batch.max_wait", std::chrono::milliseconds(100));
  config.ingest.max_tenant_series =
      static_cast<size_t>(source.getInt("metrics.max_tenants", 0, 1000000, 1000));
  config.workers = static_cast<int>(source.getInt("workers", 1, 64, 4));
  config.recordings_dir = source.getString("recordings.dir", "");
  config.recordings_sweep_interval = source.getDuration("recordings.sweep_interval", std::chrono::hours(1));
  if (config.recordings_sweep_interval < std::chrono::seconds(1)) {
    throw config::ConfigError("recordings.sweep_interval", "at least 1s");
  }
  config.log_level = log::parseLevel(source.getString("log.level", "info"));
  source.rejectUnknownKeys();
  return config;
}

}  // namespace tel::cdr
