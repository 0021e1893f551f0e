// Dial plan documents: what a save accepts, the node each refusal names, and the walk.
#include "dial_plan.h"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

using namespace tel::routing;
using nlohmann::json;

namespace {

const PlanFacts kFacts{{"101", "102"}, {"+15550001000", "+15550002000"}};

json validPlan() {
  return json::parse(R"({
    "schedules": {"office": {"time_zone": "Europe/Berlin",
                             "hours": {"mon": ["09:00-18:00"], "tue": ["09:00-13:00", "14:00-18:00"]},
                             "holidays": [{"date": "2026-12-25", "name": "Christmas"}],
                             "exceptions": [{"date": "2026-12-24", "hours": ["09:00-12:00"]}]}},
    "nodes": {
      "main": {"type": "schedule", "schedule": "office", "open": "sales", "closed": "night"},
      "sales": {"type": "scheme",
                "steps": [{"targets": [{"extension": "101"}, {"extension": "102"}], "ring_seconds": 15},
                          {"targets": [{"number": "+4915112345678"}, {"uri": "sip:desk@pbx.example.com"}]}],
                "backup_number": "+4930123456", "then": "night"},
      "night": {"type": "hangup", "status": 480, "reason": "closed"}
    },
    "numbers": {"+15550001000": "main"}
  })");
}

std::string refusal(const json& plan, const PlanFacts* facts = &kFacts) {
  auto parsed = parseDialPlan(plan.dump(), "UTC", facts);
  REQUIRE_FALSE(parsed.ok());
  CHECK(parsed.status().code() == absl::StatusCode::kInvalidArgument);
  return std::string(parsed.status().message());
}

// The usual facts, where every prompt exists but "missing".
PlanFacts factsWithPrompts() {
  PlanFacts facts = kFacts;
  facts.prompt_exists = [](const std::string& name) { return name != "missing"; };
  return facts;
}

// `plan` with the value at `pointer` (a JSON pointer) replaced or added.
json changed(json plan, const char* pointer, json value) {
  plan[json::json_pointer(pointer)] = std::move(value);
  return plan;
}

absl::Time utc(int y, int mo, int d, int h, int mi) {
  return absl::FromCivil(absl::CivilMinute(y, mo, d, h, mi), absl::UTCTimeZone());
}

}  // namespace

TEST_CASE("a valid plan parses with its steps, backup number and schedules") {
  auto parsed = parseDialPlan(validPlan().dump(), "UTC", &kFacts);
  REQUIRE(parsed.ok());
  const DialPlan& plan = **parsed;
  const PlanNode& sales = plan.nodes.at("sales");
  REQUIRE(sales.steps.size() == 3);  // two steps and the backup number
  CHECK(sales.steps[0].ring_seconds == 15);
  CHECK(sales.steps[1].ring_seconds == 20);
  CHECK(sales.steps[2].targets[0].describe() == "number +4930123456");
  CHECK(sales.steps[2].ring_seconds == 60);
  CHECK(plan.schedules.at("office").weekly[1].size() == 2);
  CHECK(plan.numbers.at("+15550001000") == "main");
  CHECK(json::parse(plan.document) == validPlan());
  CHECK(parseDialPlan("{}", "UTC", &kFacts).ok());
}

