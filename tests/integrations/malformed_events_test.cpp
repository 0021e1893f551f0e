// The integrations service against malformed call events on Kafka: each is skipped and counted, and
// the valid call behind them in the same partition still reaches the tenant's webhook endpoint.
#include <httplib.h>

#include <catch2/catch.hpp>
#include <condition_variable>
#include <mutex>
#include <sstream>
#include <thread>

#include "tel/events/call_events.h"
#include "tel/kafka/kafka.h"
#include "tel/testing/api_client.h"
#include "tel/testing/env.h"
#include "tel/testing/synthetic_calls.h"

using namespace std::chrono_literals;
using namespace tel::testing;
using nlohmann::json;

namespace {

// integrations' admin URL from TEL_ADMIN_URLS ("name=url name=url ...").
std::string integrationsAdminUrl() {
  std::istringstream urls(requireEnv("TEL_ADMIN_URLS"));
  for (std::string item; urls >> item;) {
    if (item.rfind("integrations=", 0) == 0) return item.substr(13);
  }
  FAIL("no integrations admin URL in TEL_ADMIN_URLS");
  return "";
}

double rejectedEvents() {
  httplib::Client admin(integrationsAdminUrl());
  auto metrics = admin.Get("/metrics");
  REQUIRE(metrics);
  std::istringstream lines(metrics->body);
  for (std::string line; std::getline(lines, line);) {
    if (line.rfind("tel_webhooks_rejected_call_events_total ", 0) == 0) return std::stod(line.substr(line.find(' ')));
  }
  FAIL("tel_webhooks_rejected_call_events_total is not exported");
  return 0;
}

// A webhook endpoint on the one loopback address the local stack allows (127.0.0.99).
class Receiver {
 public:
  Receiver() {
    server_.Post("/hook", [this](const httplib::Request& request, httplib::Response& response) {
      std::lock_guard lock(mutex_);
      bodies_.push_back(json::parse(request.body, nullptr, false));
      changed_.notify_all();
      response.status = 204;
    });
    port_ = server_.bind_to_any_port("127.0.0.99");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
  }
  ~Receiver() {
    server_.stop();
    thread_.join();
  }
  int port() const { return port_; }
  // Waits until the endpoint got every type in `types` for the call; returns the types it got.
  std::set<std::string> awaitTypes(const std::string& call_id, const std::set<std::string>& types,
                                   std::chrono::seconds limit) {
    std::unique_lock lock(mutex_);
    std::set<std::string> got;
    changed_.wait_for(lock, limit, [&] {
      got.clear();
      for (const auto& body : bodies_) {
        if (body.is_object() && body.value("call_id", "") == call_id) got.insert(body.value("type", ""));
      }
      return std::includes(got.begin(), got.end(), types.begin(), types.end());
    });
    return got;
  }

 private:
  httplib::Server server_;
  int port_ = 0;
  std::thread thread_;
  std::mutex mutex_;
  std::condition_variable changed_;
  std::vector<json> bodies_;  // guarded by mutex_
};

}  // namespace

TEST_CASE("malformed call events are skipped and counted and the call behind them is delivered") {
  TestTenant tenant(Platform::fromEnv(), "malformed");
  Receiver receiver;
  REQUIRE(receiver.port() > 0);
  auto subscription = tenant.api->post(
      "/v1/webhooks", {{"url", "http://127.0.0.99:" + std::to_string(receiver.port()) + "/hook"},
                       {"event_types", {"call.started", "call.ended"}}});
  REQUIRE(subscription.status == 201);
  const double rejected_before = rejectedEvents();

  const std::string call_id = "malformed-" + uniqueSuffix(12);
  tel::calls::v1::CallEvent empty;
  std::vector<tel::events::EncodedEvent> events = {
      {"x1", call_id, "garbage that is not a protobuf \xff\xff"},
      {"x2", call_id, ""},
      tel::events::encodeCallEvent("not-a-tenant", call_id, 1, empty, std::chrono::system_clock::now(), "test"),
  };
  // Same key, same partition: the valid call waits behind the bad events.
  for (auto& event : answeredCallEvents(tenant.id, call_id, std::chrono::system_clock::now() - 64s)) {
    events.push_back(std::move(event));
  }
  auto producer = tel::kafka::Producer::create({requireEnv("TEL_KAFKA_BROKERS"), "malformed-test", {}});
  REQUIRE(producer.ok());
  for (const auto& event : events) REQUIRE((*producer)->produce(tel::events::kCallEventsTopic, event.key, event.value).ok());
  REQUIRE((*producer)->flush(20s).ok());

  const auto got = receiver.awaitTypes(call_id, {"call.started", "call.ended"}, 20s);
  CHECK(got == std::set<std::string>{"call.started", "call.ended"});
  CHECK(rejectedEvents() >= rejected_before + 3);
}
