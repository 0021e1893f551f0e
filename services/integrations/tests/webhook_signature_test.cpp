#include "webhook_signature.h"

#include <catch2/catch.hpp>

using namespace tel::integrations;

// The Standard Webhooks specification's own example, also in docs/webhooks.md.
constexpr const char* kSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
constexpr const char* kId = "msg_p5jXN8AQM9LWM0D4loKWxJek";
constexpr int64_t kTimestamp = 1614265330;
constexpr const char* kBody = R"({"test": 2432232314})";
constexpr const char* kSignature = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=";

TEST_CASE("signatures match the Standard Webhooks test vector") {
  CHECK(sign(kSecret, kId, kTimestamp, kBody) == std::string(kSignature));
  CHECK(signatureHeader({kSecret}, kId, kTimestamp, kBody) == std::string(kSignature));
}

TEST_CASE("any change to the id or timestamp or body changes the signature") {
  CHECK(sign(kSecret, "msg_other", kTimestamp, kBody) != std::string(kSignature));
  CHECK(sign(kSecret, kId, kTimestamp + 1, kBody) != std::string(kSignature));
  CHECK(sign(kSecret, kId, kTimestamp, R"({"test": 2432232315})") != std::string(kSignature));
}

TEST_CASE("during a rotation both secrets sign and the header carries both") {
  const std::string fresh = newSigningSecret();
  const auto header = signatureHeader({fresh, kSecret}, kId, kTimestamp, kBody);
  REQUIRE(header);
  CHECK(*header == *sign(fresh, kId, kTimestamp, kBody) + " " + kSignature);
}

TEST_CASE("new secrets are well formed and never repeat") {
  const std::string a = newSigningSecret();
  const std::string b = newSigningSecret();
  CHECK(a.rfind("whsec_", 0) == 0);
  CHECK(isSigningSecret(a));
  CHECK(a != b);
}

TEST_CASE("malformed secrets sign nothing") {
  CHECK_FALSE(isSigningSecret(""));
  CHECK_FALSE(isSigningSecret("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"));  // no prefix
  CHECK_FALSE(isSigningSecret("whsec_c2hvcnQ="));                    // a 5-byte key
  CHECK_FALSE(isSigningSecret("whsec_not*base64*at*all*not*base64*"));
  CHECK_FALSE(sign("whsec_", kId, kTimestamp, kBody));
  CHECK_FALSE(signatureHeader({}, kId, kTimestamp, kBody));
}
