// Reports through the REST API over a fixed data set of call records, checked against figures
// computed by hand. The data set sits in the Europe/Kyiv time zone (UTC+2 in November) around
// midnights, so that a report reading days in UTC instead would count differently; it has repeated
// callers, callbacks, a call spanning midnight, an internal call and a call still in progress.
#include <algorithm>
#include <catch2/catch.hpp>
#include <chrono>
#include <thread>
#include <pqxx/pqxx>

#include "tel/testing/api_client.h"
#include "tel/testing/env.h"

namespace {

using nlohmann::json;
using tel::testing::Platform;
using tel::testing::requireEnv;
using tel::testing::TestTenant;

constexpr int kInbound = 1, kOutbound = 2, kInternal = 3;
constexpr int kAnswered = 1, kBusy = 2, kNoAnswer = 3, kFailed = 4, kCancelled = 5;

const std::string kMainNumber = "+15550009001";
const std::string kSecondNumber = "+15550009002";

struct Leg {
  std::string account;  // the test's name of the SIP account ("anna", "boris")
  bool answered = false;
};

struct CallRow {
  std::string id;
  int direction = kInbound;
  std::string caller;  // a number, or for outbound and internal calls the caller's account name
  std::string called;
  std::string started_at;  // UTC
  int ring_seconds = 0;
  int talk_seconds = 0;
  int disposition = kAnswered;
  std::vector<Leg> legs;
  bool complete = true;
};

// A tenant with two SIP accounts (Anna 201, Boris 202) and call records written straight into
// Postgres, as cdr-ingest would have written them, under the tenant's row-level security.
struct ReportTenant {
  TestTenant tenant;
  std::map<std::string, std::string> account_ids;  // name -> id
  std::map<std::string, std::string> extensions;   // name -> extension

  ReportTenant(const std::string& timezone, std::vector<std::pair<std::string, std::string>> accounts)
      : tenant(Platform::fromEnv(), "reports", timezone) {
    for (const auto& [name, extension] : accounts) {
      auto created = tenant.api->post("/v1/sip-accounts", {{"username", name + tel::testing::uniqueSuffix(4)},
                                                            {"extension", extension},
                                                            {"display_name", name}});
      REQUIRE(created.status == 201);
      account_ids[name] = created.json["id"];
      extensions[name] = extension;
    }
  }

  // Writes the records, or new versions of them (as cdr-ingest's upserts do).
  void insert(const std::vector<CallRow>& calls) {
    pqxx::connection connection(requireEnv("TEL_PG_URL"));
    pqxx::work txn(connection);
    txn.exec_params("SELECT set_config('tel.tenant_id', $1, true)", tenant.id);
    for (const auto& call : calls) {
      std::string answered_leg, answered_by, caller_account;
      if (call.direction != kInbound) caller_account = account_ids.at(call.caller);
      int position = 0;
      for (const auto& leg : call.legs) {
        const std::string leg_id = call.id + "-" + leg.account;
        if (leg.answered) {
          answered_leg = leg_id;
          answered_by = extensions.at(leg.account);
        }
        txn.exec_params(
            "INSERT INTO call_legs (tenant_id, call_id, leg_id, position, target_kind, target,"
            " account_id, extension, created_at, answered_at)"
            " VALUES ($1, $2, $3, $4, 1, $5, $6, $5, $7::timestamptz,"
            "  CASE WHEN $8 THEN $7::timestamptz + make_interval(secs => $9) END)"
            " ON CONFLICT (tenant_id, call_id, leg_id) DO UPDATE SET answered_at = EXCLUDED.answered_at",
            tenant.id, call.id, leg_id, position++, extensions.at(leg.account),
            account_ids.at(leg.account), call.started_at, leg.answered, call.ring_seconds);
      }
      txn.exec_params(
          "INSERT INTO calls (tenant_id, call_id, direction, caller, called, caller_account_id,"
          " started_at, answered_at, ended_at, ring_seconds, talk_seconds, disposition,"
          " answered_leg_id, answered_by, complete)"
          " VALUES ($1, $2, $3, $4, $5, $6, $7::timestamptz,"
          "  CASE WHEN $10 = 1 THEN $7::timestamptz + make_interval(secs => $8) END,"
          "  CASE WHEN $13 THEN $7::timestamptz + make_interval(secs => $8 + $9) END,"
          "  $8, $9, $10, $11, $12, $13)"
          " ON CONFLICT (tenant_id, call_id) DO UPDATE SET answered_at = EXCLUDED.answered_at,"
          "  ended_at = EXCLUDED.ended_at, ring_seconds = EXCLUDED.ring_seconds,"
          "  talk_seconds = EXCLUDED.talk_seconds, disposition = EXCLUDED.disposition,"
          "  answered_leg_id = EXCLUDED.answered_leg_id, answered_by = EXCLUDED.answered_by,"
          "  complete = EXCLUDED.complete",
          tenant.id, call.id, call.direction, call.caller, call.called, caller_account,
          call.started_at, call.ring_seconds, call.talk_seconds,
          call.complete ? call.disposition : 0, answered_leg, answered_by, call.complete);
    }
    txn.commit();
  }

  // Attributes complete calls to a tracked source, as if call tracking had done it.
  void attribute(const std::vector<std::string>& call_ids, const std::string& source, const std::string& medium,
                 const std::string& campaign, const std::string& term) {
    pqxx::connection connection(requireEnv("TEL_PG_URL"));
    pqxx::work txn(connection);
    txn.exec_params("SELECT set_config('tel.tenant_id', $1, true)", tenant.id);
    for (const auto& id : call_ids) {
      txn.exec_params("UPDATE calls SET attributed = true, utm_source = $2, utm_medium = $3, utm_campaign = $4,"
                      " utm_term = $5 WHERE call_id = $1",
                      id, source, medium, campaign, term);
    }
    txn.commit();
  }

