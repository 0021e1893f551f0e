// Admission of new INVITEs with in-memory fakes: who may call, which tenant, channels, media.
#include "call_admission.h"

#include <catch2/catch.hpp>

#include "fakes.h"
#include "tel/crypto/crypto.h"

using namespace tel::sip;
using namespace tel::sip::testing;
using namespace std::chrono_literals;

namespace {

struct Fixture {
  DigestAuthenticator authenticator{"secret-for-tests", 300s};
  FakeNumbers numbers;
  FakeCredentials credentials;
  FakeBindings bindings;
  FakeChannels channels;
  FakeMedia media;
  FakeLines lines;
  CallAdmission admission{CallAdmissionOptions{{"sip.example.net"}},
                          numbers,
                          lines,
                          credentials,
                          bindings,
                          authenticator,
                          channels,
                          media,
                          tel::log::Logger::create("admission-test", tel::log::Level::kError)};
  DigestAuthenticator::Clock::time_point now = DigestAuthenticator::Clock::now();

  Fixture() {
    tel::accounts::v1::InboundNumber number;
    number.set_tenant_id("tenant-a");
    number.set_number_id("number-1");
    number.set_e164("+15550001000");
    number.set_channels(2);
    numbers.numbers["+15550001000"] = number;
    numbers.carrier_ips["192.0.2.1"] = "tenant-a";
  }

  InviteRequest fromCarrier(const std::string& user, const std::string& source = "192.0.2.1",
                            const std::string& call_id = "call-1") {
    InviteRequest invite;
    invite.call_id = call_id;
    invite.request_user = user;
    invite.request_host = "203.0.113.5";
    invite.from_user = "+15557654321";
    invite.source_ip = source;
    invite.caller_media = {"192.0.2.1", 4000};
    return invite;
  }
};

}  // namespace

TEST_CASE_METHOD(Fixture, "a carrier's call to the tenant's number is admitted as inbound") {
  auto admitted = admission.admit(fromCarrier("+15550001000"), now);
  REQUIRE_FALSE(admitted.refusal);
  CHECK(admitted.tenant_id == "tenant-a");
  CHECK(admitted.direction == tel::calls::v1::DIRECTION_INBOUND);
  CHECK(admitted.called == "+15550001000");
  CHECK(admitted.caller == "+15557654321");
  CHECK(admitted.holds_channel);
  CHECK(media.sessions == 1);
  CHECK(admitted.caller_relay.port > 0);
}

TEST_CASE_METHOD(Fixture, "the session comes with the caller's leg and the first callee's leg") {
  auto admitted = admission.admit(fromCarrier("+15550001000"), now);
  REQUIRE_FALSE(admitted.refusal);
  const auto& legs = media.legs.at(admitted.media_session);
  REQUIRE(legs.size() == 2);
  // The caller's leg knows where the caller's audio comes from; the callee's not yet.
  CHECK(legs.at("a")->ip == "192.0.2.1");
  CHECK(legs.at("a")->port == 4000);
  CHECK_FALSE(legs.at(tel::sip::calleeLegId(1, 1)).has_value());
  CHECK(admitted.first_callee_relay.port > 0);
  CHECK(admitted.first_callee_relay.port != admitted.caller_relay.port);
}

TEST_CASE_METHOD(Fixture, "numbers are matched in national and international forms") {
  CHECK_FALSE(admission.admit(fromCarrier("15550001000", "192.0.2.1", "c1"), now).refusal);
  CHECK_FALSE(admission.admit(fromCarrier("0015550001000", "192.0.2.1", "c2"), now).refusal);
}

TEST_CASE_METHOD(Fixture, "an unknown number gets 404 and nothing is held") {
  auto refused = admission.admit(fromCarrier("+15550009999"), now);
  REQUIRE(refused.refusal);
  CHECK(refused.refusal->status == 404);
  CHECK(media.sessions == 0);
}

TEST_CASE_METHOD(Fixture, "a call from an address that is not the tenant's carrier gets 403") {
  auto refused = admission.admit(fromCarrier("+15550001000", "198.51.100.66"), now);
  REQUIRE(refused.refusal);
  CHECK(refused.refusal->status == 403);
  CHECK(channels.held["number-1"].empty());
  CHECK(media.sessions == 0);
}

