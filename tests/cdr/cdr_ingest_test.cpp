// Call events through Kafka into call records, read back through the REST API and the database.
#include <httplib.h>

#include <catch2/catch.hpp>
#include <fstream>
#include <pqxx/pqxx>
#include <random>
#include <regex>
#include <thread>

#include "cdr_store.h"
#include "tel/events/call_events.h"
#include "tel/kafka/kafka.h"
#include "tel/testing/api_client.h"
#include "tel/testing/child_process.h"
#include "tel/testing/env.h"

using namespace tel::testing;
using namespace std::chrono_literals;
namespace calls = tel::calls::v1;

namespace {

// The events of one call, as sip-edge would publish them.
struct CallScript {
  explicit CallScript(std::string tenant) : tenant_id(std::move(tenant)) {}
  std::string tenant_id;
  std::string call_id = "call-" + uniqueSuffix(12);
  std::chrono::system_clock::time_point start = std::chrono::system_clock::now() - 60s;
  uint64_t sequence = 0;
  std::vector<tel::events::EncodedEvent> events;

  CallScript& add(std::chrono::milliseconds at,
                  const std::function<void(calls::CallEvent&)>& fill) {
    calls::CallEvent event;
    fill(event);
    events.push_back(
        tel::events::encodeCallEvent(tenant_id, call_id, ++sequence, event, start + at, "test"));
    return *this;
  }
  CallScript& started(calls::Direction direction, const std::string& caller,
                      const std::string& called) {
    return add(0ms, [&](calls::CallEvent& e) {
      e.mutable_call_started()->set_direction(direction);
      e.mutable_call_started()->set_caller(caller);
      e.mutable_call_started()->set_called(called);
    });
  }
  CallScript& leg(const std::string& id, const std::string& extension) {
    return add(10ms, [&](calls::CallEvent& e) {
      e.mutable_leg_created()->set_leg_id(id);
      e.mutable_leg_created()->set_extension(extension);
      e.mutable_leg_created()->set_target_kind(calls::LEG_TARGET_ACCOUNT);
    });
  }
  // An answered call: 3 s of ringing, `talk` of conversation, the caller hangs up.
  CallScript& answered(const std::string& leg_id, std::chrono::seconds talk) {
    add(200ms, [&](calls::CallEvent& e) { e.mutable_leg_ringing()->set_leg_id(leg_id); });
    add(3000ms, [&](calls::CallEvent& e) { e.mutable_leg_answered()->set_leg_id(leg_id); });
    add(3000ms + talk, [&](calls::CallEvent& e) {
      e.mutable_leg_ended()->set_leg_id(leg_id);
      e.mutable_leg_ended()->set_sip_status(200);
      e.mutable_leg_ended()->mutable_media()->set_packets_in(50 * talk.count());
    });
    return add(3001ms + talk, [&](calls::CallEvent& e) {
      e.mutable_call_ended()->set_hangup_side(calls::SIDE_CALLER);
      e.mutable_call_ended()->set_cause("normal clearing");
    });
  }
  CallScript& ended(uint32_t sip_status, std::chrono::seconds after) {
    return add(after, [&](calls::CallEvent& e) {
      e.mutable_call_ended()->set_sip_status(sip_status);
      e.mutable_call_ended()->set_hangup_side(calls::SIDE_CALLEE);
    });
  }
};

void produce(const std::string& topic, const std::vector<tel::events::EncodedEvent>& events) {
  auto producer = tel::kafka::Producer::create({requireEnv("TEL_KAFKA_BROKERS"), "test", {}});
  REQUIRE(producer.ok());
  for (const auto& event : events)
    REQUIRE((*producer)->produce(topic, event.key, event.value).ok());
  REQUIRE((*producer)->flush(20s).ok());
}

// Polls the API until the call is complete; returns it and how long that took.
std::pair<HttpResult, std::chrono::milliseconds> awaitCall(ApiClient& api,
                                                           const std::string& call_id,
                                                           std::chrono::milliseconds limit) {
  const auto started = std::chrono::steady_clock::now();
  HttpResult reply;
  while (std::chrono::steady_clock::now() - started < limit) {
    reply = api.get("/v1/calls/" + call_id);
    if (reply.status == 200 && reply.json["complete"] == true) break;
    std::this_thread::sleep_for(20ms);
  }
  return {reply, std::chrono::duration_cast<std::chrono::milliseconds>(
                     std::chrono::steady_clock::now() - started)};
}

}  // namespace

