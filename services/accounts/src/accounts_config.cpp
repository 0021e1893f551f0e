#include "accounts_config.h"

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
  config.service.workers = static_cast<int>(source.getInt("workers", 1, 256, 8));
  config.log_level = log::parseLevel(source.getString("log.level", "info"));
  config.shutdown_grace = source.getDuration("shutdown.grace", std::chrono::seconds(10));
  source.rejectUnknownKeys();
  return config;
}

}  // namespace tel::accounts
