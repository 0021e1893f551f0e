#include "session_store.h"

#include <algorithm>
#include <nlohmann/json.hpp>

#include "tel/crypto/crypto.h"

namespace tel::gateway {
namespace {

using nlohmann::json;

int64_t nowUnixMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// KEYS[1] failures of the source, KEYS[2] failures of the login; ARGV[1] window in seconds.
constexpr const char* kCountFailure = R"lua(
for _, key in ipairs(KEYS) do
  if redis.call('INCR', key) == 1 then redis.call('EXPIRE', key, tonumber(ARGV[1])) end
end
return 1
)lua";

// KEYS as above; ARGV[1] the limit. Returns the seconds left of the longest block, 0 if none.
constexpr const char* kBlockedFor = R"lua(
local longest = 0
for _, key in ipairs(KEYS) do
  local count = tonumber(redis.call('GET', key) or '0')
  if count >= tonumber(ARGV[1]) then
    local ttl = redis.call('TTL', key)
    if ttl < 1 then ttl = 1 end
    if ttl > longest then longest = ttl end
  end
end
return longest
)lua";

std::string sourceKey(const std::string& source) { return "tel:signin:source:" + source; }
std::string loginKey(const std::string& login) {
  // Hashed: logins are e-mail addresses, which do not belong in key names.
  return "tel:signin:login:" + crypto::sha256Hex(login);
}

}  // namespace

RedisSessionStore::RedisSessionStore(std::shared_ptr<redis::RedisClient> redis,
                                     SessionLimits limits)
    : redis_(std::move(redis)), limits_(limits) {}

std::string RedisSessionStore::keyOf(const std::string& id) {
  return "tel:session:" + crypto::sha256Hex(id);
}

absl::StatusOr<std::string> RedisSessionStore::create(Session session) {
  const std::string id = crypto::base64UrlEncode(crypto::randomBytes(32));
  session.created_unix_ms = nowUnixMs();
  const json stored = {{"admin", session.admin},     {"tenant_id", session.tenant_id},
                       {"user_id", session.user_id}, {"email", session.email},
                       {"csrf", session.csrf_token}, {"created", session.created_unix_ms}};
  auto reply = redis_->command(
      {"SET", keyOf(id), stored.dump(), "PX", std::to_string(limits_.idle_timeout.count()), "NX"});
  if (!reply.ok()) return reply.status();
  if (reply->type != redis::Reply::Type::kStatus) {
    // 256 random bits do not collide; a nil here means something else wrote the key.
    return absl::InternalError("session id already in use");
  }
  return id;
}

absl::StatusOr<std::optional<Session>> RedisSessionStore::find(const std::string& id) {
  // Ids are 43 base64url characters; anything else cannot be one and costs no Redis call.
  if (id.size() != 43 || !crypto::base64UrlDecode(id)) return std::nullopt;
  const std::string key = keyOf(id);
  auto reply = redis_->command({"GET", key});
  if (!reply.ok()) return reply.status();
  if (reply->type != redis::Reply::Type::kString) return std::nullopt;
  const json stored = json::parse(reply->str, nullptr, false);
  if (!stored.is_object()) return absl::InternalError("unreadable session in redis");
  Session session;
  session.admin = stored.value("admin", false);
  session.tenant_id = stored.value("tenant_id", "");
  session.user_id = stored.value("user_id", "");
  session.email = stored.value("email", "");
  session.csrf_token = stored.value("csrf", "");
  session.created_unix_ms = stored.value("created", int64_t{0});
  const int64_t now = nowUnixMs();
  const int64_t left = session.created_unix_ms + limits_.max_age.count() - now;
  if (left <= 0) {
    (void)remove(id);
    return std::nullopt;
  }
  const int64_t extend = std::min<int64_t>(limits_.idle_timeout.count(), left);
  auto touched = redis_->command({"PEXPIRE", key, std::to_string(extend)});
  if (!touched.ok()) return touched.status();
  // 0: the key expired between GET and PEXPIRE.
  if (touched->integer == 0) return std::nullopt;
  session.expires_unix_ms = now + extend;
  return session;
}

absl::Status RedisSessionStore::remove(const std::string& id) {
  auto reply = redis_->command({"DEL", keyOf(id)});
  return reply.ok() ? absl::OkStatus() : reply.status();
}

SignInGuard::SignInGuard(std::shared_ptr<redis::RedisClient> redis, int max_failures,
                         std::chrono::seconds window)
    : redis_(std::move(redis)), max_failures_(max_failures), window_(window) {}

int SignInGuard::blockedFor(const std::string& source, const std::string& login) {
  auto reply = redis_->eval(kBlockedFor, {sourceKey(source), loginKey(login)},
                            {std::to_string(max_failures_)});
  if (!reply.ok() || reply->type != redis::Reply::Type::kInteger) {
    ++redis_failures_;
    return 0;
  }
  return static_cast<int>(reply->integer);
}

void SignInGuard::failed(const std::string& source, const std::string& login) {
  auto reply = redis_->eval(kCountFailure, {sourceKey(source), loginKey(login)},
                            {std::to_string(window_.count())});
  if (!reply.ok()) ++redis_failures_;
}

void SignInGuard::succeeded(const std::string& login) {
  if (!redis_->command({"DEL", loginKey(login)}).ok()) ++redis_failures_;
}

}  // namespace tel::gateway
