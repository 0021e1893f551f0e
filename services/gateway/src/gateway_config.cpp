#include "gateway_config.h"

namespace tel::gateway {

GatewayConfig GatewayConfig::load(config::Config& source) {
  GatewayConfig config;
  config.http_listen = source.getHostPort("http.listen", "127.0.0.1:17080");
  config.admin_listen = source.getHostPort("admin.listen", "127.0.0.1:17081");
  config.accounts_address = source.getString("accounts.address", "127.0.0.1:17110");
  config.call_log_address = source.getString("call_log.address", "127.0.0.1:17130");
  config.reports_address = source.getString("reports.address", "127.0.0.1:17160");
  config.webhooks_address = source.getString("webhooks.address", "127.0.0.1:17170");
  config.dial_plans_address = source.getString("dial_plans.address", "127.0.0.1:17150");
  config.queues_address = source.getString("queues.address", "127.0.0.1:17180");
  auto redis = redis::parseRedisUrl(source.getSecret("redis.url"));
  if (!redis.ok()) throw config::ConfigError("redis.url", std::string(redis.status().message()));
  config.redis = *redis;
  config.rate_per_second =
      static_cast<double>(source.getInt("limits.requests_per_second", 1, 100000, 50));
  config.rate_burst = static_cast<int>(source.getInt("limits.burst", 1, 1000000, 100));
  config.visits_per_second =
      static_cast<double>(source.getInt("limits.visits_per_second", 1, 100000, 5));
  config.visit_burst = static_cast<int>(source.getInt("limits.visit_burst", 1, 1000000, 50));
  config.server.max_body_bytes =
      static_cast<size_t>(source.getInt("limits.body_bytes", 1024, 64 << 20, 1 << 20));
  // Prompt uploads; the routing service takes at most 20 MiB whatever this says.
  config.server.max_upload_bytes =
      static_cast<size_t>(source.getInt("limits.upload_bytes", 1024, 64 << 20, 20 << 20));
  config.server.http_threads = static_cast<int>(source.getInt("http.threads", 1, 1024, 16));
  config.server.backend_timeout = source.getDuration("backend.timeout", std::chrono::seconds(5));
  config.server.web_root = source.getString("web.root", "");
  config.server.recordings_dir = source.getString("recordings.dir", "");
  config.server.sip_registrar = source.getString("sip.registrar", "");
  config.server.trusted_proxies = source.getList("http.trusted_proxies", "");
  if (auto bad = net::AddressBlocks::invalidEntry(config.server.trusted_proxies)) {
    throw config::ConfigError("http.trusted_proxies", "not an address or CIDR block: " + *bad);
  }
  config.server.sessions.idle_timeout =
      source.getDuration("sessions.idle_timeout", std::chrono::hours(12));
  config.server.sessions.max_age =
      source.getDuration("sessions.max_age", std::chrono::hours(24 * 7));
  if (config.server.sessions.idle_timeout < std::chrono::seconds(1)) {
    throw config::ConfigError("sessions.idle_timeout", "must be at least 1s");
  }
  if (config.server.sessions.max_age < config.server.sessions.idle_timeout) {
    throw config::ConfigError("sessions.max_age", "must be at least sessions.idle_timeout");
  }
  config.server.sign_in_max_failures =
      static_cast<int>(source.getInt("sign_in.max_failures", 1, 1000, 10));
  const auto window = source.getDuration("sign_in.window", std::chrono::minutes(15));
  if (window < std::chrono::seconds(1))
    throw config::ConfigError("sign_in.window", "must be at least 1s");
  config.server.sign_in_window = std::chrono::duration_cast<std::chrono::seconds>(window);
  config.log_level = log::parseLevel(source.getString("log.level", "info"));
  config.server.openapi_json = openApiDocument();
  source.rejectUnknownKeys();
  return config;
}

}  // namespace tel::gateway
