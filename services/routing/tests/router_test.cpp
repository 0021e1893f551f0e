// The dial plan with in-memory fakes of accounts and call control.
#include "router.h"

#include <catch2/catch.hpp>
#include <map>
#include <vector>

using namespace tel;
using namespace tel::routing;

namespace {

struct FakeDirectory : RouteDirectory {
  std::map<std::string, accounts::v1::Number> numbers;
  std::map<std::string, accounts::v1::SipAccount> extensions;
  std::optional<accounts::v1::OutboundRoute> outbound;
  bool down = false;

  absl::StatusOr<accounts::v1::Number> number(const std::string&, const std::string& id) override {
    if (down) return absl::UnavailableError("down");
    auto it = numbers.find(id);
    if (it == numbers.end()) return absl::NotFoundError("no number");
    return it->second;
  }
  absl::StatusOr<std::optional<accounts::v1::SipAccount>> extension(
      const std::string&, const std::string& ext) override {
    if (down) return absl::UnavailableError("down");
    auto it = extensions.find(ext);
    if (it == extensions.end()) return std::nullopt;
    return it->second;
  }
  absl::StatusOr<std::optional<accounts::v1::OutboundRoute>> outboundRoute(
      const std::string&) override {
    if (down) return absl::UnavailableError("down");
    return outbound;
  }
};

struct FakePlans : PlanSource {
  std::shared_ptr<const DialPlan> current;
  bool down = false;
  absl::StatusOr<std::shared_ptr<const DialPlan>> plan(const std::string&) override {
    if (down) return absl::UnavailableError("down");
    return current;
  }
};

struct FakeCommander : CallCommander {
  std::vector<calls::v1::DialRequest> dials;
  std::vector<calls::v1::HangupRequest> hangups;
  absl::Status dial(const calls::v1::DialRequest& request) override {
    dials.push_back(request);
    return absl::OkStatus();
  }
  absl::Status hangup(const calls::v1::HangupRequest& request) override {
    hangups.push_back(request);
    return absl::OkStatus();
  }
  std::vector<calls::v1::AnswerRequest> answers;
  std::vector<calls::v1::PlayRequest> plays;
  std::vector<calls::v1::CollectDigitsRequest> collects;
  std::vector<calls::v1::RecordRequest> records;
  std::vector<calls::v1::HandOverRequest> hand_overs;
  std::vector<calls::v1::NoteRequest> notes;
  absl::Status hand_over_status = absl::OkStatus();
  absl::Status answer(const calls::v1::AnswerRequest& request) override {
    answers.push_back(request);
    return absl::OkStatus();
  }
  absl::Status play(const calls::v1::PlayRequest& request) override {
    plays.push_back(request);
    return absl::OkStatus();
  }
  absl::Status collectDigits(const calls::v1::CollectDigitsRequest& request) override {
    collects.push_back(request);
    return absl::OkStatus();
  }
  absl::Status record(const calls::v1::RecordRequest& request) override {
    records.push_back(request);
    return absl::OkStatus();
  }
  absl::Status handOver(const calls::v1::HandOverRequest& request) override {
    hand_overs.push_back(request);
    return hand_over_status;
  }
  absl::Status note(const calls::v1::NoteRequest& request) override {
    notes.push_back(request);
    return absl::OkStatus();
  }
  uint64_t attachment() const override { return 1; }
};

struct Fixture {
  FakeDirectory directory;
  FakePlans plans;
  FakeCommander commander;
  prometheus::Registry registry;
  // Monday 2026-11-30 10:00 in Berlin unless a test moves it.
  absl::Time now = absl::FromCivil(absl::CivilMinute(2026, 11, 30, 9, 0), absl::UTCTimeZone());
  std::chrono::steady_clock::time_point steady_now{};
  CarrierHealth health{{}, log::Logger::create("routing-test", log::Level::kError), registry, [this] { return steady_now; }};
  Router router{directory, plans, health, log::Logger::create("routing-test", log::Level::kError), registry,
                [this] { return now; }};

  Fixture() {
    for (auto [ext, id] : {std::pair{"101", "acc-101"}, std::pair{"102", "acc-102"}}) {
      accounts::v1::SipAccount account;
      account.set_id(id);
      account.set_extension(ext);
      directory.extensions[ext] = account;
    }
  }

  void route(const std::string& number_id, accounts::v1::NumberRoute::Kind kind,
             std::vector<std::string> extensions, std::string external = "") {
    accounts::v1::Number number;
    number.set_id(number_id);
    number.set_e164("+15550001000");
    number.mutable_route()->set_kind(kind);
    for (auto& e : extensions) number.mutable_route()->add_extensions(e);
    number.mutable_route()->set_external(external);
    number.mutable_route()->set_ring_timeout_seconds(20);
    directory.numbers[number_id] = number;
  }

  static calls::v1::CallOffered inbound(const std::string& number_id) {
    calls::v1::CallOffered offered;
    offered.set_tenant_id("tenant-a");
    offered.set_direction(calls::v1::DIRECTION_INBOUND);
    offered.set_caller("+15557654321");
    offered.set_called("+15550001000");
    offered.set_number_id(number_id);
    return offered;
  }

