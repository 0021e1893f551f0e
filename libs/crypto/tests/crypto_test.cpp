#include <catch2/catch.hpp>

#include "tel/crypto/crypto.h"

using namespace tel::crypto;

TEST_CASE("digests match known vectors") {
  CHECK(md5Hex("") == "d41d8cd98f00b204e9800998ecf8427e");
  CHECK(sha1Hex("abc") == "a9993e364706816aba3e25717850c26c9cd0d89d");
  CHECK(sha256Hex("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST_CASE("HMAC-SHA256 matches RFC 4231 test case 2") {
  CHECK(toHex(hmacSha256("Jefe", "what do ya want for nothing?")) ==
        "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

TEST_CASE("base64 encodes the RFC 4648 test vectors with padding and decodes them back") {
  const std::pair<const char*, const char*> vectors[] = {{"", ""},           {"f", "Zg=="},
                                                         {"fo", "Zm8="},     {"foo", "Zm9v"},
                                                         {"foob", "Zm9vYg=="}, {"fooba", "Zm9vYmE="},
                                                         {"foobar", "Zm9vYmFy"}};
  for (const auto& [plain, encoded] : vectors) {
    CHECK(base64Encode(plain) == encoded);
    CHECK(base64Decode(encoded) == std::string(plain));
  }
  CHECK(base64Encode("\xfb\xff") == "+/8=");  // section 4 alphabet
  CHECK(base64Decode("Zm9vYg") == std::string("foob"));  // padding may be left out
  CHECK_FALSE(base64Decode("Zm9v-_"));
}

TEST_CASE("base64url round-trips every length and rejects foreign characters") {
  const std::string bytes = randomBytes(64);
  for (size_t length = 0; length <= bytes.size(); ++length) {
    const auto encoded = base64UrlEncode(bytes.substr(0, length));
    CHECK(encoded.find_first_of("+/=") == std::string::npos);
    CHECK(base64UrlDecode(encoded) == bytes.substr(0, length));
  }
  CHECK(base64UrlEncode("\xfb\xff") == "-_8");  // RFC 4648 section 5 alphabet
  CHECK_FALSE(base64UrlDecode("abc+"));
  CHECK_FALSE(base64UrlDecode("a b"));
}

TEST_CASE("random alphanumerics and constant-time comparison") {
  const auto text = randomAlphanumeric(100);
  CHECK(text.size() == 100);
  for (char c : text) CHECK(std::isalnum(static_cast<unsigned char>(c)));
  CHECK(randomAlphanumeric(100) != text);
  CHECK(constantTimeEquals("abc", "abc"));
  CHECK_FALSE(constantTimeEquals("abc", "abd"));
  CHECK_FALSE(constantTimeEquals("abc", "ab"));
}

TEST_CASE("AES-256-GCM opens what it sealed and nothing else") {
  const std::string key(32, '\x2a');
  const std::string sealed = tel::crypto::sealAes256Gcm(key, "s3cret password", "carrier-1");
  REQUIRE(sealed.size() == 12 + 15 + 16);
  CHECK(tel::crypto::openAes256Gcm(key, sealed, "carrier-1") == "s3cret password");
  // A fresh nonce each time: the same password never seals to the same bytes.
  CHECK(tel::crypto::sealAes256Gcm(key, "s3cret password", "carrier-1") != sealed);
  CHECK_FALSE(tel::crypto::openAes256Gcm(key, sealed, "carrier-2"));
  CHECK_FALSE(tel::crypto::openAes256Gcm(std::string(32, '\x2b'), sealed, "carrier-1"));
  for (size_t i = 0; i < sealed.size(); ++i) {
    std::string tampered = sealed;
    tampered[i] = static_cast<char>(tampered[i] ^ 1);
    CHECK_FALSE(tel::crypto::openAes256Gcm(key, tampered, "carrier-1"));
  }
  CHECK_FALSE(tel::crypto::openAes256Gcm(key, sealed.substr(0, 27), "carrier-1"));
  CHECK(tel::crypto::openAes256Gcm(key, tel::crypto::sealAes256Gcm(key, "", "x"), "x") == "");
  CHECK_THROWS_AS(tel::crypto::sealAes256Gcm("short", "x", ""), std::invalid_argument);
}
