#pragma once

#include <memory>
#include <string>

#include "tel/redis/redis_client.h"

namespace tel::gateway {

struct RateDecision {
  bool allowed = true;
  int retry_after_seconds = 0;  // when refused: when the next request would pass
};

// Per-key request budget. Thread-safe.
class RateLimiter {
 public:
  virtual ~RateLimiter() = default;
  virtual RateDecision take(const std::string& key_id) = 0;
};

// A token bucket per key in Redis (one Lua script, so concurrent gateways share one budget and the
// refill uses Redis's clock, not each gateway's). When Redis is unreachable requests are allowed:
// an outage of the limiter must not become an outage of the API; it is counted and logged.
class RedisRateLimiter final : public RateLimiter {
 public:
  RedisRateLimiter(std::shared_ptr<redis::RedisClient> redis, double rate_per_second, int burst);
  RateDecision take(const std::string& key_id) override;
  uint64_t failures() const { return failures_; }

 private:
  std::shared_ptr<redis::RedisClient> redis_;
  double rate_per_second_;
  int burst_;
  std::atomic<uint64_t> failures_{0};
};

}  // namespace tel::gateway
