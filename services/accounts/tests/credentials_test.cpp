#include <catch2/catch.hpp>

#include "credentials.h"
#include "tel/crypto/crypto.h"

using namespace tel::accounts;

TEST_CASE("passwords verify against their hash and nothing else") {
  const PasswordHashCost cheap{10, 8, 1};
  const auto hash = hashPassword("correct horse battery", cheap);
  CHECK(hash.rfind("scrypt$10$8$1$", 0) == 0);
  CHECK(hash.find("correct") == std::string::npos);
  CHECK(verifyPassword("correct horse battery", hash));
  CHECK_FALSE(verifyPassword("correct horse batterY", hash));
  CHECK_FALSE(verifyPassword("correct horse battery", "scrypt$10$8$1$garbage"));
  CHECK_FALSE(verifyPassword("x", "md5$whatever"));
  // Salted: the same password hashes differently each time.
  CHECK(hashPassword("correct horse battery", cheap) != hash);
}

TEST_CASE("digest HA1 values match RFC test vectors") {
  // RFC 2617 section 3.5: Mufasa / testrealm@host.com / Circle Of Life.
  CHECK(digestHa1Md5("Mufasa", "testrealm@host.com", "Circle Of Life") ==
        "939e7578ed9e3c518a452acee763bce9");
  // RFC 7616 section 3.9.1: Mufasa / http-auth@example.org / Circle of Life, SHA-256.
  CHECK(digestHa1Sha256("Mufasa", "http-auth@example.org", "Circle of Life") ==
        "7987c64c30e25f1b74be53f966b49b90f2808aa92faf9a00262392d7b4794232");
}

TEST_CASE("API keys have a visible prefix and parse back") {
  const auto key = generateApiKey(kTenantKeyKind);
  CHECK(key.key.rfind(key.prefix + "_", 0) == 0);
  CHECK(key.hash == tel::crypto::sha256Hex(key.key));
  auto parsed = parseApiKey(key.key);
  REQUIRE(parsed);
  CHECK(parsed->kind == "telk");
  CHECK(parsed->prefix == key.prefix);
  CHECK(generateApiKey(kTenantKeyKind).key != key.key);
}

TEST_CASE("malformed API keys are rejected by shape") {
  CHECK_FALSE(parseApiKey(""));
  CHECK_FALSE(parseApiKey("Bearer xyz"));
  auto key = generateApiKey(kAdminKeyKind).key;
  CHECK(parseApiKey(key));
  CHECK_FALSE(parseApiKey(key.substr(1)));
  key[3] = 'x';
  CHECK_FALSE(parseApiKey(key));
}

TEST_CASE("generated SIP passwords are long and alphanumeric") {
  const auto password = generateSipPassword();
  CHECK(password.size() == 20);
  for (char c : password) CHECK(std::isalnum(static_cast<unsigned char>(c)));
}
