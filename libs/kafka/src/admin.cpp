#include <librdkafka/rdkafka.h>

#include <memory>

#include "tel/kafka/kafka.h"

namespace tel::kafka {

// librdkafka's admin API is C only.
absl::Status ensureTopics(const std::string& brokers, const std::vector<TopicSpec>& topics,
                          std::chrono::milliseconds timeout) {
  char error[512];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  if (rd_kafka_conf_set(conf, "bootstrap.servers", brokers.c_str(), error, sizeof error) !=
      RD_KAFKA_CONF_OK) {
    rd_kafka_conf_destroy(conf);
    return absl::InvalidArgumentError(std::string("kafka brokers: ") + error);
  }
  std::unique_ptr<rd_kafka_t, decltype(&rd_kafka_destroy)> client(
      rd_kafka_new(RD_KAFKA_PRODUCER, conf, error, sizeof error), &rd_kafka_destroy);
  if (!client) return absl::UnavailableError(std::string("kafka admin client: ") + error);

  std::vector<rd_kafka_NewTopic_t*> requests;
  auto destroy_requests = [&] {
    rd_kafka_NewTopic_destroy_array(requests.data(), requests.size());
  };
  for (const auto& topic : topics) {
    auto* request = rd_kafka_NewTopic_new(topic.name.c_str(), topic.partitions,
                                          topic.replication_factor, error, sizeof error);
    if (request == nullptr) {
      destroy_requests();
      return absl::InvalidArgumentError("topic " + topic.name + ": " + error);
    }
    for (const auto& [name, value] : topic.config) {
      rd_kafka_NewTopic_set_config(request, name.c_str(), value.c_str());
    }
    requests.push_back(request);
  }

  rd_kafka_queue_t* queue = rd_kafka_queue_new(client.get());
  rd_kafka_AdminOptions_t* options = rd_kafka_AdminOptions_new(client.get(), RD_KAFKA_ADMIN_OP_CREATETOPICS);
  rd_kafka_AdminOptions_set_operation_timeout(options, static_cast<int>(timeout.count()), error,
                                              sizeof error);
  rd_kafka_CreateTopics(client.get(), requests.data(), requests.size(), options, queue);
  rd_kafka_event_t* event = rd_kafka_queue_poll(queue, static_cast<int>(timeout.count()) + 1000);

  absl::Status status = absl::OkStatus();
  if (event == nullptr) {
    status = absl::DeadlineExceededError("kafka: no answer to CreateTopics from " + brokers);
  } else if (rd_kafka_event_error(event) != RD_KAFKA_RESP_ERR_NO_ERROR) {
    status = absl::UnavailableError(std::string("kafka CreateTopics: ") +
                                    rd_kafka_event_error_string(event));
  } else {
    size_t count = 0;
    const auto* result = rd_kafka_event_CreateTopics_result(event);
    const rd_kafka_topic_result_t** results = rd_kafka_CreateTopics_result_topics(result, &count);
    for (size_t i = 0; i < count; ++i) {
      const auto code = rd_kafka_topic_result_error(results[i]);
      if (code != RD_KAFKA_RESP_ERR_NO_ERROR && code != RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS) {
        status = absl::UnavailableError(std::string("kafka topic ") +
                                        rd_kafka_topic_result_name(results[i]) + ": " +
                                        rd_kafka_topic_result_error_string(results[i]));
      }
    }
  }
  if (event) rd_kafka_event_destroy(event);
  rd_kafka_AdminOptions_destroy(options);
  rd_kafka_queue_destroy(queue);
  destroy_requests();
  return status;
}

}  // namespace tel::kafka
