// Against the real Redis that ./tel starts (TEL_REDIS_URL).
#include <catch2/catch.hpp>
#include <mutex>
#include <thread>
#include <vector>

#include "tel/redis/redis_client.h"
#include "tel/redis/redis_subscriber.h"
#include "tel/testing/env.h"

using tel::redis::RedisClient;

namespace {
RedisClient makeClient() {
  auto options = tel::redis::parseRedisUrl(tel::testing::requireEnv("TEL_REDIS_URL"));
  REQUIRE(options.ok());
  return RedisClient(*options);
}
}  // namespace

TEST_CASE("commands round-trip binary-safe values") {
  auto client = makeClient();
  const std::string key = "test:" + tel::testing::uniqueSuffix();
  const std::string value("a\0b\r\nc", 6);
  REQUIRE(client.command({"SET", key, value, "EX", "60"}).ok());
  auto got = client.command({"GET", key});
  REQUIRE(got.ok());
  CHECK(got->str == value);
  CHECK(client.command({"DEL", key})->integer == 1);
  CHECK(client.command({"GET", key})->type == tel::redis::Reply::Type::kNil);
}

TEST_CASE("error replies are statuses, not crashes") {
  auto client = makeClient();
  auto bad = client.command({"NOSUCHCOMMAND"});
  CHECK_FALSE(bad.ok());
  CHECK(client.ping());
}

TEST_CASE("scripts run through EVALSHA with EVAL fallback") {
  auto client = makeClient();
  const std::string key = "test:" + tel::testing::uniqueSuffix();
  const std::string script = "return redis.call('INCRBY', KEYS[1], ARGV[1])";
  CHECK(client.eval(script, {key}, {"5"})->integer == 5);
  CHECK(client.eval(script, {key}, {"2"})->integer == 7);
  client.command({"DEL", key}).IgnoreError();
}

TEST_CASE("the client reconnects after its connection is killed") {
  auto client = makeClient();
  REQUIRE(client.ping());
  auto admin = makeClient();
  // Kill every other client connection, ours included (admin's own is spared by SKIPME).
  REQUIRE(admin.command({"CLIENT", "KILL", "TYPE", "normal", "SKIPME", "yes"}).ok());
  CHECK(client.ping());
}

TEST_CASE("many threads share the pool") {
  auto client = makeClient();
  const std::string key = "test:" + tel::testing::uniqueSuffix();
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 50; ++i) client.command({"INCR", key}).IgnoreError();
    });
  }
  for (auto& thread : threads) thread.join();
  CHECK(client.command({"GET", key})->str == "400");
  client.command({"DEL", key}).IgnoreError();
}

TEST_CASE("redis URLs are validated") {
  CHECK(tel::redis::parseRedisUrl("redis://127.0.0.1:6379")->port == 6379);
  CHECK(tel::redis::parseRedisUrl("redis://:secret@localhost:1/0")->password == "secret");
  CHECK_FALSE(tel::redis::parseRedisUrl("http://x:1").ok());
  CHECK_FALSE(tel::redis::parseRedisUrl("redis://x:1/3").ok());
}

TEST_CASE("a subscriber gets what is published on its channel, and again after its connection is killed") {
  auto client = makeClient();
  const std::string channel = "test:" + tel::testing::uniqueSuffix();
  std::mutex mutex;
  std::vector<std::string> received;
  tel::redis::RedisSubscriber subscriber(*tel::redis::parseRedisUrl(tel::testing::requireEnv("TEL_REDIS_URL")),
                                         channel, [&](const std::string& message) {
                                           std::lock_guard lock(mutex);
                                           received.push_back(message);
                                         });
  subscriber.start();
  auto count = [&] {
    std::lock_guard lock(mutex);
    return received.size();
  };
  auto until = [](auto done) {
    for (int i = 0; i < 100 && !done(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(50));
    return done();
  };
  REQUIRE(until([&] { return subscriber.subscribed(); }));
  REQUIRE(client.command({"PUBLISH", channel, "one"}).ok());
  REQUIRE(until([&] { return count() == 1; }));
  CHECK(client.command({"PUBLISH", "other:" + channel, "not mine"}).ok());
  REQUIRE(client.command({"CLIENT", "KILL", "TYPE", "pubsub"}).ok());
  REQUIRE(until([&] { return subscriber.subscribed() && client.command({"PUBSUB", "NUMSUB", channel})->elements.at(1).integer == 1; }));
  REQUIRE(client.command({"PUBLISH", channel, "two"}).ok());
  REQUIRE(until([&] { return count() == 2; }));
  std::lock_guard lock(mutex);
  CHECK(received == std::vector<std::string>{"one", "two"});
  subscriber.stop();
}