  // A plan for +15550001000: office hours in Berlin, a scheme of two steps and a backup number,
  // then a hangup; out of hours the same hangup.
  void usePlan(const std::string& sales_first_step = R"([{"extension": "101"}, {"extension": "102"}])",
               const std::string& then = R"("then": "night",)") {
    const std::string document = R"({
      "schedules": {"office": {"time_zone": "Europe/Berlin", "hours": {"mon": ["09:00-18:00"]},
                               "holidays": [{"date": "2026-12-25"}]}},
      "nodes": {
        "main": {"type": "schedule", "schedule": "office", "open": "sales", "closed": "night"},
        "sales": {"type": "scheme", )" + then + R"(
                  "steps": [{"targets": )" + sales_first_step + R"(, "ring_seconds": 15},
                            {"targets": [{"number": "+4915112345678"}, {"uri": "sip:desk@pbx.example.com"}]}],
                  "backup_number": "+4930123456"},
        "night": {"type": "hangup", "status": 480, "reason": "closed"}},
      "numbers": {"+15550001000": "main"}})";
    auto plan = parseDialPlan(document, "UTC", nullptr);
    REQUIRE(plan.ok());
    plans.current = *plan;
    route("n1", accounts::v1::NumberRoute::KIND_EXTENSIONS, {"102"});
    accounts::v1::OutboundRoute outbound;
    outbound.set_outbound_uri("sip:trunk@carrier.example:5080");
    outbound.set_caller_id("+15550009999");
    directory.outbound = outbound;
  }

  void offer(const std::string& call_id) {
    calls::v1::CallNotification notification;
    notification.set_call_id(call_id);
    *notification.mutable_offered() = inbound("n1");
    router.handle(notification, commander);
  }

  // A dial failed by its targets (placed), or by sip-edge itself before any leg went out.
  void failDial(const std::string& call_id, uint32_t status, const std::string& reason, bool placed = true) {
    calls::v1::CallNotification notification;
    notification.set_call_id(call_id);
    notification.mutable_dial_failed()->set_status_code(status);
    notification.mutable_dial_failed()->set_reason(reason);
    notification.mutable_dial_failed()->set_placed(placed);
    router.handle(notification, commander);
  }

  static calls::v1::CallOffered fromAccount(const std::string& called,
                                            bool outbound_allowed = true) {
    calls::v1::CallOffered offered;
    offered.set_tenant_id("tenant-a");
    offered.set_direction(calls::v1::DIRECTION_OUTBOUND);
    offered.set_caller("101");
    offered.set_called(called);
    offered.set_caller_account_id("acc-101");
    offered.set_caller_outbound_allowed(outbound_allowed);
    return offered;
  }
};

}  // namespace

TEST_CASE_METHOD(Fixture, "a number routed to extensions rings them all with its timeout") {
  route("n1", accounts::v1::NumberRoute::KIND_EXTENSIONS, {"101", "102", "199"});
  auto decision = router.decide("call-1", inbound("n1"));
  REQUIRE(decision.dial);
  CHECK(decision.dial->call_id() == "call-1");
  CHECK(decision.dial->timeout_seconds() == 20);
  REQUIRE(decision.dial->targets().size() == 2);  // 199 does not exist
  CHECK(decision.dial->targets(0).account().account_id() == "acc-101");
  CHECK(decision.dial->targets(1).account().extension() == "102");
}

TEST_CASE_METHOD(Fixture, "a number whose extensions are all gone, or not routed, gets 480") {
  route("n1", accounts::v1::NumberRoute::KIND_EXTENSIONS, {"198", "199"});
  route("n2", accounts::v1::NumberRoute::KIND_NONE, {});
  for (const char* id : {"n1", "n2"}) {
    auto decision = router.decide("call-1", inbound(id));
    REQUIRE(decision.hangup);
    CHECK(decision.hangup->status_code() == 480);
  }
}

TEST_CASE_METHOD(
    Fixture,
    "a number forwarded to a phone number leaves through the carrier with the caller's id") {
  route("n1", accounts::v1::NumberRoute::KIND_EXTERNAL, {}, "+15559998888");
  accounts::v1::OutboundRoute outbound;
  outbound.set_outbound_uri("sip:trunk@carrier.example:5080");
  outbound.set_caller_id("+15550001000");
  directory.outbound = outbound;
  auto decision = router.decide("call-1", inbound("n1"));
  REQUIRE(decision.dial);
  CHECK(decision.dial->targets(0).external().request_uri() ==
        "sip:+15559998888@carrier.example:5080");
  CHECK(decision.dial->targets(0).external().caller_id().empty());  // the original caller shows
}

TEST_CASE_METHOD(Fixture, "a number forwarded to a SIP URI is dialled directly") {
  route("n1", accounts::v1::NumberRoute::KIND_EXTERNAL, {}, "sip:desk@pbx.example.org");
  auto decision = router.decide("call-1", inbound("n1"));
  REQUIRE(decision.dial);
  CHECK(decision.dial->targets(0).external().request_uri() == "sip:desk@pbx.example.org");
}

TEST_CASE_METHOD(Fixture, "an account dialling an extension makes an internal call") {
  auto decision = router.decide("call-1", fromAccount("102"));
  REQUIRE(decision.dial);
  CHECK(decision.dial->targets(0).account().account_id() == "acc-102");
}

TEST_CASE_METHOD(Fixture, "an account dialling a number goes out with the tenant's caller id") {
  accounts::v1::OutboundRoute outbound;
  outbound.set_outbound_uri("sip:127.0.0.1:46100");
  outbound.set_caller_id("+15550001000");
  directory.outbound = outbound;
  auto decision = router.decide("call-1", fromAccount("0015559998888"));
  REQUIRE(decision.dial);
  CHECK(decision.dial->targets(0).external().request_uri() == "sip:+15559998888@127.0.0.1:46100");
  CHECK(decision.dial->targets(0).external().caller_id() == "+15550001000");
}

