// Webhooks: deliveries per second from call events in Kafka to a local HTTP receiver, through the
// stack's integrations service (ingest, Postgres, call record lookup, signing, libcurl), beside the
// anchor: a bare libcurl multi sender POSTing as many bodies of the same size to the same
// receiver (what HTTP alone costs here). Then call end -> call.ended received, one call at a time.
//
// Needs the local stack (./tel up; its integrations allows receivers on 127.0.0.99); run through
// bench/run webhooks [calls] [tenants].
#include <curl/curl.h>
#include <httplib.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <mutex>
#include <nlohmann/json.hpp>
#include <set>
#include <thread>

#include "tel/kafka/kafka.h"
#include "tel/testing/api_client.h"
#include "tel/testing/env.h"
#include "tel/testing/synthetic_calls.h"

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
using tel::testing::requireEnv;

namespace {

// Counts what arrives; remembers when each call's call.ended came.
struct Receiver {
  httplib::Server server;
  std::mutex mutex;
  std::set<std::string> ids;
  std::map<std::string, Clock::time_point> ended_at;  // call id -> call.ended received
  Clock::time_point first{}, last{};
  std::atomic<size_t> requests{0};
  int port = 0;
  std::thread thread;

  Receiver() {
    server.Post("/hook", [this](const httplib::Request& request, httplib::Response& response) {
      const auto now = Clock::now();
      std::string call_id, type;
      try {
        const auto body = nlohmann::json::parse(request.body);
        type = body.value("type", "");
        if (body["call_id"].is_string()) call_id = body["call_id"];
      } catch (const std::exception&) {
      }
      {
        std::lock_guard lock(mutex);
        if (ids.insert(request.get_header_value("webhook-id")).second) {
          if (ids.size() == 1) first = now;
          last = now;
        }
        if (type == "call.ended") ended_at.emplace(call_id, now);
      }
      ++requests;
      response.set_content("ok", "text/plain");
    });
    server.Post("/bare", [this](const httplib::Request&, httplib::Response& response) {
      ++requests;
      response.set_content("ok", "text/plain");
    });
    // A thread per connection while it is kept alive: more than the sender ever opens.
    server.new_task_queue = [] { return new httplib::ThreadPool(64); };
    // Headers and body go out in two writes: without this, Nagle and the client's delayed ACK hold
    // every answer 40 ms, and the benchmark would measure that.
    server.set_tcp_nodelay(true);
    port = server.bind_to_any_port("127.0.0.99");
    thread = std::thread([this] { server.listen_after_bind(); });
  }
  ~Receiver() {
    server.stop();
    thread.join();
  }
  size_t unique() {
    std::lock_guard lock(mutex);
    return ids.size();
  }
};

// The anchor: `count` POSTs of `body` through one libcurl multi handle, `concurrency` at a time.
double bareSender(const std::string& url, const std::string& body, size_t count, int concurrency) {
  CURLM* multi = curl_multi_init();
  curl_slist* headers = curl_slist_append(nullptr, "Content-Type: application/json");
  headers = curl_slist_append(headers, "Expect:");
  size_t started = 0, done = 0;
  auto add = [&] {
    CURL* easy = curl_easy_init();
    curl_easy_setopt(easy, CURLOPT_URL, url.c_str());
    curl_easy_setopt(easy, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(easy, CURLOPT_POSTFIELDS, body.data());
    curl_easy_setopt(easy, CURLOPT_POSTFIELDSIZE, static_cast<long>(body.size()));
    curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, +[](char*, size_t size, size_t n, void*) { return size * n; });
    curl_multi_add_handle(multi, easy);
    ++started;
  };
  const auto begin = Clock::now();
  while (started < count && started < static_cast<size_t>(concurrency)) add();
  while (done < count) {
    int running = 0;
    curl_multi_perform(multi, &running);
    int queued = 0;
    while (CURLMsg* message = curl_multi_info_read(multi, &queued)) {
      if (message->msg != CURLMSG_DONE) continue;
      curl_multi_remove_handle(multi, message->easy_handle);
      curl_easy_cleanup(message->easy_handle);
      ++done;
      if (started < count) add();
    }
    curl_multi_poll(multi, nullptr, 0, 50, nullptr);
  }
  const double seconds = std::chrono::duration<double>(Clock::now() - begin).count();
  curl_slist_free_all(headers);
  curl_multi_cleanup(multi);
  return static_cast<double>(count) / seconds;
}

}  // namespace

