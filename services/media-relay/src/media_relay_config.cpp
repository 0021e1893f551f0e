#include "media_relay_config.h"

#include <thread>

namespace tel::media {

MediaRelayConfig MediaRelayConfig::load(config::Config& source) {
  MediaRelayConfig config;
  config.grpc_listen = source.getHostPort("grpc.listen", "127.0.0.1:17120");
  config.admin_listen = source.getHostPort("admin.listen", "127.0.0.1:17121");
  config.control_listen = source.getHostPort("control.listen", "127.0.0.1:17122");
  auto& relay = config.relay;
  relay.bind_ip = source.getString("rtp.bind", "127.0.0.1");
  if (!SocketAddress::parse(relay.bind_ip, 0)) {
    throw config::ConfigError("rtp.bind", "'" + relay.bind_ip + "' is not an IP address");
  }
  relay.advertise_ip = source.getString("rtp.advertise", relay.bind_ip);
  if (!SocketAddress::parse(relay.advertise_ip, 0)) {
    throw config::ConfigError("rtp.advertise", "'" + relay.advertise_ip + "' is not an IP address");
  }
  relay.port_min = static_cast<uint16_t>(source.getInt("rtp.port_min", 1024, 65534, 30000));
  relay.port_max = static_cast<uint16_t>(source.getInt("rtp.port_max", 1025, 65535, 39999));
  if (relay.port_max <= relay.port_min + 1) {
    throw config::ConfigError("rtp.port_max",
                              "must leave at least one port pair above rtp.port_min");
  }
  const int cores = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  relay.workers = static_cast<int>(source.getInt("workers", 1, 256, cores));
  relay.max_packet_bytes =
      static_cast<size_t>(source.getInt("rtp.max_packet_bytes", 64, 2000, 1500));
  relay.media_timeout = source.getDuration("timeouts.media", std::chrono::seconds(60));
  relay.setup_timeout = source.getDuration("timeouts.setup", std::chrono::seconds(120));
  relay.relatch_after = source.getDuration("timeouts.relatch", std::chrono::seconds(2));
  relay.prompts_dir = source.getString("prompts.dir", "");
  relay.recordings_dir = source.getString("recordings.dir", "");
  config.drain_grace = source.getDuration("drain.grace_period", std::chrono::seconds(30));
  config.log_level = log::parseLevel(source.getString("log.level", "info"));
  source.rejectUnknownKeys();
  return config;
}

}  // namespace tel::media