TEST_CASE("a call's events become one call record in the API within a second") {
  TestTenant tenant(Platform::fromEnv());
  CallScript call(tenant.id);
  call.started(calls::DIRECTION_INBOUND, "+380441112233", "+15550001000")
      .leg("b1", "101")
      .answered("b1", 42s);
  produce(tel::events::kCallEventsTopic, call.events);
  auto [reply, took] = awaitCall(*tenant.api, call.call_id, 5s);
  REQUIRE(reply.status == 200);
  INFO("record visible after " << took.count() << " ms");
  CHECK(took < 1000ms);
  const auto& record = reply.json;
  CHECK(record["direction"] == "inbound");
  CHECK(record["caller"] == "+380441112233");
  CHECK(record["disposition"] == "answered");
  CHECK(record["hangup_side"] == "caller");
  CHECK(record["answered_by"] == "101");
  CHECK(record["ring_seconds"] == 3);
  CHECK(record["talk_seconds"] == 42);
  REQUIRE(record["legs"].size() == 1);
  CHECK(record["legs"][0]["media"]["packets_in"] == 2100);
}

TEST_CASE("duplicated and reordered events give the same single record") {
  TestTenant tenant(Platform::fromEnv());
  CallScript call(tenant.id);
  call.started(calls::DIRECTION_INBOUND, "+380441112244", "+15550001000")
      .leg("b1", "102")
      .answered("b1", 10s);
  auto shuffled = call.events;
  shuffled.insert(shuffled.end(), call.events.begin(), call.events.end());
  std::shuffle(shuffled.begin(), shuffled.end(), std::mt19937(3));
  produce(tel::events::kCallEventsTopic, shuffled);
  auto [reply, took] = awaitCall(*tenant.api, call.call_id, 5s);
  REQUIRE(reply.status == 200);
  CHECK(reply.json["talk_seconds"] == 10);
  CHECK(reply.json["disposition"] == "answered");
  auto listed = tenant.api->get("/v1/calls");
  REQUIRE(listed.status == 200);
  CHECK(listed.json["items"].size() == 1);
}

TEST_CASE("malformed events are skipped without blocking the calls behind them") {
  TestTenant tenant(Platform::fromEnv());
  CallScript call(tenant.id);
  call.started(calls::DIRECTION_OUTBOUND, "alice", "+380501234567").ended(486, 4s);
  std::vector<tel::events::EncodedEvent> mixed = {
      {"x", call.call_id, "garbage that is not a protobuf \xff\xff"},
      {"y", call.call_id, ""},
  };
  calls::CallEvent empty;
  mixed.push_back(
      tel::events::encodeCallEvent("not-a-tenant", call.call_id, 1, empty, call.start, "test"));
  mixed.insert(mixed.end(), call.events.begin(), call.events.end());
  produce(tel::events::kCallEventsTopic, mixed);
  auto [reply, took] = awaitCall(*tenant.api, call.call_id, 5s);
  REQUIRE(reply.status == 200);
  CHECK(reply.json["disposition"] == "busy");
  CHECK(reply.json["direction"] == "outbound");
}

