#include "rate_limiter.h"

#include <cmath>

namespace tel::gateway {
namespace {

// KEYS[1] bucket; ARGV[1] rate per second; ARGV[2] burst. Returns {allowed, retry_after_ms}.
constexpr const char* kTokenBucket = R"lua(
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local state = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = tonumber(state[1]) or burst
local at = tonumber(state[2]) or now
tokens = math.min(burst, tokens + (now - at) * rate / 1000)
local allowed = 0
local retry_ms = 0
if tokens >= 1 then
  tokens = tokens - 1
  allowed = 1
else
  retry_ms = math.ceil((1 - tokens) * 1000 / rate)
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'at', tostring(now))
redis.call('PEXPIRE', KEYS[1], math.ceil(burst * 1000 / rate) + 1000)
return {allowed, retry_ms}
)lua";

}  // namespace

RedisRateLimiter::RedisRateLimiter(std::shared_ptr<redis::RedisClient> redis,
                                   double rate_per_second, int burst)
    : redis_(std::move(redis)), rate_per_second_(rate_per_second), burst_(burst) {}

RateDecision RedisRateLimiter::take(const std::string& key_id) {
  auto reply = redis_->eval(kTokenBucket, {"tel:ratelimit:" + key_id},
                            {std::to_string(rate_per_second_), std::to_string(burst_)});
  if (!reply.ok() || reply->elements.size() != 2) {
    ++failures_;
    return {};
  }
  if (reply->elements[0].integer == 1) return {};
  const int64_t retry_ms = reply->elements[1].integer;
  return {false, static_cast<int>(std::max<int64_t>(1, (retry_ms + 999) / 1000))};
}

}  // namespace tel::gateway
