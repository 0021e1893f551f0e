#include "bindings.h"

#include <optional>
#include <sstream>

namespace tel::sip {
namespace {

// Field values: expires_at, source, user agent, call id, cseq, path; tab-separated (tabs cannot
// occur in the values: they come from single SIP header lines with tabs folded to spaces). Values
// written before path existed have five fields.
std::string encode(const Binding& binding) {
  auto clean = [](std::string text) {
    for (auto& c : text) c = (c == '\t' || c == '\n' || c == '\r') ? ' ' : c;
    return text;
  };
  return std::to_string(binding.expires_at) + "\t" + clean(binding.source) + "\t" +
         clean(binding.user_agent) + "\t" + clean(binding.call_id) + "\t" +
         std::to_string(binding.cseq) + "\t" + clean(binding.path);
}

std::optional<Binding> decode(const std::string& contact, const std::string& value) {
  std::vector<std::string> parts;
  std::stringstream stream(value);
  std::string part;
  while (std::getline(stream, part, '\t')) parts.push_back(part);
  if (value.ends_with('\t')) parts.emplace_back();  // getline drops a trailing empty field
  if (parts.size() != 5 && parts.size() != 6) return std::nullopt;
  try {
    return Binding{contact,
                   std::stoll(parts[0]),
                   parts[1],
                   parts[2],
                   parts[3],
                   static_cast<uint32_t>(std::stoul(parts[4])),
                   parts.size() == 6 ? parts[5] : ""};
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

// KEYS[1] the account's hash; ARGV: contact, value, expires_at. Keeps the key alive as long as
// its longest-lived binding.
constexpr const char* kUpsert = R"lua(
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
local latest = tonumber(redis.call('GET', KEYS[1] .. ':latest') or '0')
local expires = tonumber(ARGV[3])
if expires > latest then
  redis.call('SET', KEYS[1] .. ':latest', expires)
  latest = expires
end
redis.call('EXPIREAT', KEYS[1], latest + 60)
redis.call('EXPIREAT', KEYS[1] .. ':latest', latest + 60)
return 1
)lua";

// KEYS[1] nonce key; ARGV: nonce count, ttl. 1 if the count is new and higher.
constexpr const char* kNonceCount = R"lua(
local last = tonumber(redis.call('GET', KEYS[1]) or '0')
local count = tonumber(ARGV[1])
if count <= last then return 0 end
redis.call('SET', KEYS[1], count, 'EX', ARGV[2])
return 1
)lua";

}  // namespace

std::string RedisBindings::key(const std::string& tenant_id, const std::string& account_id) {
  return "tel:reg:" + tenant_id + ":" + account_id;
}

absl::StatusOr<std::vector<Binding>> RedisBindings::list(const std::string& tenant_id,
                                                         const std::string& account_id,
                                                         int64_t now) {
  auto reply = redis_->command({"HGETALL", key(tenant_id, account_id)});
  if (!reply.ok()) return reply.status();
  std::vector<Binding> bindings;
  for (size_t i = 0; i + 1 < reply->elements.size(); i += 2) {
    const std::string& contact = reply->elements[i].str;
    auto binding = decode(contact, reply->elements[i + 1].str);
    if (!binding || binding->expires_at <= now) {
      redis_->command({"HDEL", key(tenant_id, account_id), contact})
          .IgnoreError();  // lazily pruned
      continue;
    }
    bindings.push_back(*binding);
  }
  return bindings;
}

absl::Status RedisBindings::upsert(const std::string& tenant_id, const std::string& account_id,
                                   const Binding& binding) {
  return redis_
      ->eval(kUpsert, {key(tenant_id, account_id)},
             {binding.contact, encode(binding), std::to_string(binding.expires_at)})
      .status();
}

absl::Status RedisBindings::remove(const std::string& tenant_id, const std::string& account_id,
                                   const std::string& contact) {
  return redis_->command({"HDEL", key(tenant_id, account_id), contact}).status();
}

absl::Status RedisBindings::removeAll(const std::string& tenant_id, const std::string& account_id) {
  return redis_
      ->command({"DEL", key(tenant_id, account_id), key(tenant_id, account_id) + ":latest"})
      .status();
}

absl::StatusOr<bool> RedisBindings::acceptNonceCount(const std::string& nonce, uint64_t nonce_count,
                                                     int ttl_seconds) {
  auto reply = redis_->eval(kNonceCount, {"tel:nonce:" + nonce},
                            {std::to_string(nonce_count), std::to_string(ttl_seconds)});
  if (!reply.ok()) return reply.status();
  return reply->integer == 1;
}

}  // namespace tel::sip