int main(int argc, char** argv) {
  const int call_count = argc > 1 ? std::stoi(argv[1]) : 2000;
  const int tenant_count = argc > 2 ? std::stoi(argv[2]) : 4;
  curl_global_init(CURL_GLOBAL_DEFAULT);
  const std::string brokers = requireEnv("TEL_KAFKA_BROKERS");
  Receiver receiver;
  const std::string hook = "http://127.0.0.99:" + std::to_string(receiver.port) + "/hook";

  // Tenants, each with one subscription to the four events of an answered call.
  std::vector<std::unique_ptr<tel::testing::TestTenant>> tenants;
  for (int t = 0; t < tenant_count; ++t) {
    tenants.push_back(std::make_unique<tel::testing::TestTenant>(tel::testing::Platform::fromEnv(), "bench"));
    auto created = tenants.back()->api->post(
        "/v1/webhooks", {{"url", hook}, {"event_types", {"call.started", "call.ringing", "call.answered", "call.ended"}}});
    if (created.status != 201) {
      std::fprintf(stderr, "cannot subscribe: %d %s\n", created.status, created.body.c_str());
      return 1;
    }
  }

  // 1. Throughput: every call's events published at once, call ends dated now.
  auto producer = tel::kafka::Producer::create({brokers, "bench-webhooks", {{"linger.ms", "5"}}});
  if (!producer.ok()) return 1;
  const std::string run = tel::testing::uniqueSuffix(6);
  const auto start = std::chrono::system_clock::now() - 64001ms;
  for (int i = 0; i < call_count; ++i) {
    const auto& tenant = *tenants[static_cast<size_t>(i % tenant_count)];
    for (const auto& event : tel::testing::answeredCallEvents(tenant.id, "wh-" + run + "-" + std::to_string(i), start)) {
      (*producer)->produce(tel::events::kCallEventsTopic, event.key, event.value).IgnoreError();
    }
  }
  (*producer)->flush(30s).IgnoreError();
  const size_t expected = static_cast<size_t>(call_count) * 4;
  const auto published = Clock::now();
  while (receiver.unique() < expected && Clock::now() - published < 600s) std::this_thread::sleep_for(50ms);
  const size_t delivered = receiver.unique();
  double rate = 0;
  {
    std::lock_guard lock(receiver.mutex);
    rate = static_cast<double>(delivered) / std::chrono::duration<double>(receiver.last - receiver.first).count();
  }
  const size_t requests_before_anchor = receiver.requests;

  // 2. The anchor: as many bare POSTs of a call.ended-sized body (the largest) to the same receiver.
  const std::string body(1300, 'x');
  const double anchor = bareSender("http://127.0.0.99:" + std::to_string(receiver.port) + "/bare", body,
                                   expected, 16);

  // 3. Call end -> call.ended received, one call at a time (includes Kafka, cdr-ingest writing the
  // record, integrations reading it, and the delivery).
  std::vector<double> latencies;
  for (int i = 0; i < 100; ++i) {
    const std::string call_id = "wh-latency-" + run + "-" + std::to_string(i);
    const auto events = tel::testing::answeredCallEvents(tenants[0]->id, call_id, std::chrono::system_clock::now() - 64001ms);
    for (const auto& event : events) (*producer)->produce(tel::events::kCallEventsTopic, event.key, event.value).IgnoreError();
    (*producer)->flush(5s).IgnoreError();
    const auto ended = Clock::now();
    while (Clock::now() - ended < 10s) {
      {
        std::lock_guard lock(receiver.mutex);
        if (auto found = receiver.ended_at.find(call_id); found != receiver.ended_at.end()) {
          latencies.push_back(std::chrono::duration<double, std::milli>(found->second - ended).count());
          break;
        }
      }
      std::this_thread::sleep_for(1ms);
    }
  }
  std::sort(latencies.begin(), latencies.end());
  auto percentile = [&](double p) { return latencies.empty() ? -1.0 : latencies[static_cast<size_t>(p * (latencies.size() - 1))]; };

  std::printf("\nwebhooks (cores: %u)\n", std::thread::hardware_concurrency());
  std::printf("  call events -> webhooks received %8.0f deliveries/s  (%zu of %zu, %d tenants, %zu requests)\n", rate,
              delivered, expected, tenant_count, requests_before_anchor);
  std::printf("  anchor: bare libcurl multi POSTs  %8.0f requests/s  (16 at a time, 1,300-byte bodies)\n", anchor);
  std::printf("  ratio                             %8.2f\n", rate / anchor);
  std::printf("  call end -> call.ended received   p50 %.1f ms, p99 %.1f ms, max %.1f ms (%zu calls, target p99 < 500 ms)\n",
              percentile(0.5), percentile(0.99), latencies.empty() ? -1.0 : latencies.back(), latencies.size());
  curl_global_cleanup();
  return delivered == expected ? 0 : 1;
}
