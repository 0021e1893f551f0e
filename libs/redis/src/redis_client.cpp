#include "tel/redis/redis_client.h"

#include <hiredis/hiredis.h>

#include <charconv>
#include <regex>

#include "tel/crypto/crypto.h"

namespace tel::redis {

struct RedisClient::Slot {
  redisContext* context = nullptr;
  bool in_use = false;
  ~Slot() {
    if (context) redisFree(context);
  }
};

namespace {

timeval toTimeval(std::chrono::milliseconds ms) {
  return timeval{static_cast<time_t>(ms.count() / 1000),
                 static_cast<suseconds_t>((ms.count() % 1000) * 1000)};
}

Reply convert(const redisReply* raw) {
  Reply reply;
  switch (raw->type) {
    case REDIS_REPLY_INTEGER:
      reply.type = Reply::Type::kInteger;
      reply.integer = raw->integer;
      break;
    case REDIS_REPLY_STRING:
      reply.type = Reply::Type::kString;
      reply.str.assign(raw->str, raw->len);
      break;
    case REDIS_REPLY_STATUS:
      reply.type = Reply::Type::kStatus;
      reply.str.assign(raw->str, raw->len);
      break;
    case REDIS_REPLY_ARRAY:
      reply.type = Reply::Type::kArray;
      for (size_t i = 0; i < raw->elements; ++i) reply.elements.push_back(convert(raw->element[i]));
      break;
    default:
      reply.type = Reply::Type::kNil;
  }
  return reply;
}

}  // namespace

absl::StatusOr<RedisOptions> parseRedisUrl(const std::string& url) {
  static const std::regex kPattern(R"(^redis://(?::([^@]*)@)?([^:/]+):(\d+)(?:/(\d+))?$)");
  std::smatch match;
  if (!std::regex_match(url, match, kPattern)) {
    return absl::InvalidArgumentError("redis URL must look like redis://[:password@]host:port");
  }
  if (match[4].matched && match[4].str() != "0") {
    return absl::InvalidArgumentError("redis URL: only database 0 is supported");
  }
  RedisOptions options;
  options.password = match[1].str();
  options.host = match[2].str();
  options.port = std::stoi(match[3].str());
  if (options.port <= 0 || options.port > 65535) return absl::InvalidArgumentError("redis URL: bad port");
  return options;
}

RedisClient::RedisClient(RedisOptions options) : options_(std::move(options)) {
  for (size_t i = 0; i < std::max<size_t>(1, options_.connections); ++i) {
    slots_.push_back(std::make_unique<Slot>());
  }
}

RedisClient::~RedisClient() = default;

RedisClient::Slot& RedisClient::acquire() {
  std::unique_lock lock(mutex_);
  for (;;) {
    for (auto& slot : slots_) {
      if (!slot->in_use) {
        slot->in_use = true;
        return *slot;
      }
    }
    freed_.wait(lock);
  }
}

void RedisClient::release(Slot& slot) {
  {
    std::lock_guard lock(mutex_);
    slot.in_use = false;
  }
  freed_.notify_one();
}

absl::Status RedisClient::connect(Slot& slot) {
  if (slot.context) {
    redisFree(slot.context);
    slot.context = nullptr;
  }
  slot.context = redisConnectWithTimeout(options_.host.c_str(), options_.port,
                                         toTimeval(options_.connect_timeout));
  if (slot.context == nullptr || slot.context->err) {
    std::string reason = slot.context ? slot.context->errstr : "out of memory";
    if (slot.context) redisFree(slot.context);
    slot.context = nullptr;
    return absl::UnavailableError("redis connect " + options_.host + ":" +
                                  std::to_string(options_.port) + ": " + reason);
  }
  redisSetTimeout(slot.context, toTimeval(options_.command_timeout));
  if (!options_.password.empty()) {
    bool broken = false;
    auto auth = runOnce(slot, {"AUTH", options_.password}, &broken);
    if (!auth.ok()) return absl::UnauthenticatedError("redis AUTH failed");
  }
  return absl::OkStatus();
}

absl::StatusOr<Reply> RedisClient::runOnce(Slot& slot, const std::vector<std::string>& args,
                                           bool* broken) {
  std::vector<const char*> argv;
  std::vector<size_t> lengths;
  for (const auto& arg : args) {
    argv.push_back(arg.data());
    lengths.push_back(arg.size());
  }
  auto* raw = static_cast<redisReply*>(
      redisCommandArgv(slot.context, static_cast<int>(args.size()), argv.data(), lengths.data()));
  if (raw == nullptr) {
    *broken = true;
    return absl::UnavailableError(std::string("redis: ") +
                                  (slot.context->errstr[0] ? slot.context->errstr : "I/O error"));
  }
  absl::StatusOr<Reply> result;
  if (raw->type == REDIS_REPLY_ERROR) {
    result = absl::FailedPreconditionError(std::string("redis: ") + std::string(raw->str, raw->len));
  } else {
    result = convert(raw);
  }
  freeReplyObject(raw);
  return result;
}

absl::StatusOr<Reply> RedisClient::command(const std::vector<std::string>& args) {
  if (args.empty()) return absl::InvalidArgumentError("redis: empty command");
  Slot& slot = acquire();
  absl::StatusOr<Reply> result = absl::UnavailableError("redis: not connected");
  for (int attempt = 0; attempt < 2; ++attempt) {
    if (slot.context == nullptr) {
      if (auto status = connect(slot); !status.ok()) {
        result = status;
        continue;
      }
    }
    bool broken = false;
    result = runOnce(slot, args, &broken);
    if (!broken) break;
    redisFree(slot.context);
    slot.context = nullptr;
  }
  release(slot);
  return result;
}

absl::StatusOr<Reply> RedisClient::eval(const std::string& script,
                                        const std::vector<std::string>& keys,
                                        const std::vector<std::string>& args) {
  auto build = [&](const std::string& verb, const std::string& body) {
    std::vector<std::string> command = {verb, body, std::to_string(keys.size())};
    command.insert(command.end(), keys.begin(), keys.end());
    command.insert(command.end(), args.begin(), args.end());
    return command;
  };
  auto result = command(build("EVALSHA", crypto::sha1Hex(script)));
  if (!result.ok() && result.status().message().find("NOSCRIPT") != std::string_view::npos) {
    result = command(build("EVAL", script));
  }
  return result;
}

bool RedisClient::ping() {
  auto reply = command({"PING"});
  return reply.ok() && reply->str == "PONG";
}

}  // namespace tel::redis
