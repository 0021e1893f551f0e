// sip-edge: the SIP side of the platform (sofia-sip). This version is the registrar; the B2BUA and
// the call-control API follow.
#include <iostream>

#include "accounts_credentials.h"
#include "bindings.h"
#include "registrar.h"
#include "sip_edge_config.h"
#include "sip_stack.h"
#include "tel/grpc/blocking_executor.h"
#include "tel/grpc/shutdown_signal.h"
#include "tel/grpc/status.h"
#include "tel/metrics/admin_server.h"

int main(int argc, char** argv) {
  tel::grpc_util::ShutdownSignal shutdown_signal;
  const auto config = tel::config::loadServiceConfig<tel::sip::SipEdgeConfig>(argc, argv, "sip-edge", "TEL_SIP_EDGE");
  auto log = tel::log::Logger::create("sip-edge", config.log_level);
  try {
    auto registry = std::make_shared<prometheus::Registry>();
    tel::metrics::registerProcessMetrics(*registry, "sip-edge", TEL_VERSION);
    auto redis = std::make_shared<tel::redis::RedisClient>(config.redis);
    tel::sip::RedisBindings bindings(redis);
    auto channel = grpc::CreateChannel(config.accounts_address, grpc::InsecureChannelCredentials());
    tel::sip::AccountsCredentials credentials(tel::accounts::v1::Accounts::NewStub(channel),
                                              std::chrono::seconds(2));
    tel::sip::DigestAuthenticator authenticator(config.nonce_secret, config.nonce_lifetime, config.algorithms);
    tel::sip::Registrar registrar(authenticator, credentials, bindings, config.registrar, log, *registry);
    tel::grpc_util::BlockingExecutor workers(config.workers);

    tel::sip::SipStack stack(
        config.sip,
        [&](tel::sip::RegisterRequest request, tel::sip::SipStack::Respond respond) {
          workers.post([&registrar, request = std::move(request), respond = std::move(respond)] {
            respond(registrar.handle(request, std::chrono::system_clock::now()));
          });
        },
        log);
    stack.start();

    tel::metrics::AdminServer admin("sip-edge", registry, [&] {
      if (!tel::grpc_util::channelUsable(*channel)) {
        return tel::metrics::HealthReport{false, "accounts service unreachable"};
      }
      if (!redis->ping()) return tel::metrics::HealthReport{false, "redis unreachable"};
      return tel::metrics::HealthReport{};
    });
    const int admin_port = admin.start(config.admin_listen.host, config.admin_listen.port);
    log.info("sip-edge serving", {{"sip", config.sip.listen_host + ":" + std::to_string(config.sip.listen_port)},
                                  {"admin_port", std::to_string(admin_port)}});
    const int signal = shutdown_signal.wait();
    log.info("shutting down", {{"signal", std::to_string(signal)}});
    stack.stop();
    admin.stop();
  } catch (const std::exception& e) {
    log.error("fatal", {{"error", e.what()}});
    return 1;
  }
  return 0;
}
