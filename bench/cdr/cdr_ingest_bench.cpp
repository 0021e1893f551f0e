// Events -> call records: cdr-ingest's throughput into Postgres, beside the bare Kafka consumption
// rate of the same topic (the anchor: what reading alone costs), and call end -> record visible
// in the REST API.
//
// Needs the local stack (./tel up); run through bench/run cdr [calls].
#include <httplib.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <pqxx/pqxx>
#include <regex>
#include <sstream>
#include <thread>

#include "tel/events/call_events.h"
#include "tel/kafka/kafka.h"
#include "tel/testing/api_client.h"
#include "tel/testing/child_process.h"
#include "tel/testing/env.h"
#include "tel/testing/synthetic_calls.h"

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
using tel::testing::requireEnv;

namespace {

double metric(const std::string& log, const std::string& name) {
  std::ifstream in(log);
  std::stringstream content;
  content << in.rdbuf();
  const std::string text = content.str();
  std::smatch port;
  if (!std::regex_search(text, port, std::regex("\"admin_port\":\"(\\d+)\""))) return -1;
  httplib::Client client("127.0.0.1", std::stoi(port[1]));
  auto reply = client.Get("/metrics");
  std::smatch value;
  if (!reply || !std::regex_search(reply->body, value, std::regex("\n" + name + " ([0-9.e+]+)"))) return -1;
  return std::stod(value[1]);
}

}  // namespace

int main(int argc, char** argv) {
  const int call_count = argc > 1 ? std::stoi(argv[1]) : 20000;
  const std::string brokers = requireEnv("TEL_KAFKA_BROKERS");
  tel::testing::TestTenant tenant(tel::testing::Platform::fromEnv(), "bench");
  const std::string topic = "bench-cdr-" + tel::testing::uniqueSuffix(8);
  if (!tel::kafka::ensureTopics(brokers, {{topic, 12, 1, {}}}, 10s).ok()) return 1;

  // 1. Fill the topic.
  const auto now = std::chrono::system_clock::now();
  size_t total_events = 0;
  {
    auto producer = tel::kafka::Producer::create({brokers, "bench", {{"queue.buffering.max.messages", "1000000"}}});
    for (int i = 0; i < call_count; ++i) {
      for (const auto& event : tel::testing::answeredCallEvents(tenant.id, "bench-" + std::to_string(i), now - 1h)) {
        while (!(*producer)->produce(topic, event.key, event.value).ok()) (*producer)->flush(100ms).IgnoreError();
        ++total_events;
      }
    }
    if (!(*producer)->flush(60s).ok()) return 1;
  }
  std::printf("topic %s: %d calls, %zu events\n", topic.c_str(), call_count, total_events);

  // 2. Anchor: consuming the same topic without doing anything with it.
  double anchor_rate = 0;
  {
    auto consumer = tel::kafka::Consumer::create({brokers, "anchor-" + topic, {topic}, "bench", {}});
    size_t seen = 0;
    const auto started = Clock::now();
    auto first = Clock::now();
    bool counting = false;
    while (seen < total_events && Clock::now() - started < 120s) {
      auto batch = (*consumer)->poll(2000, 200ms);
      if (!batch.ok() || batch->empty()) continue;
      if (!counting) {
        first = Clock::now();
        counting = true;
      }
      seen += batch->size();
      (*consumer)->commit(*batch).IgnoreError();
    }
    anchor_rate = seen / std::chrono::duration<double>(Clock::now() - first).count();
  }

  // 3. cdr-ingest from offset 0 into Postgres.
  const std::string log = "/tmp/" + topic + ".log";
  tel::testing::ChildProcess ingest(
      TEL_CDR_INGEST_BINARY, {},
      {{"TEL_CDR_INGEST_GRPC_LISTEN", "127.0.0.1:0"}, {"TEL_CDR_INGEST_ADMIN_LISTEN", "127.0.0.1:0"},
       {"TEL_CDR_INGEST_DATABASE_URL", requireEnv("TEL_PG_URL")}, {"TEL_CDR_INGEST_KAFKA_BROKERS", brokers},
       {"TEL_CDR_INGEST_KAFKA_TOPIC", topic}, {"TEL_CDR_INGEST_KAFKA_GROUP", "ingest-" + topic}},
      log);
  if (!ingest.waitForLog("\"admin_port\"", 10s)) return 1;
  // Timed from the first stored event, so that joining the consumer group is not counted.
  const auto ingest_started = Clock::now();
  auto first_stored = ingest_started;
  double stored = 0, at_first = 0;
  while (stored < total_events && Clock::now() - ingest_started < 600s) {
    std::this_thread::sleep_for(50ms);
    stored = metric(log, "tel_cdr_stored_events_total");
    if (at_first == 0 && stored > 0) {
      at_first = stored;
      first_stored = Clock::now();
    }
  }
  const double seconds = std::chrono::duration<double>(Clock::now() - first_stored).count();
  const double ingest_rate = (stored - at_first) / seconds;

  // 4. Call end -> record visible in the API, one call at a time through the stack's cdr-ingest.
  std::vector<double> latencies;
  {
    auto producer = tel::kafka::Producer::create({brokers, "bench-latency", {{"linger.ms", "0"}}});
    for (int i = 0; i < 200; ++i) {
      const std::string call_id = "latency-" + std::to_string(i) + "-" + tel::testing::uniqueSuffix(6);
      const auto events = tel::testing::answeredCallEvents(tenant.id, call_id, std::chrono::system_clock::now() - 65s);
      for (const auto& event : events) (*producer)->produce(tel::events::kCallEventsTopic, event.key, event.value).IgnoreError();
      (*producer)->flush(5s).IgnoreError();
      const auto ended = Clock::now();
      while (Clock::now() - ended < 5s) {
        auto reply = tenant.api->get("/v1/calls/" + call_id);
        if (reply.status == 200 && reply.json["complete"] == true) break;
        std::this_thread::sleep_for(2ms);
      }
      latencies.push_back(std::chrono::duration<double, std::milli>(Clock::now() - ended).count());
    }
  }
  std::sort(latencies.begin(), latencies.end());
  auto percentile = [&](double p) { return latencies[static_cast<size_t>(p * (latencies.size() - 1))]; };

  std::printf("\nevents -> call records (cores: %u)\n", std::thread::hardware_concurrency());
  std::printf("  cdr-ingest into Postgres  %10.0f events/s  (%0.f events in %.1f s)\n", ingest_rate, stored, seconds);
  std::printf("  anchor: bare Kafka read   %10.0f events/s\n", anchor_rate);
  std::printf("  ratio                     %10.2f\n", ingest_rate / anchor_rate);
  std::printf("  call end -> record in API p50 %.1f ms, p99 %.1f ms, max %.1f ms (%zu calls)\n",
              percentile(0.5), percentile(0.99), latencies.back(), latencies.size());
  ingest.stop(SIGTERM, 10s);
  return 0;
}
