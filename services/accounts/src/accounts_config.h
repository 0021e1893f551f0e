#pragma once

#include <chrono>
#include <string>

#include "accounts_service.h"
#include "tel/config/config.h"
#include "tel/log/log.h"

namespace tel::accounts {

// Everything the accounts service reads at start; environment prefix TEL_ACCOUNTS.
struct AccountsConfig {
  config::HostPort grpc_listen;
  config::HostPort admin_listen;
  std::string database_url;  // secret
  int database_pool_size = 8;
  std::string admin_key;  // secret; the operator's key, installed (hashed) at start when set
  AccountsServiceOptions service;
  log::Level log_level = log::Level::kInfo;
  std::chrono::milliseconds shutdown_grace{10000};

  // Throws config::ConfigError naming the key.
  static AccountsConfig load(config::Config& source);
};

}  // namespace tel::accounts