TEST_CASE("refusals name the node and what is wrong with it") {
  auto plan = validPlan();
  plan["nodes"]["main"]["open"] = "salez";
  CHECK(refusal(plan) == "node \"main\": leads to unknown node \"salez\"");

  plan = validPlan();
  plan["nodes"]["orphan"] = {{"type", "hangup"}};
  CHECK(refusal(plan) == "node \"orphan\" is unreachable: no number leads to it");

  plan = validPlan();
  plan["nodes"]["night"] =
      json::parse(R"({"type": "scheme", "steps": [{"targets": [{"extension": "101"}]}], "then": "main"})");
  CHECK(refusal(plan) == "nodes \"main\" -> \"sales\" -> \"night\" -> \"main\" form a loop");

  plan = validPlan();
  plan["nodes"]["sales"]["steps"][1]["targets"] = json::array();
  CHECK(refusal(plan) == "node \"sales\": step 2 has no targets");

  plan = validPlan();
  plan["nodes"]["sales"]["steps"] = json::array();
  CHECK(refusal(plan) == "node \"sales\": a scheme needs 1 to 10 steps");

  plan = validPlan();
  plan["nodes"]["sales"]["steps"][0]["targets"][1] = {{"extension", "999"}};
  CHECK(refusal(plan) == "node \"sales\": step 1: target 2: no SIP account has extension \"999\"");
  // A stored plan still loads when the extension was deleted since.
  CHECK(parseDialPlan(plan.dump(), "UTC", nullptr).ok());

  plan = validPlan();
  plan["nodes"]["sales"]["steps"][0]["targets"][0] = {{"number", "0800 123"}};
  CHECK(refusal(plan) == "node \"sales\": step 1: target 1: number \"0800 123\" is not E.164 (+ and 7 to 15 digits)");

  plan = validPlan();
  plan["nodes"]["sales"]["steps"][0]["ring_seconds"] = 2;
  CHECK(refusal(plan) == "node \"sales\": step 1: ring_seconds must be a whole number from 5 to 300");

  plan = validPlan();
  plan["nodes"]["night"]["status"] = 200;
  CHECK(refusal(plan) == "node \"night\": status must be a whole number from 400 to 699");

  plan = validPlan();
  plan["nodes"]["night"]["type"] = "ivr";
  CHECK(refusal(plan) == "node \"night\": unknown type \"ivr\" (schedule, scheme, menu, voicemail, queue, hangup)");

  plan = validPlan();
  plan["nodes"]["night"]["colour"] = "red";
  CHECK(refusal(plan) == "node \"night\": unknown field \"colour\"");

  plan = validPlan();
  plan["numbers"]["+15559999999"] = "main";
  CHECK(refusal(plan) == "number +15559999999 is not one of the tenant's numbers");

  plan = validPlan();
  plan["nodes"]["main"]["schedule"] = "shop";
  CHECK(refusal(plan) == "node \"main\": unknown schedule \"shop\"");
}

TEST_CASE("schedules are checked field by field") {
  auto plan = validPlan();
  plan["schedules"]["office"]["time_zone"] = "Mars/Olympus";
  CHECK(refusal(plan) == "schedule \"office\": unknown time_zone \"Mars/Olympus\"");

  plan = validPlan();
  plan["schedules"]["office"]["hours"]["mon"] = {"09:00-13:00", "12:00-18:00"};
  CHECK(refusal(plan) == "schedule \"office\": hours.mon: 09:00-13:00 and 12:00-18:00 overlap");

  plan = validPlan();
  plan["schedules"]["office"]["hours"]["mon"] = {"18:00-09:00"};
  CHECK(refusal(plan) == "schedule \"office\": hours.mon: 18:00-09:00 ends before it starts");

  plan = validPlan();
  plan["schedules"]["office"]["hours"]["monday"] = {"09:00-18:00"};
  CHECK(refusal(plan) ==
        "schedule \"office\": hours: unknown day \"monday\" (mon, tue, wed, thu, fri, sat, sun)");

  plan = validPlan();
  plan["schedules"]["office"]["holidays"].push_back({{"date", "2026-02-30"}});
  CHECK(refusal(plan) == "schedule \"office\": holiday: date must be YYYY-MM-DD");

  plan = validPlan();
  plan["schedules"]["office"]["holidays"].push_back({{"date", "2026-12-25"}});
  CHECK(refusal(plan) == "schedule \"office\": holiday 2026-12-25 is listed twice");

  plan = validPlan();
  plan["schedules"]["spare"] = {{"hours", json::object()}};
  CHECK(refusal(plan) == "schedule \"spare\" is not used by any node");
}

