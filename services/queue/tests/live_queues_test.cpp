// LiveQueues against the real Redis that ./tel starts (TEL_REDIS_URL): the line's order, each
// strategy's pick, misses, wrap-up and pauses, two owners, a stale head, and the wallboard.
#include <catch2/catch.hpp>

#include "live_queues.h"
#include "tel/testing/env.h"

using tel::queue::LiveQueues;
using tel::queue::v1::QueueSettings;

namespace {

struct Fixture {
  tel::redis::RedisClient redis{*tel::redis::parseRedisUrl(tel::testing::requireEnv("TEL_REDIS_URL"))};
  LiveQueues live{redis};
  const std::string tenant = "t-" + tel::testing::uniqueSuffix();
  const std::string queue = "q1";
  int64_t now = 1'800'000'000'000;

  QueueSettings settings(const std::string& strategy, std::vector<std::pair<std::string, uint32_t>> members,
                         uint32_t ring_at_once = 1) {
    QueueSettings s;
    s.set_name("sales");
    s.set_strategy(strategy);
    s.set_ring_at_once(ring_at_once);
    for (const auto& [account, penalty] : members) {
      auto* member = s.add_members();
      member->set_account_id(account);
      member->set_penalty(penalty);
    }
    return s;
  }
  void join(const std::string& call, const std::string& owner = "i1") {
    auto joined = live.join(tenant, queue, call, "+1555" + call, owner, ++now, 0);
    REQUIRE(joined.ok());
  }
  // The agents the next claim offers (empty: none), by `owner`.
  std::vector<std::string> claim(const QueueSettings& s, const std::string& owner = "i1",
                                 std::string* call = nullptr) {
    auto offer = live.claim(tenant, queue, s, owner, now, 10000);
    REQUIRE(offer.ok());
    if (!*offer) return {};
    if (call) *call = (*offer)->call_id;
    return (*offer)->agents;
  }
  // The call is answered by `agent`, then ends: the agent wraps up for `wrapup_ms`.
  void serve(const std::string& call, const std::string& agent, int64_t wrapup_ms = 0) {
    REQUIRE(live.answered(tenant, queue, call, agent, ++now, 20000).ok());
    REQUIRE(live.left(tenant, queue, call, "done", ++now, wrapup_ms).ok());
  }
};

}  // namespace

TEST_CASE_METHOD(Fixture, "callers are taken in arrival order and each agent gets one caller at a time") {
  const auto s = settings("linear", {{"a1", 0}, {"a2", 0}});
  join("c1");
  join("c2");
  join("c3");
  CHECK(live.position(tenant, queue, "c3").value() == 3);
  std::string call;
  CHECK(claim(s, "i1", &call) == std::vector<std::string>{"a1"});
  CHECK(call == "c1");
  CHECK(claim(s, "i1", &call) == std::vector<std::string>{"a2"});
  CHECK(call == "c2");
  CHECK(claim(s).empty());  // both agents ringing: c3 waits, now first in line
  CHECK(live.position(tenant, queue, "c3").value() == 1);
  // a1 misses c1: c1 is back in front of c3, and a1 is free again.
  auto misses = live.missed(tenant, queue, "c1", ++now, 0, 0);
  REQUIRE(misses.ok());
  REQUIRE(misses->size() == 1);
  CHECK(live.position(tenant, queue, "c1").value() == 1);
  CHECK(claim(s, "i1", &call) == std::vector<std::string>{"a1"});
  CHECK(call == "c1");
}

