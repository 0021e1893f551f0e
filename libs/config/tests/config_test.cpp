#include "tel/config/config.h"

#include <catch2/catch.hpp>

using tel::config::Config;
using tel::config::ConfigError;

namespace {
tel::config::EnvironmentLookup fakeEnv(std::map<std::string, std::string> vars) {
  return [vars](const std::string& name) -> std::optional<std::string> {
    auto it = vars.find(name);
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
}
}  // namespace

TEST_CASE("nested keys are read with dots and typed") {
  auto config = Config::fromString("http:\n  listen: 127.0.0.1:8080\n  workers: 4\n"
                                   "debug: true\ntimeout: 250ms\n",
                                   "TEL_X", fakeEnv({}));
  CHECK(config.getHostPort("http.listen").port == 8080);
  CHECK(config.getInt("http.workers", 1, 64) == 4);
  CHECK(config.getBool("debug"));
  CHECK(config.getDuration("timeout") == std::chrono::milliseconds(250));
  CHECK_NOTHROW(config.rejectUnknownKeys());
}

TEST_CASE("environment overrides the file") {
  auto config = Config::fromString("http:\n  workers: 4\n", "TEL_X",
                                   fakeEnv({{"TEL_X_HTTP_WORKERS", "9"}}));
  CHECK(config.getInt("http.workers", 1, 64) == 9);
}

TEST_CASE("errors name the key") {
  auto config = Config::fromString("http:\n  workers: lots\n  port: 70000\n", "TEL_X", fakeEnv({}));
  try {
    config.getInt("http.workers", 1, 64);
    FAIL("expected ConfigError");
  } catch (const ConfigError& e) {
    CHECK(e.key() == "http.workers");
    CHECK(std::string(e.what()).find("http.workers") != std::string::npos);
  }
  CHECK_THROWS_AS(config.getInt("http.port", 1, 65535), ConfigError);
  CHECK_THROWS_WITH(config.getString("database.url"), Catch::Contains("TEL_X_DATABASE_URL"));
}

TEST_CASE("a misspelt key stops the service") {
  auto config = Config::fromString("http:\n  listne: 127.0.0.1:1\n", "TEL_X", fakeEnv({}));
  config.getHostPort("http.listen", "127.0.0.1:0");
  CHECK_THROWS_WITH(config.rejectUnknownKeys(), Catch::Contains("http.listne"));
}

TEST_CASE("invalid YAML is a configuration error") {
  CHECK_THROWS_AS(Config::fromString("a: [unclosed", "TEL_X", fakeEnv({})), ConfigError);
}

TEST_CASE("durations and host:port parse strictly") {
  using tel::config::parseDuration;
  using tel::config::parseHostPort;
  CHECK(parseDuration("5m") == std::chrono::minutes(5));
  CHECK_FALSE(parseDuration("5"));
  CHECK_FALSE(parseDuration("-5s"));
  CHECK_FALSE(parseDuration("5 parsecs"));
  CHECK(parseHostPort("[::1]:5060")->host == "::1");
  CHECK_FALSE(parseHostPort("::1:5060"));
  CHECK_FALSE(parseHostPort("host:"));
  CHECK_FALSE(parseHostPort("host:99999"));
}

TEST_CASE("defaults apply when a key is absent, and booleans are strict") {
  auto config = Config::fromString("flag: maybe\n", "TEL_X", fakeEnv({}));
  CHECK(config.getInt("absent", 0, 10, 7) == 7);
  CHECK_THROWS_WITH(config.getBool("flag"), Catch::Contains("flag"));
}

TEST_CASE("the config file comes from --config, else from the environment variable") {
  char program[] = "svc";
  char flag[] = "--config";
  char path[] = "/etc/svc.yaml";
  char* with_flag[] = {program, flag, path};
  CHECK(tel::config::configFileFromArgs(3, with_flag, "TEL_TEST_NO_SUCH_VARIABLE") == "/etc/svc.yaml");
  char* without[] = {program};
  CHECK(tel::config::configFileFromArgs(1, without, "TEL_TEST_NO_SUCH_VARIABLE").empty());
}

TEST_CASE("lists are comma-separated with items trimmed and empty ones dropped") {
  auto config = Config::fromString("peers: \" a, b,,c \"\n", "TEL_X",
                                   fakeEnv({{"TEL_X_HOSTS", "x.example,\ty.example"}}));
  CHECK(config.getList("peers") == std::vector<std::string>{"a", "b", "c"});
  CHECK(config.getList("hosts") == std::vector<std::string>{"x.example", "y.example"});
  CHECK(config.getList("none", "").empty());
  CHECK(tel::config::splitCommaList(" , ,").empty());
}
