#include "call_ledger.h"

#include <unistd.h>

#include <random>
#include <sstream>

namespace tel::sip {
namespace {

constexpr size_t kFields = 6;

int64_t millisSinceEpoch(CallLedger::Clock::time_point at) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(at.time_since_epoch()).count();
}

absl::Status statusOf(const absl::StatusOr<redis::Reply>& reply) {
  return reply.ok() ? absl::OkStatus() : reply.status();
}

}  // namespace

std::string LedgerEntry::encode() const {
  std::string joined;
  for (const auto& key : limits) joined += (joined.empty() ? "" : ",") + key;
  return tenant_id + '\t' + number_id + '\t' + media_relay + '\t' + media_session + '\t' +
         answered_leg + '\t' + joined;
}

std::optional<LedgerEntry> LedgerEntry::decode(const std::string& call_id,
                                               const std::string& line) {
  std::vector<std::string> fields;
  std::istringstream in(line);
  for (std::string field; std::getline(in, field, '\t');) fields.push_back(field);
  if (!line.empty() && line.back() == '\t') fields.emplace_back();
  if (fields.size() == kFields - 1) fields.emplace_back();  // written before the limits field
  if (fields.size() != kFields || fields[0].empty()) return std::nullopt;
  LedgerEntry entry{call_id, fields[0], fields[1], fields[2], fields[3], fields[4], {}};
  std::istringstream keys(fields[5]);
  for (std::string key; std::getline(keys, key, ',');) {
    if (!key.empty()) entry.limits.push_back(key);
  }
  return entry;
}

std::string RedisCallLedger::callsKey(const std::string& instance) {
  return "tel:sip-edge:" + instance + ":calls";
}

absl::Status RedisCallLedger::record(const LedgerEntry& entry) {
  return statusOf(redis_->command({"HSET", callsKey(self_), entry.call_id, entry.encode()}));
}

absl::Status RedisCallLedger::update(const LedgerEntry& entry) {
  static const std::string kUpdateIfPresent =
      "if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 1 then"
      " return redis.call('HSET', KEYS[1], ARGV[1], ARGV[2]) end return 0";
  return statusOf(redis_->eval(kUpdateIfPresent, {callsKey(self_)}, {entry.call_id, entry.encode()}));
}

absl::Status RedisCallLedger::erase(const std::string& call_id) { return eraseOf(self_, call_id); }

absl::Status RedisCallLedger::heartbeat(Clock::time_point until) {
  return statusOf(
      redis_->command({"ZADD", kInstancesKey, std::to_string(millisSinceEpoch(until)), self_}));
}

absl::StatusOr<std::vector<std::string>> RedisCallLedger::lapsed(Clock::time_point now) {
  auto reply = redis_->command(
      {"ZRANGEBYSCORE", kInstancesKey, "-inf", "(" + std::to_string(millisSinceEpoch(now))});
  if (!reply.ok()) return reply.status();
  std::vector<std::string> instances;
  for (const auto& element : reply->elements) {
    if (element.str != self_) instances.push_back(element.str);
  }
  return instances;
}

absl::StatusOr<bool> RedisCallLedger::claim(const std::string& instance,
                                            std::chrono::milliseconds hold) {
  auto reply = redis_->command({"SET", "tel:sip-edge:" + instance + ":closer", self_, "NX", "PX",
                                std::to_string(hold.count())});
  if (!reply.ok()) return reply.status();
  return reply->type == redis::Reply::Type::kStatus;  // "OK"; nil when another instance has it
}

absl::StatusOr<std::vector<LedgerEntry>> RedisCallLedger::callsOf(const std::string& instance) {
  auto reply = redis_->command({"HGETALL", callsKey(instance)});
  if (!reply.ok()) return reply.status();
  std::vector<LedgerEntry> entries;
  for (size_t i = 0; i + 1 < reply->elements.size(); i += 2) {
    auto entry = LedgerEntry::decode(reply->elements[i].str, reply->elements[i + 1].str);
    if (entry) entries.push_back(std::move(*entry));
  }
  return entries;
}

absl::Status RedisCallLedger::eraseOf(const std::string& instance, const std::string& call_id) {
  return statusOf(redis_->command({"HDEL", callsKey(instance), call_id}));
}

absl::Status RedisCallLedger::forget(const std::string& instance) {
  if (auto deleted = statusOf(redis_->command({"DEL", callsKey(instance)})); !deleted.ok())
    return deleted;
  return statusOf(redis_->command({"ZREM", kInstancesKey, instance}));
}

std::string newInstanceId() {
  char host[256] = {};
  if (gethostname(host, sizeof host - 1) != 0) host[0] = '\0';
  std::random_device random;
  std::ostringstream id;
  id << (host[0] ? host : "sip-edge") << '-' << getpid() << '-' << std::hex << random();
  return id.str();
}

}  // namespace tel::sip
