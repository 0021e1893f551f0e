// Session expiry, against a gateway started in this process with short timeouts, talking to the
// running accounts service and Redis.
#include <grpcpp/grpcpp.h>
#include <httplib.h>

#include <catch2/catch.hpp>
#include <thread>

#include "gateway_server.h"
#include "tel/crypto/crypto.h"
#include "tel/testing/api_client.h"
#include "tel/testing/env.h"

using namespace tel::testing;
using namespace std::chrono_literals;

namespace {

struct ShortLivedGateway {
  std::shared_ptr<tel::redis::RedisClient> redis;
  prometheus::Registry registry;
  std::unique_ptr<tel::gateway::GatewayServer> server;
  int port = 0;

  ShortLivedGateway(std::chrono::milliseconds idle, std::chrono::milliseconds max_age) {
    auto options = tel::redis::parseRedisUrl(requireEnv("TEL_REDIS_URL"));
    if (!options.ok()) throw std::runtime_error("TEL_REDIS_URL");
    redis = std::make_shared<tel::redis::RedisClient>(*options);
    tel::gateway::GatewayOptions gateway;
    gateway.http_threads = 2;
    gateway.sessions = {idle, max_age};
    tel::gateway::GatewayBackends backends{
        tel::accounts::v1::Accounts::NewStub(grpc::CreateChannel(
            requireEnv("TEL_ACCOUNTS_ADDR"), grpc::InsecureChannelCredentials())),
        tel::calls::v1::CallLog::NewStub(grpc::CreateChannel(requireEnv("TEL_CALL_LOG_ADDR"),
                                                             grpc::InsecureChannelCredentials())),
        tel::analytics::v1::Reports::NewStub(grpc::CreateChannel(
            requireEnv("TEL_REPORTS_ADDR"), grpc::InsecureChannelCredentials())),
        tel::analytics::v1::Tracking::NewStub(grpc::CreateChannel(
            requireEnv("TEL_REPORTS_ADDR"), grpc::InsecureChannelCredentials())),
        tel::analytics::v1::Segmentation::NewStub(grpc::CreateChannel(
            requireEnv("TEL_REPORTS_ADDR"), grpc::InsecureChannelCredentials())),
        tel::integrations::v1::Webhooks::NewStub(grpc::CreateChannel(
            requireEnv("TEL_WEBHOOKS_ADDR"), grpc::InsecureChannelCredentials())),
        tel::routing::v1::DialPlans::NewStub(grpc::CreateChannel(
            requireEnv("TEL_DIAL_PLANS_ADDR"), grpc::InsecureChannelCredentials())),
        tel::routing::v1::Prompts::NewStub(grpc::CreateChannel(
            requireEnv("TEL_DIAL_PLANS_ADDR"), grpc::InsecureChannelCredentials())),
        tel::queue::v1::Queues::NewStub(grpc::CreateChannel(
            requireEnv("TEL_QUEUES_ADDR"), grpc::InsecureChannelCredentials())),
        std::make_shared<tel::gateway::RedisRateLimiter>(redis, 1000, 1000),
        std::make_shared<tel::gateway::RedisRateLimiter>(redis, 1000, 1000),
        std::make_shared<tel::gateway::RedisSessionStore>(redis, gateway.sessions),
        std::make_shared<tel::gateway::SignInGuard>(redis, 10, std::chrono::seconds(60))};
    server = std::make_unique<tel::gateway::GatewayServer>(
        gateway, std::move(backends),
        tel::log::Logger::create("session-test", tel::log::Level::kWarn), registry);
    port = server->start("127.0.0.1", 0);
  }

  // Signs in and returns the session cookie's value.
  std::string signIn(const std::string& email, const std::string& password) {
    httplib::Client client("127.0.0.1", port);
    auto result =
        client.Post("/v1/sessions", nlohmann::json{{"email", email}, {"password", password}}.dump(),
                    "application/json");
    if (!result || result->status != 201) return "";
    const std::string cookie = result->get_header_value("Set-Cookie");
    return cookie.substr(12, cookie.find(';') - 12);
  }

  int status(const std::string& cookie) {
    httplib::Client client("127.0.0.1", port);
    auto result = client.Get("/v1/session", {{"Cookie", "tel_session=" + cookie}});
    return result ? result->status : 0;
  }
};

struct UserOfTenant {
  TestTenant tenant;
  std::string email = "expiry-" + uniqueSuffix(8) + "@example.com";
  std::string password = "a long enough password";
  explicit UserOfTenant(const Platform& platform) : tenant(platform, "session-expiry") {
    auto user = tenant.api->post("/v1/users", {{"email", email}, {"password", password}});
    if (user.status != 201) throw std::runtime_error(user.body);
  }
};

}  // namespace

TEST_CASE("a session left idle longer than the idle timeout has expired") {
  UserOfTenant user(Platform::fromEnv());
  ShortLivedGateway gateway(1000ms, 60000ms);
  const std::string cookie = gateway.signIn(user.email, user.password);
  REQUIRE_FALSE(cookie.empty());
  CHECK(gateway.status(cookie) == 200);
  std::this_thread::sleep_for(1300ms);
  CHECK(gateway.status(cookie) == 401);
}

TEST_CASE("a session in use ends at its maximum age") {
  UserOfTenant user(Platform::fromEnv());
  ShortLivedGateway gateway(1000ms, 2000ms);
  const std::string cookie = gateway.signIn(user.email, user.password);
  REQUIRE_FALSE(cookie.empty());
  // Used every 0.6 s: never idle for the idle timeout, so only the maximum age can end it.
  for (int i = 0; i < 3; ++i) {
    std::this_thread::sleep_for(600ms);
    INFO("use " << i);
    CHECK(gateway.status(cookie) == 200);
  }
  std::this_thread::sleep_for(600ms);
  CHECK(gateway.status(cookie) == 401);
}

TEST_CASE("redis keeps sessions under a hash of their id and with an expiry") {
  UserOfTenant user(Platform::fromEnv());
  ShortLivedGateway gateway(60000ms, 120000ms);
  const std::string cookie = gateway.signIn(user.email, user.password);
  REQUIRE_FALSE(cookie.empty());
  auto plain = gateway.redis->command({"EXISTS", "tel:session:" + cookie});
  REQUIRE(plain.ok());
  CHECK(plain->integer == 0);
  auto ttl = gateway.redis->command({"PTTL", "tel:session:" + tel::crypto::sha256Hex(cookie)});
  REQUIRE(ttl.ok());
  CHECK(ttl->integer > 0);
  CHECK(ttl->integer <= 60000);
  auto stored = gateway.redis->command({"GET", "tel:session:" + tel::crypto::sha256Hex(cookie)});
  REQUIRE(stored.ok());
  CHECK(stored->str.find(cookie) == std::string::npos);
  CHECK(stored->str.find(user.password) == std::string::npos);
}
