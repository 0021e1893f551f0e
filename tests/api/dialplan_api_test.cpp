// The dial plan through the REST API against the running platform: save, read back, refusals that
// name the node, optimistic concurrency, the preview across a week, a holiday and time zones, and
// tenant isolation.
#include <catch2/catch.hpp>

#include "tel/testing/api_client.h"

using namespace tel::testing;
using nlohmann::json;

namespace {

// Office hours in the tenant's zone (unset in the schedule), a scheme, and a closed branch.
json officePlan(const std::string& number) {
  return json::parse(R"({
    "schedules": {"office": {"hours": {"mon": ["09:00-18:00"], "tue": ["09:00-18:00"], "wed": ["09:00-18:00"],
                                       "thu": ["09:00-18:00"], "fri": ["09:00-13:00", "14:00-17:00"]},
                             "holidays": [{"date": "2026-12-25", "name": "Christmas"}],
                             "exceptions": [{"date": "2026-12-24", "hours": ["09:00-12:00"]}]}},
    "nodes": {
      "main": {"type": "schedule", "schedule": "office", "open": "sales", "closed": "night"},
      "sales": {"type": "scheme", "steps": [{"targets": [{"extension": "201"}, {"extension": "202"}], "ring_seconds": 15}],
                "backup_number": "+4930123456", "then": "night"},
      "night": {"type": "hangup", "status": 480, "reason": "closed"}},
    "numbers": {")" + number + R"(": "main"}})");
}

// A new number of the tenant and the accounts 201 and 202 that officePlan() rings; the number.
std::string officeNumber(ApiClient& api) {
  const std::string number = uniqueE164();
  REQUIRE(api.post("/v1/numbers", {{"e164", number}}).status == 201);
  for (const char* extension : {"201", "202"}) {
    REQUIRE(api.post("/v1/sip-accounts", {{"username", std::string("u") + extension}, {"extension", extension}})
                .status == 201);
  }
  return number;
}

// The path of a preview as "node:outcome" items.
std::vector<std::string> pathOf(const HttpResult& preview) {
  std::vector<std::string> out;
  for (const auto& step : preview.json["path"]) {
    out.push_back(step["node"].get<std::string>() + ":" + step["outcome"].get<std::string>());
  }
  return out;
}

}  // namespace

TEST_CASE("a dial plan is saved whole, read back and versioned") {
  TestTenant tenant(Platform::fromEnv(), "plan", "Europe/Berlin");
  auto& api = *tenant.api;
  const std::string number = officeNumber(api);
  auto empty = api.get("/v1/dialplan");
  REQUIRE(empty.status == 200);
  CHECK(empty.json["version"] == 0);
  CHECK(empty.json["plan"] == json::object());

  auto saved = api.put("/v1/dialplan", officePlan(number));
  REQUIRE(saved.status == 200);
  CHECK(saved.json["version"] == 1);
  CHECK(saved.json["plan"] == officePlan(number));
  auto read = api.get("/v1/dialplan");
  CHECK(read.json["version"] == 1);
  CHECK(read.json["plan"] == officePlan(number));
  CHECK(read.json["updated_at"].is_string());

  // Without If-Match the last save wins.
  auto stale = api.raw("PUT", "/v1/dialplan", officePlan(number).dump(), "application/json");
  CHECK(stale.status == 200);
  CHECK(stale.json["version"] == 2);
}

