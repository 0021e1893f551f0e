#include "tel/config/config.h"

#include <yaml-cpp/yaml.h>

#include <cctype>
#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>

namespace tel::config {
namespace {

void flatten(const YAML::Node& node, const std::string& prefix,
             std::map<std::string, std::string>& out) {
  if (node.IsMap()) {
    for (const auto& entry : node) {
      const auto name = entry.first.as<std::string>();
      flatten(entry.second, prefix.empty() ? name : prefix + "." + name, out);
    }
  } else if (node.IsScalar()) {
    out[prefix] = node.as<std::string>();
  } else if (node.IsSequence()) {
    // Lists are kept as comma-separated scalars: the few list settings we have are simple.
    std::string joined;
    for (const auto& item : node) {
      if (!item.IsScalar()) throw ConfigError(prefix, "list items must be scalars");
      if (!joined.empty()) joined += ",";
      joined += item.as<std::string>();
    }
    out[prefix] = joined;
  } else if (!node.IsNull()) {
    throw ConfigError(prefix, "unsupported YAML node");
  }
}

std::map<std::string, std::string> parseYaml(const std::string& yaml, const std::string& origin) {
  std::map<std::string, std::string> values;
  YAML::Node root;
  try {
    root = YAML::Load(yaml);
  } catch (const YAML::Exception& e) {
    throw ConfigError("<file>", origin + ": invalid YAML: " + e.what());
  }
  if (!root.IsNull() && !root.IsMap()) throw ConfigError("<file>", origin + ": must be a map");
  flatten(root, "", values);
  return values;
}

std::string trim(std::string s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.pop_back();
  size_t start = 0;
  while (start < s.size() && std::isspace(static_cast<unsigned char>(s[start]))) ++start;
  return s.substr(start);
}

}  // namespace

ConfigError::ConfigError(const std::string& key, const std::string& problem)
    : std::runtime_error("configuration key '" + key + "': " + problem), key_(key) {}

std::string HostPort::str() const {
  if (host.find(':') != std::string::npos) return "[" + host + "]:" + std::to_string(port);
  return host + ":" + std::to_string(port);
}

EnvironmentLookup processEnvironment() {
  return [](const std::string& name) -> std::optional<std::string> {
    const char* value = std::getenv(name.c_str());
    if (value == nullptr) return std::nullopt;
    return std::string(value);
  };
}

Config::Config(std::map<std::string, std::string> values, std::string env_prefix,
               EnvironmentLookup env)
    : file_values_(std::move(values)), env_prefix_(std::move(env_prefix)), env_(std::move(env)) {}

Config Config::fromFile(const std::string& path, const std::string& env_prefix,
                        EnvironmentLookup env) {
  if (path.empty()) return Config({}, env_prefix, std::move(env));
  std::ifstream in(path);
  if (!in) throw ConfigError("<file>", "cannot read " + path);
  std::stringstream text;
  text << in.rdbuf();
  return Config(parseYaml(text.str(), path), env_prefix, std::move(env));
}

Config Config::fromString(const std::string& yaml, const std::string& env_prefix,
                          EnvironmentLookup env) {
  return Config(parseYaml(yaml, "<string>"), env_prefix, std::move(env));
}

std::string Config::envNameFor(const std::string& key) const {
  std::string name = env_prefix_ + "_";
  for (char c : key) {
    name += (c == '.' || c == '-') ? '_' : static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  }
  return name;
}

std::optional<std::string> Config::lookup(const std::string& key) {
  read_keys_.insert(key);
  if (auto from_env = env_(envNameFor(key))) return from_env;
  auto it = file_values_.find(key);
  if (it == file_values_.end()) return std::nullopt;
  return it->second;
}

std::string Config::getString(const std::string& key, std::optional<std::string> fallback) {
  auto value = lookup(key);
  if (!value) {
    if (!fallback) throw ConfigError(key, "is required (set it in the file or " + envNameFor(key) + ")");
    return *fallback;
  }
  return *value;
}

std::string Config::getSecret(const std::string& key, std::optional<std::string> fallback) {
  if (auto file = env_(envNameFor(key) + "_FILE")) {
    read_keys_.insert(key);
    std::ifstream in(*file);
    if (!in) throw ConfigError(key, "cannot read the secret file named by " + envNameFor(key) + "_FILE");
    std::stringstream text;
    text << in.rdbuf();
    return trim(text.str());
  }
  return getString(key, std::move(fallback));
}

int64_t Config::getInt(const std::string& key, int64_t min, int64_t max,
                       std::optional<int64_t> fallback) {
  auto value = lookup(key);
  if (!value) {
    if (!fallback) throw ConfigError(key, "is required");
    return *fallback;
  }
  const std::string text = trim(*value);
  int64_t parsed = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), parsed);
  if (ec != std::errc() || end != text.data() + text.size() || text.empty()) {
    throw ConfigError(key, "'" + *value + "' is not an integer");
  }
  if (parsed < min || parsed > max) {
    throw ConfigError(key, std::to_string(parsed) + " is out of range [" + std::to_string(min) +
                               ", " + std::to_string(max) + "]");
  }
  return parsed;
}