TEST_CASE_METHOD(Fixture, "each strategy picks the agent it promises") {
  SECTION("ring_all rings every free agent of the best penalty") {
    join("c1");
    CHECK(claim(settings("ring_all", {{"a1", 1}, {"a2", 0}, {"a3", 0}})) == std::vector<std::string>{"a2", "a3"});
  }
  SECTION("linear rings in the listed order, skipping a higher penalty") {
    join("c1");
    CHECK(claim(settings("linear", {{"a1", 5}, {"a2", 0}, {"a3", 0}})) == std::vector<std::string>{"a2"});
  }
  SECTION("longest_idle rings the agent whose last call ended first") {
    const auto s = settings("longest_idle", {{"a1", 0}, {"a2", 0}, {"a3", 0}});
    for (const char* agent : {"a3", "a1", "a2"}) {  // calls end in this order
      join(std::string("x") + agent);
      REQUIRE(live.answered(tenant, queue, std::string("x") + agent, agent, ++now, 20000).ok());
      REQUIRE(live.left(tenant, queue, std::string("x") + agent, "done", ++now, 0).ok());
    }
    join("c1");
    CHECK(claim(s) == std::vector<std::string>{"a3"});
  }
  SECTION("fewest_calls rings the agent that took the fewest calls today") {
    const auto s = settings("fewest_calls", {{"a1", 0}, {"a2", 0}, {"a3", 0}});
    for (const auto& [call, agent] : std::vector<std::pair<std::string, std::string>>{
             {"x1", "a1"}, {"x2", "a1"}, {"x3", "a2"}, {"x4", "a3"}, {"x5", "a3"}}) {
      join(call);
      serve(call, agent);
    }
    join("c1");
    CHECK(claim(s) == std::vector<std::string>{"a2"});
  }
  SECTION("round_robin goes on after the agent offered last") {
    const auto s = settings("round_robin", {{"a1", 0}, {"a2", 0}, {"a3", 0}});
    std::vector<std::string> order;
    for (int i = 0; i < 4; ++i) {
      const std::string call = "c" + std::to_string(i);
      join(call);
      auto agents = claim(s);
      REQUIRE(agents.size() == 1);
      order.push_back(agents[0]);
      serve(call, agents[0]);
    }
    CHECK(order == std::vector<std::string>{"a1", "a2", "a3", "a1"});
  }
  SECTION("ring_at_once rings that many together") {
    join("c1");
    CHECK(claim(settings("linear", {{"a1", 0}, {"a2", 0}, {"a3", 0}}, 2)) == std::vector<std::string>{"a1", "a2"});
  }
}

TEST_CASE_METHOD(Fixture, "wrap-up, pauses and misses keep agents from being offered") {
  const auto s = settings("linear", {{"a1", 0}, {"a2", 0}});
  join("c1");
  CHECK(claim(s) == std::vector<std::string>{"a1"});
  serve("c1", "a1", 5000);
  auto agent = live.agent(tenant, "a1", now);
  REQUIRE(agent.ok());
  CHECK(agent->state() == "wrap_up");
  CHECK(agent->calls_taken() == 1);
  REQUIRE(live.setAgentState(tenant, "a2", "paused", "lunch", now).ok());
  join("c2");
  CHECK(claim(s).empty());  // a1 wraps up, a2 is paused
  now += 5000;
  CHECK(claim(s) == std::vector<std::string>{"a1"});
  // A second miss in a row pauses a1 (pause_after 2).
  auto first = live.missed(tenant, queue, "c2", ++now, 2, 0);
  REQUIRE(first.ok());
  CHECK_FALSE(first->at(0).paused);
  CHECK(claim(s) == std::vector<std::string>{"a1"});
  auto second = live.missed(tenant, queue, "c2", ++now, 2, 0);
  REQUIRE(second.ok());
  CHECK(second->at(0).paused);
  CHECK(live.agent(tenant, "a1", now)->state() == "paused");
  CHECK(claim(s).empty());
  REQUIRE(live.setAgentState(tenant, "a2", "available", "", now).ok());
  CHECK(claim(s) == std::vector<std::string>{"a2"});
}

TEST_CASE_METHOD(Fixture, "only the head's owner takes it, a stale head is dropped, a full queue refuses") {
  const auto s = settings("linear", {{"a1", 0}});
  join("c1", "i2");
  join("c2", "i1");
  CHECK(claim(s, "i1").empty());  // c1 first, and it is i2's
  now += 11000;                   // i2 has given no sign of life since
  REQUIRE(live.touch(tenant, {"c2"}, now).ok());
  std::string call;
  CHECK(claim(s, "i1", &call) == std::vector<std::string>{"a1"});
  CHECK(call == "c2");
  auto full = live.join(tenant, queue, "c3", "+1", "i1", ++now, 0);
  REQUIRE(full.ok());
  auto refused = live.join(tenant, queue, "c4", "+1", "i1", ++now, 1);
  REQUIRE(refused.ok());
  CHECK(refused->kind == tel::queue::Joined::Kind::kFull);
  // A caller joining again (offered anew after its instance went) keeps its place and owner moves.
  auto again = live.join(tenant, queue, "c3", "+1", "i2", ++now, 1);
  REQUIRE(again.ok());
  CHECK(again->kind == tel::queue::Joined::Kind::kRejoined);
  CHECK(again->position == 1);
}

