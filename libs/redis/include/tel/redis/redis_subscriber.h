#pragma once

#include <atomic>
#include <functional>
#include <string>
#include <thread>

#include "tel/redis/redis_client.h"

namespace tel::redis {

// Listens to one Redis Pub/Sub channel on its own connection and thread, and calls `on_message`
// with each message's payload (on that thread: it must not block). A lost connection is made again
// after a second; messages published meanwhile are lost, as Pub/Sub does not keep them, so the
// subscriber is for hints that speed something up (a wake-up), never for what must arrive.
class RedisSubscriber {
 public:
  RedisSubscriber(RedisOptions options, std::string channel, std::function<void(const std::string&)> on_message);
  ~RedisSubscriber();
  RedisSubscriber(const RedisSubscriber&) = delete;
  RedisSubscriber& operator=(const RedisSubscriber&) = delete;

  void start();
  void stop();
  // Subscribed now (for health checks and tests).
  bool subscribed() const { return subscribed_; }

 private:
  void run();

  const RedisOptions options_;
  const std::string channel_;
  const std::function<void(const std::string&)> on_message_;
  std::atomic<bool> stopping_{false};
  std::atomic<bool> subscribed_{false};
  std::thread thread_;
};

}  // namespace tel::redis
