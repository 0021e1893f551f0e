#pragma once

#include "tel/config/config.h"
#include "tel/log/log.h"

namespace tel::routing {

// Everything routing reads at start; environment prefix TEL_ROUTING.
struct RoutingConfig {
  std::string call_control_address;  // sip-edge's call-control API
  std::string accounts_address;
  config::HostPort admin_listen;
  int workers = 4;
  log::Level log_level = log::Level::kInfo;

  static RoutingConfig load(config::Config& source);
};

}  // namespace tel::routing
