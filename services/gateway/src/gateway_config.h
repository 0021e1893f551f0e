#pragma once

#include <chrono>
#include <string>

#include "gateway_server.h"
#include "tel/config/config.h"
#include "tel/log/log.h"
#include "tel/redis/redis_client.h"

namespace tel::gateway {

// The OpenAPI 3 document of /v1, compiled in from services/gateway/openapi.json.
const std::string& openApiDocument();

// Everything the gateway reads at start; environment prefix TEL_GATEWAY.
struct GatewayConfig {
  config::HostPort http_listen;
  config::HostPort admin_listen;
  std::string accounts_address;
  std::string call_log_address;
  std::string reports_address;  // the analytics service
  std::string webhooks_address;  // the integrations service
  std::string dial_plans_address;  // the routing service
  std::string queues_address;      // the queue service
  redis::RedisOptions redis;  // from redis.url (secret: may carry a password)
  double rate_per_second = 50;
  int rate_burst = 100;
  // The public tracking endpoint (POST /v1/tracking/visits), per client address.
  double visits_per_second = 5;
  int visit_burst = 50;
  GatewayOptions server;
  log::Level log_level = log::Level::kInfo;

  static GatewayConfig load(config::Config& source);
};

}  // namespace tel::gateway
