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
  // The call events agents' other calls are followed on (AgentPresence).
  std::string kafka_brokers;
  std::string kafka_topic = "call-events";
  std::string kafka_group = "queue";
  std::chrono::milliseconds kafka_session_timeout{10000};
  // An agent's part in a call lapses after this even if the call's end never comes (as long as
  // sip-edge's calls.max_duration).
  std::chrono::milliseconds presence_lapse{std::chrono::hours(4)};
  log::Level log_level = log::Level::kInfo;

  static QueueConfig load(config::Config& source);
};

}  // namespace tel::queue