  tel::testing::HttpResult report(const std::string& path) { return tenant.api->get("/v1/reports/" + path); }
};

// Times are UTC; the comments give Kyiv's local time (UTC+2), which is what the reports use.
std::vector<CallRow> kyivCalls() {
  return {
      // Sun 8 Nov 23:59 local: a minute before the period.
      {"c10", kInbound, "+380500000010", kMainNumber, "2026-11-08T21:59:00Z", 3, 10, kAnswered, {{"anna", true}}},
      // Mon 9 Nov 00:30 local, while still Sunday in UTC: inside the period.
      {"c12", kInbound, "+380506666666", kMainNumber, "2026-11-08T22:30:00Z", 2, 20, kAnswered, {{"boris", true}}},
      {"c1", kInbound, "+380501111111", kMainNumber, "2026-11-09T07:00:00Z", 5, 60, kAnswered, {{"anna", true}}},
      // A client who is missed twice, then called back by Boris.
      {"c2", kInbound, "+380502222222", kMainNumber, "2026-11-09T08:15:00Z", 30, 0, kNoAnswer, {{"anna"}, {"boris"}}},
      {"c3", kInbound, "+380502222222", kMainNumber, "2026-11-09T12:00:00Z", 10, 0, kCancelled, {{"anna"}}},
      {"c4", kOutbound, "boris", "+380502222222", "2026-11-09T13:00:00Z", 8, 120, kAnswered, {}},
      // Mon 23:59 local, missed; the client calls again at Tue 00:30 local and Boris answers.
      {"c5", kInbound, "+380503333333", kMainNumber, "2026-11-09T21:59:00Z", 0, 0, kBusy, {{"boris"}}},
      {"c6", kInbound, "+380503333333", kMainNumber, "2026-11-09T22:30:00Z", 12, 30, kAnswered, {{"boris", true}}},
      {"c14", kInternal, "anna", "202", "2026-11-10T09:00:00Z", 3, 15, kAnswered, {{"boris", true}}},
      {"c13", kInbound, "+380509999999", kMainNumber, "2026-11-10T10:00:00Z", 0, 0, kAnswered, {{"anna"}}, false},
      {"c15", kOutbound, "anna", "+380507777777", "2026-11-10T11:00:00Z", 20, 0, kNoAnswer, {}},
      // Tue 16:00 local, failed before any leg; nobody ever reaches this client again.
      {"c17", kInbound, "+380508888888", kMainNumber, "2026-11-10T14:00:00Z", 0, 0, kFailed, {}},
      // Tue 23:50 local, talks across midnight: counts on Tuesday.
      {"c7", kInbound, "+380504444444", kMainNumber, "2026-11-10T21:50:00Z", 4, 1200, kAnswered, {{"anna", true}}},
      {"c8", kInbound, "+380505555555", kMainNumber, "2026-11-11T09:00:00Z", 25, 0, kNoAnswer, {{"anna"}}},
      {"c9", kInbound, "+380504444444", kSecondNumber, "2026-11-11T10:00:00Z", 6, 45, kAnswered, {{"anna", true}}},
      // Thu 12 Nov 00:00 local, still Wednesday in UTC: after the period.
      {"c11", kInbound, "+380500000011", kMainNumber, "2026-11-11T22:00:00Z", 3, 10, kAnswered, {{"anna", true}}},
      // Nine days later Anna calls back the client of c8: processed, though outside the period.
      {"c16", kOutbound, "anna", "+380505555555", "2026-11-20T10:00:00Z", 5, 30, kAnswered, {}},
  };
}

const std::string kPeriod = "from=2026-11-09&to=2026-11-11";

json row(const json& report, size_t index) { return report["rows"].at(index); }

}  // namespace

