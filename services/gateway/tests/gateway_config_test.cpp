#include "gateway_config.h"

#include <catch2/catch.hpp>

using tel::config::Config;
using tel::config::ConfigError;
using tel::gateway::GatewayConfig;

namespace {

GatewayConfig load(const std::string& yaml) {
  auto source = Config::fromString("redis:\n  url: redis://127.0.0.1:6379\n" + yaml, "TEL_GATEWAY",
                                   [](const std::string&) { return std::nullopt; });
  return GatewayConfig::load(source);
}

std::string refusedKey(const std::string& yaml) {
  try {
    load(yaml);
  } catch (const ConfigError& error) {
    return error.what();
  }
  return "accepted";
}

}  // namespace

TEST_CASE("sign-in and session settings have defaults and are read") {
  auto defaults = load("");
  CHECK(defaults.server.sessions.idle_timeout == std::chrono::hours(12));
  CHECK(defaults.server.sessions.max_age == std::chrono::hours(24 * 7));
  CHECK(defaults.server.sign_in_max_failures == 10);
  CHECK(defaults.server.sign_in_window == std::chrono::minutes(15));
  CHECK(defaults.server.web_root.empty());
  CHECK(defaults.server.trusted_proxies.empty());
  auto set = load(
      "sessions:\n  idle_timeout: 30m\n  max_age: 8h\nsign_in:\n  max_failures: 5\n  window: 1h\n"
      "http:\n  trusted_proxies: 10.0.0.0/8, 192.0.2.1\nweb:\n  root: /srv/web\n"
      "sip:\n  registrar: sip.example.com:5060\n");
  CHECK(set.server.sessions.idle_timeout == std::chrono::minutes(30));
  CHECK(set.server.sessions.max_age == std::chrono::hours(8));
  CHECK(set.server.sign_in_max_failures == 5);
  CHECK(set.server.sign_in_window == std::chrono::hours(1));
  CHECK(set.server.trusted_proxies == std::vector<std::string>{"10.0.0.0/8", "192.0.2.1"});
  CHECK(set.server.web_root == "/srv/web");
  CHECK(set.server.sip_registrar == "sip.example.com:5060");
}

TEST_CASE("bad sign-in and session settings stop the gateway naming the key") {
  CHECK_THAT(refusedKey("sessions:\n  idle_timeout: 2h\n  max_age: 1h\n"),
             Catch::Contains("sessions.max_age"));
  CHECK_THAT(refusedKey("sessions:\n  idle_timeout: soon\n"),
             Catch::Contains("sessions.idle_timeout"));
  CHECK_THAT(refusedKey("sign_in:\n  max_failures: 0\n"), Catch::Contains("sign_in.max_failures"));
  CHECK_THAT(refusedKey("sign_in:\n  window: 0s\n"), Catch::Contains("sign_in.window"));
  CHECK_THAT(refusedKey("http:\n  trusted_proxies: 10.0.0.0/40\n"),
             Catch::Contains("http.trusted_proxies"));
  CHECK_THAT(refusedKey("sign_in:\n  max_failure: 3\n"), Catch::Contains("sign_in.max_failure"));
}
