#include "queue_config.h"

#include <unistd.h>

#include <random>

namespace tel::queue {
namespace {

// host name and a random suffix: unique per process even when pods share a host name pattern.
std::string defaultInstanceId() {
  char host[256] = {};
  if (gethostname(host, sizeof(host) - 1) != 0) std::snprintf(host, sizeof(host), "queue");
  std::random_device random;
  char suffix[16];
  std::snprintf(suffix, sizeof(suffix), "%08x", random());
  return std::string(host) + "-" + suffix;
}

}  // namespace

QueueConfig QueueConfig::load(config::Config& source) {
  QueueConfig config;
  config.grpc_listen = source.getHostPort("grpc.listen", "127.0.0.1:17180");
  config.admin_listen = source.getHostPort("admin.listen", "127.0.0.1:17181");
  config.database_url = source.getSecret("database.url");
  config.database_pool_size = static_cast<int>(source.getInt("database.pool_size", 2, 64, 4));
  config.workers = static_cast<int>(source.getInt("workers", 1, 256, 4));
  auto redis = redis::parseRedisUrl(source.getSecret("redis.url"));
  if (!redis.ok()) throw config::ConfigError("redis.url", std::string(redis.status().message()));
  config.redis = *redis;
  config.call_control_address = source.getString("call_control.address", "127.0.0.1:17142");
  config.resolve_interval = std::chrono::duration_cast<std::chrono::seconds>(
      source.getDuration("call_control.resolve_interval", std::chrono::seconds(10)));
  if (config.resolve_interval.count() < 1)
    throw config::ConfigError("call_control.resolve_interval", "must be at least 1s");
  config.cache_ttl = source.getDuration("cache.ttl", std::chrono::seconds(2));
  config.dispatch.instance_id = source.getString("instance.id", "");
  if (config.dispatch.instance_id.empty()) config.dispatch.instance_id = defaultInstanceId();
  if (config.dispatch.instance_id.size() > 128) throw config::ConfigError("instance.id", "at most 128 characters");
  config.dispatch.dispatch_interval = source.getDuration("dispatch.interval", std::chrono::milliseconds(50));
  if (config.dispatch.dispatch_interval < std::chrono::milliseconds(5) ||
      config.dispatch.dispatch_interval > std::chrono::seconds(5)) {
    throw config::ConfigError("dispatch.interval", "must be from 5ms to 5s");
  }
  config.dispatch.stale_after = source.getDuration("dispatch.stale_after", std::chrono::seconds(10));
  if (config.dispatch.stale_after < std::chrono::seconds(3))
    throw config::ConfigError("dispatch.stale_after", "must be at least 3s");
  config.kafka_brokers = source.getString("kafka.brokers");
  config.kafka_topic = source.getString("kafka.topic", "call-events");
  config.kafka_group = source.getString("kafka.group", "queue");
  config.kafka_session_timeout = source.getDuration("kafka.session_timeout", std::chrono::seconds(10));
  config.presence_lapse = source.getDuration("presence.lapse", std::chrono::hours(4));
  if (config.presence_lapse < std::chrono::minutes(1)) throw config::ConfigError("presence.lapse", "must be at least 1m");
  config.dispatch.metrics_max_tenants =
      static_cast<size_t>(source.getInt("metrics.max_tenants", 0, 1000000, 1000));
  config.log_level = log::parseLevel(source.getString("log.level", "info"));
  source.rejectUnknownKeys();
  return config;
}

}  // namespace tel::queue
