#include "tel/redis/redis_subscriber.h"

#include <hiredis/hiredis.h>
#include <poll.h>

#include <chrono>
#include <string>
#include <vector>

namespace tel::redis {
namespace {

timeval toTimeval(std::chrono::milliseconds duration) {
  return timeval{static_cast<time_t>(duration.count() / 1000), static_cast<suseconds_t>((duration.count() % 1000) * 1000)};
}

// A reply to a command sent on `context`, or null when the connection failed.
redisReply* commandArgv(redisContext* context, const std::vector<std::string>& args) {
  std::vector<const char*> argv;
  std::vector<size_t> lengths;
  for (const auto& arg : args) {
    argv.push_back(arg.data());
    lengths.push_back(arg.size());
  }
  return static_cast<redisReply*>(
      redisCommandArgv(context, static_cast<int>(args.size()), argv.data(), lengths.data()));
}

}  // namespace

RedisSubscriber::RedisSubscriber(RedisOptions options, std::string channel,
                                 std::function<void(const std::string&)> on_message)
    : options_(std::move(options)), channel_(std::move(channel)), on_message_(std::move(on_message)) {}

RedisSubscriber::~RedisSubscriber() { stop(); }

void RedisSubscriber::start() {
  thread_ = std::thread([this] { run(); });
}

void RedisSubscriber::stop() {
  stopping_ = true;
  if (thread_.joinable()) thread_.join();
}

void RedisSubscriber::run() {
  while (!stopping_) {
    redisContext* context =
        redisConnectWithTimeout(options_.host.c_str(), options_.port, toTimeval(options_.connect_timeout));
    bool ready = context != nullptr && context->err == 0;
    if (ready && !options_.password.empty()) {
      redisReply* auth = commandArgv(context, {"AUTH", options_.password});
      ready = auth != nullptr && auth->type != REDIS_REPLY_ERROR;
      if (auth) freeReplyObject(auth);
    }
    if (ready) {
      redisReply* subscribe = commandArgv(context, {"SUBSCRIBE", channel_});
      ready = subscribe != nullptr && subscribe->type == REDIS_REPLY_ARRAY;
      if (subscribe) freeReplyObject(subscribe);
    }
    subscribed_ = ready;
    // Waits for data a quarter second at a time, so that stop() is noticed; a reply is read only
    // once bytes have arrived (a timeout inside hiredis would leave the context unusable).
    while (ready && !stopping_) {
      pollfd readable{context->fd, POLLIN, 0};
      const int polled = ::poll(&readable, 1, 250);
      if (polled < 0) break;
      if (polled == 0) continue;
      void* raw = nullptr;
      if (redisGetReply(context, &raw) != REDIS_OK || raw == nullptr) break;
      auto* reply = static_cast<redisReply*>(raw);
      // ["message", channel, payload]
      if (reply->type == REDIS_REPLY_ARRAY && reply->elements == 3 && reply->element[2]->type == REDIS_REPLY_STRING) {
        on_message_(std::string(reply->element[2]->str, reply->element[2]->len));
      }
      freeReplyObject(reply);
    }
    subscribed_ = false;
    if (context) redisFree(context);
    for (int i = 0; i < 4 && !stopping_; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(250));
  }
}

}  // namespace tel::redis
