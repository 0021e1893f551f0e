// queue: call queues (ACD). Attaches to sip-edge's call-control API for the calls the dial plan
// hands over to it, keeps each queue's line and its agents' states in Redis (shared with every
// other instance), rings free agents by the queue's strategy, and serves the tenants' queues,
// agent states and wallboards to the gateway (tel.queue.v1.Queues). Follows every call on Kafka so
// that an agent on any other call is not offered a caller.
#include <atomic>
#include <chrono>
#include <functional>
#include <thread>
#include <memory>
#include <vector>

#include "agent_presence.h"
#include "dispatcher.h"
#include "live_queues.h"
#include "queue_config.h"
#include "queue_store.h"
#include "queues_service.h"
#include "tel/call_control/application_link.h"
#include "tel/grpc/blocking_executor.h"
#include "tel/grpc/server.h"
#include "tel/grpc/shutdown_signal.h"
#include "tel/metrics/admin_server.h"
#include "tel/redis/redis_subscriber.h"

int main(int argc, char** argv) {
  tel::grpc_util::ShutdownSignal shutdown_signal;
  const auto config = tel::config::loadServiceConfig<tel::queue::QueueConfig>(argc, argv, "queue", "TEL_QUEUE");
  auto log = tel::log::Logger::create("queue", config.log_level);
  try {
    auto registry = std::make_shared<prometheus::Registry>();
    tel::metrics::registerProcessMetrics(*registry, "queue", TEL_VERSION);
    auto pool = std::make_shared<tel::pg::ConnectionPool>(config.database_url, config.database_pool_size);
    tel::queue::QueueStore store(pool, config.cache_ttl);
    tel::redis::RedisClient redis(config.redis);
    tel::queue::LiveQueues live(redis);
    tel::queue::QueuesService queues(store, live, config.workers, log);
    tel::queue::Dispatcher dispatcher(store, live, config.dispatch, log, *registry, [] {
      return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
          .count();
    });
    dispatcher.start();
    // Another instance freed an agent: this one's callers may be next.
    tel::redis::RedisSubscriber wakeups(config.redis, tel::queue::kWakeChannel,
                                        [&dispatcher](const std::string&) { dispatcher.wake(); });
    wakeups.start();
    auto consumer = tel::kafka::Consumer::create(
        {config.kafka_brokers,
         config.kafka_group,
         {config.kafka_topic},
         "queue",
         // A new group starts with the calls from now on: older calls have ended long ago.
         {{"session.timeout.ms", std::to_string(config.kafka_session_timeout.count())},
          {"auto.offset.reset", "latest"}}});
    if (!consumer.ok()) {
      log.error("cannot create the Kafka consumer", {{"error", std::string(consumer.status().message())}});
      return 1;
    }
    tel::queue::AgentPresence presence(**consumer, live, config.presence_lapse, log, *registry);
    std::atomic<bool> stop_presence{false};
    std::thread presence_thread([&] { presence.run(stop_presence); });
    // Stopped and joined however this scope is left: a start that fails below throws past it.
    struct ThreadStopper {
      std::atomic<bool>& stop;
      std::thread& thread;
      ~ThreadStopper() {
        stop = true;
        if (thread.joinable()) thread.join();
      }
    } presence_stopper{stop_presence, presence_thread};
    // A call's notifications are handled in the order they came: each call has its lane (one
    // thread), so that its end is never handled before its offer.
    std::vector<std::unique_ptr<tel::grpc_util::BlockingExecutor>> lanes;
    for (int i = 0; i < config.workers; ++i) lanes.push_back(std::make_unique<tel::grpc_util::BlockingExecutor>(1));
    // Sent only the calls handed over to "queue" (never new calls), with every notice about them:
    // a call's end frees its agent.
    tel::call_control::SipEdgeFleet fleet(
        config.call_control_address, {.application = "queue", .hand_overs_only = true},
        [&](tel::calls::v1::CallNotification notification,
            std::shared_ptr<tel::call_control::CallCommander> commander) {
          const uint64_t attachment = commander->attachment();
          auto& lane = *lanes[std::hash<std::string>{}(notification.call_id()) % lanes.size()];
          lane.post([&dispatcher, notification = std::move(notification), commander = std::move(commander),
                     attachment] { dispatcher.handle(notification, commander, attachment); });
        },
        config.resolve_interval, *registry, log);
    fleet.start();

    tel::metrics::AdminServer admin("queue", registry, [&] {
      const size_t members = fleet.members();
      const size_t attached = fleet.attached();
      if (members == 0 || attached < members) {
        return tel::metrics::HealthReport{false, "attached to " + std::to_string(attached) + " of " +
                                                     std::to_string(members) + " sip-edge call-control APIs"};
      }
      if (!redis.ping()) return tel::metrics::HealthReport{false, "redis unreachable"};
      if (!pool->ping()) return tel::metrics::HealthReport{false, "database unreachable"};
      return tel::metrics::HealthReport{};
    });
    const int admin_port = admin.start(config.admin_listen.host, config.admin_listen.port);
    tel::grpc_util::GrpcServer server(config.grpc_listen.str(), {&queues});
    const int grpc_port = server.start();
    log.info("queue serving", {{"call_control", config.call_control_address},
                               {"instance_id", config.dispatch.instance_id},
                               {"grpc_port", std::to_string(grpc_port)},
                               {"admin_port", std::to_string(admin_port)}});
    const int signal = shutdown_signal.wait();
    log.info("shutting down", {{"signal", std::to_string(signal)}});
    server.shutdown(std::chrono::seconds(5));
    // No more offers are made once the links are going: sends would fail and put callers back.
    wakeups.stop();
    dispatcher.stop();
    fleet.stop();
    lanes.clear();
    admin.stop();
  } catch (const std::exception& e) {
    log.error("fatal", {{"error", e.what()}});
    return 1;
  }
  return 0;
}
