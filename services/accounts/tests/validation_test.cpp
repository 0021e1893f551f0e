#include "validation.h"

#include <catch2/catch.hpp>

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

TEST_CASE("carrier digest usernames: 1 to 64 of [A-Za-z0-9._-]") {
  CHECK(checkCarrierUsername("t").empty());
  CHECK(checkCarrierUsername("Trunk-01_main.example").empty());
  CHECK(checkCarrierUsername(std::string(64, 'u')).empty());
  CHECK_FALSE(checkCarrierUsername("").empty());
  CHECK_FALSE(checkCarrierUsername(std::string(65, 'u')).empty());
  CHECK_FALSE(checkCarrierUsername("trunk@example.net").empty());
  CHECK_FALSE(checkCarrierUsername("trunk one").empty());
  CHECK_FALSE(checkCarrierUsername("trunk:1").empty());  // would break H(username:realm:password)
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

TEST_CASE("external targets of a number's route: +E.164 or sip:user@host[:port]") {
  CHECK(checkExternalTarget("+380441234567").empty());
  CHECK(checkExternalTarget("sip:alice@example.com").empty());
  CHECK(checkExternalTarget("sip:alice@example.com:5080").empty());
  CHECK(checkExternalTarget("sip:+15550001@203.0.113.7").empty());
  CHECK(checkExternalTarget("sip:bob@[2001:db8::1]:5060").empty());
  CHECK_FALSE(checkExternalTarget("").empty());
  CHECK_FALSE(checkExternalTarget("380441234567").empty());
  CHECK_FALSE(checkExternalTarget("+0441234567").empty());
  CHECK_FALSE(checkExternalTarget("sip:example.com").empty());  // no user
  CHECK_FALSE(checkExternalTarget("sips:alice@example.com").empty());
  CHECK_FALSE(checkExternalTarget("sip:alice@example.com:0").empty());
  CHECK_FALSE(checkExternalTarget("sip:alice@example.com:65536").empty());
  CHECK_FALSE(checkExternalTarget("sip:alice@example.com;transport=tcp").empty());
  CHECK_FALSE(checkExternalTarget("sip:al ice@example.com").empty());
  CHECK_FALSE(checkExternalTarget("sip:alice@exa mple.com").empty());
  CHECK_FALSE(checkExternalTarget("sip:alice@-example.com").empty());
  CHECK_FALSE(checkExternalTarget("sip:alice@[not-v6]").empty());
  CHECK_FALSE(checkExternalTarget("sip:" + std::string(250, 'a') + "@example.com").empty());
}

TEST_CASE("a carrier's outbound URI: sip:host[:port] or sip:user@host[:port]") {
  CHECK(checkOutboundUri("sip:sip.carrier.example").empty());
  CHECK(checkOutboundUri("sip:203.0.113.10:5060").empty());
  CHECK(checkOutboundUri("sip:trunk42@sip.carrier.example:5080").empty());
  CHECK(checkOutboundUri("sip:[2001:db8::10]").empty());
  CHECK_FALSE(checkOutboundUri("sip:").empty());
  CHECK_FALSE(checkOutboundUri("http://carrier.example").empty());
  CHECK_FALSE(checkOutboundUri("sip:carrier.example:").empty());
  CHECK_FALSE(checkOutboundUri("sip:carrier.example:abc").empty());
  CHECK_FALSE(checkOutboundUri("sip:carrier.example;transport=tls").empty());
  CHECK_FALSE(checkOutboundUri("sip:@carrier.example").empty());
  CHECK_FALSE(checkOutboundUri("sip:2001:db8::10").empty());  // IPv6 needs brackets
}

TEST_CASE("a carrier's source addresses: addresses and CIDR blocks") {
  CHECK(checkCarrierAddress("203.0.113.7").empty());
  CHECK(checkCarrierAddress("203.0.113.0/24").empty());
  CHECK(checkCarrierAddress("10.0.0.0/8").empty());
  CHECK(checkCarrierAddress("203.0.113.7/32").empty());
  CHECK(checkCarrierAddress("2001:db8::1").empty());
  CHECK(checkCarrierAddress("2001:db8::/32").empty());
  CHECK_FALSE(checkCarrierAddress("").empty());
  CHECK_FALSE(checkCarrierAddress("carrier.example").empty());
  CHECK_FALSE(checkCarrierAddress("203.0.113").empty());
  CHECK_FALSE(checkCarrierAddress("203.0.113.300").empty());
  CHECK_FALSE(checkCarrierAddress("203.0.113.0/33").empty());
  CHECK_FALSE(checkCarrierAddress("203.0.113.0/").empty());
  CHECK_FALSE(checkCarrierAddress("203.0.113.0/-1").empty());
  CHECK_FALSE(checkCarrierAddress("203.0.113.7/24").empty());  // host bits set
  CHECK_FALSE(checkCarrierAddress("0.0.0.0/0").empty());       // the whole Internet
  CHECK_FALSE(checkCarrierAddress("10.0.0.0/7").empty());
  CHECK_FALSE(checkCarrierAddress("::/0").empty());
  CHECK_FALSE(checkCarrierAddress("2001:db8::1/64").empty());
  CHECK_FALSE(checkCarrierAddress("fe80::1%eth0").empty());
  CHECK(isIpAddress("198.51.100.1"));
  CHECK(isIpAddress("::1"));
  CHECK_FALSE(isIpAddress("198.51.100.0/24"));
  CHECK_FALSE(isIpAddress("localhost"));
}

TEST_CASE("what the platform registers to a carrier with") {
  CHECK(checkRegistrationUsername("+74951234567").empty());
  CHECK(checkRegistrationUsername("trunk_01.main-line").empty());
  CHECK_FALSE(checkRegistrationUsername("").empty());
  CHECK_FALSE(checkRegistrationUsername("a:b").empty());
  CHECK_FALSE(checkRegistrationUsername("a@b").empty());
  CHECK_FALSE(checkRegistrationUsername(std::string(65, 'a')).empty());
  CHECK(checkRegistrationPassword("x").empty());
  CHECK(checkRegistrationPassword("with spaces and \"quotes\"!").empty());
  CHECK_FALSE(checkRegistrationPassword("with:colon").empty());
  CHECK_FALSE(checkRegistrationPassword("").empty());
  CHECK_FALSE(checkRegistrationPassword(std::string(129, 'p')).empty());
  CHECK_FALSE(checkRegistrationPassword("line\r\nVia: x").empty());
  CHECK(checkRegistrationDomain("gw.example.net").empty());
  CHECK(checkRegistrationDomain("192.0.2.10").empty());
  CHECK(checkRegistrationDomain("2001:db8::1").empty());
  CHECK_FALSE(checkRegistrationDomain("Bad Domain").empty());
  CHECK_FALSE(checkRegistrationDomain("gw.example.net>;evil").empty());
}
