// gateway: the public REST/JSON API (/v1) in front of the platform's gRPC services.
#include <iostream>

#include "gateway_config.h"
#include "gateway_server.h"
#include "rate_limiter.h"
#include "tel/grpc/shutdown_signal.h"
#include "tel/grpc/status.h"
#include "tel/metrics/admin_server.h"

int main(int argc, char** argv) {
  tel::grpc_util::ShutdownSignal shutdown_signal;
  const auto config = tel::config::loadServiceConfig<tel::gateway::GatewayConfig>(
      argc, argv, "gateway", "TEL_GATEWAY");
  auto log = tel::log::Logger::create("gateway", config.log_level);
  try {
    auto registry = std::make_shared<prometheus::Registry>();
    tel::metrics::registerProcessMetrics(*registry, "gateway", TEL_VERSION);
    auto channel = grpc::CreateChannel(config.accounts_address, grpc::InsecureChannelCredentials());
    std::shared_ptr<tel::accounts::v1::Accounts::StubInterface> accounts =
        tel::accounts::v1::Accounts::NewStub(channel);
    std::shared_ptr<tel::calls::v1::CallLog::StubInterface> call_log =
        tel::calls::v1::CallLog::NewStub(
            grpc::CreateChannel(config.call_log_address, grpc::InsecureChannelCredentials()));
    // Reports, call tracking and segmentation are all the analytics service's.
    auto analytics_channel =
        grpc::CreateChannel(config.reports_address, grpc::InsecureChannelCredentials());
    std::shared_ptr<tel::analytics::v1::Reports::StubInterface> reports =
        tel::analytics::v1::Reports::NewStub(analytics_channel);
    std::shared_ptr<tel::analytics::v1::Tracking::StubInterface> tracking =
        tel::analytics::v1::Tracking::NewStub(analytics_channel);
    std::shared_ptr<tel::analytics::v1::Segmentation::StubInterface> segmentation =
        tel::analytics::v1::Segmentation::NewStub(analytics_channel);
    std::shared_ptr<tel::integrations::v1::Webhooks::StubInterface> webhooks =
        tel::integrations::v1::Webhooks::NewStub(
            grpc::CreateChannel(config.webhooks_address, grpc::InsecureChannelCredentials()));
    // Dial plans and prompts are the routing service's. A prompt's audio (up to 10 minutes at
    // 8 kHz, 9.6 MB) is one reply: more than gRPC's default 4 MiB.
    grpc::ChannelArguments routing_arguments;
    routing_arguments.SetMaxReceiveMessageSize(16 << 20);
    auto routing_channel = grpc::CreateCustomChannel(config.dial_plans_address, grpc::InsecureChannelCredentials(),
                                                     routing_arguments);
    std::shared_ptr<tel::routing::v1::DialPlans::StubInterface> dial_plans =
        tel::routing::v1::DialPlans::NewStub(routing_channel);
    std::shared_ptr<tel::routing::v1::Prompts::StubInterface> prompts =
        tel::routing::v1::Prompts::NewStub(routing_channel);
    std::shared_ptr<tel::queue::v1::Queues::StubInterface> queues = tel::queue::v1::Queues::NewStub(
        grpc::CreateChannel(config.queues_address, grpc::InsecureChannelCredentials()));
    auto redis = std::make_shared<tel::redis::RedisClient>(config.redis);
    auto limiter = std::make_shared<tel::gateway::RedisRateLimiter>(redis, config.rate_per_second,
                                                                    config.rate_burst);
    auto sessions =
        std::make_shared<tel::gateway::RedisSessionStore>(redis, config.server.sessions);
    auto sign_in_guard = std::make_shared<tel::gateway::SignInGuard>(
        redis, config.server.sign_in_max_failures, config.server.sign_in_window);
    auto visit_limiter = std::make_shared<tel::gateway::RedisRateLimiter>(
        redis, config.visits_per_second, config.visit_burst);
    tel::gateway::GatewayServer server(config.server,
                                       {accounts, call_log, reports, tracking, segmentation, webhooks, dial_plans, prompts, queues, limiter, visit_limiter,
                                        sessions, sign_in_guard},
                                       log, *registry);

    tel::metrics::AdminServer admin("gateway", registry, [&] {
      if (!tel::grpc_util::channelUsable(*channel)) {
        return tel::metrics::HealthReport{false, "accounts service unreachable"};
      }
      if (!redis->ping()) return tel::metrics::HealthReport{false, "redis unreachable"};
      return tel::metrics::HealthReport{};
    });
    const int admin_port = admin.start(config.admin_listen.host, config.admin_listen.port);
    const int http_port = server.start(config.http_listen.host, config.http_listen.port);
    log.info("gateway serving", {{"http_port", std::to_string(http_port)},
                                 {"admin_port", std::to_string(admin_port)}});
    const int signal = shutdown_signal.wait();
    log.info("shutting down", {{"signal", std::to_string(signal)}});
    server.stop();
    admin.stop();
  } catch (const std::exception& e) {
    log.error("fatal", {{"error", e.what()}});
    return 1;
  }
  return 0;
}
