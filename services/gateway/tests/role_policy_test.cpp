#include "role_policy.h"

#include <catch2/catch.hpp>

using tel::gateway::roleRefusal;

TEST_CASE("an owner may do everything its tenant may") {
  CHECK_FALSE(roleRefusal("owner", "POST", "/v1/users"));
  CHECK_FALSE(roleRefusal("owner", "DELETE", "/v1/api-keys/{id}"));
  CHECK_FALSE(roleRefusal("owner", "PATCH", "/v1/numbers/{id}"));
}

TEST_CASE("an admin changes settings but not users or API keys") {
  CHECK_FALSE(roleRefusal("admin", "POST", "/v1/numbers"));
  CHECK_FALSE(roleRefusal("admin", "PATCH", "/v1/carriers/{id}"));
  CHECK_FALSE(roleRefusal("admin", "GET", "/v1/users"));
  const auto refusal = roleRefusal("admin", "POST", "/v1/api-keys");
  REQUIRE(refusal);
  CHECK(refusal->find("role admin may not POST /v1/api-keys") != std::string::npos);
  CHECK(roleRefusal("admin", "PATCH", "/v1/users/{id}"));
  CHECK(roleRefusal("admin", "DELETE", "/v1/users/{id}"));
}

TEST_CASE("an agent reads and signs out and changes nothing but its own queue state") {
  CHECK_FALSE(roleRefusal("agent", "GET", "/v1/calls"));
  CHECK_FALSE(roleRefusal("agent", "GET", "/v1/calls/{id}"));
  CHECK_FALSE(roleRefusal("agent", "GET", "/v1/session"));
  CHECK_FALSE(roleRefusal("agent", "GET", "/v1/numbers"));
  CHECK_FALSE(roleRefusal("agent", "DELETE", "/v1/sessions"));
  CHECK(roleRefusal("agent", "GET", "/v1/users"));
  CHECK(roleRefusal("agent", "GET", "/v1/api-keys"));
  CHECK(roleRefusal("agent", "POST", "/v1/numbers"));
  CHECK(roleRefusal("agent", "PATCH", "/v1/tenants/{id}"));
  CHECK(roleRefusal("agent", "DELETE", "/v1/sip-accounts/{id}"));
  // Its own queue state (the route checks that the account is the user's).
  CHECK_FALSE(roleRefusal("agent", "PUT", "/v1/agents/{account_id}/state"));
  CHECK(roleRefusal("agent", "PUT", "/v1/queues/{id}"));
}

TEST_CASE("an unknown role is refused everything") {
  CHECK(roleRefusal("", "GET", "/v1/calls"));
  CHECK(roleRefusal("superuser", "GET", "/v1/calls"));
}
