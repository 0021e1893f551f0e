#pragma once

#include <chrono>
#include <string>

#include "dispatcher.h"
#include "tel/config/config.h"
#include "tel/log/log.h"
#include "tel/redis/redis_client.h"

namespace tel::queue {

// Everything the queue service reads at start; environment prefix TEL_QUEUE.
struct QueueConfig {
  config::HostPort grpc_listen;
  config::HostPort admin_listen;
  std::string database_url;  // secret
  int database_pool_size = 4;
  int workers = 4;
  redis::RedisOptions redis;  // redis.url (secret: it may hold a password)
  std::string call_control_address;  // sip-edge's call-control API (a name resolving to every sip-edge)
  std::chrono::seconds resolve_interval{10};
  std::chrono::milliseconds cache_ttl{2000};  // a queue's settings reach calls that much later
  DispatcherOptions dispatch;
  log::Level log_level = log::Level::kInfo;

  static QueueConfig load(config::Config& source);
};

}  // namespace tel::queue
