#include <catch2/catch.hpp>

#include "digest_auth.h"
#include "tel/crypto/crypto.h"

using namespace tel::sip;
using namespace std::chrono_literals;

namespace {
const DigestAuthenticator kAuth("test-secret", 300s);
const auto kNow = DigestAuthenticator::Clock::now();

DigestCredentials credentials(const std::string& user, const std::string& realm, const std::string& password) {
  return {tel::crypto::md5Hex(user + ":" + realm + ":" + password),
          tel::crypto::sha256Hex(user + ":" + realm + ":" + password)};
}

DigestResponse answer(bool sha256, const std::string& password, const std::string& nonce,
                      const std::string& realm = "acme.example.com") {
  DigestResponse r{"alice", realm, nonce, "sip:" + realm, "", sha256 ? "SHA-256" : "MD5", "auth", "00000001", "abc123"};
  const auto creds = credentials("alice", realm, password);
  r.response = digestResponse(sha256, sha256 ? creds.ha1_sha256 : creds.ha1_md5, nonce, r.nc, r.cnonce,
                              r.qop, "REGISTER", r.uri);
  return r;
}
}  // namespace

TEST_CASE("RFC 2617's example response is reproduced") {
  // RFC 2617 section 3.5 (HTTP, same formula): Mufasa, "Circle Of Life".
  const auto ha1 = tel::crypto::md5Hex("Mufasa:testrealm@host.com:Circle Of Life");
  CHECK(digestResponse(false, ha1, "dcd98b7102dd2f0e8b11d0f600bfb0c093", "00000001", "0a4f113b", "auth",
                       "GET", "/dir/index.html") == "6629fae49393a05397450978507c4ef1");
}

TEST_CASE("right passwords pass with MD5 and SHA-256, wrong ones fail") {
  const auto creds = credentials("alice", "acme.example.com", "s3cret-pass");
  for (bool sha256 : {false, true}) {
    const auto nonce = kAuth.newNonce("acme.example.com", kNow);
    CHECK(kAuth.verify(answer(sha256, "s3cret-pass", nonce), "REGISTER", creds, kNow) == DigestVerdict::kOk);
    CHECK(kAuth.verify(answer(sha256, "wrong-pass", nonce), "REGISTER", creds, kNow) ==
          DigestVerdict::kWrongResponse);
  }
}

TEST_CASE("nonces expire into stale, and forged or foreign-realm nonces are refused") {
  const auto creds = credentials("alice", "acme.example.com", "s3cret-pass");
  const auto old_nonce = kAuth.newNonce("acme.example.com", kNow - 301s);
  CHECK(kAuth.verify(answer(false, "s3cret-pass", old_nonce), "REGISTER", creds, kNow) == DigestVerdict::kStaleNonce);
  CHECK(kAuth.verify(answer(false, "wrong", old_nonce), "REGISTER", creds, kNow) == DigestVerdict::kWrongResponse);

  const auto other_realm_nonce = kAuth.newNonce("other.example.com", kNow);
  CHECK(kAuth.verify(answer(false, "s3cret-pass", other_realm_nonce), "REGISTER", creds, kNow) ==
        DigestVerdict::kBadNonce);
  const DigestAuthenticator other_server("another-secret", 300s);
  CHECK(kAuth.verify(answer(false, "s3cret-pass", other_server.newNonce("acme.example.com", kNow)), "REGISTER",
                     creds, kNow) == DigestVerdict::kBadNonce);
  CHECK(kAuth.verify(answer(false, "s3cret-pass", "not-a-nonce"), "REGISTER", creds, kNow) == DigestVerdict::kBadNonce);
}

TEST_CASE("malformed answers are refused") {
  const auto creds = credentials("alice", "acme.example.com", "s3cret-pass");
  auto response = answer(false, "s3cret-pass", kAuth.newNonce("acme.example.com", kNow));
  response.algorithm = "SHA-512-256";
  CHECK(kAuth.verify(response, "REGISTER", creds, kNow) == DigestVerdict::kMalformed);
  response = answer(false, "s3cret-pass", kAuth.newNonce("acme.example.com", kNow));
  response.cnonce.clear();
  CHECK(kAuth.verify(response, "REGISTER", creds, kNow) == DigestVerdict::kMalformed);
  CHECK(kAuth.verify(DigestResponse{}, "REGISTER", creds, kNow) == DigestVerdict::kMalformed);
}

TEST_CASE("challenges follow the configured order, with stale when asked") {
  CHECK(kAuth.challenges("acme.example.com", kNow, false)[0].find("algorithm=MD5") != std::string::npos);
  const DigestAuthenticator rfc8760_order("test-secret", 300s, {"SHA-256", "MD5"});
  auto values = rfc8760_order.challenges("acme.example.com", kNow, true);
  REQUIRE(values.size() == 2);
  CHECK(values[0].find("algorithm=SHA-256") != std::string::npos);
  CHECK(values[1].find("algorithm=MD5") != std::string::npos);
  CHECK(values[0].find("stale=true") != std::string::npos);
  CHECK(values[0].find("realm=\"acme.example.com\"") != std::string::npos);
}
