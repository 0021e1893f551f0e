// routing: the dial plan. Attaches to sip-edge's call-control API and decides where each new call
// goes (see router.h); serves the tenants' dial plans and voice prompts to the gateway
// (tel.routing.v1.DialPlans, tel.routing.v1.Prompts).
#include "adapters.h"
#include "dial_plans_service.h"
#include "prompt_render.h"
#include "prompts_service.h"
#include "router.h"
#include "routing_config.h"
#include "system_prompts.h"
#include "tel/grpc/blocking_executor.h"
#include "tel/grpc/server.h"
#include "tel/grpc/shutdown_signal.h"
#include "tel/grpc/status.h"
#include "tel/metrics/admin_server.h"

int main(int argc, char** argv) {
  tel::grpc_util::ShutdownSignal shutdown_signal;
  const auto config = tel::config::loadServiceConfig<tel::routing::RoutingConfig>(
      argc, argv, "routing", "TEL_ROUTING");
  auto log = tel::log::Logger::create("routing", config.log_level);
  try {
    auto registry = std::make_shared<prometheus::Registry>();
    tel::metrics::registerProcessMetrics(*registry, "routing", TEL_VERSION);
    const auto kRpcTimeout = std::chrono::seconds(2);
    auto accounts_channel =
        grpc::CreateChannel(config.accounts_address, grpc::InsecureChannelCredentials());
    tel::routing::AccountsRouteDirectory directory(
        tel::accounts::v1::Accounts::NewStub(accounts_channel), kRpcTimeout, config.cache_ttl);
    auto pool = std::make_shared<tel::pg::ConnectionPool>(config.database_url, config.database_pool_size);
    tel::routing::PlanStore plans(pool, config.cache_ttl);
    tel::routing::DialPlansService dial_plans(plans, config.workers, log);
    // espeak-ng gets 10 s and, at 22050 Hz 16-bit, room for a little over the 10 minutes a prompt
    // may last; renderPrompt() refuses what is longer.
    tel::routing::EspeakRenderer speech(config.prompts_espeak,
                                        {.timeout = std::chrono::seconds(10), .max_stdout = 28 << 20});
    tel::routing::PromptStore prompt_store(pool, tel::routing::PromptFiles(config.prompts_dir), speech, log);
    // The queue's announcements; calls go on without them should espeak-ng fail (logged).
    (void)tel::routing::renderSystemPrompts(tel::routing::PromptFiles(config.prompts_dir), speech, log);
    tel::routing::PromptsService prompts(prompt_store, config.prompts_workers, log);
    tel::routing::CarrierHealth carrier_health(config.carrier_health, log, *registry);
    tel::routing::Router router(directory, plans, carrier_health, log, *registry, [] { return absl::Now(); },
                                config.router);
    auto workers = std::make_unique<tel::grpc_util::BlockingExecutor>(config.workers);
    // The plan acts on offers and failed dials, not on every ringing and ended notice.
    tel::call_control::SipEdgeFleet fleet(
        config.call_control_address, {.application = "routing", .decisions_only = true},
        [&](tel::calls::v1::CallNotification notification,
            std::shared_ptr<tel::call_control::CallCommander> commander) {
          if (!tel::routing::Router::actsOn(notification)) return;
          workers->post(
              [&router, notification = std::move(notification), commander = std::move(commander)] {
                router.handle(notification, *commander);
              });
        },
        config.resolve_interval, *registry, log);
    fleet.start();
    // Down carriers are probed from a sip-edge (SIP OPTIONS) until they answer again.
    tel::routing::CarrierProbeLoop carrier_probes(
        carrier_health, [&fleet](const std::string& uri) { return fleet.probe(uri, std::chrono::seconds(2)); }, log);
    carrier_probes.start();

    tel::metrics::AdminServer admin("routing", registry, [&] {
      const size_t members = fleet.members();
      const size_t attached = fleet.attached();
      if (members == 0 || attached < members) {
        return tel::metrics::HealthReport{false, "attached to " + std::to_string(attached) +
                                                     " of " + std::to_string(members) +
                                                     " sip-edge call-control APIs"};
      }
      if (!tel::grpc_util::channelUsable(*accounts_channel)) {
        return tel::metrics::HealthReport{false, "accounts service unreachable"};
      }
      if (!pool->ping()) return tel::metrics::HealthReport{false, "database unreachable"};
      return tel::metrics::HealthReport{};
    });
    const int admin_port = admin.start(config.admin_listen.host, config.admin_listen.port);
    // A prompt upload is one message: the WAV file (up to 20 MiB) and a few names.
    tel::grpc_util::GrpcServer server(config.grpc_listen.str(), {&dial_plans, &prompts},
                                      static_cast<int>(tel::routing::kMaxPromptUploadBytes) + (64 << 10));
    const int grpc_port = server.start();
    log.info("routing serving", {{"call_control", config.call_control_address},
                                 {"grpc_port", std::to_string(grpc_port)},
                                 {"prompts_dir", config.prompts_dir},
                                 {"admin_port", std::to_string(admin_port)}});
    const int signal = shutdown_signal.wait();
    log.info("shutting down", {{"signal", std::to_string(signal)}});
    server.shutdown(std::chrono::seconds(5));
    carrier_probes.stop();
    fleet.stop();
    workers.reset();
    admin.stop();
  } catch (const std::exception& e) {
    log.error("fatal", {{"error", e.what()}});
    return 1;
  }
  return 0;
}