TEST_CASE("the preview walks the plan across a week, a holiday and the tenant's time zone") {
  TestTenant tenant(Platform::fromEnv(), "plan", "Europe/Berlin");
  auto& api = *tenant.api;
  const std::string number = officeNumber(api);
  REQUIRE(api.put("/v1/dialplan", officePlan(number)).status == 200);
  auto preview = [&](const std::string& at) {
    auto result = api.get("/v1/dialplan/preview?number=" + urlEncode(number) + "&at=" + at);
    REQUIRE(result.status == 200);
    return result;
  };
  // Monday 2026-11-30 08:30 UTC is 09:30 in Berlin: open, the scheme rings.
  auto monday = preview("2026-11-30T08:30:00Z");
  CHECK(pathOf(monday) == std::vector<std::string>{"main:open", "sales:ring"});
  CHECK(monday.json["time_zone"] == "Europe/Berlin");
  CHECK(monday.json["path"][0]["detail"] == "office: monday 09:00-18:00");
  const auto& steps = monday.json["path"][1]["steps"];
  REQUIRE(steps.size() == 2);
  CHECK(steps[0]["targets"] == json{"extension 201", "extension 202"});
  CHECK(steps[0]["ring_seconds"] == 15);
  CHECK(steps[1]["targets"] == json{"number +4930123456"});
  // 07:30 UTC is 08:30 in Berlin, before the office opens (though 09:30 in Kyiv would be open).
  CHECK(pathOf(preview("2026-11-30T07:30:00Z")) == std::vector<std::string>{"main:closed", "night:480"});
  // Friday's lunch break, Saturday, Sunday.
  CHECK(pathOf(preview("2026-12-04T12:30:00Z"))[0] == "main:closed");
  CHECK(pathOf(preview("2026-12-04T13:30:00Z"))[0] == "main:open");
  CHECK(pathOf(preview("2026-12-05T10:00:00Z"))[0] == "main:closed");
  CHECK(pathOf(preview("2026-12-06T10:00:00Z"))[0] == "main:closed");
  // Christmas Eve's short day, Christmas.
  CHECK(pathOf(preview("2026-12-24T09:00:00Z"))[0] == "main:open");
  CHECK(pathOf(preview("2026-12-24T12:00:00Z"))[0] == "main:closed");
  auto christmas = preview("2026-12-25T10:00:00Z");
  CHECK(christmas.json["path"][0]["detail"] == "office: holiday 2026-12-25: Christmas");
  // The date boundary is Berlin's: 23:30 UTC on Thursday the 24th is already the 25th there.
  CHECK(preview("2026-12-24T23:30:00Z").json["path"][0]["detail"] == "office: holiday 2026-12-25: Christmas");

  // A number the plan does not name shows its own route.
  const std::string other = uniqueE164();
  REQUIRE(api.post("/v1/numbers", {{"e164", other}, {"route", {{"kind", "extensions"}, {"extensions", {"201"}}}}})
              .status == 201);
  auto own = api.get("/v1/dialplan/preview?number=" + urlEncode(other));
  REQUIRE(own.status == 200);
  CHECK(own.json["path"][0]["type"] == "route");
  CHECK(own.json["path"][0]["steps"][0]["targets"] == json{"extension 201"});
}