TEST_CASE("reports count a fixed data set as computed by hand, in the tenant's time zone") {
  ReportTenant kyiv("Europe/Kyiv", {{"anna", "201"}, {"boris", "202"}});
  kyiv.insert(kyivCalls());
  // Another tenant with its own calls, among them an answered call to the client Kyiv never
  // reached (c17): it must neither appear in Kyiv's figures nor process Kyiv's missed call.
  ReportTenant other("UTC", {{"olga", "201"}});
  other.insert({{"o1", kInbound, "+380508888888", kMainNumber, "2026-11-10T10:00:00Z", 7, 70, kAnswered, {{"olga", true}}},
                {"o2", kOutbound, "olga", "+380508888888", "2026-11-10T15:00:00Z", 1, 10, kAnswered, {}}});

  SECTION("incoming calls per day") {
    auto reply = kyiv.report("incoming?" + kPeriod);
    REQUIRE(reply.status == 200);
    const json& report = reply.json;
    CHECK(report["timezone"] == "Europe/Kyiv");
    CHECK(report["from"] == "2026-11-09");
    CHECK(report["to"] == "2026-11-11");
    REQUIRE(report["rows"].size() == 3);
    CHECK(row(report, 0) == json{{"day", "2026-11-09"}, {"received", 5}, {"answered", 2}, {"missed", 3},
                                 {"answered_share", 0.4}, {"average_time_to_answer_seconds", 3.5}});
    CHECK(row(report, 1) == json{{"day", "2026-11-10"}, {"received", 3}, {"answered", 2}, {"missed", 1},
                                 {"answered_share", 0.6667}, {"average_time_to_answer_seconds", 8.0}});
    CHECK(row(report, 2) == json{{"day", "2026-11-11"}, {"received", 2}, {"answered", 1}, {"missed", 1},
                                 {"answered_share", 0.5}, {"average_time_to_answer_seconds", 6.0}});
    CHECK(report["summary"] == json{{"received", 10}, {"answered", 5}, {"missed", 5},
                                    {"answered_share", 0.5}, {"average_time_to_answer_seconds", 5.8}});
  }

  SECTION("incoming calls to one number, and those that rang one employee") {
    auto by_number = kyiv.report("incoming?" + kPeriod + "&number=" + kSecondNumber);
    REQUIRE(by_number.status == 200);
    CHECK(by_number.json["summary"]["received"] == 1);
    CHECK(row(by_number.json, 2)["answered"] == 1);
    CHECK(row(by_number.json, 0)["received"] == 0);
    CHECK(row(by_number.json, 0)["average_time_to_answer_seconds"].is_null());

    auto by_boris = kyiv.report("incoming?" + kPeriod + "&extension=202");
    REQUIRE(by_boris.status == 200);
    CHECK(row(by_boris.json, 0)["received"] == 3);  // c12, c2, c5
    CHECK(row(by_boris.json, 0)["answered"] == 1);
    CHECK(row(by_boris.json, 1)["received"] == 1);  // c6
    CHECK(by_boris.json["summary"]["received"] == 4);
    CHECK(by_boris.json["summary"]["answered"] == 2);
  }

  SECTION("distribution by weekday and hour") {
    auto reply = kyiv.report("distribution?" + kPeriod);
    REQUIRE(reply.status == 200);
    const auto& rows = reply.json["rows"];
    REQUIRE(rows.size() == 7 * 24);
    // weekday (Monday = 1), hour -> received, answered, missed
    const std::map<std::pair<int, int>, std::array<int, 3>> expected = {
        {{1, 0}, {1, 1, 0}},  {{1, 9}, {1, 1, 0}},  {{1, 10}, {1, 0, 1}}, {{1, 14}, {1, 0, 1}},
        {{1, 23}, {1, 0, 1}}, {{2, 0}, {1, 1, 0}},  {{2, 16}, {1, 0, 1}}, {{2, 23}, {1, 1, 0}},
        {{3, 11}, {1, 0, 1}}, {{3, 12}, {1, 1, 0}}};
    for (size_t i = 0; i < rows.size(); ++i) {
      const int weekday = rows[i]["weekday"], hour = rows[i]["hour"];
      CHECK(weekday == static_cast<int>(i / 24) + 1);
      CHECK(hour == static_cast<int>(i % 24));
      auto found = expected.find({weekday, hour});
      const std::array<int, 3> counts = found == expected.end() ? std::array<int, 3>{0, 0, 0} : found->second;
      INFO("weekday " << weekday << " hour " << hour);
      CHECK(rows[i]["received"] == counts[0]);
      CHECK(rows[i]["answered"] == counts[1]);
      CHECK(rows[i]["missed"] == counts[2]);
    }
    CHECK(reply.json["summary"] == json{{"received", 10}, {"answered", 5}, {"missed", 5}});
  }

  SECTION("missed calls and who processed them") {
    auto reply = kyiv.report("missed?" + kPeriod);
    REQUIRE(reply.status == 200);
    const auto& rows = reply.json["rows"];
    REQUIRE(rows.size() == 5);
    const std::string c4_answered = "2026-11-09T15:00:08+02:00";
    CHECK(rows[0] == json{{"call_id", "c2"}, {"started_at", "2026-11-09T10:15:00+02:00"},
                          {"caller", "+380502222222"}, {"number", kMainNumber}, {"disposition", "no_answer"},
                          {"ring_seconds", 30}, {"processed", true}, {"processed_at", c4_answered},
                          {"processed_how", "called_back"}, {"processed_by", "202"},
                          {"processed_call_id", "c4"}});
    CHECK(rows[1]["call_id"] == "c3");
    CHECK(rows[1]["disposition"] == "cancelled");
    CHECK(rows[1]["processed_call_id"] == "c4");
    CHECK(rows[2]["call_id"] == "c5");
    CHECK(rows[2]["started_at"] == "2026-11-09T23:59:00+02:00");
    CHECK(rows[2]["processed_how"] == "answered_again");
    CHECK(rows[2]["processed_by"] == "202");
    CHECK(rows[2]["processed_at"] == "2026-11-10T00:30:12+02:00");
    CHECK(rows[3] == json{{"call_id", "c17"}, {"started_at", "2026-11-10T16:00:00+02:00"},
                          {"caller", "+380508888888"}, {"number", kMainNumber}, {"disposition", "failed"},
                          {"ring_seconds", 0}, {"processed", false}, {"processed_at", nullptr},
                          {"processed_how", nullptr}, {"processed_by", nullptr},
                          {"processed_call_id", nullptr}});
    CHECK(rows[4]["call_id"] == "c8");
    CHECK(rows[4]["processed_by"] == "201");
    CHECK(rows[4]["processed_call_id"] == "c16");
    CHECK(reply.json["summary"] ==
          json{{"missed", 5}, {"processed", 4}, {"unprocessed", 1}, {"unprocessed_clients", 1}});
    CHECK(reply.json["truncated"] == false);

    auto unprocessed = kyiv.report("missed?" + kPeriod + "&unprocessed=true");
    REQUIRE(unprocessed.status == 200);
    REQUIRE(unprocessed.json["rows"].size() == 1);
    CHECK(unprocessed.json["rows"][0]["call_id"] == "c17");
    CHECK(unprocessed.json["summary"]["missed"] == 1);
  }

  SECTION("per employee") {
    auto reply = kyiv.report("employees?" + kPeriod);
    REQUIRE(reply.status == 200);
    const auto& rows = reply.json["rows"];
    REQUIRE(rows.size() == 2);
    CHECK(rows[0] == json{{"account_id", kyiv.account_ids["anna"]}, {"extension", "201"}, {"name", "anna"},
                          {"received", 6}, {"answered", 3}, {"missed", 3}, {"outbound", 1},
                          {"outbound_answered", 0}, {"average_time_to_answer_seconds", 5.0},
                          {"talk_seconds", 1305}});
    CHECK(rows[1] == json{{"account_id", kyiv.account_ids["boris"]}, {"extension", "202"}, {"name", "boris"},
                          {"received", 5}, {"answered", 3}, {"missed", 2}, {"outbound", 1},
                          {"outbound_answered", 1}, {"average_time_to_answer_seconds", 5.7},
                          {"talk_seconds", 185}});
    auto only_boris = kyiv.report("employees?" + kPeriod + "&extension=202");
    REQUIRE(only_boris.status == 200);
    REQUIRE(only_boris.json["rows"].size() == 1);
    CHECK(only_boris.json["rows"][0]["extension"] == "202");
  }

  SECTION("CSV export") {
    auto incoming = kyiv.report("incoming?" + kPeriod + "&format=csv");
    REQUIRE(incoming.status == 200);
    CHECK(incoming.header("Content-Type").rfind("text/csv", 0) == 0);
    CHECK(incoming.header("Content-Disposition") ==
          "attachment; filename=\"incoming-2026-11-09-2026-11-11.csv\"");
    CHECK(incoming.body ==
          "day,received,answered,missed,answered_share,average_time_to_answer_seconds\r\n"
          "2026-11-09,5,2,3,0.4,3.5\r\n"
          "2026-11-10,3,2,1,0.6667,8\r\n"
          "2026-11-11,2,1,1,0.5,6\r\n");
    auto missed = kyiv.report("missed?" + kPeriod + "&unprocessed=true&format=csv");
    REQUIRE(missed.status == 200);
    CHECK(missed.body.find("\r\nc17,2026-11-10T16:00:00+02:00,+380508888888," + kMainNumber +
                           ",failed,0,false,,,,\r\n") != std::string::npos);
  }

  SECTION("target calls: each client's first call of a deal with a talk time within the bounds") {
    auto reply = kyiv.report("target?" + kPeriod);
    REQUIRE(reply.status == 200);
    auto ids = [](const json& report) {
      std::vector<std::string> out;
      for (const auto& item : report["rows"]) out.push_back(item["call_id"]);
      return out;
    };
    // 15 s < talk < 300 s: c7 talks 1200 s, so the same client's c9 the next day is a deal's first.
    CHECK(ids(reply.json) == std::vector<std::string>{"c12", "c1", "c6", "c9"});
    CHECK(reply.json["rows"][3] == json{{"call_id", "c9"}, {"started_at", "2026-11-11T12:00:00+02:00"},
                                        {"caller", "+380504444444"}, {"number", kSecondNumber},
                                        {"talk_seconds", 45}, {"answered_by", "201"}, {"utm_source", ""},
                                        {"utm_medium", ""}, {"utm_campaign", ""}, {"keyword", ""}});
    CHECK(reply.json["summary"] == json{{"target_calls", 4}, {"clients", 4}, {"tracked_target_calls", 0}});

    auto defaults = kyiv.tenant.api->get("/v1/report-settings");
    CHECK(defaults.json == json{{"target_min_talk_seconds", 15}, {"target_max_talk_seconds", 300},
                                {"deal_window_days", 30}});
    auto changed = kyiv.tenant.api->patch("/v1/report-settings", {{"target_max_talk_seconds", 1300}});
    REQUIRE(changed.status == 200);
    CHECK(changed.json["target_max_talk_seconds"] == 1300);
    CHECK(changed.json["target_min_talk_seconds"] == 15);
    // Now c7 begins the deal and c9, within its 30 days, is not a target call.
    CHECK(ids(kyiv.report("target?" + kPeriod).json) == std::vector<std::string>{"c12", "c1", "c6", "c7"});
    // A deal begun before the period still covers it: from Wednesday on, c9 stays out.
    CHECK(ids(kyiv.report("target?from=2026-11-11&to=2026-11-11").json).empty());
    CHECK(ids(kyiv.report("target?" + kPeriod + "&number=" + kSecondNumber).json).empty());
    // Those came from the calls: the stored target calls are stale until analytics' maintenance
    // round (every 30 s) recomputes them. Then they say the same.
    pqxx::connection connection(requireEnv("TEL_PG_URL"));
    const auto stale = [&] {
      pqxx::work txn(connection);
      txn.exec_params("SELECT set_config('tel.tenant_id', $1, true)", kyiv.tenant.id);
      return txn.exec("SELECT settings_version <> target_calls_version FROM report_settings")[0][0].as<bool>();
    };
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(45);
    while (stale() && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(500));
    }
    REQUIRE_FALSE(stale());
    CHECK(ids(kyiv.report("target?" + kPeriod).json) == std::vector<std::string>{"c12", "c1", "c6", "c7"});
    CHECK(ids(kyiv.report("target?from=2026-11-11&to=2026-11-11").json).empty());
    CHECK(ids(kyiv.report("target?" + kPeriod + "&number=" + kSecondNumber).json).empty());

    auto refused = kyiv.tenant.api->patch("/v1/report-settings", {{"target_max_talk_seconds", 10}});
    CHECK(refused.status == 400);
    CHECK(refused.errorField() == "target_max_talk_seconds");
    CHECK(kyiv.tenant.api->get("/v1/report-settings").json["target_max_talk_seconds"] == 1300);
    CHECK(other.tenant.api->get("/v1/report-settings").json["target_max_talk_seconds"] == 300);
  }

  SECTION("custom reports: saved call-log filters with chosen columns") {
    auto& api = *kyiv.tenant.api;
    auto saved = api.post("/v1/custom-reports",
                          {{"name", "unanswered on the main line"}, {"direction", "inbound"},
                           {"disposition", "no_answer"}, {"numbers", json::array({kMainNumber})},
                           {"columns", json::array({"id", "started_at", "caller", "ring_seconds"})}});
    REQUIRE(saved.status == 201);
    const std::string id = saved.json["id"];
    CHECK(api.get("/v1/custom-reports/" + id).json["disposition"] == "no_answer");
    CHECK(api.get("/v1/custom-reports").json["items"].size() == 1);
    auto run = api.get("/v1/custom-reports/" + id + "/run?" + kPeriod);
    REQUIRE(run.status == 200);
    CHECK(run.json["rows"] == json::array({
        json{{"id", "c8"}, {"started_at", "2026-11-11T11:00:00+02:00"}, {"caller", "+380505555555"}, {"ring_seconds", 25}},
        json{{"id", "c2"}, {"started_at", "2026-11-09T10:15:00+02:00"}, {"caller", "+380502222222"}, {"ring_seconds", 30}}}));
    auto csv = api.get("/v1/custom-reports/" + id + "/run?" + kPeriod + "&format=csv");
    CHECK(csv.body == "id,started_at,caller,ring_seconds\r\n"
                      "c8,2026-11-11T11:00:00+02:00,+380505555555,25\r\n"
                      "c2,2026-11-09T10:15:00+02:00,+380502222222,30\r\n");

    CHECK(api.post("/v1/custom-reports", {{"name", "x"}, {"columns", json::array({"id", "salary"})}}).errorField() == "columns");
    CHECK(api.post("/v1/custom-reports", {{"name", "x"}, {"columns", json::array({"id", "id"})}}).errorField() == "columns");
    CHECK(api.post("/v1/custom-reports", {{"name", "x"}, {"columns", json::array()}}).errorField() == "columns");
    CHECK(api.post("/v1/custom-reports", {{"name", "x"}, {"columns", json::array({"id"})}, {"disposition", "lost"}})
              .errorField() == "disposition");
    CHECK(api.post("/v1/custom-reports", {{"name", "unanswered on the main line"}, {"columns", json::array({"id"})}})
              .errorCode() == "conflict");
    CHECK(api.get("/v1/custom-reports/" + id + "/run?number=%2B15550009001").errorField() == "number");
    CHECK(other.tenant.api->get("/v1/custom-reports/" + id).status == 404);
    CHECK(other.tenant.api->get("/v1/custom-reports/" + id + "/run").status == 404);
    CHECK(api.del("/v1/custom-reports/" + id).status == 204);
    CHECK(api.get("/v1/custom-reports/" + id + "/run").status == 404);
  }

  SECTION("the call log as CSV") {
    auto csv = kyiv.tenant.api->get("/v1/calls?format=csv");
    REQUIRE(csv.status == 200);
    CHECK(csv.header("Content-Type").rfind("text/csv", 0) == 0);
    CHECK(csv.header("X-Tel-Truncated").empty());
    std::vector<std::string> lines;
    for (size_t start = 0, end; (end = csv.body.find("\r\n", start)) != std::string::npos; start = end + 2) {
      lines.push_back(csv.body.substr(start, end - start));
    }
    REQUIRE(lines.size() == 1 + kyivCalls().size());  // every call, in progress too
    CHECK(lines[0] ==
          "id,started_at,answered_at,ended_at,direction,caller,called,disposition,ring_seconds,talk_seconds,"
          "answered_by,hangup_side,sip_status,cause,utm_source,utm_medium,utm_campaign,utm_term");
    const std::vector<std::string> c17 = {"c17", "2026-11-10T14:00:00Z", "", "2026-11-10T14:00:00Z", "inbound",
                                          "+380508888888", kMainNumber, "failed", "0", "0", "", "", "0", "",
                                          "", "", "", ""};
    std::string expected;
    for (const auto& field : c17) expected += (expected.empty() ? "" : ",") + field;
    CHECK(std::find(lines.begin(), lines.end(), expected) != lines.end());
    CHECK(kyiv.tenant.api->get("/v1/calls?format=xml").errorField() == "format");
    // Another tenant's export holds its own two calls only.
    auto others = other.tenant.api->get("/v1/calls?format=csv");
    CHECK(std::count(others.body.begin(), others.body.end(), '\n') == 3);
  }

  SECTION("another tenant's reports hold only its own calls") {
    auto incoming = other.report("incoming?" + kPeriod);
    REQUIRE(incoming.status == 200);
    CHECK(incoming.json["timezone"] == "UTC");
    CHECK(incoming.json["summary"]["received"] == 1);
    auto employees = other.report("employees?" + kPeriod);
    REQUIRE(employees.status == 200);
    REQUIRE(employees.json["rows"].size() == 1);
    CHECK(employees.json["rows"][0]["account_id"] == other.account_ids["olga"]);
    CHECK(employees.json["rows"][0]["outbound_answered"] == 1);
    auto missed = other.report("missed?" + kPeriod);
    REQUIRE(missed.status == 200);
    CHECK(missed.json["rows"].empty());
  }
}

