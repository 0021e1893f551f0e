#include <librdkafka/rdkafkacpp.h>

#include "conf.h"
#include "tel/kafka/kafka.h"

namespace tel::kafka {
// Carries each message's callback through librdkafka as the message opaque.
absl::StatusOr<std::unique_ptr<RdKafka::Conf>> makeConf(const Properties& properties) {
  std::unique_ptr<RdKafka::Conf> conf(RdKafka::Conf::create(RdKafka::Conf::CONF_GLOBAL));
  std::string error;
  for (const auto& [name, value] : properties) {
    if (conf->set(name, value, error) != RdKafka::Conf::CONF_OK) {
      return absl::InvalidArgumentError("kafka property " + name + ": " + error);
    }
  }
  return conf;
}

class Producer::DeliveryReporter : public RdKafka::DeliveryReportCb {
 public:
  explicit DeliveryReporter(Producer& owner) : owner_(owner) {}
  void dr_cb(RdKafka::Message& message) override {
    std::unique_ptr<DeliveryCallback> callback(static_cast<DeliveryCallback*>(message.msg_opaque()));
    Delivery delivery{message.topic_name(), message.partition(), message.offset(), absl::OkStatus()};
    if (message.err() != RdKafka::ERR_NO_ERROR) {
      delivery.status = absl::UnavailableError("kafka delivery failed: " + message.errstr());
      ++owner_.failed_;
    } else {
      ++owner_.delivered_;
    }
    if (callback && *callback) (*callback)(delivery);
  }

 private:
  Producer& owner_;
};

absl::StatusOr<std::unique_ptr<Producer>> Producer::create(const ProducerOptions& options) {
  Properties properties = {
      {"bootstrap.servers", options.brokers},
      {"client.id", options.client_id.empty() ? "tel" : options.client_id},
      {"enable.idempotence", "true"},
      {"acks", "all"},
      // Batches events for throughput; a few ms of latency is far below what consumers notice.
      {"linger.ms", "5"},
      {"compression.type", "lz4"},
  };
  for (const auto& [name, value] : options.extra) properties[name] = value;
  auto conf = makeConf(properties);
  if (!conf.ok()) return conf.status();

  std::unique_ptr<Producer> producer(new Producer());
  producer->reporter_ = std::make_unique<DeliveryReporter>(*producer);
  std::string error;
  if ((*conf)->set("dr_cb", producer->reporter_.get(), error) != RdKafka::Conf::CONF_OK) {
    return absl::InternalError("kafka: cannot set delivery callback: " + error);
  }
  producer->producer_.reset(RdKafka::Producer::create(conf->get(), error));
  if (!producer->producer_) return absl::UnavailableError("kafka producer: " + error);
  producer->poller_ = std::thread([p = producer.get()] { p->pollLoop(); });
  return producer;
}

Producer::~Producer() {
  if (producer_) flush(std::chrono::seconds(10)).IgnoreError();  // counted in failed() otherwise
  stopping_ = true;
  if (poller_.joinable()) poller_.join();
}

void Producer::pollLoop() {
  while (!stopping_) producer_->poll(100);
}

absl::Status Producer::produce(const std::string& topic, const std::string& key,
                               const std::string& value, DeliveryCallback on_delivery) {
  auto* callback = new DeliveryCallback(std::move(on_delivery));
  const auto error = producer_->produce(
      topic, RdKafka::Topic::PARTITION_UA, RdKafka::Producer::RK_MSG_COPY,
      const_cast<char*>(value.data()), value.size(), key.data(), key.size(), 0, callback);
  if (error != RdKafka::ERR_NO_ERROR) {
    delete callback;
    if (error == RdKafka::ERR__QUEUE_FULL) {
      return absl::ResourceExhaustedError("kafka: local producer queue is full");
    }
    return absl::UnavailableError("kafka produce to " + topic + ": " + RdKafka::err2str(error));
  }
  return absl::OkStatus();
}

absl::Status Producer::flush(std::chrono::milliseconds timeout) {
  const auto error = producer_->flush(static_cast<int>(timeout.count()));
  if (error != RdKafka::ERR_NO_ERROR) {
    return absl::DeadlineExceededError("kafka flush: " + std::to_string(producer_->outq_len()) +
                                       " messages still queued: " + RdKafka::err2str(error));
  }
  return absl::OkStatus();
}

}  // namespace tel::kafka
