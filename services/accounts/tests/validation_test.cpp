#include <catch2/catch.hpp>

#include "validation.h"

using namespace tel::accounts;

TEST_CASE("E.164 numbers") {
  CHECK(checkE164("+380441234567").empty());
  CHECK(checkE164("+12025550123").empty());
  CHECK_FALSE(checkE164("380441234567").empty());
  CHECK_FALSE(checkE164("+0441234567").empty());
  CHECK_FALSE(checkE164("+1234").empty());
  CHECK_FALSE(checkE164("+1234567890123456").empty());
  CHECK_FALSE(checkE164("+38044 123").empty());
}

TEST_CASE("extensions, usernames, e-mails, roles") {
  CHECK(checkExtension("101").empty());
  CHECK_FALSE(checkExtension("0101").empty());
  CHECK_FALSE(checkExtension("1").empty());
  CHECK(checkSipUsername("alice.smith").empty());
  CHECK_FALSE(checkSipUsername("Alice").empty());
  CHECK_FALSE(checkSipUsername("a@b").empty());
  CHECK(checkEmail("owner@example.com").empty());
  CHECK_FALSE(checkEmail("owner@localhost").empty());
  CHECK_FALSE(checkEmail("no-at-sign").empty());
  CHECK(checkRole("agent").empty());
  CHECK_FALSE(checkRole("root").empty());
}

TEST_CASE("time zones must exist") {
  CHECK(checkTimezone("UTC").empty());
  CHECK(checkTimezone("Europe/Kyiv").empty());
  CHECK_FALSE(checkTimezone("Mars/Olympus").empty());
  CHECK_FALSE(checkTimezone("../../etc/passwd").empty());
}

TEST_CASE("passwords and names") {
  CHECK_FALSE(checkUserPassword("short").empty());
  CHECK(checkSipPassword("Str0ngSipSecret!", "alice").empty());
  CHECK_FALSE(checkSipPassword("aliceStr0ngSecret", "alice").empty());
  CHECK_FALSE(checkSipPassword("with space inside", "bob").empty());
  CHECK_FALSE(checkName("", 10).empty());
  CHECK_FALSE(checkName("bell\x07", 10).empty());
}

TEST_CASE("slugs and ids") {
  CHECK(slugify("Acme Dental, Ltd.") == "acme-dental-ltd");
  CHECK(slugify("!!!") == "tenant");
  CHECK(isUuid("123e4567-e89b-12d3-a456-426614174000"));
  CHECK_FALSE(isUuid("123e4567-e89b-12d3-a456-42661417400"));
  CHECK_FALSE(isUuid("' OR 1=1 --"));
}
