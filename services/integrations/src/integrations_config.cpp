#include "integrations_config.h"

#include "tel/net/address_blocks.h"

namespace tel::integrations {
namespace {

RetrySchedule loadSchedule(config::Config& source) {
  std::string error;
  auto schedule = RetrySchedule::parse(
      source.getList("webhooks.retry_schedule", RetrySchedule::kStandard), &error);
  if (!schedule) throw config::ConfigError("webhooks.retry_schedule", error);
  return *schedule;
}

}  // namespace

IntegrationsConfig IntegrationsConfig::load(config::Config& source) {
  IntegrationsConfig config;
  config.delivery.schedule = loadSchedule(source);
  config.grpc_listen = source.getHostPort("grpc.listen", "127.0.0.1:17170");
  config.admin_listen = source.getHostPort("admin.listen", "127.0.0.1:17171");
  config.database_url = source.getSecret("database.url");
  config.database_pool_size = static_cast<int>(source.getInt("database.pool_size", 3, 64, 6));
  config.workers = static_cast<int>(source.getInt("workers", 1, 64, 4));
  config.kafka_brokers = source.getString("kafka.brokers");
  config.kafka_topic = source.getString("kafka.topic", "call-events");
  config.kafka_group = source.getString("kafka.group", "integrations");
  config.kafka_session_timeout = source.getDuration("kafka.session_timeout", std::chrono::seconds(10));
  config.call_log_address = source.getString("call_log.address");
  auto& delivery = config.delivery;
  delivery.timeout = source.getDuration("webhooks.timeout", std::chrono::seconds(10));
  if (delivery.timeout < std::chrono::seconds(1) || delivery.timeout > std::chrono::minutes(2)) {
    throw config::ConfigError("webhooks.timeout", "from 1s to 2m");
  }
  delivery.max_in_flight = static_cast<int>(source.getInt("webhooks.max_in_flight", 1, 10000, 64));
  delivery.per_subscription_in_flight =
      static_cast<int>(source.getInt("webhooks.per_subscription_in_flight", 1, 1000, 4));
  if (delivery.per_subscription_in_flight > delivery.max_in_flight) {
    throw config::ConfigError("webhooks.per_subscription_in_flight",
                              "must not exceed webhooks.max_in_flight");
  }
  delivery.disable_after = source.getDuration("webhooks.disable_after", std::chrono::hours(120));
  delivery.idle_poll = source.getDuration("webhooks.idle_poll", std::chrono::milliseconds(200));
  delivery.metrics_max_tenants = static_cast<size_t>(source.getInt("metrics.max_tenants", 0, 1000000, 1000));
  config.allowed_private_networks = source.getList("webhooks.allowed_private_networks", "");
  if (auto bad = net::AddressBlocks::invalidEntry(config.allowed_private_networks)) {
    throw config::ConfigError("webhooks.allowed_private_networks",
                              "\"" + *bad + "\" is not an address or CIDR block");
  }
  config.max_subscriptions_per_tenant =
      static_cast<int>(source.getInt("webhooks.max_subscriptions_per_tenant", 1, 1000, 20));
  config.retention = source.getDuration("webhooks.retention", std::chrono::hours(24 * 30));
  config.log_level = log::parseLevel(source.getString("log.level", "info"));
  source.rejectUnknownKeys();
  return config;
}

}  // namespace tel::integrations
