#include "accounts_config.h"

#include <regex>

namespace tel::accounts {

AccountsConfig AccountsConfig::load(config::Config& source) {
  AccountsConfig config;
  config.grpc_listen = source.getHostPort("grpc.listen", "127.0.0.1:17110");
  config.admin_listen = source.getHostPort("admin.listen", "127.0.0.1:17111");
  config.database_url = source.getSecret("database.url");
  config.database_pool_size = static_cast<int>(source.getInt("database.pool_size", 1, 256, 8));
  config.admin_key = source.getSecret("admin_key", "");
  config.service.sip_base_domain = source.getString("sip.base_domain", "sip.localhost");
  config.service.password_cost.log2_n =
      static_cast<int>(source.getInt("password_hash.log2n", 12, 20, 15));
  const std::string key_hex = source.getSecret("secrets.credentials_key", "");
  if (!key_hex.empty()) {
    static const std::regex kHex64("^[0-9a-fA-F]{64}$");
    if (!std::regex_match(key_hex, kHex64)) {
      throw config::ConfigError("secrets.credentials_key", "must be 64 hex digits (32 bytes)");
    }
    for (size_t i = 0; i < key_hex.size(); i += 2) {
      config.service.credentials_key += static_cast<char>(std::stoi(key_hex.substr(i, 2), nullptr, 16));
    }
  }
  config.service.workers = static_cast<int>(source.getInt("workers", 1, 256, 8));
  config.log_level = log::parseLevel(source.getString("log.level", "info"));
  config.shutdown_grace = source.getDuration("shutdown.grace", std::chrono::seconds(10));
  source.rejectUnknownKeys();
  return config;
}

}  // namespace tel::accounts