TEST_CASE_METHOD(
    Fixture,
    "refusals: unknown destination 404, outbound not allowed 403, no carrier 503, self 486") {
  CHECK(router.decide("c", fromAccount("hello")).hangup->status_code() == 404);
  CHECK(router.decide("c", fromAccount("+15559998888", false)).hangup->status_code() == 403);
  CHECK(router.decide("c", fromAccount("+15559998888")).hangup->status_code() == 503);
  CHECK(router.decide("c", fromAccount("101")).hangup->status_code() == 486);
}

TEST_CASE_METHOD(Fixture, "accounts down: the caller hears 503") {
  directory.down = true;
  CHECK(router.decide("c", inbound("n1")).hangup->status_code() == 503);
  CHECK(router.decide("c", fromAccount("102")).hangup->status_code() == 503);
}

TEST_CASE_METHOD(Fixture,
                 "notifications drive commands: offer then dial, a failed dial then hangup") {
  route("n1", accounts::v1::NumberRoute::KIND_EXTENSIONS, {"101"});
  calls::v1::CallNotification offer;
  offer.set_call_id("call-9");
  *offer.mutable_offered() = inbound("n1");
  router.handle(offer, commander);
  REQUIRE(commander.dials.size() == 1);

  calls::v1::CallNotification failed;
  failed.set_call_id("call-9");
  failed.mutable_dial_failed()->set_status_code(486);
  failed.mutable_dial_failed()->set_reason("busy");
  router.handle(failed, commander);
  REQUIRE(commander.hangups.size() == 1);
  CHECK(commander.hangups[0].status_code() == 486);
  CHECK(callerStatusAfterFailedDial(487) == 480);
  CHECK(callerStatusAfterFailedDial(408) == 480);
}

TEST_CASE_METHOD(Fixture, "only offers, failed dials and bridges (and a menu's keys) are acted on: the rest never reach a worker") {
  calls::v1::CallNotification notification;
  notification.set_call_id("call-10");
  *notification.mutable_offered() = inbound("n1");
  CHECK(Router::actsOn(notification));
  notification.mutable_dial_failed()->set_status_code(486);
  CHECK(Router::actsOn(notification));
  notification.mutable_ringing()->set_leg_id("b1.1");
  CHECK_FALSE(Router::actsOn(notification));
  notification.mutable_bridged()->set_leg_id("b1.1");
  CHECK(Router::actsOn(notification));
  notification.mutable_ended();
  CHECK_FALSE(Router::actsOn(notification));
  // What is not acted on commands nothing.
  router.handle(notification, commander);
  CHECK(commander.dials.empty());
  CHECK(commander.hangups.empty());
}

TEST_CASE_METHOD(Fixture, "in hours a scheme rings its steps one after another, then its next node") {
  usePlan();
  offer("call-1");
  REQUIRE(commander.dials.size() == 1);
  CHECK(commander.dials[0].timeout_seconds() == 15);
  REQUIRE(commander.dials[0].targets_size() == 2);
  CHECK(commander.dials[0].targets(0).account().account_id() == "acc-101");
  CHECK(commander.dials[0].targets(1).account().account_id() == "acc-102");
  CHECK(router.journeys() == 1);
  // The way there rides along for the call record: the schedule's branch, the scheme, its step.
  auto routeOf = [](const auto& steps) {
    std::vector<std::string> out;
    for (const auto& step : steps) out.push_back(step.node() + " " + step.type() + " " + step.outcome());
    return out;
  };
  CHECK(routeOf(commander.dials[0].route()) ==
        std::vector<std::string>{"main schedule open", "sales scheme ring", "sales step 1"});
  CHECK(commander.dials[0].route(2).detail() == "extension 101, extension 102 for 15 s");

  failDial("call-1", 480, "no_answer");
  REQUIRE(commander.dials.size() == 2);
  const auto& second = commander.dials[1];
  CHECK(routeOf(second.route()) == std::vector<std::string>{"sales step_failed no_answer", "sales step 2"});
  CHECK(second.route(0).detail() == "step 1: SIP 480");
  CHECK(second.timeout_seconds() == 20);
  REQUIRE(second.targets_size() == 2);
  // FMC: the mobile is rung through the carrier and sees the number the client called.
  CHECK(second.targets(0).external().request_uri() == "sip:+4915112345678@carrier.example:5080");
  CHECK(second.targets(0).external().caller_id() == "+15550001000");
  CHECK(second.targets(1).external().request_uri() == "sip:desk@pbx.example.com");
  CHECK(second.targets(1).external().caller_id().empty());

  failDial("call-1", 486, "busy");
  REQUIRE(commander.dials.size() == 3);
  CHECK(commander.dials[2].targets(0).external().request_uri() == "sip:+4930123456@carrier.example:5080");
  CHECK(commander.dials[2].timeout_seconds() == 60);

  failDial("call-1", 408, "no_answer");
  REQUIRE(commander.hangups.size() == 1);
  CHECK(commander.hangups[0].status_code() == 480);
  CHECK(commander.hangups[0].reason() == "closed");
  CHECK(routeOf(commander.hangups[0].route()) ==
        std::vector<std::string>{"sales step_failed no_answer", "night hangup 480"});
  CHECK(router.journeys() == 0);
}

