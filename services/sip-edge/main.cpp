// sip-edge: the SIP side of the platform (sofia-sip): registrar, B2BUA and the call-control API.
#include <iostream>

#include "accounts_credentials.h"
#include "b2bua.h"
#include "bindings.h"
#include "call_admission.h"
#include "call_backends.h"
#include "call_control_service.h"
#include "call_ledger.h"
#include "carrier_registrations.h"
#include "lost_instance_reaper.h"
#include "media_relay_pool.h"
#include "registrar.h"
#include "sip_edge_config.h"
#include "sip_stack.h"
#include "source_guard.h"
#include "tel/grpc/blocking_executor.h"
#include "tel/grpc/server.h"
#include "tel/grpc/shutdown_signal.h"
#include "tel/grpc/status.h"
#include "tel/metrics/admin_server.h"

int main(int argc, char** argv) {
  tel::grpc_util::ShutdownSignal shutdown_signal;
  const auto config = tel::config::loadServiceConfig<tel::sip::SipEdgeConfig>(
      argc, argv, "sip-edge", "TEL_SIP_EDGE");
  auto log = tel::log::Logger::create("sip-edge", config.log_level);
  try {
    auto registry = std::make_shared<prometheus::Registry>();
    tel::metrics::registerProcessMetrics(*registry, "sip-edge", TEL_VERSION);
    auto redis = std::make_shared<tel::redis::RedisClient>(config.redis);
    tel::sip::RedisBindings bindings(redis);
    auto accounts_channel =
        grpc::CreateChannel(config.accounts_address, grpc::InsecureChannelCredentials());
    std::shared_ptr<tel::accounts::v1::Accounts::StubInterface> accounts =
        tel::accounts::v1::Accounts::NewStub(accounts_channel);
    const auto kRpcTimeout = std::chrono::seconds(2);
    tel::sip::AccountsCredentials credentials(accounts, kRpcTimeout);
    tel::sip::AccountsNumberDirectory numbers(accounts, kRpcTimeout, config.lookup_cache_ttl);
    // A hold outlives the longest call: its ringing and decisions come before the answer.
    tel::sip::RedisChannelLimiter channels(redis, config.max_call_duration + std::chrono::minutes(10));
    // The instance id names this sip-edge in the call ledger and to the relays (their events).
    const std::string instance_id = tel::sip::newInstanceId();
    tel::sip::MediaRelayPoolOptions media_options;
    media_options.addresses = config.media_relay_addresses;
    media_options.rpc_timeout = kRpcTimeout;
    media_options.controller = instance_id;
    tel::sip::MediaRelayPool media(media_options, log, *registry);
    auto producer = tel::kafka::Producer::create(
        {config.kafka_brokers,
         "sip-edge",
         {{"linger.ms", std::to_string(config.kafka_linger.count())}}});
    if (!producer.ok()) {
      log.error("cannot create the Kafka producer",
                {{"error", std::string(producer.status().message())}});
      return 1;
    }
    tel::sip::KafkaEventSink events(**producer, "sip-edge", log);
    tel::sip::RedisCallLedger ledger(redis, instance_id);
    tel::sip::LostInstanceReaper reaper(config.cluster, ledger, media, channels, events, log,
                                        *registry);
    tel::sip::DigestAuthenticator authenticator(config.nonce_secret, config.nonce_lifetime,
                                                config.algorithms);
    tel::sip::Registrar registrar(authenticator, credentials, bindings, config.registrar, log,
                                  *registry);
    tel::sip::ApplicationHub applications;
    tel::sip::SourceGuard guard(config.protection, *registry);

    // Worker threads for blocking work (REGISTER, admission, media-relay, Redis). They are stopped
    // explicitly before the objects their tasks use go away.
    auto workers = std::make_unique<tel::grpc_util::BlockingExecutor>(config.workers);
    tel::sip::SipStack stack(
        config.sip,
        [&](tel::sip::RegisterRequest request, tel::sip::SipStack::Respond respond) {
          workers->post(
              [&registrar, &stack, request = std::move(request), respond = std::move(respond)] {
                auto response = registrar.handle(request, std::chrono::system_clock::now());
                if (response.authentication_failed)
                  stack.reportAuthenticationFailure(request.source_ip);
                respond(std::move(response));
              });
        },
        log);
    // Registrations to the carriers that want the platform to register (one instance keeps each).
    tel::sip::AccountsRegistrationSource registration_source(accounts, kRpcTimeout);
    tel::sip::RedisRegistrationLeases registration_leases(redis, instance_id);
    tel::sip::CarrierRegistrations registrations(config.registrations, stack, registration_source,
                                                 registration_leases, log, *registry);
    stack.setClient(&registrations);
    tel::sip::CallAdmission admission(config.admission, numbers, registrations, credentials,
                                      bindings, authenticator, channels, media, log);
    if (config.protection_enabled) stack.setSourceGuard(&guard);
    tel::sip::B2bua b2bua(stack, admission, registrations, bindings, media, events, ledger, applications,
                          *workers, config.b2bua, log, *registry);
    stack.setCallHandler(&b2bua);
    // Should anything below throw, the SIP thread stops before the objects it calls into (b2bua,
    // registrations) are destroyed; on the normal path stop() has run already.
    struct SipThreadStopper {
      tel::sip::SipStack& stack;
      ~SipThreadStopper() { stack.stop(); }
    } stop_sip_thread_first{stack};
    media.start([&b2bua](std::vector<std::string> lost) { b2bua.mediaLost(std::move(lost)); },
                [&b2bua](tel::media::v1::MediaEvent event) { b2bua.mediaEvent(std::move(event)); });
    stack.start();
    reaper.start();
    registrations.start();

    tel::sip::CallControlService control(applications, b2bua);
    tel::grpc_util::GrpcServer control_server(config.control_listen.str(), {&control});
    const int control_port = control_server.start();

    tel::metrics::AdminServer admin("sip-edge", registry, [&] {
      if (!tel::grpc_util::channelUsable(*accounts_channel)) {
        return tel::metrics::HealthReport{false, "accounts service unreachable"};
      }
      if (stack.draining()) return tel::metrics::HealthReport{false, "draining"};
      if (media.relaysUp() == 0) return tel::metrics::HealthReport{false, "no media-relay up"};
      if (!redis->ping()) return tel::metrics::HealthReport{false, "redis unreachable"};
      return tel::metrics::HealthReport{};
    });
    const int admin_port = admin.start(config.admin_listen.host, config.admin_listen.port);
    log.info("sip-edge serving",
             {{"instance", ledger.self()},
              {"sip", config.sip.listen_host + ":" + std::to_string(config.sip.listen_port)},
              {"control_port", std::to_string(control_port)},
              {"admin_port", std::to_string(admin_port)}});
    const int signal = shutdown_signal.wait();
    // Drain: new calls get 503 (and OPTIONS too, so that a load balancer fails them over); the
    // calls in progress go on until they end or the grace period does; then stop() ends the rest.
    stack.drain();
    log.info("draining", {{"signal", std::to_string(signal)},
                          {"calls", std::to_string(b2bua.liveCalls())},
                          {"grace_ms", std::to_string(config.drain_grace.count())}});
    const auto drained = tel::grpc_util::drainInProgress(shutdown_signal, config.drain_grace,
                                                         [&] { return b2bua.liveCalls(); });
    log.info("shutting down", {{"calls_left", std::to_string(drained.left)},
                               {"drain_ms", std::to_string(drained.took.count())},
                               {"interrupted", drained.interrupted ? "true" : "false"}});
    media.stop();  // no more lost-relay reports into the B2BUA from here on
    applications.closeAll();
    control_server.shutdown(std::chrono::seconds(2));
    registrations.stop();  // the leases go back: another instance keeps the registrations
    stack.stop();  // ends the calls still up (BYE / 503) and joins the SIP thread
    workers
        .reset();  // finishes queued blocking work; results posted to the stopped stack are dropped
    reaper.stop(/*leave=*/true);  // every call of ours is closed: nobody must close them again
    admin.stop();
    if (auto flushed = (*producer)->flush(std::chrono::seconds(5)); !flushed.ok()) {
      log.error("call events not flushed", {{"error", std::string(flushed.message())}});
    }
  } catch (const std::exception& e) {
    log.error("fatal", {{"error", e.what()}});
    return 1;
  }
  return 0;
}
