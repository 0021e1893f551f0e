#pragma once

#include "ingest_loop.h"
#include "tel/config/config.h"

namespace tel::cdr {

// Everything cdr-ingest reads at start; environment prefix TEL_CDR_INGEST.
struct CdrConfig {
  config::HostPort grpc_listen;
  config::HostPort admin_listen;
  std::string database_url;  // secret
  int database_pool_size = 4;
  std::string kafka_brokers;
  std::string kafka_topic;
  std::string kafka_group;
  std::chrono::milliseconds kafka_session_timeout{10000};
  // How long the broker may hold a fetch to fill it: fewer, fuller fetches (the broker's CPU) for
  // at most this much added delay between a call event and its record.
  std::chrono::milliseconds kafka_fetch_max_wait{50};
  IngestOptions ingest;
  // The call recordings (shared with media-relay and the gateway): recordings past their tenant's
  // retention are deleted from here every sweep_interval. Empty: no sweep.
  std::string recordings_dir;
  std::chrono::milliseconds recordings_sweep_interval{3600000};
  int workers = 4;
  log::Level log_level = log::Level::kInfo;

  static CdrConfig load(config::Config& source);
};

}  // namespace tel::cdr