TEST_CASE("the call log filters, pages and refuses bad filters") {
  TestTenant tenant(Platform::fromEnv());
  CallScript inbound(tenant.id), outbound(tenant.id), internal(tenant.id);
  inbound.start = std::chrono::system_clock::now() - 3h;
  outbound.start = std::chrono::system_clock::now() - 2h;
  internal.start = std::chrono::system_clock::now() - 1h;
  inbound.started(calls::DIRECTION_INBOUND, "+380441110000", "+15550001000")
      .leg("b1", "101")
      .answered("b1", 5s);
  outbound.started(calls::DIRECTION_OUTBOUND, "alice", "+380501110000").ended(486, 3s);
  internal.started(calls::DIRECTION_INTERNAL, "alice", "102").leg("b1", "102").ended(480, 20s);
  auto all = inbound.events;
  all.insert(all.end(), outbound.events.begin(), outbound.events.end());
  all.insert(all.end(), internal.events.begin(), internal.events.end());
  produce(tel::events::kCallEventsTopic, all);
  for (auto* call : {&inbound, &outbound, &internal})
    REQUIRE(awaitCall(*tenant.api, call->call_id, 5s).first.status == 200);

  auto ids = [&](const std::string& query) {
    auto reply = tenant.api->get("/v1/calls" + query);
    REQUIRE(reply.status == 200);
    std::vector<std::string> found;
    for (const auto& item : reply.json["items"]) found.push_back(item["id"]);
    return found;
  };
  CHECK(ids("") == std::vector<std::string>{internal.call_id, outbound.call_id, inbound.call_id});
  CHECK(ids("?direction=outbound") == std::vector<std::string>{outbound.call_id});
  CHECK(ids("?disposition=no_answer") == std::vector<std::string>{internal.call_id});
  CHECK(ids("?number=%2B380441110000") == std::vector<std::string>{inbound.call_id});
  CHECK(ids("?extension=101") == std::vector<std::string>{inbound.call_id});
  CHECK(ids("?from=2000-01-01T00:00:00Z&to=2000-01-02T00:00:00Z").empty());

  auto first = tenant.api->get("/v1/calls?limit=2");
  REQUIRE(first.json["items"].size() == 2);
  auto second = tenant.api->get("/v1/calls?limit=2&page_token=" +
                                first.json["next_page_token"].get<std::string>());
  REQUIRE(second.json["items"].size() == 1);
  CHECK(second.json["items"][0]["id"] == inbound.call_id);

  for (const auto& [query, field] :
       std::vector<std::pair<std::string, std::string>>{{"?direction=sideways", "direction"},
                                                        {"?disposition=maybe", "disposition"},
                                                        {"?from=yesterday", "from"},
                                                        {"?limit=500", "limit"},
                                                        {"?page_token=zzz", "page_token"}}) {
    INFO(query);
    auto reply = tenant.api->get("/v1/calls" + query);
    CHECK(reply.status == 400);
    CHECK(reply.errorField() == field);
  }
  CHECK(tenant.api->get("/v1/calls/no-such-call").status == 404);
}

TEST_CASE("one tenant's call log never shows another's calls") {
  Platform platform = Platform::fromEnv();
  TestTenant a(platform, "calls-a");
  TestTenant b(platform, "calls-b");
  CallScript call(a.id);
  call.started(calls::DIRECTION_INBOUND, "+380441119999", "+15550001000").ended(487, 2s);
  // An event carrying B's tenant with A's call id lands in B's log alone.
  CallScript impostor(b.id);
  impostor.call_id = call.call_id;
  impostor.started(calls::DIRECTION_INBOUND, "+10000000000", "+10000000001");
  auto all = call.events;
  all.insert(all.end(), impostor.events.begin(), impostor.events.end());
  produce(tel::events::kCallEventsTopic, all);
  auto [reply, took] = awaitCall(*a.api, call.call_id, 5s);
  REQUIRE(reply.status == 200);
  CHECK(reply.json["caller"] == "+380441119999");
  CHECK(reply.json["disposition"] == "cancelled");
  for (int i = 0; i < 50 && b.api->get("/v1/calls/" + call.call_id).status != 200; ++i)
    std::this_thread::sleep_for(20ms);
  auto seen_by_b = b.api->get("/v1/calls/" + call.call_id);
  REQUIRE(seen_by_b.status == 200);
  CHECK(seen_by_b.json["caller"] == "+10000000000");
  CHECK(a.api->get("/v1/calls/" + call.call_id).json["caller"] == "+380441119999");

  // A call that only A has: B gets 404 and never sees it listed.
  CallScript only_a(a.id);
  only_a.started(calls::DIRECTION_INBOUND, "+380441118888", "+15550001000").ended(486, 1s);
  produce(tel::events::kCallEventsTopic, only_a.events);
  REQUIRE(awaitCall(*a.api, only_a.call_id, 5s).first.status == 200);
  auto foreign = b.api->get("/v1/calls/" + only_a.call_id);
  CHECK(foreign.status == 404);
  CHECK(foreign.errorCode() == "not_found");
  CHECK(b.api->get("/v1/calls?limit=200").body.find(only_a.call_id) == std::string::npos);
  CHECK(b.api->get("/v1/calls?number=%2B380441118888").json["items"].empty());
}

