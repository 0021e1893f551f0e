#include "routing_config.h"

#include "prompt_files.h"

namespace tel::routing {

RoutingConfig RoutingConfig::load(config::Config& source) {
  RoutingConfig config;
  config.call_control_address = source.getString("call_control.address", "127.0.0.1:17142");
  config.resolve_interval = std::chrono::duration_cast<std::chrono::seconds>(
      source.getDuration("call_control.resolve_interval", std::chrono::seconds(10)));
  if (config.resolve_interval.count() < 1)
    throw config::ConfigError("call_control.resolve_interval", "must be at least 1s");
  config.accounts_address = source.getString("accounts.address", "127.0.0.1:17110");
  config.cache_ttl = source.getDuration("cache.ttl", std::chrono::seconds(5));
  config.grpc_listen = source.getHostPort("grpc.listen", "127.0.0.1:17150");
  config.admin_listen = source.getHostPort("admin.listen", "127.0.0.1:17151");
  config.database_url = source.getSecret("database.url");
  config.database_pool_size = static_cast<int>(source.getInt("database.pool_size", 2, 64, 4));
  config.workers = static_cast<int>(source.getInt("workers", 1, 256, 4));
  config.log_level = log::parseLevel(source.getString("log.level", "info"));
  config.prompts_dir = source.getString("prompts.dir");
  if (auto prepared = PromptFiles::prepareRoot(config.prompts_dir); !prepared.ok()) {
    throw config::ConfigError("prompts.dir", std::string(prepared.message()));
  }
  config.prompts_espeak = source.getString("prompts.espeak", "espeak-ng");
  config.prompts_workers = static_cast<int>(source.getInt("prompts.workers", 1, 64, 2));
  config.router.carrier_response_timeout = source.getDuration("carriers.response_timeout", std::chrono::seconds(3));
  if (config.router.carrier_response_timeout < std::chrono::milliseconds(500) ||
      config.router.carrier_response_timeout > std::chrono::seconds(30)) {
    throw config::ConfigError("carriers.response_timeout", "must be from 500ms to 30s");
  }
  auto& health = config.carrier_health;
  health.failures_to_trip = static_cast<int>(source.getInt("carriers.failures_to_trip", 1, 100, 3));
  health.window = std::chrono::duration_cast<std::chrono::seconds>(
      source.getDuration("carriers.failure_window", std::chrono::seconds(60)));
  health.probe_interval = std::chrono::duration_cast<std::chrono::seconds>(
      source.getDuration("carriers.probe_interval", std::chrono::seconds(5)));
  if (health.window.count() < 1) throw config::ConfigError("carriers.failure_window", "must be at least 1s");
  if (health.probe_interval.count() < 1) throw config::ConfigError("carriers.probe_interval", "must be at least 1s");
  health.probes_to_recover = static_cast<int>(source.getInt("carriers.probes_to_recover", 1, 10, 2));
  source.rejectUnknownKeys();
  return config;
}

}  // namespace tel::routing