TEST_CASE_METHOD(Fixture, "out of hours and on holidays the closed branch takes the call") {
  usePlan();
  now = absl::FromCivil(absl::CivilMinute(2026, 11, 30, 18, 0), absl::UTCTimeZone());  // 19:00 Berlin
  offer("call-1");
  REQUIRE(commander.hangups.size() == 1);
  CHECK(commander.hangups[0].reason() == "closed");
  now = absl::FromCivil(absl::CivilMinute(2026, 12, 25, 9, 0), absl::UTCTimeZone());  // a holiday
  offer("call-2");
  CHECK(commander.hangups.size() == 2);
  CHECK(commander.dials.empty());
  CHECK(router.journeys() == 0);
}

TEST_CASE_METHOD(Fixture, "a step with nothing left to ring is skipped at once") {
  usePlan(R"([{"extension": "150"}])");  // an extension deleted since the plan was saved
  directory.outbound.reset();
  offer("call-1");
  // Step 2's number needs a carrier there is not; its URI still rings.
  REQUIRE(commander.dials.size() == 1);
  REQUIRE(commander.dials[0].targets_size() == 1);
  CHECK(commander.dials[0].targets(0).external().request_uri() == "sip:desk@pbx.example.com");
  // Without a carrier the backup number cannot ring either: the next node takes the call.
  failDial("call-1", 480, "no_answer");
  REQUIRE(commander.hangups.size() == 1);
  CHECK(commander.hangups[0].reason() == "closed");
}

TEST_CASE_METHOD(Fixture, "a scheme without a next node lets the caller hear the last failure") {
  usePlan(R"([{"extension": "101"}])", "");
  offer("call-1");
  failDial("call-1", 480, "no_answer");
  failDial("call-1", 480, "no_answer");
  failDial("call-1", 486, "busy");
  REQUIRE(commander.hangups.size() == 1);
  CHECK(commander.hangups[0].status_code() == 486);
  CHECK(commander.hangups[0].reason() == "busy");
}

TEST_CASE_METHOD(Fixture, "numbers the plan does not name keep their own route and without plans the caller hears 503") {
  usePlan();
  route("n2", accounts::v1::NumberRoute::KIND_EXTENSIONS, {"102"});
  directory.numbers["n2"].set_e164("+15550002000");
  auto decision = router.decide("call-1", inbound("n2"));
  REQUIRE(decision.dial);
  CHECK(decision.dial->targets(0).account().account_id() == "acc-102");
  CHECK(router.journeys() == 0);
  plans.down = true;
  CHECK(router.decide("call-2", inbound("n1")).hangup->status_code() == 503);
}

TEST_CASE_METHOD(Fixture, "outbound rules: premium-rate blocked by default and caller ids by destination prefix") {
  accounts::v1::OutboundRoute outbound;
  outbound.set_outbound_uri("sip:127.0.0.1:46100");
  outbound.set_caller_id("+15550001000");
  directory.outbound = outbound;
  // No plan: the defaults block premium rate.
  auto premium = router.decide("c1", fromAccount("+19005551234"));
  REQUIRE(premium.hangup);
  CHECK(premium.hangup->status_code() == 403);
  CHECK(premium.hangup->reason() == "premium-rate destination +1900... is not enabled");
  CHECK(router.decide("c2", fromAccount("+979123456789")).hangup->status_code() == 403);

  auto plan = parseDialPlan(R"({"outbound": {"premium_rate": true, "blocked_prefixes": ["+7"],
      "caller_ids": [{"prefix": "+44", "caller_id": "+15550002000"}, {"prefix": "+4420", "caller_id": "+15550003000"}],
      "max_concurrent": 20}})",
                            "UTC", nullptr);
  REQUIRE(plan.ok());
  plans.current = *plan;
  auto allowed = router.decide("c3", fromAccount("+19005551234"));
  REQUIRE(allowed.dial);
  CHECK(allowed.dial->targets(0).external().caller_id() == "+15550001000");  // no rule: the carrier's
  REQUIRE(allowed.dial->limits_size() == 2);
  CHECK(allowed.dial->limits(0).key() == "outbound:account:acc-101");
  CHECK(allowed.dial->limits(0).max() == 2);
  CHECK(allowed.dial->limits(1).key() == "outbound:tenant");
  CHECK(allowed.dial->limits(1).max() == 20);
  CHECK(router.decide("c8", fromAccount("102")).dial->limits_size() == 0);  // internal calls are not counted
  CHECK(router.decide("c4", fromAccount("+447911123456")).dial->targets(0).external().caller_id() == "+15550002000");
  CHECK(router.decide("c5", fromAccount("+442071234567")).dial->targets(0).external().caller_id() == "+15550003000");
  auto blocked = router.decide("c6", fromAccount("+74951234567"));
  REQUIRE(blocked.hangup);
  CHECK(blocked.hangup->reason() == "destination +7... is blocked by the tenant");
  // The calling account's own caller id (101 is the caller here) where no prefix rule matches.
  auto own = parseDialPlan(R"({"outbound": {"caller_ids": [{"prefix": "+44", "caller_id": "+15550002000"}],
      "account_caller_ids": {"101": "+15550009000"}}})",
                           "UTC", nullptr);
  REQUIRE(own.ok());
  plans.current = *own;
  CHECK(router.decide("c9", fromAccount("+4930123456")).dial->targets(0).external().caller_id() == "+15550009000");
  CHECK(router.decide("c10", fromAccount("+447911123456")).dial->targets(0).external().caller_id() == "+15550002000");
  plans.down = true;
  CHECK(router.decide("c7", fromAccount("+447911123456")).hangup->status_code() == 503);
}

