#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "retry_schedule.h"
#include "tel/config/config.h"
#include "tel/log/log.h"

namespace tel::integrations {

// How webhooks are delivered (the `webhooks.*` keys).
struct DeliveryOptions {
  RetrySchedule schedule = RetrySchedule::standard();
  std::chrono::milliseconds timeout{10000};  // one attempt, connection included
  int max_in_flight = 64;                    // requests open at once, all subscriptions
  int per_subscription_in_flight = 4;        // a slow endpoint takes at most this many of them
  // A subscription whose every attempt failed for this long is disabled (and the tenant told).
  std::chrono::milliseconds disable_after{std::chrono::hours(120)};
  std::chrono::milliseconds idle_poll{200};  // how often to look for due deliveries when idle
  // Tenants with their own series in the per-tenant delivery lag; later ones count as "other".
  size_t metrics_max_tenants = 1000;
};

// Everything integrations reads at start; environment prefix TEL_INTEGRATIONS.
struct IntegrationsConfig {
  config::HostPort grpc_listen;
  config::HostPort admin_listen;
  std::string database_url;  // secret
  int database_pool_size = 6;
  int workers = 4;
  std::string kafka_brokers;
  std::string kafka_topic;
  std::string kafka_group;
  std::chrono::milliseconds kafka_session_timeout{10000};
  std::string call_log_address;  // cdr-ingest's CallLog: call.ended carries the call record
  DeliveryOptions delivery;
  std::vector<std::string> allowed_private_networks;
  int max_subscriptions_per_tenant = 20;
  std::chrono::milliseconds retention{std::chrono::hours(24 * 30)};
  log::Level log_level = log::Level::kInfo;

  static IntegrationsConfig load(config::Config& source);
};

}  // namespace tel::integrations
