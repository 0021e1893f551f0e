#pragma once

#include "tel/config/config.h"
#include "tel/log/log.h"

namespace tel::routing {

// Everything routing reads at start; environment prefix TEL_ROUTING.
struct RoutingConfig {
  // sip-edge's call-control API; every address the name resolves to is attached (one per sip-edge).
  std::string call_control_address;
  std::chrono::seconds resolve_interval{10};
  std::string accounts_address;
  // Number routes, extensions, outbound routes and dial plans may be this stale; 0 disables.
  std::chrono::milliseconds cache_ttl{5000};
  config::HostPort grpc_listen;  // tel.routing.v1.DialPlans, for the gateway
  config::HostPort admin_listen;
  std::string database_url;  // secret; dial plans
  int database_pool_size = 4;
  int workers = 4;
  log::Level log_level = log::Level::kInfo;

  static RoutingConfig load(config::Config& source);
};

}  // namespace tel::routing