TEST_CASE_METHOD(Fixture,
                 "the call after the last channel gets 486, and a released channel is reusable") {
  auto first = admission.admit(fromCarrier("+15550001000", "192.0.2.1", "c1"), now);
  auto second = admission.admit(fromCarrier("+15550001000", "192.0.2.1", "c2"), now);
  auto third = admission.admit(fromCarrier("+15550001000", "192.0.2.1", "c3"), now);
  CHECK_FALSE(first.refusal);
  CHECK_FALSE(second.refusal);
  REQUIRE(third.refusal);
  CHECK(third.refusal->status == 486);
  CHECK_FALSE(third.holds_channel);
  CHECK(third.tenant_id == "tenant-a");  // known, so the missed call is recorded
  admission.release(first, "c1");
  CHECK_FALSE(admission.admit(fromCarrier("+15550001000", "192.0.2.1", "c4"), now).refusal);
}

TEST_CASE_METHOD(Fixture, "media-relay down: 503 and the channel is given back") {
  media.down = true;
  auto refused = admission.admit(fromCarrier("+15550001000"), now);
  REQUIRE(refused.refusal);
  CHECK(refused.refusal->status == 503);
  CHECK(channels.held["number-1"].empty());
}

TEST_CASE_METHOD(Fixture,
                 "an account's call is challenged, then admitted with the right direction") {
  const std::string realm = "a.sip.test";
  SipAccountCredentials alice{"tenant-a",
                              "account-alice",
                              "101",
                              {tel::crypto::md5Hex("alice:" + realm + ":pw"), ""},
                              true};
  credentials.accounts[{realm, "alice"}] = alice;
  numbers.extensions.insert({"tenant-a", "102"});

  InviteRequest invite;
  invite.call_id = "call-7";
  invite.request_user = "102";
  invite.request_host = realm;
  invite.from_user = "alice";
  invite.source_ip = "127.0.0.1";
  invite.caller_media = {"127.0.0.1", 4000};
  auto challenged = admission.admit(invite, now);
  REQUIRE(challenged.refusal);
  CHECK(challenged.refusal->status == 407);
  REQUIRE_FALSE(challenged.refusal->headers.empty());
  CHECK(challenged.refusal->headers.front().first == "Proxy-Authenticate");

  const std::string nonce = authenticator.newNonce(realm, now);
  const std::string uri = "sip:102@" + realm;
  invite.proxy_authorization =
      DigestResponse{"alice",
                     realm,
                     nonce,
                     uri,
                     digestResponse(false, alice.digest.ha1_md5, nonce, "00000001", "c0ffee",
                                    "auth", "INVITE", uri),
                     "MD5",
                     "auth",
                     "00000001",
                     "c0ffee"};
  auto internal = admission.admit(invite, now);
  REQUIRE_FALSE(internal.refusal);
  CHECK(internal.direction == tel::calls::v1::DIRECTION_INTERNAL);
  CHECK(internal.caller == "101");
  CHECK(internal.caller_account_id == "account-alice");
  CHECK_FALSE(internal.holds_channel);

  SECTION("the same answer again is a replay") {
    auto replayed = admission.admit(invite, now);
    REQUIRE(replayed.refusal);
    CHECK(replayed.refusal->status == 407);
  }
  SECTION("a wrong password and an unknown user get the same 403") {
    invite.proxy_authorization->response = std::string(32, '0');
    auto wrong = admission.admit(invite, now);
    invite.proxy_authorization->username = "mallory";
    auto unknown = admission.admit(invite, now);
    REQUIRE(wrong.refusal);
    REQUIRE(unknown.refusal);
    CHECK(wrong.refusal->status == 403);
    CHECK(unknown.refusal->status == 403);
  }
}

