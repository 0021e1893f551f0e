#include <catch2/catch.hpp>

#include "agent_presence.h"

using tel::queue::presenceChangeOf;
namespace calls_v1 = tel::calls::v1;

TEST_CASE("a call an account places engages it and a leg to one is noted until it answers") {
  calls_v1::CallEvent started;
  started.mutable_call_started()->set_caller("+15550001000");
  CHECK_FALSE(presenceChangeOf(started));  // from outside: nobody's
  started.mutable_call_started()->set_caller_account_id("acc-1");
  auto change = presenceChangeOf(started);
  REQUIRE(change);
  CHECK(change->kind == "engaged");
  CHECK(change->leg == "caller");
  CHECK(change->account_id == "acc-1");

  calls_v1::CallEvent leg;
  leg.mutable_leg_created()->set_leg_id("b1.1");
  CHECK_FALSE(presenceChangeOf(leg));  // a number outside the platform
  leg.mutable_leg_created()->set_account_id("acc-2");
  change = presenceChangeOf(leg);
  REQUIRE(change);
  CHECK(change->kind == "leg");
  CHECK(change->leg == "b1.1");
  CHECK(change->account_id == "acc-2");
  calls_v1::CallEvent answered;
  answered.mutable_leg_answered()->set_leg_id("b1.1");
  change = presenceChangeOf(answered);
  REQUIRE(change);
  CHECK(change->kind == "engaged");
  CHECK(change->leg == "b1.1");
}

TEST_CASE("a leg's end releases its account and the call's end every account of it") {
  calls_v1::CallEvent leg_ended;
  leg_ended.mutable_leg_ended()->set_leg_id("b1.1");
  auto change = presenceChangeOf(leg_ended);
  REQUIRE(change);
  CHECK(change->kind == "released");
  CHECK(change->leg == "b1.1");
  calls_v1::CallEvent ended;
  ended.mutable_call_ended();
  REQUIRE(presenceChangeOf(ended));
  CHECK(presenceChangeOf(ended)->kind == "ended");
  calls_v1::CallEvent ringing;
  ringing.mutable_leg_ringing()->set_leg_id("b1.1");
  CHECK_FALSE(presenceChangeOf(ringing));
}