TEST_CASE_METHOD(Fixture, "a carrier that fails a call hands it to the next, in the tenant's order") {
  accounts::v1::OutboundRoute outbound;
  outbound.set_outbound_uri("sip:primary.example:5060");
  outbound.set_caller_id("+15550001000");
  auto* backup = outbound.add_fallbacks();
  backup->set_outbound_uri("sip:backup.example:5060");
  backup->set_caller_id("+15550002000");
  directory.outbound = outbound;
  calls::v1::CallNotification offer;
  offer.set_call_id("call-1");
  *offer.mutable_offered() = fromAccount("+447911123456");
  router.handle(offer, commander);
  REQUIRE(commander.dials.size() == 1);
  CHECK(commander.dials[0].targets(0).external().request_uri() == "sip:+447911123456@primary.example:5060");
  CHECK(commander.dials[0].targets(0).external().response_timeout_ms() == 3000);  // a silent carrier is passed over
  CHECK(commander.dials[0].limits_size() == 2);
  REQUIRE(commander.dials[0].route_size() == 1);
  CHECK(commander.dials[0].route(0).type() == "carrier");

  failDial("call-1", 503, "unavailable");
  REQUIRE(commander.dials.size() == 2);
  const auto& second = commander.dials[1];
  CHECK(second.targets(0).external().request_uri() == "sip:+447911123456@backup.example:5060");
  CHECK(second.targets(0).external().caller_id() == "+15550002000");  // the backup carrier's own
  REQUIRE(second.route_size() == 2);
  CHECK(second.route(0).type() == "carrier_failed");
  CHECK(second.route(0).outcome() == "503");
  CHECK(second.route(1).outcome() == "2");

  // No carrier left: the caller hears the failure.
  failDial("call-1", 502, "unavailable");
  REQUIRE(commander.hangups.size() == 1);
  CHECK(commander.hangups[0].status_code() == 502);
  CHECK(router.journeys() == 0);

  // A callee's answer (busy) is final: no other carrier is tried.
  *offer.mutable_offered() = fromAccount("+447911123457");
  offer.set_call_id("call-2");
  router.handle(offer, commander);
  failDial("call-2", 486, "busy");
  CHECK(commander.dials.size() == 3);
  REQUIRE(commander.hangups.size() == 2);
  CHECK(commander.hangups[1].status_code() == 486);
  CHECK(router.journeys() == 0);
}

namespace {

calls::v1::CallNotification collected(const std::string& call_id, const std::string& digits, const std::string& reason) {
  calls::v1::CallNotification notification;
  notification.set_call_id(call_id);
  notification.mutable_digits_collected()->set_digits(digits);
  notification.mutable_digits_collected()->set_reason(reason);
  return notification;
}

}  // namespace

struct MenuFixture : Fixture {
  MenuFixture() {
    auto plan = parseDialPlan(R"({
      "nodes": {
        "main": {"type": "menu", "prompt": "welcome", "choices": {"1": "sales", "2": "more"},
                 "retries": 1, "timeout_prompt": "no-input", "invalid_prompt": "sorry", "fallback": "night"},
        "more": {"type": "menu", "prompt": "more", "choices": {"9": "main"}, "dial_by_extension": true},
        "sales": {"type": "scheme", "steps": [{"targets": [{"extension": "101"}]}], "record": true},
        "night": {"type": "hangup", "status": 480}},
      "numbers": {"+15550001000": "main"}})",
                              "UTC", nullptr);
    REQUIRE(plan.ok());
    plans.current = *plan;
    route("n1", accounts::v1::NumberRoute::KIND_EXTENSIONS, {"102"});
  }
  void offer(const std::string& call_id) {
    calls::v1::CallNotification notification;
    notification.set_call_id(call_id);
    *notification.mutable_offered() = inbound("n1");
    router.handle(notification, commander);
  }
};

TEST_CASE_METHOD(MenuFixture, "a menu answers, plays its prompt, and the key pressed picks the node") {
  offer("c1");
  REQUIRE(commander.answers.size() == 1);
  REQUIRE(commander.plays.size() == 1);
  CHECK(commander.plays[0].prompts(0) == "welcome");
  REQUIRE(commander.collects.size() == 1);
  CHECK(commander.collects[0].max_digits() == 1);
  CHECK(commander.collects[0].barge_in());
  CHECK(commander.collects[0].route(commander.collects[0].route_size() - 1).type() == "menu");
  CHECK(commander.dials.empty());

  router.handle(collected("c1", "1", "max_digits"), commander);
  REQUIRE(commander.dials.size() == 1);
  CHECK(commander.dials[0].targets(0).account().extension() == "101");
  // The answered caller hears ringing while 101 rings (no 180 can reach a caller answered already).
  REQUIRE(commander.plays.size() == 2);
  CHECK(commander.plays[1].prompts(0) == "@ringback");
  CHECK(commander.plays[1].loop());
  CHECK(commander.dials[0].record());  // the scheme records its calls
  CHECK(commander.dials[0].route(0).outcome() == "key 1");
  CHECK(commander.answers.size() == 1);  // answered once
}

