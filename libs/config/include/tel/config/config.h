#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

namespace tel::config {

// Thrown while a service reads its configuration at start. The message always names the key, so
// that an operator can fix the file or the environment variable it came from.
class ConfigError : public std::runtime_error {
 public:
  ConfigError(const std::string& key, const std::string& problem);
  const std::string& key() const { return key_; }

 private:
  std::string key_;
};

struct HostPort {
  std::string host;
  uint16_t port = 0;
  std::string str() const;
};

// Reads the environment; injected so that tests do not touch the process environment.
using EnvironmentLookup = std::function<std::optional<std::string>(const std::string& name)>;
EnvironmentLookup processEnvironment();

// Typed access to a service's configuration: a YAML document of nested maps whose scalar leaves
// are addressed by dotted keys ("http.listen"), each overridable by an environment variable named
// <PREFIX>_<KEY> with dots turned into underscores and upper-cased (TEL_GATEWAY_HTTP_LISTEN).
//
// Every getter validates and throws ConfigError naming the key. After reading all it needs, a
// service calls rejectUnknownKeys() so that a misspelt key in the file stops it instead of being
// silently ignored. Not thread-safe; used once at start.
// "a, b,,c" -> {"a", "b", "c"}: items trimmed of spaces and tabs, empty ones dropped.
std::vector<std::string> splitCommaList(const std::string& text);

class Config {
 public:
  static Config fromFile(const std::string& path, const std::string& env_prefix,
                         EnvironmentLookup env = processEnvironment());
  static Config fromString(const std::string& yaml, const std::string& env_prefix,
                           EnvironmentLookup env = processEnvironment());

  std::string getString(const std::string& key, std::optional<std::string> fallback = {});
  // A secret: like getString, but the value may also come from a file named by <KEY>_FILE
  // (Kubernetes secrets are mounted as files). Never logged.
  std::string getSecret(const std::string& key, std::optional<std::string> fallback = {});
  int64_t getInt(const std::string& key, int64_t min, int64_t max,
                 std::optional<int64_t> fallback = {});
  bool getBool(const std::string& key, std::optional<bool> fallback = {});
  // Durations are written with a unit: "250ms", "10s", "5m", "2h".
  std::chrono::milliseconds getDuration(const std::string& key,
                                        std::optional<std::chrono::milliseconds> fallback = {});
  // "host:port", "[v6]:port"; port 0 means "any free port" and is allowed only if allow_zero.
  HostPort getHostPort(const std::string& key, std::optional<std::string> fallback = {},
                       bool allow_zero = true);

  // A comma-separated list, each item trimmed, empty items dropped ("a, b,,c" is a, b, c).
  std::vector<std::string> getList(const std::string& key, std::optional<std::string> fallback = {});

  void rejectUnknownKeys() const;

  std::string envNameFor(const std::string& key) const;

 private:
  Config(std::map<std::string, std::string> values, std::string env_prefix, EnvironmentLookup env);
  std::optional<std::string> lookup(const std::string& key);

  std::map<std::string, std::string> file_values_;
  std::set<std::string> read_keys_;
  std::string env_prefix_;
  EnvironmentLookup env_;
};

// The configuration file a service was pointed at: "--config FILE" on the command line, else the
// environment variable `env_var`, else "" (no file: defaults and environment only).
std::string configFileFromArgs(int argc, char** argv, const std::string& env_var);

[[noreturn]] void exitWithConfigError(const std::string& service, const std::string& message);

// Loads a service's typed configuration (T::load(Config&)) from the file named on the command line
// or by <PREFIX>_CONFIG, with <PREFIX>_* environment overrides. On any error it prints
// "<service>: <what is wrong, naming the key>" and exits with status 2: a service never starts
// with a configuration it does not understand.
template <typename T>
T loadServiceConfig(int argc, char** argv, const std::string& service, const std::string& prefix) {
  try {
    auto source = Config::fromFile(configFileFromArgs(argc, argv, prefix + "_CONFIG"), prefix);
    return T::load(source);
  } catch (const std::exception& e) {
    exitWithConfigError(service, e.what());
  }
}
// Parsing helpers, exposed for reuse and tests.
std::optional<std::chrono::milliseconds> parseDuration(const std::string& text);
std::optional<HostPort> parseHostPort(const std::string& text);

}  // namespace tel::config