namespace {

// A cdr-ingest of the test's own, on its own topic and consumer group.
std::unique_ptr<ChildProcess> startIngest(const std::string& topic, const std::string& group,
                                          const std::string& log) {
  auto process = std::make_unique<ChildProcess>(
      TEL_CDR_INGEST_BINARY, std::vector<std::string>{},
      std::map<std::string, std::string>{
          {"TEL_CDR_INGEST_GRPC_LISTEN", "127.0.0.1:0"},
          {"TEL_CDR_INGEST_ADMIN_LISTEN", "127.0.0.1:0"},
          {"TEL_CDR_INGEST_DATABASE_URL", requireEnv("TEL_PG_URL")},
          {"TEL_CDR_INGEST_KAFKA_BROKERS", requireEnv("TEL_KAFKA_BROKERS")},
          {"TEL_CDR_INGEST_KAFKA_TOPIC", topic},
          {"TEL_CDR_INGEST_KAFKA_GROUP", group},
          {"TEL_CDR_INGEST_KAFKA_SESSION_TIMEOUT", "6s"},
          {"TEL_CDR_INGEST_BATCH_MAX_EVENTS", "200"}},
      log);
  REQUIRE(process->waitForLog("cdr-ingest serving", 10s));
  return process;
}

// The /metrics page of the cdr-ingest whose log is `log` (its admin port is in the log); empty
// when it cannot be read.
std::string scrapeIngest(const std::string& log) {
  std::ifstream in(log);
  std::stringstream content;
  content << in.rdbuf();
  std::smatch port;
  const std::string text = content.str();
  if (!std::regex_search(text, port, std::regex("\"admin_port\":\"(\\d+)\""))) return {};
  httplib::Client client("127.0.0.1", std::stoi(port[1]));
  auto reply = client.Get("/metrics");
  return reply ? reply->body : std::string();
}

// The value of the exposition line `series value` (-1 when absent).
double seriesValue(const std::string& log, const std::string& series) {
  const std::string body = scrapeIngest(log);
  const auto at = body.find("\n" + series + " ");
  if (at == std::string::npos) return -1;
  return std::stod(body.substr(at + series.size() + 2));
}

struct CallRows {
  size_t calls = 0, complete = 0, stored_events = 0;
  std::string fingerprint;  // every call's id, event count and last update
};

CallRows readCalls(const std::string& tenant_id) {
  pqxx::connection connection(requireEnv("TEL_PG_URL"));
  pqxx::work txn(connection);
  txn.exec_params("SELECT set_config('tel.tenant_id', $1, true)", tenant_id);
  CallRows rows;
  for (const auto& row :
       txn.exec("SELECT call_id, events, complete, updated_at::text FROM calls ORDER BY call_id")) {
    ++rows.calls;
    if (row[2].as<bool>()) ++rows.complete;
    rows.fingerprint += row[0].as<std::string>() + ":" + row[1].as<std::string>() + ":" +
                        row[3].as<std::string>() + ";";
  }
  rows.stored_events = txn.exec("SELECT count(*) FROM call_events")[0][0].as<size_t>();
  return rows;
}

}  // namespace