TEST_CASE("reports refuse bad filters naming the parameter, and need a tenant key") {
  TestTenant tenant(Platform::fromEnv(), "reports-input");
  const std::vector<std::pair<std::string, std::string>> refused = {
      {"incoming?from=2026-13-01", "from"},
      {"incoming?from=2026-02-30&to=2026-03-01", "from"},
      {"incoming?to=yesterday", "to"},
      {"incoming?from=2026-11-12&to=2026-11-11", "from"},
      {"incoming?from=2025-01-01&to=2026-01-02", "from"},
      {"incoming?from=", "from"},
      {"incoming?number=12345", "number"},
      {"incoming?number=%2B15550001000,%27%20OR%201%3D1", "number"},
      {"distribution?extension=1", "extension"},
      {"missed?unprocessed=yes", "unprocessed"},
      {"incoming?unprocessed=true", "unprocessed"},
      {"employees?number=%2B15550001000", "number"},
      {"incoming?direction=inbound", "direction"},
      {"incoming?format=xml", "format"},
      {"incoming?from=2026-11-01&from=2026-11-02", "from"},
      {"target?unprocessed=true", "unprocessed"},
  };
  for (const auto& [path, field] : refused) {
    INFO(path);
    auto reply = tenant.api->get("/v1/reports/" + path);
    CHECK(reply.status == 400);
    CHECK(reply.errorCode() == "invalid_argument");
    CHECK(reply.errorField() == field);
  }
  auto unknown = tenant.api->get("/v1/reports/revenue");
  CHECK(unknown.status == 404);
  CHECK(tenant.api->get("/v1/reports/Incoming").status == 404);

  Platform platform = Platform::fromEnv();
  CHECK(tel::testing::ApiClient(platform.api_url, "").get("/v1/reports/incoming").status == 401);
  // The operator's key belongs to no tenant: it has no reports.
  CHECK(platform.admin().get("/v1/reports/incoming").status == 403);
}

