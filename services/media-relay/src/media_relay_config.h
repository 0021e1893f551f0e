#pragma once

#include "relay_types.h"
#include "tel/config/config.h"
#include "tel/log/log.h"

namespace tel::media {

// Everything media-relay reads at start; environment prefix TEL_MEDIA_RELAY.
struct MediaRelayConfig {
  config::HostPort grpc_listen;
  config::HostPort admin_listen;
  // The control link (sip-edge's media requests); an IP address, port 0 for any free port.
  config::HostPort control_listen;
  RelayOptions relay;
  // On SIGTERM: how long calls in progress may go on while new sessions are refused.
  std::chrono::milliseconds drain_grace{30000};
  log::Level log_level = log::Level::kInfo;

  static MediaRelayConfig load(config::Config& source);
};

}  // namespace tel::media
