#include "dial_plan.h"

#include <absl/strings/str_cat.h>
#include <absl/time/civil_time.h>

#include <algorithm>
#include <functional>
#include <regex>

#include <nlohmann/json.hpp>

namespace tel::routing {
namespace {

using nlohmann::json;

constexpr size_t kMaxSchedules = 50;
constexpr size_t kMaxNodes = 500;
constexpr size_t kMaxSteps = 10;
constexpr size_t kMaxTargets = 20;
constexpr size_t kMaxIntervalsPerDay = 10;
constexpr size_t kMaxDates = 400;
constexpr int kMaxWalk = 64;

// Every check failure leaves through this, caught once at the top of parseDialPlan.
struct PlanError {
  std::string message;
};

[[noreturn]] void fail(std::string message) { throw PlanError{std::move(message)}; }

std::string inQuotes(const std::string& id) { return "\"" + id + "\""; }

bool validId(const std::string& id) {
  static const std::regex kId("[A-Za-z0-9_-]{1,64}");
  return std::regex_match(id, kId);
}

bool isE164(const std::string& number) {
  static const std::regex kE164(R"(\+[1-9][0-9]{6,14})");
  return std::regex_match(number, kE164);
}

bool isSipUri(const std::string& uri) {
  static const std::regex kSip(R"(sips?:([^@\s<>"]+@)?[A-Za-z0-9.\-\[\]:]+(;[^\s<>"]*)?)");
  return uri.size() <= 256 && std::regex_match(uri, kSip);
}

void onlyKeys(const json& object, std::initializer_list<const char*> allowed, const std::string& where) {
  for (const auto& [key, value] : object.items()) {
    if (std::find_if(allowed.begin(), allowed.end(), [&](const char* k) { return key == k; }) == allowed.end()) {
      fail(where + ": unknown field " + inQuotes(key));
    }
  }
}

const json& objectAt(const json& parent, const char* key, const std::string& where) {
  const json& value = parent.at(key);
  if (!value.is_object()) fail(where + ": " + key + " must be an object");
  return value;
}

std::string stringField(const json& object, const char* key, const std::string& where, bool required) {
  auto it = object.find(key);
  if (it == object.end() || it->is_null()) {
    if (required) fail(where + ": " + key + " is required");
    return "";
  }
  if (!it->is_string()) fail(where + ": " + key + " must be a string");
  return it->get<std::string>();
}

uint32_t integerField(const json& object, const char* key, const std::string& where, uint32_t fallback,
                      uint32_t min, uint32_t max) {
  auto it = object.find(key);
  if (it == object.end() || it->is_null()) return fallback;
  if (!it->is_number_integer() || it->get<int64_t>() < min || it->get<int64_t>() > max) {
    fail(absl::StrCat(where, ": ", key, " must be a whole number from ", min, " to ", max));
  }
  return static_cast<uint32_t>(it->get<int64_t>());
}

absl::CivilDay parseDate(const json& value, const std::string& where) {
  absl::CivilDay day;
  if (!value.is_string() || value.get<std::string>().size() != 10 ||
      !absl::ParseCivilTime(value.get<std::string>(), &day)) {
    fail(where + ": date must be YYYY-MM-DD");
  }
  return day;
}

// ["09:00-13:00", "14:00-18:00"] -> sorted, disjoint intervals.
std::vector<DayInterval> parseIntervals(const json& value, const std::string& where) {
  if (!value.is_array()) fail(where + " must be a list like [\"09:00-18:00\"]");
  if (value.size() > kMaxIntervalsPerDay) fail(absl::StrCat(where, ": at most ", kMaxIntervalsPerDay, " intervals"));
  std::vector<DayInterval> intervals;
  for (const auto& item : value) {
    const std::string text = item.is_string() ? item.get<std::string>() : "";
    const int start = text.size() == 11 && text[5] == '-' ? parseClockMinute(text.substr(0, 5)) : -1;
    const int end = start >= 0 ? parseClockMinute(text.substr(6)) : -1;
    if (start < 0 || end < 0 || start == 1440) fail(where + ": " + item.dump() + " is not HH:MM-HH:MM");
    if (end <= start) fail(where + ": " + text + " ends before it starts");
    intervals.push_back({start, end});
  }
  std::sort(intervals.begin(), intervals.end(),
            [](const DayInterval& a, const DayInterval& b) { return a.start_minute < b.start_minute; });
  for (size_t i = 1; i < intervals.size(); ++i) {
    if (intervals[i].start_minute < intervals[i - 1].end_minute) {
      fail(where + ": " + clockText(intervals[i - 1].start_minute) + "-" + clockText(intervals[i - 1].end_minute) +
           " and " + clockText(intervals[i].start_minute) + "-" + clockText(intervals[i].end_minute) + " overlap");
    }
  }
  return intervals;
}

// Calls `add(day, item, where)` for each object of the list `value[key]` (items named `item_name` in
// messages); `add` answers false when its date was already there.
void forEachDate(const json& value, const char* key, const std::string& item_name,
                 std::initializer_list<const char*> fields, const std::string& where,
                 const std::function<bool(absl::CivilDay, const json&, const std::string&)>& add) {
  if (!value.contains(key)) return;
  const json& items = value.at(key);
  if (!items.is_array() || items.size() > kMaxDates) {
    fail(absl::StrCat(where, ": ", key, " must be a list of at most ", kMaxDates));
  }
  for (const auto& item : items) {
    const std::string item_where = where + ": " + item_name;
    if (!item.is_object()) fail(item_where + " must be an object with a date");
    onlyKeys(item, fields, item_where);
    const absl::CivilDay day = parseDate(item.value("date", json()), item_where);
    const std::string day_where = item_where + " " + absl::FormatCivilTime(day);
    if (!add(day, item, day_where)) fail(day_where + " is listed twice");
  }
}

Schedule parseSchedule(const std::string& id, const json& value, const std::string& tenant_time_zone) {
  const std::string where = "schedule " + inQuotes(id);
  if (!value.is_object()) fail(where + " must be an object");
  onlyKeys(value, {"time_zone", "hours", "holidays", "exceptions"}, where);
  Schedule schedule;
  schedule.zone_name = stringField(value, "time_zone", where, false);
  if (schedule.zone_name.empty()) schedule.zone_name = tenant_time_zone.empty() ? "UTC" : tenant_time_zone;
  if (!absl::LoadTimeZone(schedule.zone_name, &schedule.zone)) {
    fail(where + ": unknown time_zone " + inQuotes(schedule.zone_name));
  }
  if (value.contains("hours")) {
    const json& hours = objectAt(value, "hours", where);
    for (const auto& [day, intervals] : hours.items()) {
      const int index = weekdayIndex(day);
      if (index < 0) fail(where + ": hours: unknown day " + inQuotes(day) + " (mon, tue, wed, thu, fri, sat, sun)");
      schedule.weekly[index] = parseIntervals(intervals, where + ": hours." + day);
    }
  }
  // Holidays and exceptions: lists of objects, each for one date, no date twice.
  forEachDate(value, "holidays", "holiday", {"date", "name"}, where, [&](absl::CivilDay day, const json& holiday,
                                                                        const std::string& item_where) {
    std::string name = stringField(holiday, "name", item_where, false);
    if (name.size() > 100) fail(item_where + ": name is longer than 100 characters");
    return schedule.holidays.emplace(day, std::move(name)).second;
  });
  forEachDate(value, "exceptions", "exception", {"date", "hours"}, where, [&](absl::CivilDay day, const json& exception,
                                                                             const std::string& item_where) {
    auto hours = parseIntervals(exception.value("hours", json::array()), item_where + ": hours");
    return schedule.exceptions.emplace(day, std::move(hours)).second;
  });
  return schedule;
}

SchemeTarget parseTarget(const json& value, const std::string& where, const PlanFacts* facts) {
  if (!value.is_object() || value.size() != 1) {
    fail(where + " must have one of extension, number, uri");
  }
  const auto item = value.items().begin();
  const std::string key = item.key();
  const json& raw = item.value();
  if (!raw.is_string()) fail(where + ": " + key + " must be a string");
  const std::string text = raw.get<std::string>();
  if (key == "extension") {
    if (text.empty() || text.size() > 32) fail(where + ": extension must be 1 to 32 characters");
    if (facts && !facts->extensions.count(text)) fail(where + ": no SIP account has extension " + inQuotes(text));
    return {SchemeTarget::Kind::kExtension, text};
  }
  if (key == "number") {
    if (!isE164(text)) fail(where + ": number " + inQuotes(text) + " is not E.164 (+ and 7 to 15 digits)");
    return {SchemeTarget::Kind::kNumber, text};
  }
  if (key == "uri") {
    if (!isSipUri(text)) fail(where + ": uri " + inQuotes(text) + " is not a sip: URI");
    return {SchemeTarget::Kind::kUri, text};
  }
  fail(where + ": unknown target " + inQuotes(key) + " (extension, number, uri)");
}

// A prompt name as the prompt store allows it, and (on a save) one the tenant has.
std::string promptField(const json& value, const char* key, const std::string& where, bool required,
                        const PlanFacts* facts) {
  std::string name = stringField(value, key, where, required);
  if (name.empty()) return name;
  static const std::regex kPrompt("[a-z0-9][a-z0-9_-]{0,63}");
  if (!std::regex_match(name, kPrompt)) fail(where + ": " + key + " " + inQuotes(name) + " is not a prompt name (a-z 0-9 - _)");
  if (facts && facts->prompt_exists && !facts->prompt_exists(name)) {
    fail(where + ": " + key + ": the tenant has no prompt " + inQuotes(name));
  }
  return name;
}

void parseMenu(const json& value, const std::string& where, const PlanFacts* facts, PlanNode& node) {
  onlyKeys(value, {"type", "prompt", "choices", "repeat_key", "timeout_seconds", "retries", "timeout_prompt",
                   "invalid_prompt", "fallback", "dial_by_extension"},
           where);
  node.type = PlanNode::Type::kMenu;
  node.prompt = promptField(value, "prompt", where, true, facts);
  node.timeout_prompt = promptField(value, "timeout_prompt", where, false, facts);
  node.invalid_prompt = promptField(value, "invalid_prompt", where, false, facts);
  node.timeout_seconds = integerField(value, "timeout_seconds", where, 5, 1, 60);
  node.retries = integerField(value, "retries", where, 2, 0, 5);
  node.fallback = stringField(value, "fallback", where, false);
  auto isKey = [](const std::string& key) { return key.size() == 1 && std::string("0123456789*#").find(key) != std::string::npos; };
  node.repeat_key = stringField(value, "repeat_key", where, false);
  if (!node.repeat_key.empty() && !isKey(node.repeat_key)) fail(where + ": repeat_key must be one of 0-9 * #");
  if (value.contains("dial_by_extension")) {
    if (!value.at("dial_by_extension").is_boolean()) fail(where + ": dial_by_extension must be true or false");
    node.dial_by_extension = value.at("dial_by_extension").get<bool>();
  }
  if (value.contains("choices")) {
    for (const auto& [key, target] : objectAt(value, "choices", where).items()) {
      if (!isKey(key)) fail(where + ": choices: key " + inQuotes(key) + " is not one of 0-9 * #");
      if (key == node.repeat_key) fail(where + ": choices: key " + key + " is also the repeat_key");
      if (key == "#" && node.dial_by_extension) fail(where + ": choices: # ends a typed extension, it cannot be a choice");
      if (!target.is_string()) fail(where + ": choices: key " + key + " must lead to a node id");
      node.choices.emplace(key, target.get<std::string>());
    }
  }
  if (node.choices.empty() && !node.dial_by_extension) {
    fail(where + ": a menu needs choices, or dial_by_extension");
  }
}

void parseVoicemail(const std::string& id, const json& value, const std::string& where, const PlanFacts* facts,
                    PlanNode& node) {
  onlyKeys(value, {"type", "box", "greeting", "max_seconds", "silence_seconds"}, where);
  node.type = PlanNode::Type::kVoicemail;
  node.box = stringField(value, "box", where, false);
  if (node.box.empty()) node.box = id;
  if (!validId(node.box)) fail(where + ": box " + inQuotes(node.box) + ": 1 to 64 letters, digits, - or _");
  node.prompt = promptField(value, "greeting", where, false, facts);
  node.max_seconds = integerField(value, "max_seconds", where, 120, 5, 600);
  node.silence_seconds = integerField(value, "silence_seconds", where, 5, 0, 60);
}

PlanNode parseNode(const std::string& id, const json& value, const PlanFacts* facts) {
  const std::string where = "node " + inQuotes(id);
  if (!value.is_object()) fail(where + " must be an object");
  const std::string type = stringField(value, "type", where, true);
  PlanNode node;
  if (type == "schedule") {
    onlyKeys(value, {"type", "schedule", "open", "closed"}, where);
    node.type = PlanNode::Type::kSchedule;
    node.schedule = stringField(value, "schedule", where, true);
    node.open = stringField(value, "open", where, true);
    node.closed = stringField(value, "closed", where, true);
  } else if (type == "scheme") {
    onlyKeys(value, {"type", "steps", "backup_number", "backup_ring_seconds", "then", "record"}, where);
    node.type = PlanNode::Type::kScheme;
    if (value.contains("record")) {
      if (!value.at("record").is_boolean()) fail(where + ": record must be true or false");
      node.record = value.at("record").get<bool>();
    }
    const json steps = value.value("steps", json());
    if (!steps.is_array() || steps.empty() || steps.size() > kMaxSteps) {
      fail(absl::StrCat(where, ": a scheme needs 1 to ", kMaxSteps, " steps"));
    }
    for (size_t i = 0; i < steps.size(); ++i) {
      const std::string step_where = absl::StrCat(where, ": step ", i + 1);
      if (!steps[i].is_object()) fail(step_where + " must be an object");
      onlyKeys(steps[i], {"targets", "ring_seconds"}, step_where);
      const json targets = steps[i].value("targets", json());
      if (!targets.is_array() || targets.empty()) fail(step_where + " has no targets");
      if (targets.size() > kMaxTargets) fail(absl::StrCat(step_where, " has more than ", kMaxTargets, " targets"));
      SchemeStep step;
      step.ring_seconds = integerField(steps[i], "ring_seconds", step_where, 20, 5, 300);
      for (size_t t = 0; t < targets.size(); ++t) {
        step.targets.push_back(parseTarget(targets[t], absl::StrCat(step_where, ": target ", t + 1), facts));
      }
      node.steps.push_back(std::move(step));
    }
    const std::string backup = stringField(value, "backup_number", where, false);
    if (!backup.empty()) {
      if (!isE164(backup)) fail(where + ": backup_number " + inQuotes(backup) + " is not E.164");
      node.steps.push_back({{{SchemeTarget::Kind::kNumber, backup}},
                            integerField(value, "backup_ring_seconds", where, 60, 5, 300)});
    } else if (value.contains("backup_ring_seconds")) {
      fail(where + ": backup_ring_seconds without a backup_number");
    }
    node.then = stringField(value, "then", where, false);
  } else if (type == "hangup") {
    onlyKeys(value, {"type", "status", "reason"}, where);
    node.type = PlanNode::Type::kHangup;
    node.status = integerField(value, "status", where, 480, 400, 699);
    node.reason = stringField(value, "reason", where, false);
    if (node.reason.size() > 100) fail(where + ": reason is longer than 100 characters");
  } else if (type == "menu") {
    parseMenu(value, where, facts, node);
  } else if (type == "voicemail") {
    parseVoicemail(id, value, where, facts, node);
  } else if (type == "queue") {
    onlyKeys(value, {"type", "queue", "then", "priority"}, where);
    node.type = PlanNode::Type::kQueue;
    node.queue = stringField(value, "queue", where, true);
    if (!validId(node.queue)) fail(where + ": queue " + inQuotes(node.queue) + ": 1 to 64 letters, digits, - or _");
    node.priority = integerField(value, "priority", where, 0, 0, 9);
    node.then = stringField(value, "then", where, false);
  } else {
    fail(where + ": unknown type " + inQuotes(type) + " (schedule, scheme, menu, voicemail, queue, hangup)");
  }
  return node;
}

OutboundRules parseOutbound(const json& value, const PlanFacts* facts) {
  const std::string where = "outbound";
  if (!value.is_object()) fail(where + " must be an object");
  onlyKeys(value,
           {"caller_ids", "account_caller_ids", "premium_rate", "blocked_prefixes", "max_concurrent_per_account",
            "max_concurrent"},
           where);
  OutboundRules rules;
  static const std::regex kPrefix(R"(\+[0-9]{1,15})");
  if (value.contains("caller_ids")) {
    const json& items = value.at("caller_ids");
    if (!items.is_array() || items.size() > 100) fail(where + ": caller_ids must be a list of at most 100");
    for (const auto& item : items) {
      if (!item.is_object()) fail(where + ": caller_ids: each must be {\"prefix\": ..., \"caller_id\": ...}");
      onlyKeys(item, {"prefix", "caller_id"}, where + ": caller_ids");
      OutboundRules::CallerIdRule rule{stringField(item, "prefix", where + ": caller_ids", true),
                                       stringField(item, "caller_id", where + ": caller_ids", true)};
      if (!std::regex_match(rule.prefix, kPrefix)) fail(where + ": caller_ids: prefix " + inQuotes(rule.prefix) + " is not + and digits");
      if (!isE164(rule.caller_id)) fail(where + ": caller_ids: caller_id " + inQuotes(rule.caller_id) + " is not E.164");
      if (facts && !facts->numbers.count(rule.caller_id)) {
        fail(where + ": caller_ids: " + rule.caller_id + " is not one of the tenant's numbers");
      }
      for (const auto& other : rules.caller_ids) {
        if (other.prefix == rule.prefix) fail(where + ": caller_ids: prefix " + rule.prefix + " is listed twice");
      }
      rules.caller_ids.push_back(std::move(rule));
    }
  }
  if (value.contains("account_caller_ids")) {
    const json& items = objectAt(value, "account_caller_ids", where);
    if (items.size() > 1000) fail(where + ": account_caller_ids: at most 1000");
    for (const auto& [extension, caller_id] : items.items()) {
      const std::string item_where = where + ": account_caller_ids: " + inQuotes(extension);
      if (facts && !facts->extensions.count(extension)) fail(item_where + ": no SIP account has this extension");
      if (!caller_id.is_string() || !isE164(caller_id.get<std::string>())) fail(item_where + " must be an E.164 number");
      if (facts && !facts->numbers.count(caller_id.get<std::string>())) {
        fail(item_where + ": " + caller_id.get<std::string>() + " is not one of the tenant's numbers");
      }
      rules.account_caller_ids.emplace(extension, caller_id.get<std::string>());
    }
  }
  if (value.contains("premium_rate")) {
    if (!value.at("premium_rate").is_boolean()) fail(where + ": premium_rate must be true or false");
    rules.premium_rate = value.at("premium_rate").get<bool>();
  }
  if (value.contains("blocked_prefixes")) {
    const json& items = value.at("blocked_prefixes");
    if (!items.is_array() || items.size() > 100) fail(where + ": blocked_prefixes must be a list of at most 100");
    for (const auto& item : items) {
      if (!item.is_string() || !std::regex_match(item.get<std::string>(), kPrefix)) {
        fail(where + ": blocked_prefixes: " + item.dump() + " is not + and digits");
      }
      rules.blocked_prefixes.push_back(item.get<std::string>());
    }
  }
  rules.max_concurrent_per_account =
      integerField(value, "max_concurrent_per_account", where, rules.max_concurrent_per_account, 1, 1000);
  rules.max_concurrent = integerField(value, "max_concurrent", where, rules.max_concurrent, 1, 100000);
  return rules;
}

// The nodes a node may lead to. `waiting` includes a menu's, which are only followed after the
// caller has pressed a key or let a timeout pass: a path back through a menu ("9: main menu") is
// a choice, not a loop.
std::vector<std::string> successors(const PlanNode& node, bool waiting) {
  switch (node.type) {
    case PlanNode::Type::kSchedule: return {node.open, node.closed};
    case PlanNode::Type::kScheme:
    case PlanNode::Type::kQueue: return node.then.empty() ? std::vector<std::string>{} : std::vector{node.then};
    case PlanNode::Type::kHangup: return {};
    case PlanNode::Type::kVoicemail: return {};
    case PlanNode::Type::kMenu: {
      if (!waiting) return {};
      std::vector<std::string> next;
      for (const auto& [key, target] : node.choices) next.push_back(target);
      if (!node.fallback.empty()) next.push_back(node.fallback);
      return next;
    }
  }
  return {};
}

// Every name a node uses must exist; every node must be reachable; no path may come back without
// passing a menu.
void checkGraph(const DialPlan& plan) {
  for (const auto& [id, node] : plan.nodes) {
    if (node.type == PlanNode::Type::kSchedule && !plan.schedules.count(node.schedule)) {
      fail("node " + inQuotes(id) + ": unknown schedule " + inQuotes(node.schedule));
    }
    for (const auto& next : successors(node, /*waiting=*/true)) {
      if (!plan.nodes.count(next)) fail("node " + inQuotes(id) + ": leads to unknown node " + inQuotes(next));
    }
  }
  for (const auto& [number, entry] : plan.numbers) {
    if (!plan.nodes.count(entry)) fail("number " + number + ": leads to unknown node " + inQuotes(entry));
  }
  enum class Mark { kUnseen, kOnPath, kDone };
  std::map<std::string, Mark> marks;
  std::vector<std::string> path;
  std::function<void(const std::string&)> visit = [&](const std::string& id) {
    Mark& mark = marks[id];
    if (mark == Mark::kDone) return;
    if (mark == Mark::kOnPath) {
      std::string loop;
      for (auto it = std::find(path.begin(), path.end(), id); it != path.end(); ++it) loop += inQuotes(*it) + " -> ";
      fail("nodes " + loop + inQuotes(id) + " form a loop");
    }
    mark = Mark::kOnPath;
    path.push_back(id);
    for (const auto& next : successors(plan.nodes.at(id), /*waiting=*/false)) visit(next);
    path.pop_back();
    marks[id] = Mark::kDone;
  };
  for (const auto& [number, entry] : plan.numbers) visit(entry);
  for (const auto& [id, node] : plan.nodes) visit(id);  // those only a menu leads to
  std::set<std::string> reached;
  std::vector<std::string> pending;
  for (const auto& [number, entry] : plan.numbers) pending.push_back(entry);
  while (!pending.empty()) {
    const std::string id = pending.back();
    pending.pop_back();
    if (!reached.insert(id).second) continue;
    for (const auto& next : successors(plan.nodes.at(id), /*waiting=*/true)) pending.push_back(next);
  }
  for (const auto& [id, node] : plan.nodes) {
    if (!reached.count(id)) fail("node " + inQuotes(id) + " is unreachable: no number leads to it");
  }
  std::set<std::string> used;
  for (const auto& [id, node] : plan.nodes) {
    if (node.type == PlanNode::Type::kSchedule) used.insert(node.schedule);
  }
  for (const auto& [id, schedule] : plan.schedules) {
    if (!used.count(id)) fail("schedule " + inQuotes(id) + " is not used by any node");
  }
}

std::shared_ptr<const DialPlan> parseChecked(const std::string& document, const std::string& tenant_time_zone,
                                             const PlanFacts* facts) {
  const json root = json::parse(document, nullptr, /*allow_exceptions=*/false);
  if (root.is_discarded()) fail("the plan is not valid JSON");
  if (!root.is_object()) fail("the plan must be a JSON object");
  onlyKeys(root, {"schedules", "nodes", "numbers", "outbound"}, "plan");
  auto plan = std::make_shared<DialPlan>();
  if (root.contains("schedules")) {
    const json& schedules = objectAt(root, "schedules", "plan");
    if (schedules.size() > kMaxSchedules) fail(absl::StrCat("plan: at most ", kMaxSchedules, " schedules"));
    for (const auto& [id, value] : schedules.items()) {
      if (!validId(id)) fail("schedule " + inQuotes(id) + ": ids are 1 to 64 letters, digits, - or _");
      plan->schedules.emplace(id, parseSchedule(id, value, tenant_time_zone));
    }
  }
  if (root.contains("nodes")) {
    const json& nodes = objectAt(root, "nodes", "plan");
    if (nodes.size() > kMaxNodes) fail(absl::StrCat("plan: at most ", kMaxNodes, " nodes"));
    for (const auto& [id, value] : nodes.items()) {
      if (!validId(id)) fail("node " + inQuotes(id) + ": ids are 1 to 64 letters, digits, - or _");
      plan->nodes.emplace(id, parseNode(id, value, facts));
    }
  }
  if (root.contains("numbers")) {
    for (const auto& [number, entry] : objectAt(root, "numbers", "plan").items()) {
      if (!isE164(number)) fail("number " + inQuotes(number) + " is not E.164");
      if (facts && !facts->numbers.count(number)) fail("number " + number + " is not one of the tenant's numbers");
      if (!entry.is_string()) fail("number " + number + ": the entry must be a node id");
      plan->numbers.emplace(number, entry.get<std::string>());
    }
  }
  if (root.contains("outbound")) plan->outbound = parseOutbound(root.at("outbound"), facts);
  checkGraph(*plan);
  plan->document = root.dump();
  return plan;
}

bool startsWith(const std::string& text, const std::string& prefix) { return text.rfind(prefix, 0) == 0; }

}  // namespace

// NANP 900/976, UK 09, Germany 0900 and 0137, France 089, Italy 899, and ITU's international
// networks (+881 satellite, +882/+883) and International Premium Rate Service (+979).
const std::vector<std::string> kPremiumRatePrefixes = {"+1900", "+1976", "+449",  "+49900", "+49137", "+3389",
                                                       "+39899", "+881", "+882", "+883",  "+979"};

std::optional<std::string> OutboundRules::refusal(const std::string& destination) const {
  for (const auto& prefix : blocked_prefixes) {
    if (startsWith(destination, prefix)) return "destination " + prefix + "... is blocked by the tenant";
  }
  if (!premium_rate) {
    for (const auto& prefix : kPremiumRatePrefixes) {
      if (startsWith(destination, prefix)) return "premium-rate destination " + prefix + "... is not enabled";
    }
  }
  return std::nullopt;
}

std::string OutboundRules::callerIdFor(const std::string& destination, const std::string& extension) const {
  const CallerIdRule* best = nullptr;
  for (const auto& rule : caller_ids) {
    if (startsWith(destination, rule.prefix) && (!best || rule.prefix.size() > best->prefix.size())) best = &rule;
  }
  if (best) return best->caller_id;
  auto account = account_caller_ids.find(extension);
  return account == account_caller_ids.end() ? "" : account->second;
}

std::string SchemeTarget::describe() const {
  switch (kind) {
    case Kind::kExtension: return "extension " + value;
    case Kind::kNumber: return "number " + value;
    case Kind::kUri: return "uri " + value;
  }
  return value;
}

absl::StatusOr<std::shared_ptr<const DialPlan>> parseDialPlan(const std::string& document,
                                                              const std::string& tenant_time_zone,
                                                              const PlanFacts* facts) {
  try {
    return parseChecked(document, tenant_time_zone, facts);
  } catch (const PlanError& error) {
    return absl::InvalidArgumentError(error.message);
  }
}

absl::StatusOr<const PlanNode*> walkPlan(const DialPlan& plan, const std::string& node_id, absl::Time at,
                                         std::vector<v1::PreviewStep>* path) {
  std::string current = node_id;
  for (int hops = 0; hops < kMaxWalk; ++hops) {
    auto it = plan.nodes.find(current);
    if (it == plan.nodes.end()) return absl::InternalError("the plan names a missing node " + inQuotes(current));
    const PlanNode& node = it->second;
    auto& step = path->emplace_back();
    step.set_node(current);
    switch (node.type) {
      case PlanNode::Type::kSchedule: {
        const ScheduleVerdict verdict = evaluateSchedule(plan.schedules.at(node.schedule), at);
        step.set_type("schedule");
        step.set_outcome(verdict.open ? "open" : "closed");
        step.set_detail(node.schedule + ": " + verdict.reason);
        current = verdict.open ? node.open : node.closed;
        continue;
      }
      case PlanNode::Type::kScheme:
        step.set_type("scheme");
        step.set_outcome("ring");
        for (const auto& scheme_step : node.steps) {
          auto* preview = step.add_steps();
          preview->set_ring_seconds(scheme_step.ring_seconds);
          for (const auto& target : scheme_step.targets) preview->add_targets(target.describe());
        }
        if (!node.then.empty()) step.set_detail("when no step answers: " + node.then);
        return &node;
      case PlanNode::Type::kHangup:
        step.set_type("hangup");
        step.set_outcome(std::to_string(node.status));
        step.set_detail(node.reason);
        return &node;
      case PlanNode::Type::kVoicemail:
        step.set_type("voicemail");
        step.set_outcome("record");
        step.set_detail("box " + node.box + (node.prompt.empty() ? "" : "; greeting " + node.prompt) + "; at most " +
                        std::to_string(node.max_seconds) + " s");
        return &node;
      case PlanNode::Type::kQueue:
        step.set_type("queue");
        step.set_outcome("enqueue");
        step.set_detail("queue " + node.queue + (node.priority == 0 ? "" : "; priority " + std::to_string(node.priority)) +
                        (node.then.empty() ? "" : "; overflow: " + node.then));
        return &node;
      case PlanNode::Type::kMenu: {
        step.set_type("menu");
        step.set_outcome("ask");
        std::string keys;
        for (const auto& [key, target] : node.choices) keys += (keys.empty() ? "" : ", ") + key + ": " + target;
        if (node.dial_by_extension) keys += std::string(keys.empty() ? "" : ", ") + "or an extension";
        step.set_detail("prompt " + node.prompt + "; " + keys +
                        (node.fallback.empty() ? "" : "; no choice: " + node.fallback));
        return &node;
      }
    }
  }
  return absl::InternalError("the plan's walk from " + inQuotes(node_id) + " did not end");
}

}  // namespace tel::routing