TEST_CASE("segmentation: rules categorize calls as their records complete, by hand too, and the report values them") {
  ReportTenant kyiv("Europe/Kyiv", {{"anna", "201"}, {"boris", "202"}});
  auto& api = *kyiv.tenant.api;
  auto spam = api.post("/v1/call-categories", {{"name", "spam"}, {"value", 0}});
  auto sale = api.post("/v1/call-categories", {{"name", "sale"}, {"value", 250.5}});
  REQUIRE(spam.status == 201);
  REQUIRE(sale.status == 201);
  CHECK(sale.json["value"] == 250.5);
  const std::string spam_id = spam.json["id"], sale_id = sale.json["id"];
  // Short answered calls are spam; long calls to the second number are sales.
  REQUIRE(api.post("/v1/category-rules", {{"category_id", spam_id}, {"position", 1}, {"answered", true},
                                          {"max_talk_seconds", 20}}).status == 201);
  auto sale_rule = api.post("/v1/category-rules", {{"category_id", sale_id}, {"position", 2},
                                                    {"number", kSecondNumber}, {"min_talk_seconds", 30}});
  REQUIRE(sale_rule.status == 201);
  CHECK(sale_rule.json["direction"] == "");
  CHECK(sale_rule.json["answered"].is_null());
  CHECK(api.get("/v1/category-rules").json["items"].size() == 2);
  kyiv.insert(kyivCalls());

  auto c9 = api.get("/v1/calls/c9");
  CHECK(c9.json["category"] == json{{"id", sale_id}, {"name", "sale"}, {"set_by", "rule"}});
  CHECK(api.get("/v1/calls/c14").json["category"]["name"] == "spam");
  CHECK(api.get("/v1/calls/c13").json["category"].is_null());  // still in progress
  // By hand: c1 is a sale; c12 is nothing, whatever the rules say.
  CHECK(api.patch("/v1/calls/c1", {{"category_id", sale_id}}).status == 204);
  CHECK(api.patch("/v1/calls/c12", {{"category_id", ""}}).status == 204);
  CHECK(api.get("/v1/calls/c1").json["category"]["set_by"] == "manual");
  CHECK(api.get("/v1/calls/c12").json["category"].is_null());

  auto report = kyiv.report("categories?" + kPeriod);
  REQUIRE(report.status == 200);
  REQUIRE(report.json["rows"].size() == 3);
  CHECK(report.json["rows"][0] == json{{"category_id", nullptr}, {"category", ""}, {"value_per_call", 0.0},
                                       {"calls", 10}, {"answered", 4}, {"talk_seconds", 1370}, {"value", 0.0}});
  CHECK(report.json["rows"][1] == json{{"category_id", sale_id}, {"category", "sale"}, {"value_per_call", 250.5},
                                       {"calls", 2}, {"answered", 2}, {"talk_seconds", 105}, {"value", 501.0}});
  CHECK(report.json["rows"][2] == json{{"category_id", spam_id}, {"category", "spam"}, {"value_per_call", 0.0},
                                       {"calls", 1}, {"answered", 1}, {"talk_seconds", 15}, {"value", 0.0}});
  CHECK(report.json["summary"] == json{{"calls", 13}, {"categorized_calls", 3}, {"value", 501.0}});

  SECTION("bad input is refused and changes nothing") {
    CHECK(api.post("/v1/call-categories", {{"name", "sale"}}).errorCode() == "conflict");
    CHECK(api.post("/v1/call-categories", {{"name", "refund"}, {"value", -5}}).errorField() == "value");
    CHECK(api.post("/v1/call-categories", {{"name", "refund"}, {"value", "a lot"}}).errorField() == "value");
    CHECK(api.post("/v1/category-rules", {{"category_id", "00000000-0000-4000-8000-000000000000"}})
              .errorField() == "category_id");
    CHECK(api.post("/v1/category-rules", {{"category_id", sale_id}, {"direction", "up"}}).errorField() == "direction");
    CHECK(api.patch("/v1/calls/c1", {{"category_id", "not-a-category"}}).errorField() == "category_id");
    CHECK(api.patch("/v1/calls/c1", {{"category_id", sale_id}, {"note", "x"}}).errorField() == "note");
    CHECK(api.patch("/v1/calls/no-such-call", {{"category_id", sale_id}}).status == 404);
    CHECK(api.del("/v1/category-rules/not-a-rule").status == 404);
    CHECK(api.del("/v1/call-categories/00000000-0000-4000-8000-000000000000").status == 404);
    CHECK(api.get("/v1/category-rules").json["items"].size() == 2);
    CHECK(api.get("/v1/call-categories").json["items"].size() == 2);
  }

  SECTION("another tenant can neither categorize these calls nor use these categories") {
    ReportTenant other("UTC", {});
    auto& intruder = *other.tenant.api;
    CHECK(intruder.patch("/v1/calls/c9", {{"category_id", ""}}).status == 404);
    CHECK(intruder.post("/v1/category-rules", {{"category_id", sale_id}}).errorField() == "category_id");
    CHECK(intruder.del("/v1/call-categories/" + sale_id).status == 404);
    CHECK(intruder.get("/v1/call-categories").json["items"].empty());
    CHECK(api.get("/v1/calls/c9").json["category"]["name"] == "sale");
  }

  SECTION("a deleted category leaves its calls uncategorized") {
    CHECK(api.del("/v1/call-categories/" + spam_id).status == 204);
    CHECK(api.get("/v1/calls/c14").json["category"].is_null());
    CHECK(api.get("/v1/category-rules").json["items"].size() == 1);  // its rule went with it
    const std::string rule_id = api.get("/v1/category-rules").json["items"][0]["id"];
    CHECK(api.del("/v1/category-rules/" + rule_id).status == 204);
    CHECK(api.del("/v1/category-rules/" + rule_id).status == 404);
    CHECK(api.get("/v1/category-rules").json["items"].empty());
  }
}