TEST_CASE(
    "SIGKILL mid-burst loses and duplicates nothing, and a replay from offset 0 changes nothing") {
  TestTenant tenant(Platform::fromEnv());
  const std::string topic = "test-cdr-" + uniqueSuffix(8);
  REQUIRE(tel::kafka::ensureTopics(requireEnv("TEL_KAFKA_BROKERS"), {{topic, 3, 1, {}}}, 10s).ok());
  const std::string log = "/tmp/" + topic + ".log";
  auto ingest = startIngest(topic, "cdr-" + topic, log);

  constexpr int kCalls = 200;
  std::vector<CallScript> scripts;
  for (int i = 0; i < kCalls; ++i) {
    CallScript script(tenant.id);
    script.started(calls::DIRECTION_INBOUND, "+38044" + std::to_string(1000000 + i), "+15550001000")
        .leg("b1", "101")
        .answered("b1", std::chrono::seconds(1 + i % 30));
    scripts.push_back(std::move(script));
  }
  std::thread burst([&] {
    for (int chunk = 0; chunk < 10; ++chunk) {
      std::vector<tel::events::EncodedEvent> events;
      for (int i = chunk * kCalls / 10; i < (chunk + 1) * kCalls / 10; ++i) {
        events.insert(events.end(), scripts[i].events.begin(), scripts[i].events.end());
      }
      produce(topic, events);
      std::this_thread::sleep_for(150ms);
    }
  });
  std::this_thread::sleep_for(400ms);
  CHECK(ingest->stop(SIGKILL, 5s) == 128 + SIGKILL);
  ingest = startIngest(topic, "cdr-" + topic, log + ".2");
  burst.join();

  const size_t expected_events = kCalls * 6;
  CallRows rows;
  const auto until = std::chrono::steady_clock::now() + 60s;
  while (std::chrono::steady_clock::now() < until) {
    rows = readCalls(tenant.id);
    if (rows.complete == kCalls) break;
    std::this_thread::sleep_for(100ms);
  }
  CHECK(rows.calls == kCalls);
  CHECK(rows.complete == kCalls);
  CHECK(rows.stored_events == expected_events);
  ingest->stop(SIGTERM, 10s);

  // A fresh consumer group reads the topic from the start into the same database.
  const std::string replay_log = log + ".replay";
  auto replay = startIngest(topic, "replay-" + topic, replay_log);
  const auto replay_until = std::chrono::steady_clock::now() + 60s;
  while (seriesValue(replay_log, "tel_cdr_consumed_events_total") <
             static_cast<double>(expected_events) &&
         std::chrono::steady_clock::now() < replay_until) {
    std::this_thread::sleep_for(200ms);
  }
  CHECK(seriesValue(replay_log, "tel_cdr_consumed_events_total") >=
        static_cast<double>(expected_events));
  CHECK(seriesValue(replay_log, "tel_cdr_stored_events_total") == 0);
  const CallRows after = readCalls(tenant.id);
  CHECK(after.fingerprint == rows.fingerprint);
  CHECK(after.stored_events == expected_events);
  replay->stop(SIGTERM, 10s);
}

TEST_CASE("a batch reads back only its own calls' events whatever the tenant's history") {
  // A new tenant with thousands of stored events and no statistics about it yet (autoanalyze has
  // not caught up): the state in which a "tenant_id = t AND call_id IN (...)" read-back scanned
  // every event of the tenant for each batch.
  Platform platform = Platform::fromEnv();
  TestTenant tenant(platform, "history");
  std::vector<tel::events::EncodedEvent> events;
  std::vector<std::string> call_ids;
  for (int i = 0; i < 1500; ++i) {
    CallScript call(tenant.id);
    call.started(calls::DIRECTION_INBOUND, "+380441110000", "+15550001000").ended(486, 1s);
    events.insert(events.end(), call.events.begin(), call.events.end());
    call_ids.push_back(call.call_id);
  }
  produce(tel::events::kCallEventsTopic, events);
  // The calls are spread over the topic's partitions, which cdr-ingest does not finish in order:
  // the two calls read back below are awaited themselves, not only the last one produced.
  for (const auto& call_id : {call_ids[7], call_ids[900], call_ids.back()})
    REQUIRE(awaitCall(*tenant.api, call_id, 20s).first.json["complete"] == true);

  pqxx::connection connection(requireEnv("TEL_PG_URL"));
  pqxx::work txn(connection);
  txn.exec_params("SELECT set_config('tel.tenant_id', $1, true)", tenant.id);
  const auto plan =
      txn.exec("EXPLAIN (ANALYZE, COSTS OFF) " +
               tel::cdr::storedEventsQuery(txn, tenant.id, {call_ids[7], call_ids[900]}));
  std::string text;
  for (const auto& row : plan) text += row[0].as<std::string>() + "\n";
  INFO(text);
  CHECK(text.find("call_id = touched.call_id") != std::string::npos);
  CHECK(text.find("Rows Removed by Filter") == std::string::npos);
  const auto rows =
      txn.exec(tel::cdr::storedEventsQuery(txn, tenant.id, {call_ids[7], call_ids[900]}));
  CHECK(rows.size() == 4);  // two calls, two events each
}