TEST_CASE_METHOD(MenuFixture, "timeouts and wrong keys replay the menu with their prompt, then the fallback takes the call") {
  offer("c2");
  router.handle(collected("c2", "", "timeout"), commander);
  REQUIRE(commander.plays.size() == 2);
  CHECK(commander.plays[1].prompts(0) == "no-input");
  CHECK(commander.plays[1].prompts(1) == "welcome");
  CHECK(commander.collects[1].route(1).detail() == "no-input, welcome");
  CHECK(commander.answers.size() == 1);
  router.handle(collected("c2", "7", "max_digits"), commander);  // retries: 1, spent
  CHECK(commander.plays.size() == 2);
  REQUIRE(commander.hangups.size() == 1);  // the fallback: a hangup node
  CHECK(commander.hangups[0].status_code() == 480);
  bool gave_up = false;
  for (const auto& step : commander.hangups[0].route()) gave_up |= step.outcome() == "no_choice";
  CHECK(gave_up);
  // Keys after the call left the menu change nothing.
  router.handle(collected("c2", "1", "max_digits"), commander);
  CHECK(commander.dials.empty());
}

TEST_CASE_METHOD(MenuFixture, "nested menus, the way back, and dial-by-extension") {
  offer("c3");
  router.handle(collected("c3", "2", "max_digits"), commander);
  REQUIRE(commander.plays.size() == 2);
  CHECK(commander.plays[1].prompts(0) == "more");
  CHECK(commander.collects[1].max_digits() == 32);
  CHECK(commander.collects[1].terminators() == "#");
  router.handle(collected("c3", "9", "timeout"), commander);  // back to the main menu
  CHECK(commander.plays.back().prompts(0) == "welcome");
  router.handle(collected("c3", "2", "max_digits"), commander);
  router.handle(collected("c3", "102", "terminator"), commander);  // an extension typed
  REQUIRE(commander.dials.size() == 1);
  CHECK(commander.dials[0].targets(0).account().account_id() == "acc-102");
  // It does not answer: back to the menu it was typed in.
  calls::v1::CallNotification failed;
  failed.set_call_id("c3");
  failed.mutable_dial_failed()->set_status_code(480);
  failed.mutable_dial_failed()->set_reason("no_answer");
  router.handle(failed, commander);
  CHECK(commander.plays.back().prompts(0) == "more");
  // An extension nobody has is a wrong key.
  router.handle(collected("c3", "555", "terminator"), commander);
  CHECK(commander.dials.size() == 1);
  CHECK(commander.plays.back().prompts(0) == "more");
}

TEST_CASE_METHOD(Fixture, "voicemail answers, plays the greeting and a beep, records the message, then hangs up") {
  auto plan = parseDialPlan(R"({
    "nodes": {
      "sales": {"type": "scheme", "steps": [{"targets": [{"extension": "101"}], "ring_seconds": 10}], "then": "vm"},
      "vm": {"type": "voicemail", "box": "sales-box", "greeting": "vm-greeting", "max_seconds": 60,
             "silence_seconds": 4}},
    "numbers": {"+15550001000": "sales"}})",
                            "UTC", nullptr);
  REQUIRE(plan.ok());
  plans.current = *plan;
  route("n1", accounts::v1::NumberRoute::KIND_EXTENSIONS, {"102"});
  calls::v1::CallNotification offered;
  offered.set_call_id("v1");
  *offered.mutable_offered() = inbound("n1");
  router.handle(offered, commander);
  REQUIRE(commander.dials.size() == 1);
  CHECK(commander.answers.empty());  // the scheme rings first, unanswered
  // Nobody answers: the caller is answered by voicemail.
  calls::v1::CallNotification failed;
  failed.set_call_id("v1");
  failed.mutable_dial_failed()->set_status_code(480);
  failed.mutable_dial_failed()->set_reason("no_answer");
  router.handle(failed, commander);
  REQUIRE(commander.answers.size() == 1);
  REQUIRE(commander.plays.size() == 1);
  REQUIRE(commander.plays[0].prompts_size() == 2);
  CHECK(commander.plays[0].prompts(0) == "vm-greeting");
  CHECK(commander.plays[0].prompts(1) == "@beep");
  REQUIRE(commander.records.size() == 1);
  const auto& record = commander.records[0];
  CHECK(record.max_seconds() == 60);
  CHECK(record.silence_seconds() == 4);
  CHECK(record.terminators() == "#");
  // The record command carries the way here; its last step names the box (the call record's).
  const auto& last = record.route(record.route_size() - 1);
  CHECK(last.type() == "voicemail");
  CHECK(last.outcome() == "recording");
  CHECK(last.detail() == "sales-box");
  // The message ends (here on silence): the call is hung up, the step saying why.
  calls::v1::CallNotification ended;
  ended.set_call_id("v1");
  ended.mutable_recording_ended()->set_reason("silence");
  ended.mutable_recording_ended()->set_duration_ms(7400);
  CHECK(Router::actsOn(ended));
  router.handle(ended, commander);
  REQUIRE(commander.hangups.size() == 1);
  CHECK(commander.hangups[0].route(0).outcome() == "silence");
  CHECK(commander.hangups[0].route(0).detail() == "sales-box: 7400 ms");
  CHECK(router.journeys() == 0);
  // A second end (a duplicate) changes nothing.
  router.handle(ended, commander);
  CHECK(commander.hangups.size() == 1);
}