// Reports of incoming, distribution, missed and categories read rollups that Postgres keeps as
// records are written (0013_report_rollups.sql). Records arrive in any order, first in progress
// and then complete, and complete ones are corrected later; the rollups must say what the records
// say all along, and merging their rows must change no figure.
TEST_CASE("report rollups follow the records in any order, through corrections and merging") {
  const std::vector<std::string> reports = {
      "incoming?" + kPeriod, "distribution?" + kPeriod, "missed?" + kPeriod,
      "missed?" + kPeriod + "&unprocessed=true", "categories?" + kPeriod,
      "incoming?" + kPeriod + "&number=" + kMainNumber, "missed?" + kPeriod + "&number=" + kSecondNumber,
      "employees?" + kPeriod, "employees?" + kPeriod + "&extension=202", "ads?" + kPeriod,
      "incoming?" + kPeriod + "&source=google", "target?" + kPeriod, "target?" + kPeriod + "&extension=201",
      "target?" + kPeriod + "&extension=202"};
  auto figures = [&](ReportTenant& tenant) {
    std::vector<json> out;
    for (const auto& report : reports) {
      auto reply = tenant.report(report);
      INFO(report);
      REQUIRE(reply.status == 200);
      // Each tenant has its own SIP accounts: compare them by extension and name.
      for (auto& row : reply.json["rows"]) row.erase("account_id");
      out.push_back(reply.json);
    }
    return out;
  };

  ReportTenant ordered("Europe/Kyiv", {{"anna", "201"}, {"boris", "202"}});
  ordered.insert(kyivCalls());
  ReportTenant shuffled("Europe/Kyiv", {{"anna", "201"}, {"boris", "202"}});
  std::vector<CallRow> newest_first = kyivCalls();
  std::reverse(newest_first.begin(), newest_first.end());
  std::vector<CallRow> in_progress = newest_first;
  for (auto& call : in_progress) call.complete = false;
  shuffled.insert(in_progress);
  shuffled.insert(newest_first);  // a missed call now finds the answered call written before it
  const auto expected = figures(ordered);
  CHECK(figures(shuffled) == expected);
  CHECK(expected[0]["summary"] == json{{"received", 10}, {"answered", 5}, {"missed", 5},
                                       {"answered_share", 0.5}, {"average_time_to_answer_seconds", 5.8}});

  // A correction: c3 (cancelled) was in fact answered by Anna. It is no longer missed, and being
  // earlier than Boris's callback (c4), it is now what processed c2.
  for (ReportTenant* tenant : {&ordered, &shuffled}) {
    tenant->insert({{"c3", kInbound, "+380502222222", kMainNumber, "2026-11-09T12:00:00Z", 10, 40, kAnswered,
                     {{"anna", true}}}});
  }
  const auto corrected = figures(ordered);
  CHECK(figures(shuffled) == corrected);
  CHECK(row(corrected[0], 0) == json{{"day", "2026-11-09"}, {"received", 5}, {"answered", 3}, {"missed", 2},
                                     {"answered_share", 0.6}, {"average_time_to_answer_seconds", 5.7}});
  const json& missed = corrected[2]["rows"];
  REQUIRE(missed.size() == 4);
  CHECK(missed[0]["call_id"] == "c2");
  CHECK(missed[0]["processed_call_id"] == "c3");
  CHECK(missed[0]["processed_how"] == "answered_again");
  CHECK(missed[0]["processed_by"] == "201");
  CHECK(missed[1]["call_id"] == "c5");
  // Anna took c3 after 10 s of ringing and talked 40 s: 4 of her 6 calls, 6.25 s on average.
  CHECK(corrected[7]["rows"][0] == json{{"extension", "201"}, {"name", "anna"}, {"received", 6}, {"answered", 4}, {"missed", 2},
                                        {"outbound", 1}, {"outbound_answered", 0},
                                        {"average_time_to_answer_seconds", 6.3}, {"talk_seconds", 1345}});

  // Call tracking attributes four of them (records already complete: the rollups move them).
  for (ReportTenant* tenant : {&ordered, &shuffled}) {
    tenant->attribute({"c1", "c2", "c6"}, "google", "cpc", "winter", "coats");
    tenant->attribute({"c9"}, "facebook", "social", "winter", "");
  }
  const auto attributed = figures(ordered);
  CHECK(figures(shuffled) == attributed);
  CHECK(attributed[9]["rows"] ==
        json::array({json{{"utm_source", "google"}, {"utm_medium", "cpc"}, {"utm_campaign", "winter"},
                          {"keyword", "coats"}, {"received", 3}, {"answered", 2}, {"missed", 1},
                          {"answered_share", 0.6667}, {"average_time_to_answer_seconds", 8.5}, {"callers", 3}},
                     json{{"utm_source", "facebook"}, {"utm_medium", "social"}, {"utm_campaign", "winter"},
                          {"keyword", ""}, {"received", 1}, {"answered", 1}, {"missed", 0},
                          {"answered_share", 1.0}, {"average_time_to_answer_seconds", 6.0}, {"callers", 1}}}));
  CHECK(attributed[9]["summary"] == json{{"tracked_calls", 4}, {"inbound_calls", 10}, {"tracked_share", 0.4}});
  CHECK(attributed[10]["summary"]["received"] == 3);
  CHECK(attributed[10]["summary"]["answered"] == 2);

  // analytics merges the rollups' change rows every reports.rollup_merge_interval (30 s).
  pqxx::connection connection(requireEnv("TEL_PG_URL"));
  const auto unmerged = [&] {
    pqxx::work txn(connection);
    txn.exec_params("SELECT set_config('tel.tenant_id', $1, true)", shuffled.tenant.id);
    return txn.exec("SELECT (SELECT count(*) FROM call_hour_totals WHERE NOT compacted)"
                    " + (SELECT count(*) FROM inbound_hour_lines WHERE NOT compacted)"
                    " + (SELECT count(*) FROM account_hours WHERE NOT compacted)")[0][0]
        .as<int>();
  };
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(45);
  while (unmerged() > 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
  }
  REQUIRE(unmerged() == 0);
  CHECK(figures(ordered) == attributed);
  CHECK(figures(shuffled) == attributed);
  pqxx::work txn(connection);
  txn.exec_params("SELECT set_config('tel.tenant_id', $1, true)", shuffled.tenant.id);
  // One row per hour, direction and category: c1's hour, for one, had +1, then -1 and +1 again.
  CHECK(txn.exec("SELECT count(*) FROM (SELECT hour, direction, category_id FROM call_hour_totals"
                 " GROUP BY 1, 2, 3 HAVING count(*) > 1) repeated")[0][0]
            .as<int>() == 0);
  CHECK(txn.exec("SELECT count(*) FROM missed_calls")[0][0].as<int>() == 4);  // c2, c5, c17, c8: c3 left
  CHECK(txn.exec("SELECT count(*) FROM tracked_calls")[0][0].as<int>() == 4);

  // Target calls: c3, answered now, begins its client's deal. Without an extension filter they
  // come from target_calls; with one, from the calls (each target call rang one of the two).
  std::vector<std::string> stored, by_extension;
  for (const auto& row : attributed[11]["rows"]) stored.push_back(row["call_id"]);
  for (size_t report : {12, 13}) {
    for (const auto& row : attributed[report]["rows"]) by_extension.push_back(row["call_id"]);
  }
  CHECK(stored == std::vector<std::string>{"c12", "c1", "c3", "c6", "c9"});
  std::sort(stored.begin(), stored.end());
  std::sort(by_extension.begin(), by_extension.end());
  CHECK(by_extension == stored);
}