TEST_CASE("bad plans are refused with the node named, and change nothing") {
  TestTenant tenant(Platform::fromEnv(), "plan");
  auto& api = *tenant.api;
  const std::string number = officeNumber(api);
  REQUIRE(api.put("/v1/dialplan", officePlan(number)).status == 200);

  auto refused = [&](const json& plan, const std::string& message) {
    auto result = api.put("/v1/dialplan", plan);
    INFO(result.body);
    CHECK(result.status == 400);
    CHECK(result.errorField() == "plan");
    CHECK(result.json["error"]["message"] == message);
  };
  json plan = officePlan(number);
  plan["nodes"]["sales"]["steps"][0]["targets"][0]["extension"] = "299";
  refused(plan, "node \"sales\": step 1: target 1: no SIP account has extension \"299\"");
  plan = officePlan(number);
  plan["nodes"]["spare"] = {{"type", "hangup"}};
  refused(plan, "node \"spare\" is unreachable: no number leads to it");
  plan = officePlan(number);
  plan["nodes"]["night"] = json::parse(R"({"type": "scheme", "steps": [{"targets": [{"extension": "201"}]}], "then": "main"})");
  refused(plan, "nodes \"main\" -> \"sales\" -> \"night\" -> \"main\" form a loop");
  plan = officePlan(number);
  plan["nodes"]["sales"]["steps"][0]["targets"] = json::array();
  refused(plan, "node \"sales\": step 1 has no targets");
  plan = officePlan(number);
  plan["schedules"]["office"]["time_zone"] = "Europe/Atlantis";
  refused(plan, "schedule \"office\": unknown time_zone \"Europe/Atlantis\"");

  auto garbage = api.raw("PUT", "/v1/dialplan", "{\"nodes\": [", "application/json");
  CHECK(garbage.status == 400);
  auto not_json = api.raw("PUT", "/v1/dialplan", "nodes", "text/plain");
  CHECK(not_json.status == 415);
  auto huge = api.raw("PUT", "/v1/dialplan", "{\"x\": \"" + std::string(2 << 20, 'a') + "\"}", "application/json");
  CHECK(huge.status == 413);

  // Nothing of that was saved.
  auto read = api.get("/v1/dialplan");
  CHECK(read.json["version"] == 1);
  CHECK(read.json["plan"] == officePlan(number));

  // Preview refusals.
  CHECK(api.get("/v1/dialplan/preview").status == 400);
  CHECK(api.get("/v1/dialplan/preview?number=%2B15550000000").status == 404);
  CHECK(api.get("/v1/dialplan/preview?number=" + urlEncode(number) + "&at=tomorrow").errorField() == "at");
  CHECK(api.get("/v1/dialplan/preview?number=" + urlEncode(number) + "&when=now").errorField() == "when");
}

TEST_CASE("If-Match saves only over the version the editor read") {
  TestTenant tenant(Platform::fromEnv(), "plan");
  auto& api = *tenant.api;
  const std::string number = uniqueE164();
  REQUIRE(api.post("/v1/numbers", {{"e164", number}}).status == 201);
  const json closed = json::parse(R"({"nodes": {"night": {"type": "hangup", "status": 486}}, "numbers": {")" +
                                  number + R"(": "night"}})");
  // Both editors read version 0; the first save wins, the second is told.
  CHECK(api.raw("PUT", "/v1/dialplan", closed.dump(), "application/json", {{"If-Match", "\"0\""}}).status == 200);
  auto second = api.raw("PUT", "/v1/dialplan", closed.dump(), "application/json", {{"If-Match", "\"0\""}});
  CHECK(second.status == 412);
  CHECK(api.raw("PUT", "/v1/dialplan", closed.dump(), "application/json", {{"If-Match", "1"}}).status == 200);
  CHECK(api.raw("PUT", "/v1/dialplan", closed.dump(), "application/json", {{"If-Match", "soon"}}).errorField() == "If-Match");
  CHECK(api.get("/v1/dialplan").json["version"] == 2);
}

TEST_CASE("a tenant's plan is its own: other tenants neither see it nor route to its numbers") {
  Platform platform = Platform::fromEnv();
  TestTenant a(platform, "plan-a");
  TestTenant b(platform, "plan-b");
  const std::string a_number = uniqueE164();
  REQUIRE(a.api->post("/v1/numbers", {{"e164", a_number}}).status == 201);
  const json plan = json::parse(R"({"nodes": {"night": {"type": "hangup"}}, "numbers": {")" + a_number +
                                R"(": "night"}})");
  REQUIRE(a.api->put("/v1/dialplan", plan).status == 200);
  CHECK(b.api->get("/v1/dialplan").json["version"] == 0);
  auto claim = b.api->put("/v1/dialplan", plan);
  CHECK(claim.status == 400);
  CHECK(claim.json["error"]["message"] == "number " + a_number + " is not one of the tenant's numbers");
  CHECK(b.api->get("/v1/dialplan/preview?number=" + urlEncode(a_number)).status == 404);
  CHECK(a.api->get("/v1/dialplan").json["version"] == 1);
  // The operator's key has no tenant: the route is for tenant keys.
  CHECK(platform.admin().get("/v1/dialplan").status == 403);
}
