#pragma once

#include "relay_types.h"
#include "tel/config/config.h"
#include "tel/log/log.h"

namespace tel::media {

// Everything media-relay reads at start; environment prefix TEL_MEDIA_RELAY.
struct MediaRelayConfig {
  config::HostPort grpc_listen;
  config::HostPort admin_listen;
  RelayOptions relay;
  log::Level log_level = log::Level::kInfo;

  static MediaRelayConfig load(config::Config& source);
};

}  // namespace tel::media
