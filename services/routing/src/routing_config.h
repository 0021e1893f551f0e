#pragma once

#include "carrier_health.h"
#include "router.h"
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
  config::HostPort grpc_listen;  // tel.routing.v1.DialPlans and Prompts, for the gateway
  config::HostPort admin_listen;
  std::string database_url;  // secret; dial plans
  int database_pool_size = 4;
  int workers = 4;
  log::Level log_level = log::Level::kInfo;
  // Voice prompts: <prompts.dir>/<tenant_id>/<name>.wav, shared with media-relay, which plays them
  // (required; created at start when missing, and must be writable).
  std::string prompts_dir;
  std::string prompts_espeak = "espeak-ng";  // the program that renders text prompts
  int prompts_workers = 2;                   // prompts rendered at once
  // Carriers: how long one may stay silent before a call moves on (carriers.response_timeout), and
  // when it is taken out and brought back (carriers.failures_to_trip, .failure_window,
  // .probe_interval, .probes_to_recover).
  RouterOptions router;
  CarrierHealthOptions carrier_health;

  static RoutingConfig load(config::Config& source);
};

}  // namespace tel::routing
