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
  source.rejectUnknownKeys();
  return config;
}

}  // namespace tel::routing