TEST_CASE_METHOD(Fixture, "the wallboard shows the line, the agents and today's figures") {
  const auto s = settings("linear", {{"a1", 0}, {"a2", 3}});
  join("c1");
  join("c2");
  join("c3");
  CHECK(claim(s) == std::vector<std::string>{"a1"});  // c1 offered to a1
  REQUIRE(live.left(tenant, queue, "c3", "abandoned", now + 4000, 0).ok());
  auto board = live.wallboard(tenant, queue, s, now + 5000);
  REQUIRE(board.ok());
  REQUIRE(board->callers_size() == 2);
  CHECK(board->callers(0).call_id() == "c1");
  CHECK(board->callers(0).state() == "offered");
  CHECK(board->callers(1).call_id() == "c2");
  CHECK(board->callers(1).position() == 1);
  REQUIRE(board->agents_size() == 2);
  CHECK(board->agents(0).state() == "ringing");
  CHECK(board->agents(0).call_id() == "c1");
  CHECK(board->agents(1).state() == "available");
  CHECK(board->agents(1).penalty() == 3);
  CHECK(board->abandoned() == 1);
  CHECK(board->abandoned_wait_ms() == 4000);  // c3 joined at now and left at now + 4000
  REQUIRE(live.answered(tenant, queue, "c1", "a1", now + 6000, 20000).ok());
  board = live.wallboard(tenant, queue, s, now + 7000);
  REQUIRE(board.ok());
  CHECK(board->answered() == 1);
  CHECK(board->answered_within_service_level() == 1);
  CHECK(board->agents(0).state() == "on_call");
}

TEST_CASE_METHOD(Fixture, "an agent ringing for a silent instance's caller is freed, and a lost caller is put back") {
  const auto s = settings("linear", {{"a1", 0}, {"a2", 0}});
  join("c1", "i2");
  CHECK(claim(s, "i2") == std::vector<std::string>{"a1"});  // i2 rings a1 for c1, then dies
  join("c2", "i1");
  CHECK(claim(s, "i1") == std::vector<std::string>{"a2"});
  // An offer that could not be sent frees its agent without counting a miss.
  auto released = live.missed(tenant, queue, "c2", ++now, 1, 5000, /*counted=*/false);
  REQUIRE(released.ok());
  CHECK_FALSE(released->at(0).paused);
  CHECK(live.agent(tenant, "a2", now)->state() == "available");
  CHECK(live.agent(tenant, "a2", now)->misses() == 0);
  // i2 gives no sign of life: the next claim frees a1 (and drops c1) and offers c2 to it.
  now += 11000;
  auto before = live.touch(tenant, {"c2"}, now);
  REQUIRE(before.ok());
  CHECK(before->lost.empty());
  std::string call;
  CHECK(claim(s, "i1", &call) == std::vector<std::string>{"a1"});
  CHECK(call == "c2");
  // Redis loses the tenant's state: the epoch changes and c2 is reported lost, then put back as
  // its instance knows it, offered with a1 ringing.
  auto keys = redis.command({"KEYS", "tq:{" + tenant + "}:*"});
  REQUIRE(keys.ok());
  for (const auto& key : keys->elements) REQUIRE(redis.command({"DEL", key.str}).ok());
  auto after = live.touch(tenant, {"c2"}, ++now);
  REQUIRE(after.ok());
  CHECK(after->epoch != before->epoch);
  CHECK(after->lost == std::vector<std::string>{"c2"});
  tel::queue::Restored restored;
  restored.caller = "+1555c2";
  restored.owner = "i1";
  restored.joined_ms = now - 20000;
  restored.state = "offered";
  restored.offered = {"a1"};
  REQUIRE(live.restore(tenant, queue, "c2", restored, now).ok());
  auto board = live.wallboard(tenant, queue, s, now);
  REQUIRE(board.ok());
  REQUIRE(board->callers_size() == 1);
  CHECK(board->callers(0).state() == "offered");
  CHECK(board->agents(0).state() == "ringing");
  CHECK(board->agents(0).call_id() == "c2");
  CHECK(claim(s, "i1").empty());  // nobody waiting; a2 stays free
  REQUIRE(live.answered(tenant, queue, "c2", "a1", ++now, 20000).ok());
  CHECK(live.agent(tenant, "a1", now)->state() == "on_call");
}