TEST_CASE_METHOD(
    Fixture,
    "a carrier with credentials calling from an unlisted address is challenged, then admitted") {
  auto& number = numbers.numbers["+15550001000"];
  number.set_carrier_auth(true);
  number.set_sip_domain("a.sip.test");
  const std::string ha1 = tel::crypto::md5Hex("trunk1:a.sip.test:Trunk-password-1");
  numbers.carrier_credentials[{"tenant-a", "trunk1"}] = CarrierDigest{"carrier-7", {ha1, ""}};

  InviteRequest invite = fromCarrier("+15550001000", "198.51.100.20");
  auto challenged = admission.admit(invite, now);
  REQUIRE(challenged.refusal);
  CHECK(challenged.refusal->status == 407);
  REQUIRE_FALSE(challenged.refusal->headers.empty());
  CHECK(challenged.refusal->headers.front().second.find("realm=\"a.sip.test\"") !=
        std::string::npos);

  const std::string nonce = authenticator.newNonce("a.sip.test", now);
  const std::string uri = "sip:+15550001000@203.0.113.5";
  invite.proxy_authorization =
      DigestResponse{"trunk1",
                     "a.sip.test",
                     nonce,
                     uri,
                     digestResponse(false, ha1, nonce, "00000001", "beef", "auth", "INVITE", uri),
                     "MD5",
                     "auth",
                     "00000001",
                     "beef"};
  auto admitted = admission.admit(invite, now);
  REQUIRE_FALSE(admitted.refusal);
  CHECK(admitted.direction == tel::calls::v1::DIRECTION_INBOUND);
  CHECK(admitted.tenant_id == "tenant-a");

  SECTION("a wrong password is refused and counts as a failed authentication") {
    invite.call_id = "call-2";
    invite.proxy_authorization->nc = "00000002";
    invite.proxy_authorization->response = std::string(32, '0');
    auto refused = admission.admit(invite, now);
    REQUIRE(refused.refusal);
    CHECK(refused.refusal->status == 403);
    CHECK(refused.refusal->authentication_failed);
  }
}

TEST_CASE_METHOD(Fixture, "a carrier's call to a registered contact is its line's, from any address") {
  tel::accounts::v1::InboundNumber other;
  other.set_tenant_id("tenant-b");
  other.set_number_id("number-b");
  other.set_e164("+15550002000");
  other.set_channels(1);
  numbers.numbers["+15550002000"] = other;
  const std::string contact = "r0123456789abcdef0123456789abcdef";
  lines.by_contact[contact] = RegisteredLine{"tenant-a", "carrier-9", "15550001000"};

  SECTION("the number in To") {
    InviteRequest invite = fromCarrier(contact, "198.51.100.7");
    invite.to_user = "+15550001000";
    auto admitted = admission.admit(invite, now);
    REQUIRE_FALSE(admitted.refusal);
    CHECK(admitted.tenant_id == "tenant-a");
    CHECK(admitted.called == "+15550001000");
    CHECK(admitted.direction == tel::calls::v1::DIRECTION_INBOUND);
    CHECK(admitted.holds_channel);
  }
  SECTION("To names the username, which is the line's number") {
    InviteRequest invite = fromCarrier(contact, "198.51.100.7");
    invite.to_user = "gsm-line";
    auto admitted = admission.admit(invite, now);
    REQUIRE_FALSE(admitted.refusal);
    CHECK(admitted.called == "+15550001000");
  }
  SECTION("another tenant's number in To is not reached through this line") {
    lines.by_contact[contact].username = "gsm-line";
    InviteRequest invite = fromCarrier(contact, "198.51.100.7");
    invite.to_user = "+15550002000";
    auto admitted = admission.admit(invite, now);
    REQUIRE(admitted.refusal);
    CHECK(admitted.refusal->status == 404);
    CHECK(channels.held.empty());
  }
  SECTION("whatever host the carrier names (a tenant's SIP domain here), with no digest") {
    InviteRequest invite = fromCarrier(contact, "198.51.100.7");
    invite.request_host = "sip.tenant-a.example";
    invite.to_user = "+15550001000";
    auto admitted = admission.admit(invite, now);
    REQUIRE_FALSE(admitted.refusal);
    CHECK(admitted.tenant_id == "tenant-a");
    CHECK(admitted.direction == tel::calls::v1::DIRECTION_INBOUND);
  }
}