bool Config::getBool(const std::string& key, std::optional<bool> fallback) {
  auto value = lookup(key);
  if (!value) {
    if (!fallback) throw ConfigError(key, "is required");
    return *fallback;
  }
  const std::string text = trim(*value);
  if (text == "true" || text == "yes" || text == "on" || text == "1") return true;
  if (text == "false" || text == "no" || text == "off" || text == "0") return false;
  throw ConfigError(key, "'" + *value + "' is not a boolean (true/false)");
}

std::chrono::milliseconds Config::getDuration(const std::string& key,
                                              std::optional<std::chrono::milliseconds> fallback) {
  auto value = lookup(key);
  if (!value) {
    if (!fallback) throw ConfigError(key, "is required");
    return *fallback;
  }
  auto parsed = parseDuration(trim(*value));
  if (!parsed) throw ConfigError(key, "'" + *value + "' is not a duration such as 500ms, 10s, 5m");
  return *parsed;
}

std::vector<std::string> splitCommaList(const std::string& text) {
  std::vector<std::string> items;
  size_t at = 0;
  while (at <= text.size()) {
    size_t end = text.find(',', at);
    if (end == std::string::npos) end = text.size();
    const std::string item = text.substr(at, end - at);
    const size_t first = item.find_first_not_of(" \t");
    if (first != std::string::npos)
      items.push_back(item.substr(first, item.find_last_not_of(" \t") - first + 1));
    at = end + 1;
  }
  return items;
}

std::vector<std::string> Config::getList(const std::string& key,
                                         std::optional<std::string> fallback) {
  return splitCommaList(getString(key, std::move(fallback)));
}

HostPort Config::getHostPort(const std::string& key, std::optional<std::string> fallback,
                             bool allow_zero) {
  auto value = lookup(key);
  if (!value) {
    if (!fallback) throw ConfigError(key, "is required");
    value = fallback;
  }
  auto parsed = parseHostPort(trim(*value));
  if (!parsed) throw ConfigError(key, "'" + *value + "' is not host:port");
  if (parsed->port == 0 && !allow_zero) throw ConfigError(key, "port 0 is not allowed here");
  return *parsed;
}

void Config::rejectUnknownKeys() const {
  for (const auto& [key, value] : file_values_) {
    if (!read_keys_.contains(key)) throw ConfigError(key, "unknown key (misspelt?)");
  }
}

std::string configFileFromArgs(int argc, char** argv, const std::string& env_var) {
  for (int i = 1; i + 1 < argc; ++i) {
    if (std::string_view(argv[i]) == "--config") return argv[i + 1];
  }
  const char* from_env = std::getenv(env_var.c_str());
  return from_env ? from_env : "";
}

void exitWithConfigError(const std::string& service, const std::string& message) {
  std::fprintf(stderr, "%s: %s\n", service.c_str(), message.c_str());
  std::exit(2);
}

std::optional<std::chrono::milliseconds> parseDuration(const std::string& text) {
  size_t digits = 0;
  while (digits < text.size() && std::isdigit(static_cast<unsigned char>(text[digits]))) ++digits;
  if (digits == 0 || digits > 12) return std::nullopt;
  const int64_t amount = std::stoll(text.substr(0, digits));
  const std::string unit = text.substr(digits);
  if (unit == "ms") return std::chrono::milliseconds(amount);
  if (unit == "s") return std::chrono::seconds(amount);
  if (unit == "m") return std::chrono::minutes(amount);
  if (unit == "h") return std::chrono::hours(amount);
  return std::nullopt;
}

std::optional<HostPort> parseHostPort(const std::string& text) {
  HostPort result;
  std::string port_text;
  if (!text.empty() && text.front() == '[') {
    auto close = text.find(']');
    if (close == std::string::npos || close + 1 >= text.size() || text[close + 1] != ':') {
      return std::nullopt;
    }
    result.host = text.substr(1, close - 1);
    port_text = text.substr(close + 2);
  } else {
    auto colon = text.rfind(':');
    if (colon == std::string::npos || text.find(':') != colon) return std::nullopt;
    result.host = text.substr(0, colon);
    port_text = text.substr(colon + 1);
  }
  if (result.host.empty() || port_text.empty()) return std::nullopt;
  unsigned port = 0;
  auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (ec != std::errc() || end != port_text.data() + port_text.size() || port > 65535) {
    return std::nullopt;
  }
  result.port = static_cast<uint16_t>(port);
  return result;
}

}  // namespace tel::config
