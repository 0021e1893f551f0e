// Against the real broker that ./tel starts (TEL_KAFKA_BROKERS).
#include <catch2/catch.hpp>
#include <map>
#include <mutex>
#include <set>

#include "tel/kafka/kafka.h"
#include "tel/testing/env.h"

using namespace tel::kafka;
using namespace std::chrono_literals;

namespace {

struct Fixture {
  std::string brokers = tel::testing::requireEnv("TEL_KAFKA_BROKERS");
  std::string topic = "test-kafka-" + tel::testing::uniqueSuffix();
  std::string group = "test-group-" + tel::testing::uniqueSuffix();

  Fixture() { REQUIRE(ensureTopics(brokers, {{topic, 3, 1, {}}}, 10s).ok()); }

  std::unique_ptr<Consumer> consumer() {
    auto created = Consumer::create({brokers, group, {topic}, "test", {}});
    REQUIRE(created.ok());
    return std::move(*created);
  }

  void produce(int first, int count) {
    auto producer = Producer::create({brokers, "test", {}});
    REQUIRE(producer.ok());
    std::mutex mutex;
    std::vector<Delivery> deliveries;
    for (int i = first; i < first + count; ++i) {
      REQUIRE((*producer)->produce(topic, "key-" + std::to_string(i % 7), "message-" + std::to_string(i),
                                   [&](const Delivery& d) {
                                     std::lock_guard lock(mutex);
                                     deliveries.push_back(d);
                                   }).ok());
    }
    REQUIRE((*producer)->flush(20s).ok());
    std::lock_guard lock(mutex);
    REQUIRE(deliveries.size() == static_cast<size_t>(count));
    for (const auto& d : deliveries) CHECK(d.status.ok());
    CHECK((*producer)->delivered() == static_cast<uint64_t>(count));
  }

  // Polls until `expected` messages came or the deadline passed; commits each batch after
  // "processing" it when `commit` is set.
  std::vector<Message> consume(Consumer& consumer, size_t expected, bool commit,
                               std::chrono::seconds deadline) {
    std::vector<Message> seen;
    const auto until = std::chrono::steady_clock::now() + deadline;
    while (seen.size() < expected && std::chrono::steady_clock::now() < until) {
      auto batch = consumer.poll(100, 500ms);
      REQUIRE(batch.ok());
      seen.insert(seen.end(), batch->begin(), batch->end());
      if (commit) REQUIRE(consumer.commit(*batch).ok());
    }
    return seen;
  }
};

}  // namespace

TEST_CASE("every produced message is consumed exactly once when offsets are committed") {
  Fixture fixture;
  fixture.produce(0, 500);
  auto consumer = fixture.consumer();
  auto seen = fixture.consume(*consumer, 500, /*commit=*/true, 60s);
  CHECK(consumer->assignedPartitions() == 3);
  std::map<std::string, int> counts;
  for (const auto& message : seen) ++counts[message.value];
  CHECK(seen.size() == 500);
  CHECK(counts.size() == 500);
  for (const auto& [value, count] : counts) CHECK(count == 1);
  consumer->close();

  // A new member of the same group starts after the committed offsets: nothing is seen twice.
  auto successor = fixture.consumer();
  auto again = fixture.consume(*successor, 1, true, 8s);
  CHECK(again.empty());
}

TEST_CASE("messages whose offsets were not committed are delivered again") {
  Fixture fixture;
  fixture.produce(0, 50);
  auto crashing = fixture.consumer();
  auto first = fixture.consume(*crashing, 50, /*commit=*/false, 60s);
  REQUIRE(first.size() == 50);
  crashing->close();

  auto successor = fixture.consumer();
  auto redelivered = fixture.consume(*successor, 50, true, 60s);
  std::set<std::string> values;
  for (const auto& message : redelivered) values.insert(message.value);
  CHECK(values.size() == 50);
}

TEST_CASE("messages with one key keep their order") {
  Fixture fixture;
  fixture.produce(0, 70);
  auto consumer = fixture.consumer();
  auto seen = fixture.consume(*consumer, 70, true, 60s);
  REQUIRE(seen.size() == 70);
  std::map<std::string, int> last_index;
  for (const auto& message : seen) {
    const int index = std::stoi(message.value.substr(8));
    auto it = last_index.find(message.key);
    if (it != last_index.end()) CHECK(index > it->second);
    last_index[message.key] = index;
  }
}

TEST_CASE("creating topics that exist is not an error, but an unreachable broker is") {
  Fixture fixture;
  CHECK(ensureTopics(fixture.brokers, {{fixture.topic, 3, 1, {}}}, 10s).ok());
  CHECK_FALSE(ensureTopics("127.0.0.1:1", {{"x", 1, 1, {}}}, 1s).ok());
}
