// integrations: webhooks. Reads call events from Kafka, records the webhook events subscribers
// asked for, and delivers them signed, retried and in per-call order (tel.integrations.v1.Webhooks
// serves the subscriptions and the delivery log to the gateway).
#include <thread>

#include "deliverer.h"
#include "event_ingest.h"
#include "housekeeper.h"
#include "integrations_config.h"
#include "record_resolver.h"
#include "subscription_store.h"
#include "target_guard.h"
#include "tel/grpc/server.h"
#include "tel/grpc/shutdown_signal.h"
#include "tel/metrics/admin_server.h"
#include "webhooks_service.h"

int main(int argc, char** argv) {
  tel::grpc_util::ShutdownSignal shutdown_signal;
  const auto config = tel::config::loadServiceConfig<tel::integrations::IntegrationsConfig>(
      argc, argv, "integrations", "TEL_INTEGRATIONS");
  auto log = tel::log::Logger::create("integrations", config.log_level);
  curl_global_init(CURL_GLOBAL_DEFAULT);
  try {
    auto registry = std::make_shared<prometheus::Registry>();
    tel::metrics::registerProcessMetrics(*registry, "integrations", TEL_VERSION);
    auto pool = std::make_shared<tel::pg::ConnectionPool>(config.database_url, config.database_pool_size);
    const tel::integrations::TargetGuard guard{tel::net::AddressBlocks(config.allowed_private_networks)};
    tel::integrations::SubscriptionStore store(pool, guard, config.max_subscriptions_per_tenant);
    tel::integrations::WebhooksService webhooks(store, config.workers, log);

    auto consumer = tel::kafka::Consumer::create(
        {config.kafka_brokers,
         config.kafka_group,
         {config.kafka_topic},
         "integrations",
         // A new group starts with the events published from now on: webhooks are about what
         // happens after a tenant subscribes, never the topic's whole history.
         {{"session.timeout.ms", std::to_string(config.kafka_session_timeout.count())},
          {"auto.offset.reset", "latest"}}});
    if (!consumer.ok()) {
      log.error("cannot create the Kafka consumer", {{"error", std::string(consumer.status().message())}});
      return 1;
    }
    tel::integrations::EventIngest ingest(**consumer, pool, log, *registry);
    auto call_log = tel::calls::v1::CallLog::NewStub(
        grpc::CreateChannel(config.call_log_address, grpc::InsecureChannelCredentials()));
    tel::integrations::RecordResolver resolver(pool, *call_log, std::chrono::minutes(10), log, *registry);
    tel::integrations::Deliverer deliverer(pool, guard, config.delivery, log, *registry);
    tel::integrations::Housekeeper housekeeper(pool, config.retention, config.delivery.disable_after, log,
                                              *registry);

    std::atomic<bool> stop{false};
    std::thread ingest_thread([&] { ingest.run(stop); });
    std::thread resolver_thread([&] { resolver.run(stop, std::chrono::milliseconds(50)); });
    std::thread delivery_thread([&] { deliverer.run(stop); });
    std::thread housekeeping_thread([&] { housekeeper.run(stop, std::chrono::minutes(10)); });

    tel::metrics::AdminServer admin("integrations", registry, [&] {
      if (!ingest.consuming()) return tel::metrics::HealthReport{false, "waiting for Kafka partitions"};
      return pool->ping() ? tel::metrics::HealthReport{}
                          : tel::metrics::HealthReport{false, "database unreachable"};
    });
    const int admin_port = admin.start(config.admin_listen.host, config.admin_listen.port);
    tel::grpc_util::GrpcServer server(config.grpc_listen.str(), {&webhooks});
    const int grpc_port = server.start();
    log.info("integrations serving", {{"grpc_port", std::to_string(grpc_port)},
                                      {"admin_port", std::to_string(admin_port)},
                                      {"topic", config.kafka_topic},
                                      {"group", config.kafka_group}});
    const int signal = shutdown_signal.wait();
    log.info("shutting down", {{"signal", std::to_string(signal)}});
    server.shutdown(std::chrono::seconds(5));
    // Attempts in flight are abandoned: their leases run out and they go out again, same ids.
    stop = true;
    for (auto* thread : {&ingest_thread, &resolver_thread, &delivery_thread, &housekeeping_thread}) thread->join();
    (*consumer)->close();
    admin.stop();
  } catch (const std::exception& e) {
    log.error("fatal", {{"error", e.what()}});
    curl_global_cleanup();
    return 1;
  }
  curl_global_cleanup();
  return 0;
}