TEST_CASE_METHOD(Fixture, "a carrier that keeps failing is tried last until its probes are answered") {
  accounts::v1::OutboundRoute outbound;
  outbound.set_carrier_id("primary");
  outbound.set_outbound_uri("sip:primary.example:5060");
  auto* backup = outbound.add_fallbacks();
  backup->set_carrier_id("backup");
  backup->set_outbound_uri("sip:backup.example:5060");
  directory.outbound = outbound;
  auto call = [&](const std::string& call_id) {
    calls::v1::CallNotification offer;
    offer.set_call_id(call_id);
    *offer.mutable_offered() = fromAccount("+447911123456");
    router.handle(offer, commander);
    return commander.dials.back();
  };
  // Three calls in a minute find the primary silent (408 after the response timeout).
  for (int i = 0; i < 3; ++i) {
    const std::string id = "trip-" + std::to_string(i);
    CHECK(call(id).targets(0).external().request_uri() == "sip:+447911123456@primary.example:5060");
    CHECK_FALSE(health.down("primary"));
    steady_now += std::chrono::seconds(10);
    failDial(id, 408, "no_answer");
    CHECK(commander.dials.back().targets(0).external().request_uri() == "sip:+447911123456@backup.example:5060");
  }
  CHECK(health.down("primary"));
  // The next call goes to the backup first; the record says why.
  auto next = call("after-trip");
  CHECK(next.targets(0).external().request_uri() == "sip:+447911123456@backup.example:5060");
  REQUIRE(next.route_size() == 2);
  CHECK(next.route(0).type() == "carrier_down");
  CHECK(next.route(0).detail() == "sip:primary.example:5060");
  // sip-edge's own refusal (a fault of its own, before any leg) is not the backup carrier's failure.
  for (int i = 0; i < 3; ++i) {
    const std::string id = "own-" + std::to_string(i);
    call(id);
    failDial(id, 503, "unavailable", /*placed=*/false);
  }
  CHECK_FALSE(health.down("backup"));
  // Probes: due once the interval has passed, one at a time; two answered bring it back.
  CHECK(health.dueProbes().empty());
  steady_now += std::chrono::seconds(5);
  auto due = health.dueProbes();
  REQUIRE(due.size() == 1);
  CHECK(due[0].carrier_id == "primary");
  CHECK(due[0].uri == "sip:primary.example:5060");
  CHECK(health.dueProbes().empty());  // in flight
  health.probed("primary", true);
  CHECK(health.down("primary"));
  steady_now += std::chrono::seconds(5);
  REQUIRE(health.dueProbes().size() == 1);
  health.probed("primary", true);
  CHECK_FALSE(health.down("primary"));
  CHECK(call("recovered").targets(0).external().request_uri() == "sip:+447911123456@primary.example:5060");
  // Answered calls end their journey and show that the carrier works: failures around them do not
  // add up to taking it out.
  // (Without that, the primary's three failures below would be within the minute.)
  const size_t journeys_before = router.journeys();
  for (int i = 0; i < 6; ++i) {
    const std::string id = "mixed-" + std::to_string(i);
    call(id);
    if (i % 2 == 0) {
      failDial(id, 503, "unavailable");
      calls::v1::CallNotification bridged;
      bridged.set_call_id(id);
      bridged.mutable_bridged()->set_leg_id("b2.1");
      CHECK(Router::actsOn(bridged));
      router.handle(bridged, commander);  // answered through the backup
    } else {
      calls::v1::CallNotification bridged;
      bridged.set_call_id(id);
      bridged.mutable_bridged()->set_leg_id("b1.1");
      router.handle(bridged, commander);  // answered through the primary
    }
  }
  CHECK_FALSE(health.down("primary"));
  CHECK(router.journeys() == journeys_before);  // each answered call's journey is over
}

TEST_CASE("carrier health: failures outside the window do not add up, and an unanswered probe starts the count again") {
  prometheus::Registry registry;
  std::chrono::steady_clock::time_point now{};
  CarrierHealth health({.failures_to_trip = 2, .window = std::chrono::seconds(30)},
                       log::Logger::create("routing-test", log::Level::kError), registry, [&] { return now; });
  health.failed("c1", "sip:c1.example");
  now += std::chrono::seconds(31);
  health.failed("c1", "sip:c1.example");
  CHECK_FALSE(health.down("c1"));
  health.failed("c1", "sip:c1.example");
  CHECK(health.down("c1"));
  now += std::chrono::seconds(5);
  REQUIRE(health.dueProbes().size() == 1);
  health.probed("c1", true);
  now += std::chrono::seconds(5);
  REQUIRE(health.dueProbes().size() == 1);
  health.probed("c1", false);  // the run of answers is broken
  now += std::chrono::seconds(5);
  REQUIRE(health.dueProbes().size() == 1);
  health.probed("c1", true);
  CHECK(health.down("c1"));
  // A call that the carrier carried to the callee brings it back at once.
  health.worked("c1");
  CHECK_FALSE(health.down("c1"));
  // And a call it carried between two failures starts their count again.
  health.failed("c1", "sip:c1.example");
  health.worked("c1");
  health.failed("c1", "sip:c1.example");
  CHECK_FALSE(health.down("c1"));
  health.failed("c1", "sip:c1.example");
  CHECK(health.down("c1"));
  CHECK(probeAnswered(200));
  CHECK(probeAnswered(405));  // OPTIONS not allowed is still an answer
  CHECK_FALSE(probeAnswered(0));
  CHECK_FALSE(probeAnswered(408));
  CHECK_FALSE(probeAnswered(503));
}

