#pragma once

#include <absl/status/statusor.h>

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

struct redisContext;

namespace tel::redis {

// A Redis reply, converted from hiredis so that no hiredis type leaks out.
struct Reply {
  enum class Type { kNil, kInteger, kString, kStatus, kArray };
  Type type = Type::kNil;
  int64_t integer = 0;
  std::string str;  // kString and kStatus
  std::vector<Reply> elements;
};

struct RedisOptions {
  std::string host = "127.0.0.1";
  int port = 6379;
  std::string password;
  size_t connections = 4;
  std::chrono::milliseconds connect_timeout{1000};
  std::chrono::milliseconds command_timeout{1000};
};

// Parses "redis://[:password@]host:port[/db]" (db is not supported and must be absent or 0).
absl::StatusOr<RedisOptions> parseRedisUrl(const std::string& url);

// A thread-safe client over a small pool of hiredis connections. A command that fails on a broken
// connection reconnects and is retried once, so a Redis restart costs one slow call, not an outage
// of the caller. Redis error replies ("-ERR ...") come back as FailedPrecondition.
class RedisClient {
 public:
  explicit RedisClient(RedisOptions options);
  ~RedisClient();
  RedisClient(const RedisClient&) = delete;
  RedisClient& operator=(const RedisClient&) = delete;

  absl::StatusOr<Reply> command(const std::vector<std::string>& args);
  // EVALSHA with EVAL fallback: scripts are cached by the server after their first use.
  absl::StatusOr<Reply> eval(const std::string& script, const std::vector<std::string>& keys,
                             const std::vector<std::string>& args);
  bool ping();

 private:
  struct Slot;
  absl::StatusOr<Reply> runOnce(Slot& slot, const std::vector<std::string>& args, bool* broken);
  absl::Status connect(Slot& slot);
  Slot& acquire();
  void release(Slot& slot);

  RedisOptions options_;
  std::mutex mutex_;
  std::condition_variable freed_;
  std::vector<std::unique_ptr<Slot>> slots_;
};

}  // namespace tel::redis
