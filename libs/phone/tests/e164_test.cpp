#include "tel/phone/e164.h"

#include <catch2/catch.hpp>

using tel::phone::toE164;

TEST_CASE("phone numbers are normalised to E.164") {
  CHECK(toE164("+15550001000") == "+15550001000");
  CHECK(toE164("0015550001000") == "+15550001000");
  CHECK(toE164("15550001000") == "+15550001000");
}

TEST_CASE("extensions, names and malformed numbers are not phone numbers") {
  CHECK_FALSE(toE164("101"));
  CHECK_FALSE(toE164("alice"));
  CHECK_FALSE(toE164("+1555x001000"));
  CHECK_FALSE(toE164("+0155500010"));
  CHECK_FALSE(toE164("+1234567890123456"));
  CHECK_FALSE(toE164(""));
}
