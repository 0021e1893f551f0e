// media-relay: RTP/RTCP relay between call legs (tel.media.v1 over gRPC and the control link).
#include <iostream>

#include "control_server.h"
#include "media_relay_config.h"
#include "media_relay_service.h"
#include "relay_engine.h"
#include "tel/grpc/server.h"
#include "tel/grpc/shutdown_signal.h"
#include "tel/metrics/admin_server.h"

int main(int argc, char** argv) {
  tel::grpc_util::ShutdownSignal shutdown_signal;
  const auto config = tel::config::loadServiceConfig<tel::media::MediaRelayConfig>(
      argc, argv, "media-relay", "TEL_MEDIA_RELAY");
  auto log = tel::log::Logger::create("media-relay", config.log_level);
  try {
    auto registry = std::make_shared<prometheus::Registry>();
    tel::metrics::registerProcessMetrics(*registry, "media-relay", TEL_VERSION);
    tel::media::RelayEngine engine(config.relay, log, *registry);
    engine.start();
    tel::media::RelayRequests requests(engine);
    tel::media::MediaRelayService service(requests);
    tel::media::ControlServer control(requests, {}, log, *registry);
    tel::metrics::AdminServer admin("media-relay", registry, [&] {
      if (requests.draining()) return tel::metrics::HealthReport{false, "draining"};
      const auto stats = engine.stats();
      if (stats.ports_in_use() >= stats.ports_total()) {
        return tel::metrics::HealthReport{false, "no free RTP ports"};
      }
      return tel::metrics::HealthReport{};
    });
    const int admin_port = admin.start(config.admin_listen.host, config.admin_listen.port);
    tel::grpc_util::GrpcServer server(config.grpc_listen.str(), {&service});
    const int control_port = control.start(config.control_listen.host, config.control_listen.port);
    service.setControlPort(control_port);
    const int grpc_port = server.start();
    log.info("media-relay serving", {{"grpc_port", std::to_string(grpc_port)},
                                     {"control_port", std::to_string(control_port)},
                                     {"admin_port", std::to_string(admin_port)},
                                     {"rtp_ports", std::to_string(config.relay.port_min) + "-" +
                                                       std::to_string(config.relay.port_max)},
                                     {"workers", std::to_string(config.relay.workers)}});
    const int signal = shutdown_signal.wait();
    // Drain: no new sessions; the calls in progress go on until they end or the grace period does.
    requests.drain();
    log.info("draining", {{"signal", std::to_string(signal)},
                          {"sessions", std::to_string(engine.stats().sessions())},
                          {"grace_ms", std::to_string(config.drain_grace.count())}});
    const auto drained = tel::grpc_util::drainInProgress(shutdown_signal, config.drain_grace,
                                                         [&] { return engine.stats().sessions(); });
    log.info("shutting down", {{"sessions_left", std::to_string(drained.left)},
                               {"drain_ms", std::to_string(drained.took.count())},
                               {"interrupted", drained.interrupted ? "true" : "false"}});
    server.shutdown(std::chrono::seconds(5));
    control.stop();
    engine.stop();
    admin.stop();
  } catch (const std::exception& e) {
    log.error("fatal", {{"error", e.what()}});
    return 1;
  }
  return 0;
}
