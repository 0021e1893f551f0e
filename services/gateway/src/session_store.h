#pragma once

#include <absl/status/statusor.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <optional>
#include <string>

#include "tel/redis/redis_client.h"

namespace tel::gateway {

// A signed-in browser. Either a tenant's dashboard user (tenant_id and user_id set) or the operator
// (admin, after giving the admin key once at sign-in; the key itself is not kept anywhere).
struct Session {
  bool admin = false;
  std::string tenant_id;
  std::string user_id;
  std::string email;
  std::string csrf_token;  // required in X-CSRF-Token on the session's state-changing requests
  int64_t created_unix_ms = 0;
  int64_t expires_unix_ms = 0;  // filled in by find(): when the session ends if left idle
};

// Where sessions live. Thread-safe.
class SessionStore {
 public:
  virtual ~SessionStore() = default;
  // Stores a new session and returns its opaque id (the cookie value).
  virtual absl::StatusOr<std::string> create(Session session) = 0;
  // The session behind an id, its idle timer restarted; nullopt when unknown, expired or ended.
  virtual absl::StatusOr<std::optional<Session>> find(const std::string& id) = 0;
  virtual absl::Status remove(const std::string& id) = 0;
};

struct SessionLimits {
  std::chrono::milliseconds idle_timeout{std::chrono::hours(12)};
  std::chrono::milliseconds max_age{std::chrono::hours(24 * 7)};
};

// Sessions in Redis, so that every gateway instance knows every session and they survive gateway
// restarts. The Redis key is the SHA-256 of the id, not the id: whoever reads Redis (a dump, a
// replica) cannot take over a browser's session. Each use extends the key's TTL by the idle
// timeout, never beyond the session's maximum age.
class RedisSessionStore final : public SessionStore {
 public:
  RedisSessionStore(std::shared_ptr<redis::RedisClient> redis, SessionLimits limits);
  absl::StatusOr<std::string> create(Session session) override;
  absl::StatusOr<std::optional<Session>> find(const std::string& id) override;
  absl::Status remove(const std::string& id) override;

 private:
  static std::string keyOf(const std::string& id);
  std::shared_ptr<redis::RedisClient> redis_;
  SessionLimits limits_;
};

// Counts failed sign-ins per source address and per login in Redis and refuses further attempts
// (for the rest of the window) once either reaches the limit: password guessing from one place and
// against one login are both stopped, and every gateway instance shares the counts.
class SignInGuard {
 public:
  SignInGuard(std::shared_ptr<redis::RedisClient> redis, int max_failures,
              std::chrono::seconds window);
  // Seconds until another attempt is allowed, or 0 when it is allowed now. Redis trouble allows
  // the attempt (the password check still runs; an outage of the guard is not an outage of
  // sign-in) and is counted.
  int blockedFor(const std::string& source, const std::string& login);
  void failed(const std::string& source, const std::string& login);
  void succeeded(const std::string& login);
  uint64_t failures() const { return redis_failures_; }

 private:
  std::shared_ptr<redis::RedisClient> redis_;
  int max_failures_;
  std::chrono::seconds window_;
  std::atomic<uint64_t> redis_failures_{0};
};

}  // namespace tel::gateway
