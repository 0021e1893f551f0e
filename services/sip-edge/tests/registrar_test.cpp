// The registrar with in-memory fakes of its ports (credentials, bindings).
#include "registrar.h"

#include <catch2/catch.hpp>
#include <map>
#include <string_view>

#include "fakes.h"
#include "tel/crypto/crypto.h"

using namespace tel::sip;
using namespace tel::sip::testing;
using namespace std::chrono_literals;

namespace {

struct Fixture {
  DigestAuthenticator authenticator{"secret-for-tests", 300s};
  FakeCredentials credentials;
  FakeBindings bindings;
  prometheus::Registry registry;
  Registrar registrar{authenticator,
                      credentials,
                      bindings,
                      RegistrarOptions{},
                      tel::log::Logger::create("registrar-test", tel::log::Level::kError),
                      registry};
  DigestAuthenticator::Clock::time_point now = DigestAuthenticator::Clock::now();

  Fixture() {
    for (const char* domain : {"acme.example.com", "other.example.com"}) {
      credentials.accounts[{domain, "alice"}] = {
          domain,
          std::string("acct-alice-") + domain,
          "101",
          {tel::crypto::md5Hex(std::string("alice:") + domain + ":right-password"),
           tel::crypto::sha256Hex(std::string("alice:") + domain + ":right-password")}};
    }
  }

  RegisterRequest request(const std::string& domain = "acme.example.com") {
    RegisterRequest r;
    r.aor_user = "alice";
    r.aor_domain = domain;
    r.contacts = {{"sip:alice@192.0.2.10:5062", std::nullopt}};
    r.expires_header = 600;
    r.source = "192.0.2.10:5062";
    return r;
  }

  // Answers the first challenge of `response` like a phone would.
  RegisterRequest answered(RegisterRequest r, const SipResponse& challenge,
                           const std::string& password, const std::string& nc = "00000001",
                           bool sha256 = false) {
    const std::string header = challenge.headers.at(sha256 ? 1 : 0).second;
    const auto start = header.find("nonce=\"") + 7;
    const std::string nonce = header.substr(start, header.find('"', start) - start);
    const std::string realm = r.aor_domain;
    DigestResponse digest{"alice", realm, nonce,     "sip:" + realm, "", sha256 ? "SHA-256" : "MD5",
                          "auth",  nc,    "0a4f113b"};
    const std::string a1 = "alice:" + realm + ":" + password;
    digest.response =
        digestResponse(sha256, sha256 ? tel::crypto::sha256Hex(a1) : tel::crypto::md5Hex(a1), nonce,
                       nc, digest.cnonce, "auth", "REGISTER", digest.uri);
    r.digest = digest;
    return r;
  }
};

}  // namespace

TEST_CASE("a REGISTER is challenged, then binds the contact with the right password") {
  Fixture f;
  auto challenge = f.registrar.handle(f.request(), f.now);
  REQUIRE(challenge.status == 401);
  REQUIRE(challenge.headers.size() == 2);
  for (bool sha256 : {false, true}) {
    auto ok = f.registrar.handle(f.answered(f.request(), challenge, "right-password",
                                            sha256 ? "00000002" : "00000001", sha256),
                                 f.now);
    CHECK(ok.status == 200);
    REQUIRE(ok.headers.size() == 1);
    CHECK(ok.headers[0].second == "<sip:alice@192.0.2.10:5062>;expires=600");
  }
  CHECK(f.bindings.by_account["acme.example.comacct-alice-acme.example.com"].size() == 1);
}

TEST_CASE("wrong passwords and unknown users get the same challenge and bind nothing") {
  Fixture f;
  auto challenge = f.registrar.handle(f.request(), f.now);
  auto wrong = f.registrar.handle(f.answered(f.request(), challenge, "wrong-password"), f.now);
  auto unknown_request = f.request();
  unknown_request.aor_user = "mallory";
  auto unknown = f.registrar.handle(f.answered(unknown_request, challenge, "whatever"), f.now);
  CHECK(wrong.status == 401);
  CHECK(unknown.status == 401);
  CHECK(std::string_view(wrong.phrase) == unknown.phrase);
  CHECK(wrong.headers.size() == unknown.headers.size());
  CHECK(f.bindings.by_account.empty());
}

TEST_CASE("a replayed answer is refused, an expired nonce is stale") {
  Fixture f;
  auto challenge = f.registrar.handle(f.request(), f.now);
  auto first = f.answered(f.request(), challenge, "right-password");
  CHECK(f.registrar.handle(first, f.now).status == 200);
  auto replay = f.registrar.handle(first, f.now);
  CHECK(replay.status == 401);
  auto later = f.registrar.handle(f.answered(f.request(), challenge, "right-password", "00000002"),
                                  f.now + 301s);
  CHECK(later.status == 401);
  CHECK(later.headers[0].second.find("stale=true") != std::string::npos);
}

TEST_CASE("an account cannot register into another tenant's domain or as another user") {
  Fixture f;
  // Alice of acme answers a challenge of other.example.com with acme's password.
  auto other = f.request("other.example.com");
  auto challenge = f.registrar.handle(other, f.now);
  auto refused = f.registrar.handle(f.answered(other, challenge, "wrong-for-other"), f.now);
  CHECK(refused.status == 401);
  // A valid answer for alice used to register bob's address.
  auto as_bob = f.request();
  auto bob_challenge = f.registrar.handle(as_bob, f.now);
  auto answer = f.answered(as_bob, bob_challenge, "right-password");
  answer.aor_user = "bob";
  CHECK(f.registrar.handle(answer, f.now).status == 403);
}

TEST_CASE("expiry rules: too brief, clamped, un-REGISTER and wildcard removal") {
  Fixture f;
  auto challenge = f.registrar.handle(f.request(), f.now);
  auto brief = f.request();
  brief.expires_header = 10;
  CHECK(f.registrar.handle(f.answered(brief, challenge, "right-password", "00000001"), f.now)
            .status == 423);

  auto long_lived = f.request();
  long_lived.contacts.push_back({"sip:alice@198.51.100.7:5060", 86400});
  auto ok =
      f.registrar.handle(f.answered(long_lived, challenge, "right-password", "00000002"), f.now);
  REQUIRE(ok.status == 200);
  CHECK(ok.headers.size() == 2);
  CHECK(ok.headers[1].second.find(";expires=3600") != std::string::npos);

  auto remove_one = f.request();
  remove_one.contacts = {{"sip:alice@198.51.100.7:5060", 0}};
  auto after =
      f.registrar.handle(f.answered(remove_one, challenge, "right-password", "00000003"), f.now);
  CHECK(after.headers.size() == 1);

  auto wildcard = f.request();
  wildcard.contacts.clear();
  wildcard.wildcard = true;
  wildcard.expires_header = 0;
  CHECK(f.registrar.handle(f.answered(wildcard, challenge, "right-password", "00000004"), f.now)
            .status == 200);
  auto query = f.request();
  query.contacts.clear();
  CHECK(f.registrar.handle(f.answered(query, challenge, "right-password", "00000005"), f.now)
            .headers.empty());
}

TEST_CASE("an unavailable accounts service gives 503 with Retry-After") {
  Fixture f;
  auto challenge = f.registrar.handle(f.request(), f.now);
  f.credentials.down = true;
  auto reply = f.registrar.handle(f.answered(f.request(), challenge, "right-password"), f.now);
  CHECK(reply.status == 503);
  CHECK(reply.headers.at(0).first == "Retry-After");
}
