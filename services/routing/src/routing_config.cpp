#include "routing_config.h"

namespace tel::routing {

RoutingConfig RoutingConfig::load(config::Config& source) {
  RoutingConfig config;
  config.call_control_address = source.getString("call_control.address", "127.0.0.1:17142");
  config.accounts_address = source.getString("accounts.address", "127.0.0.1:17110");
  config.admin_listen = source.getHostPort("admin.listen", "127.0.0.1:17151");
  config.workers = static_cast<int>(source.getInt("workers", 1, 256, 4));
  config.log_level = log::parseLevel(source.getString("log.level", "info"));
  source.rejectUnknownKeys();
  return config;
}

}  // namespace tel::routing