TEST_CASE("per-tenant call metrics count each ended call once and a replay adds nothing") {
  Platform platform = Platform::fromEnv();
  TestTenant a(platform, "metrics-a");
  TestTenant b(platform, "metrics-b");
  const std::string topic = "test-cdr-" + uniqueSuffix(8);
  REQUIRE(tel::kafka::ensureTopics(requireEnv("TEL_KAFKA_BROKERS"), {{topic, 1, 1, {}}}, 10s).ok());
  const std::string log = "/tmp/" + topic + ".log";
  auto ingest = startIngest(topic, "cdr-" + topic, log);

  CallScript answered(a.id);  // 3 s from start to answer
  answered.started(calls::DIRECTION_INBOUND, "+380441110001", "+15550001000")
      .leg("b1", "101")
      .answered("b1", 10s);
  CallScript busy(a.id);
  busy.started(calls::DIRECTION_INBOUND, "+380441110002", "+15550001000").ended(486, 1s);
  CallScript other_tenant(b.id);
  other_tenant.started(calls::DIRECTION_INBOUND, "+380441110003", "+15550002000").ended(487, 2s);
  std::vector<tel::events::EncodedEvent> events;
  for (const auto* script : {&answered, &busy, &other_tenant})
    events.insert(events.end(), script->events.begin(), script->events.end());
  produce(topic, events);

  const std::string a_answered =
      "tel_tenant_calls_total{disposition=\"answered\",tenant_id=\"" + a.id + "\"}";
  const std::string a_busy =
      "tel_tenant_calls_total{disposition=\"busy\",tenant_id=\"" + a.id + "\"}";
  const std::string b_cancelled =
      "tel_tenant_calls_total{disposition=\"cancelled\",tenant_id=\"" + b.id + "\"}";
  const std::string a_answer_time =
      "tel_tenant_time_to_answer_seconds_bucket{tenant_id=\"" + a.id + "\",le=\"3\"}";
  const auto until = std::chrono::steady_clock::now() + 20s;
  while (std::chrono::steady_clock::now() < until && seriesValue(log, b_cancelled) < 1)
    std::this_thread::sleep_for(100ms);
  CHECK(seriesValue(log, a_answered) == 1);
  CHECK(seriesValue(log, a_busy) == 1);
  CHECK(seriesValue(log, b_cancelled) == 1);
  CHECK(seriesValue(log, a_answer_time) == 1);
  CHECK(seriesValue(log, "tel_tenant_time_to_answer_seconds_count{tenant_id=\"" + b.id + "\"}") ==
        -1);

  // The same events again (a producer retry, a replay): records and metrics stay as they are.
  produce(topic, events);
  CallScript marker(b.id);  // one partition: when the marker is counted, the duplicates were read
  marker.started(calls::DIRECTION_INBOUND, "+380441110004", "+15550002000").ended(487, 2s);
  produce(topic, marker.events);
  const auto again = std::chrono::steady_clock::now() + 20s;
  while (std::chrono::steady_clock::now() < again && seriesValue(log, b_cancelled) < 2)
    std::this_thread::sleep_for(100ms);
  CHECK(seriesValue(log, b_cancelled) == 2);
  CHECK(seriesValue(log, a_answered) == 1);
  CHECK(seriesValue(log, a_busy) == 1);
}