TEST_CASE_METHOD(Fixture, "a caller of a higher priority goes before those who waited longer") {
  const auto s = settings("linear", {{"a1", 0}});
  join("c1");
  join("c2");
  REQUIRE(live.join(tenant, queue, "vip", "+1555vip", "i1", ++now, 0, std::nullopt, 2).ok());
  CHECK(live.position(tenant, queue, "vip").value() == 1);
  CHECK(live.position(tenant, queue, "c1").value() == 2);
  std::string call;
  CHECK(claim(s, "i1", &call) == std::vector<std::string>{"a1"});
  CHECK(call == "vip");
  // Missed, it goes back before the others again.
  REQUIRE(live.missed(tenant, queue, "vip", ++now, 0, 0).ok());
  CHECK(live.position(tenant, queue, "vip").value() == 1);
}

TEST_CASE_METHOD(Fixture, "an agent on any other call is not offered a caller until that call ends") {
  const auto s = settings("linear", {{"a1", 0}, {"a2", 0}});
  const int64_t lapse = 60'000;
  // a1 is rung by a direct call (leg b1.1 of call d1): still free while it only rings.
  REQUIRE_FALSE(live.presence(tenant, "leg", "d1", "b1.1", "a1", now, lapse).value());
  CHECK(live.agent(tenant, "a1", now)->state() == "available");
  // It answers: on a call.
  REQUIRE_FALSE(live.presence(tenant, "engaged", "d1", "b1.1", "", now, lapse).value());
  join("c1");
  CHECK(claim(s) == std::vector<std::string>{"a2"});
  CHECK(live.agent(tenant, "a1", now)->state() == "on_call");
  CHECK(live.agent(tenant, "a1", now)->call_id().empty());
  serve("c1", "a2");
  // a2 places a call of its own: busy too, so the next caller waits.
  REQUIRE_FALSE(live.presence(tenant, "engaged", "d2", "caller", "a2", now, lapse).value());
  join("c2");
  CHECK(claim(s).empty());
  // The direct call's leg ends: a1 is free (and the lines are woken).
  CHECK(live.presence(tenant, "released", "d1", "b1.1", "", ++now, lapse).value());
  CHECK(live.agent(tenant, "a1", now)->state() == "available");
  CHECK(claim(s) == std::vector<std::string>{"a1"});
  serve("c2", "a1");
  // The call a2 placed ends without its leg's end: the call's end releases every account of it.
  CHECK(live.presence(tenant, "ended", "d2", "", "", ++now, lapse).value());
  CHECK(live.agent(tenant, "a2", now)->state() == "available");
  // A call whose end never comes lapses: a1 engaged, and free again once the lapse has passed.
  REQUIRE_FALSE(live.presence(tenant, "leg", "d3", "b1.1", "a1", now, lapse).value());
  REQUIRE_FALSE(live.presence(tenant, "engaged", "d3", "b1.1", "", now, lapse).value());
  // An answer on a leg nobody noted (to a number outside the platform) engages nobody.
  REQUIRE_FALSE(live.presence(tenant, "engaged", "d3", "b2.1", "", now, lapse).value());
  join("c4");
  CHECK(claim(s) == std::vector<std::string>{"a2"});
  serve("c4", "a2");
  now += lapse + 1;
  join("c5");
  CHECK(claim(s) == std::vector<std::string>{"a1"});
  // Events read twice (a batch retried) change nothing.
  REQUIRE(live.presence(tenant, "ended", "d1", "", "", now, lapse).ok());
  REQUIRE(live.presence(tenant, "released", "d9", "b1.1", "", now, lapse).ok());
}

TEST_CASE_METHOD(Fixture, "an agent who missed an offer rests before the next, so one away from its phone holds nobody") {
  const auto s = settings("linear", {{"a1", 0}, {"a2", 0}});
  join("c1");
  CHECK(claim(s) == std::vector<std::string>{"a1"});
  // a1's phone cannot be reached: the offer fails at once; a1 rests 5 s and a2 takes the caller.
  REQUIRE(live.missed(tenant, queue, "c1", ++now, 0, 5000).ok());
  CHECK(claim(s) == std::vector<std::string>{"a2"});
  serve("c1", "a2");
  join("c2");
  CHECK(claim(s) == std::vector<std::string>{"a2"});  // a1 still rests
  serve("c2", "a2");
  now += 5000;
  join("c3");
  CHECK(claim(s) == std::vector<std::string>{"a1"});
}
