#pragma once

#include <absl/status/status.h>
#include <absl/status/statusor.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

namespace RdKafka {
class Producer;
class KafkaConsumer;
}  // namespace RdKafka

namespace tel::kafka {

// Extra librdkafka properties, e.g. {"linger.ms", "5"}.
using Properties = std::map<std::string, std::string>;

// Outcome of one produced message, reported once it is acknowledged by the broker or has failed
// for good (librdkafka retries transient errors itself until message.timeout.ms).
struct Delivery {
  std::string topic;
  int32_t partition = -1;
  int64_t offset = -1;
  absl::Status status;
};
using DeliveryCallback = std::function<void(const Delivery&)>;

struct ProducerOptions {
  std::string brokers;
  std::string client_id;
  Properties extra;
};

// An idempotent producer (enable.idempotence=true, acks=all): a message is written once even when
// librdkafka retries. produce() is asynchronous and thread-safe; delivery callbacks run on the
// producer's own poll thread and must not block. The destructor flushes (up to 10 s) so that
// messages accepted before shutdown are not lost silently; flush() reports what is left.
class Producer {
 public:
  static absl::StatusOr<std::unique_ptr<Producer>> create(const ProducerOptions& options);
  ~Producer();
  Producer(const Producer&) = delete;
  Producer& operator=(const Producer&) = delete;

  // Queues the message. Fails at once (without calling `on_delivery`) when the local queue is full
  // or the topic name is invalid.
  absl::Status produce(const std::string& topic, const std::string& key, const std::string& value,
                       DeliveryCallback on_delivery = {});
  // Waits until every queued message is delivered or failed.
  absl::Status flush(std::chrono::milliseconds timeout);

  uint64_t delivered() const { return delivered_; }
  uint64_t failed() const { return failed_; }

 private:
  class DeliveryReporter;
  Producer() = default;
  void pollLoop();

  std::unique_ptr<DeliveryReporter> reporter_;
  std::unique_ptr<RdKafka::Producer> producer_;
  std::atomic<bool> stopping_{false};
  std::atomic<uint64_t> delivered_{0};
  std::atomic<uint64_t> failed_{0};
  std::thread poller_;
};

struct Message {
  std::string topic;
  int32_t partition = 0;
  int64_t offset = 0;
  std::string key;
  std::string value;
};

struct ConsumerOptions {
  std::string brokers;
  std::string group_id;
  std::vector<std::string> topics;
  std::string client_id;
  Properties extra;
};

// A consumer-group member that never commits on its own: the caller processes a batch, makes its
// effects durable (e.g. commits the database transaction), then commits the batch's offsets. After
// a crash the uncommitted batch is delivered again, so processing must be idempotent.
// Not thread-safe: one thread polls and commits.
class Consumer {
 public:
  static absl::StatusOr<std::unique_ptr<Consumer>> create(const ConsumerOptions& options);
  ~Consumer();
  Consumer(const Consumer&) = delete;
  Consumer& operator=(const Consumer&) = delete;

  // Up to max_messages, waiting at most `timeout` for the first; errors other than "nothing yet"
  // and partition EOF are returned.
  absl::StatusOr<std::vector<Message>> poll(size_t max_messages, std::chrono::milliseconds timeout);
  // Partitions currently assigned to this member (0 until the group has balanced).
  size_t assignedPartitions();
  // Synchronously commits, per partition, the offset after the highest message in `processed`.
  absl::Status commit(const std::vector<Message>& processed);
  void close();

 private:
  Consumer() = default;
  std::unique_ptr<RdKafka::KafkaConsumer> consumer_;
  bool closed_ = false;
};

struct TopicSpec {
  std::string name;
  int partitions = 1;
  int replication_factor = 1;
  Properties config;
};

// Creates the topics that do not exist yet; existing ones are left as they are.
absl::Status ensureTopics(const std::string& brokers, const std::vector<TopicSpec>& topics,
                          std::chrono::milliseconds timeout);

}  // namespace tel::kafka