TEST_CASE("the probe loop sends OPTIONS to the down carriers through sip-edge and records the answers") {
  prometheus::Registry registry;
  std::chrono::steady_clock::time_point now{};
  auto logger = log::Logger::create("routing-test", log::Level::kError);
  CarrierHealth health({.failures_to_trip = 1, .probes_to_recover = 1}, logger, registry, [&] { return now; });
  std::vector<std::string> probed;
  uint32_t answer = 0;
  CarrierProbeLoop loop(
      health,
      [&](const std::string& uri) -> absl::StatusOr<uint32_t> {
        probed.push_back(uri);
        return answer;
      },
      logger);
  health.failed("c1", "sip:c1.example");
  now += std::chrono::seconds(5);
  loop.probeDue();  // no answer within the probe's timeout: still down
  CHECK(probed == std::vector<std::string>{"sip:c1.example"});
  CHECK(health.down("c1"));
  loop.probeDue();  // not due again yet
  CHECK(probed.size() == 1);
  now += std::chrono::seconds(5);
  answer = 200;
  loop.probeDue();
  CHECK_FALSE(health.down("c1"));
}

TEST_CASE("a down carrier no call wants for an hour is forgotten and no longer probed") {
  prometheus::Registry registry;
  std::chrono::steady_clock::time_point now{};
  CarrierHealth health({.failures_to_trip = 1}, log::Logger::create("routing-test", log::Level::kError), registry,
                       [&] { return now; });
  health.failed("gone", "sip:gone.example");
  now += std::chrono::minutes(30);
  CHECK(health.down("gone"));  // a call asks: still wanted
  now += std::chrono::minutes(59);
  REQUIRE(health.dueProbes().size() == 1);
  health.probed("gone", false);
  now += std::chrono::minutes(2);
  CHECK(health.dueProbes().empty());
  CHECK_FALSE(health.down("gone"));
}

TEST_CASE_METHOD(Fixture, "a queue node hands the call to the queue and its overflow comes back to the plan") {
  auto plan = parseDialPlan(R"({
    "nodes": {
      "line": {"type": "queue", "queue": "3f2b8f9e-1d2c-4b5a-9e8f-7a6b5c4d3e2f", "then": "sales", "priority": 3},
      "sales": {"type": "scheme", "steps": [{"targets": [{"extension": "101"}], "ring_seconds": 10}]}},
    "numbers": {"+15550001000": "line"}})",
                            "UTC", nullptr);
  REQUIRE(plan.ok());
  plans.current = *plan;
  route("n1", accounts::v1::NumberRoute::KIND_EXTENSIONS, {"102"});
  calls::v1::CallNotification offered;
  offered.set_call_id("q1");
  *offered.mutable_offered() = inbound("n1");
  router.handle(offered, commander);
  REQUIRE(commander.hand_overs.size() == 1);
  const auto& hand_over = commander.hand_overs[0];
  CHECK(hand_over.application() == "queue");
  CHECK(hand_over.context().at("queue") == "3f2b8f9e-1d2c-4b5a-9e8f-7a6b5c4d3e2f");
  CHECK(hand_over.context().at("overflow") == "sales");
  CHECK(hand_over.context().at("priority") == "3");
  CHECK(hand_over.route(hand_over.route_size() - 1).type() == "queue");
  CHECK(commander.dials.empty());
  CHECK(commander.answers.empty());  // the queue answers (or the menu before it did)

  // The queue overflows: the caller, answered by the queue, rings the node it names.
  calls::v1::CallNotification back;
  back.set_call_id("q1");
  *back.mutable_offered() = inbound("n1");
  back.mutable_offered()->set_handed_over_by("queue");
  back.mutable_offered()->set_answered(true);
  (*back.mutable_offered()->mutable_context())["node"] = "sales";
  router.handle(back, commander);
  REQUIRE(commander.dials.size() == 1);
  CHECK(commander.answers.empty());
  CHECK(commander.dials[0].targets(0).account().extension() == "101");

  // Handed back without a node the plan has: the caller hears 480 instead of waiting forever.
  (*back.mutable_offered()->mutable_context())["node"] = "nowhere";
  router.handle(back, commander);
  REQUIRE(commander.hangups.size() == 1);
  CHECK(commander.hangups[0].status_code() == 480);
}

TEST_CASE("a queue node names its queue and may only lead to a node that exists") {
  CHECK_FALSE(parseDialPlan(R"({"nodes": {"q": {"type": "queue"}}, "numbers": {"+15550001000": "q"}})", "UTC", nullptr)
                  .ok());
  auto bad_id = parseDialPlan(R"({"nodes": {"q": {"type": "queue", "queue": "a b"}}, "numbers": {"+15550001000": "q"}})",
                              "UTC", nullptr);
  REQUIRE_FALSE(bad_id.ok());
  CHECK(bad_id.status().message().find("queue") != std::string::npos);
  CHECK_FALSE(parseDialPlan(
                  R"({"nodes": {"q": {"type": "queue", "queue": "x", "then": "gone"}}, "numbers": {"+15550001000": "q"}})",
                  "UTC", nullptr)
                  .ok());
  CHECK_FALSE(parseDialPlan(
                  R"({"nodes": {"q": {"type": "queue", "queue": "x", "music": "m"}}, "numbers": {"+15550001000": "q"}})",
                  "UTC", nullptr)
                  .ok());
  CHECK_FALSE(parseDialPlan(
                  R"({"nodes": {"q": {"type": "queue", "queue": "x", "priority": 10}}, "numbers": {"+15550001000": "q"}})",
                  "UTC", nullptr)
                  .ok());
}