TEST_CASE("malformed documents are refused whole") {
  CHECK(refusal(json("not an object")) == "the plan must be a JSON object");
  auto parsed = parseDialPlan("{\"nodes\": ", "UTC", &kFacts);
  CHECK(parsed.status().message() == "the plan is not valid JSON");
  CHECK(refusal(json{{"nodes", json::array()}}) == "plan: nodes must be an object");
  CHECK(refusal(json{{"extra", 1}}) == "plan: unknown field \"extra\"");
  CHECK(refusal(json{{"nodes", {{"a b", {{"type", "hangup"}}}}}}) ==
        "node \"a b\": ids are 1 to 64 letters, digits, - or _");
}

TEST_CASE("the walk follows the schedule to the node that acts") {
  auto parsed = parseDialPlan(validPlan().dump(), "UTC", &kFacts);
  REQUIRE(parsed.ok());
  std::vector<tel::routing::v1::PreviewStep> path;
  // Monday 2026-11-30 10:00 Berlin.
  auto node = walkPlan(**parsed, "main", utc(2026, 11, 30, 9, 0), &path);
  REQUIRE(node.ok());
  CHECK((*node)->type == PlanNode::Type::kScheme);
  REQUIRE(path.size() == 2);
  CHECK(path[0].outcome() == "open");
  CHECK(path[0].detail() == "office: monday 09:00-18:00");
  CHECK(path[1].node() == "sales");
  REQUIRE(path[1].steps_size() == 3);
  CHECK(path[1].steps(0).targets(1) == "extension 102");

  path.clear();
  node = walkPlan(**parsed, "main", utc(2026, 12, 25, 9, 0), &path);
  REQUIRE(node.ok());
  CHECK((*node)->type == PlanNode::Type::kHangup);
  CHECK(path[0].detail() == "office: holiday 2026-12-25: Christmas");
  CHECK(path[1].outcome() == "480");
}

TEST_CASE("outbound rules are checked: prefixes, the tenant's caller ids, no repeats") {
  auto plan = validPlan();
  plan["outbound"] = json::parse(R"({"caller_ids": [{"prefix": "+49", "caller_id": "+15550002000"}],
                                     "account_caller_ids": {"102": "+15550001000"},
                                     "premium_rate": false, "blocked_prefixes": ["+881"]})");
  auto parsed = parseDialPlan(plan.dump(), "UTC", &kFacts);
  REQUIRE(parsed.ok());
  CHECK((*parsed)->outbound.callerIdFor("+4930123456") == "+15550002000");
  CHECK((*parsed)->outbound.callerIdFor("+4420123456").empty());
  // An account's own caller id where no prefix rule matches; the regional rule wins where one does.
  CHECK((*parsed)->outbound.callerIdFor("+4420123456", "102") == "+15550001000");
  CHECK((*parsed)->outbound.callerIdFor("+4930123456", "102") == "+15550002000");
  CHECK((*parsed)->outbound.callerIdFor("+4420123456", "101").empty());
  json bad_account = plan;
  bad_account["outbound"]["account_caller_ids"] = {{"299", "+15550001000"}};
  CHECK(refusal(bad_account) == "outbound: account_caller_ids: \"299\": no SIP account has this extension");
  bad_account["outbound"]["account_caller_ids"] = {{"101", "+15559999999"}};
  CHECK(refusal(bad_account) == "outbound: account_caller_ids: \"101\": +15559999999 is not one of the tenant's numbers");
  bad_account["outbound"]["account_caller_ids"] = {{"101", 42}};
  CHECK(refusal(bad_account) == "outbound: account_caller_ids: \"101\" must be an E.164 number");
  CHECK((*parsed)->outbound.refusal("+881234567").has_value());
  CHECK_FALSE((*parsed)->outbound.refusal("+4930123456").has_value());

  plan["outbound"]["caller_ids"][0]["caller_id"] = "+15559999999";
  CHECK(refusal(plan) == "outbound: caller_ids: +15559999999 is not one of the tenant's numbers");
  plan["outbound"]["caller_ids"][0] = {{"prefix", "49"}, {"caller_id", "+15550002000"}};
  CHECK(refusal(plan) == "outbound: caller_ids: prefix \"49\" is not + and digits");
  plan["outbound"]["caller_ids"] = json::parse(R"([{"prefix": "+49", "caller_id": "+15550002000"},
                                                   {"prefix": "+49", "caller_id": "+15550001000"}])");
  CHECK(refusal(plan) == "outbound: caller_ids: prefix +49 is listed twice");
  plan = validPlan();
  plan["outbound"] = {{"premium_rate", "yes"}};
  CHECK(refusal(plan) == "outbound: premium_rate must be true or false");
  plan["outbound"] = {{"international", true}};
  CHECK(refusal(plan) == "outbound: unknown field \"international\"");
  plan["outbound"] = {{"max_concurrent_per_account", 0}};
  CHECK(refusal(plan) == "outbound: max_concurrent_per_account must be a whole number from 1 to 1000");
  plan["outbound"] = {{"max_concurrent", 5}, {"max_concurrent_per_account", 3}};
  auto capped = parseDialPlan(plan.dump(), "UTC", &kFacts);
  REQUIRE(capped.ok());
  CHECK((*capped)->outbound.max_concurrent == 5);
  CHECK((*capped)->outbound.max_concurrent_per_account == 3);
}

