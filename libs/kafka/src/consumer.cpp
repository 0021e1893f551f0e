#include <librdkafka/rdkafkacpp.h>

#include <map>

#include "conf.h"
#include "tel/kafka/kafka.h"

namespace tel::kafka {

absl::StatusOr<std::unique_ptr<Consumer>> Consumer::create(const ConsumerOptions& options) {
  Properties properties = {
      {"bootstrap.servers", options.brokers},
      {"group.id", options.group_id},
      {"client.id", options.client_id.empty() ? "tel" : options.client_id},
      {"enable.auto.commit", "false"},
      {"enable.auto.offset.store", "false"},
      {"auto.offset.reset", "earliest"},
      {"enable.partition.eof", "false"},
  };
  for (const auto& [name, value] : options.extra) properties[name] = value;
  auto conf = makeConf(properties);
  if (!conf.ok()) return conf.status();
  std::unique_ptr<Consumer> consumer(new Consumer());
  std::string error;
  consumer->consumer_.reset(RdKafka::KafkaConsumer::create(conf->get(), error));
  if (!consumer->consumer_) return absl::UnavailableError("kafka consumer: " + error);
  const auto subscribed = consumer->consumer_->subscribe(options.topics);
  if (subscribed != RdKafka::ERR_NO_ERROR) {
    return absl::UnavailableError("kafka subscribe: " + RdKafka::err2str(subscribed));
  }
  return consumer;
}

Consumer::~Consumer() { close(); }

void Consumer::close() {
  if (consumer_ && !closed_) {
    consumer_->close();
    closed_ = true;
  }
}

absl::StatusOr<std::vector<Message>> Consumer::poll(size_t max_messages,
                                                    std::chrono::milliseconds timeout) {
  std::vector<Message> batch;
  int wait_ms = static_cast<int>(timeout.count());
  while (batch.size() < max_messages) {
    std::unique_ptr<RdKafka::Message> message(consumer_->consume(wait_ms));
    // After the first message only take what is already there.
    wait_ms = 0;
    switch (message->err()) {
      case RdKafka::ERR_NO_ERROR:
        batch.push_back(Message{message->topic_name(), message->partition(), message->offset(),
                                message->key() ? *message->key() : std::string(),
                                std::string(static_cast<const char*>(message->payload()),
                                            message->len())});
        break;
      case RdKafka::ERR__TIMED_OUT:
      case RdKafka::ERR__PARTITION_EOF:
        return batch;
      default:
        if (!batch.empty()) return batch;  // report the error on the next poll
        return absl::UnavailableError("kafka consume: " + message->errstr());
    }
  }
  return batch;
}

size_t Consumer::assignedPartitions() {
  std::vector<RdKafka::TopicPartition*> partitions;
  if (consumer_->assignment(partitions) != RdKafka::ERR_NO_ERROR) return 0;
  const size_t count = partitions.size();
  RdKafka::TopicPartition::destroy(partitions);
  return count;
}

absl::Status Consumer::commit(const std::vector<Message>& processed) {
  if (processed.empty()) return absl::OkStatus();
  std::map<std::pair<std::string, int32_t>, int64_t> next_offsets;
  for (const auto& message : processed) {
    auto& next = next_offsets[{message.topic, message.partition}];
    next = std::max(next, message.offset + 1);
  }
  std::vector<RdKafka::TopicPartition*> partitions;
  for (const auto& [where, offset] : next_offsets) {
    partitions.push_back(RdKafka::TopicPartition::create(where.first, where.second, offset));
  }
  const auto error = consumer_->commitSync(partitions);
  absl::Status status = absl::OkStatus();
  if (error != RdKafka::ERR_NO_ERROR) {
    status = absl::UnavailableError("kafka commit: " + RdKafka::err2str(error));
  } else {
    for (auto* partition : partitions) {
      if (partition->err() != RdKafka::ERR_NO_ERROR) {
        status = absl::UnavailableError("kafka commit of " + partition->topic() + ": " +
                                        RdKafka::err2str(partition->err()));
      }
    }
  }
  RdKafka::TopicPartition::destroy(partitions);
  return status;
}

}  // namespace tel::kafka