// In a time zone half an hour off UTC, local hours are not UTC hours: these reports read the calls.
TEST_CASE("reports in a half-hour time zone count local days and hours exactly") {
  ReportTenant kolkata("Asia/Kolkata", {{"anna", "201"}});
  kolkata.insert({
      // Mon 9 Nov 23:50 and Tue 10 Nov 00:10 in Kolkata (UTC+5:30): one UTC hour, two local days.
      {"k1", kInbound, "+919800000001", kMainNumber, "2026-11-09T18:20:00Z", 4, 30, kAnswered, {{"anna", true}}},
      {"k2", kInbound, "+919800000002", kMainNumber, "2026-11-09T18:40:00Z", 10, 0, kNoAnswer, {{"anna"}}},
  });
  auto incoming = kolkata.report("incoming?from=2026-11-09&to=2026-11-10");
  REQUIRE(incoming.status == 200);
  CHECK(row(incoming.json, 0)["received"] == 1);
  CHECK(row(incoming.json, 0)["answered"] == 1);
  CHECK(row(incoming.json, 1)["received"] == 1);
  CHECK(row(incoming.json, 1)["missed"] == 1);
  auto distribution = kolkata.report("distribution?from=2026-11-09&to=2026-11-10");
  REQUIRE(distribution.status == 200);
  CHECK(distribution.json["rows"][0 * 24 + 23]["answered"] == 1);  // Monday 23:00
  CHECK(distribution.json["rows"][1 * 24 + 0]["missed"] == 1);     // Tuesday 00:00
  auto missed = kolkata.report("missed?from=2026-11-10&to=2026-11-10");
  REQUIRE(missed.status == 200);
  REQUIRE(missed.json["rows"].size() == 1);
  CHECK(missed.json["rows"][0]["started_at"] == "2026-11-10T00:10:00+05:30");
}