TEST_CASE("voice menus: keys lead to nodes, prompts must exist, and a way back through a menu is no loop") {
  json plan = json::parse(R"({
    "nodes": {
      "main": {"type": "menu", "prompt": "welcome", "choices": {"1": "sales", "2": "more", "0": "night"},
               "repeat_key": "*", "timeout_seconds": 4, "retries": 1, "invalid_prompt": "sorry",
               "fallback": "sales"},
      "more": {"type": "menu", "prompt": "more-options", "choices": {"9": "main"}, "dial_by_extension": true},
      "sales": {"type": "scheme", "steps": [{"targets": [{"extension": "101"}]}]},
      "night": {"type": "hangup"}
    },
    "numbers": {"+15550001000": "main"}
  })");
  const PlanFacts facts = factsWithPrompts();
  auto parsed = parseDialPlan(plan.dump(), "UTC", &facts);
  REQUIRE(parsed.ok());
  const PlanNode& main = (*parsed)->nodes.at("main");
  CHECK(main.type == PlanNode::Type::kMenu);
  CHECK(main.choices.at("2") == "more");
  CHECK(main.timeout_seconds == 4);
  CHECK(main.retries == 1);
  CHECK((*parsed)->nodes.at("more").dial_by_extension);
  CHECK((*parsed)->nodes.at("more").retries == 2);  // the default

  std::vector<tel::routing::v1::PreviewStep> path;
  auto acting = walkPlan(**parsed, "main", absl::Now(), &path);
  REQUIRE(acting.ok());
  CHECK(path.back().type() == "menu");
  CHECK(path.back().detail() == "prompt welcome; 0: night, 1: sales, 2: more; no choice: sales");

  auto with = [&](const char* pointer, json value) { return changed(plan, pointer, std::move(value)); };
  CHECK(refusal(with("/nodes/main/prompt", "missing"), &facts) == "node \"main\": prompt: the tenant has no prompt \"missing\"");
  CHECK(refusal(with("/nodes/main/prompt", "Bad Name")) == "node \"main\": prompt \"Bad Name\" is not a prompt name (a-z 0-9 - _)");
  CHECK(refusal(with("/nodes/main/choices/x", "sales")) == "node \"main\": choices: key \"x\" is not one of 0-9 * #");
  CHECK(refusal(with("/nodes/main/choices/*", "sales")) == "node \"main\": choices: key * is also the repeat_key");
  CHECK(refusal(with("/nodes/main/choices/3", "nowhere")) == "node \"main\": leads to unknown node \"nowhere\"");
  CHECK(refusal(with("/nodes/main/timeout_seconds", 0)).find("timeout_seconds") != std::string::npos);
  CHECK(refusal(with("/nodes/more/choices/#", "main")) == "node \"more\": choices: # ends a typed extension, it cannot be a choice");
  json no_choices = plan;
  no_choices["nodes"]["main"].erase("choices");
  no_choices["nodes"]["main"].erase("fallback");
  CHECK(refusal(no_choices) == "node \"main\": a menu needs choices, or dial_by_extension");
  // A node only a menu leads to is reachable; one nothing leads to is not.
  CHECK(refusal(with("/nodes/orphan", json{{"type", "hangup"}})) == "node \"orphan\" is unreachable: no number leads to it");
  // Without facts (a stored plan loading), prompts are not looked up.
  CHECK(parseDialPlan(with("/nodes/main/prompt", "missing").dump(), "UTC", nullptr).ok());
}

TEST_CASE("voicemail nodes: a box (the node's id by default), a greeting that must exist, bounded lengths") {
  json plan = json::parse(R"({
    "nodes": {
      "main": {"type": "menu", "prompt": "welcome", "choices": {"1": "sales", "2": "support-vm"}},
      "sales": {"type": "scheme", "steps": [{"targets": [{"extension": "101"}]}], "then": "sales-vm"},
      "sales-vm": {"type": "voicemail", "box": "sales", "greeting": "vm-sales", "max_seconds": 90},
      "support-vm": {"type": "voicemail"}
    },
    "numbers": {"+15550001000": "main"}
  })");
  const PlanFacts facts = factsWithPrompts();
  auto parsed = parseDialPlan(plan.dump(), "UTC", &facts);
  REQUIRE(parsed.ok());
  const PlanNode& sales = (*parsed)->nodes.at("sales-vm");
  CHECK(sales.type == PlanNode::Type::kVoicemail);
  CHECK(sales.box == "sales");
  CHECK(sales.prompt == "vm-sales");
  CHECK(sales.max_seconds == 90);
  CHECK(sales.silence_seconds == 5);
  const PlanNode& support = (*parsed)->nodes.at("support-vm");
  CHECK(support.box == "support-vm");
  CHECK(support.prompt.empty());  // the beep alone
  CHECK(support.max_seconds == 120);

  std::vector<tel::routing::v1::PreviewStep> path;
  auto acting = walkPlan(**parsed, "sales-vm", absl::Now(), &path);
  REQUIRE(acting.ok());
  CHECK(path.back().type() == "voicemail");
  CHECK(path.back().detail() == "box sales; greeting vm-sales; at most 90 s");

  auto with = [&](const char* pointer, json value) { return changed(plan, pointer, std::move(value)); };
  CHECK(refusal(with("/nodes/sales-vm/greeting", "missing"), &facts) ==
        "node \"sales-vm\": greeting: the tenant has no prompt \"missing\"");
  CHECK(refusal(with("/nodes/sales-vm/box", "no spaces")) ==
        "node \"sales-vm\": box \"no spaces\": 1 to 64 letters, digits, - or _");
  CHECK(refusal(with("/nodes/sales-vm/max_seconds", 3)).find("max_seconds") != std::string::npos);
  CHECK(refusal(with("/nodes/sales-vm/max_seconds", 601)).find("max_seconds") != std::string::npos);
  CHECK(refusal(with("/nodes/sales-vm/silence_seconds", 61)).find("silence_seconds") != std::string::npos);
  CHECK(refusal(with("/nodes/sales-vm/then", "main")) == "node \"sales-vm\": unknown field \"then\"");
}
