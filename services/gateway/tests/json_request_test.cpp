#include <catch2/catch.hpp>

#include "json_request.h"

using namespace tel::gateway;

namespace {
JsonRequest parseNumber(const std::string& body) {
  return JsonRequest::parse(body, {{"e164", FieldType::kString, true},
                                   {"channels", FieldType::kInteger},
                                   {"enabled", FieldType::kBoolean}});
}
}  // namespace

TEST_CASE("a valid body gives typed fields") {
  auto request = parseNumber(R"({"e164": "+380441234567", "channels": 4, "enabled": true})");
  REQUIRE(request.ok());
  CHECK(*request.string("e164") == "+380441234567");
  CHECK(*request.integer("channels") == 4);
  CHECK(*request.boolean("enabled"));
  CHECK_FALSE(parseNumber(R"({"e164": "+380441234567"})").integer("channels"));
}

TEST_CASE("invalid JSON and non-objects are refused") {
  for (const char* body : {"", "{", "[1,2]", "\"text\"", "null", "{\"e164\": \"+1\",}"}) {
    auto request = parseNumber(body);
    REQUIRE_FALSE(request.ok());
    CHECK(request.error->status == 400);
  }
}

TEST_CASE("unknown fields, wrong types and missing required fields name the field") {
  auto unknown = parseNumber(R"({"e164": "+380441234567", "chanels": 4})");
  REQUIRE_FALSE(unknown.ok());
  CHECK(unknown.error->field == "chanels");

  auto wrong_type = parseNumber(R"({"e164": 380441234567})");
  REQUIRE_FALSE(wrong_type.ok());
  CHECK(wrong_type.error->field == "e164");
  CHECK(wrong_type.error->message.find("string") != std::string::npos);

  auto fractional = parseNumber(R"({"e164": "+380441234567", "channels": 2.5})");
  REQUIRE_FALSE(fractional.ok());
  CHECK(fractional.error->field == "channels");

  auto missing = parseNumber(R"({"channels": 2})");
  REQUIRE_FALSE(missing.ok());
  CHECK(missing.error->field == "e164");
}

TEST_CASE("huge integers are clamped, not wrapped") {
  auto request = parseNumber(R"({"e164": "+380441234567", "channels": 18446744073709551615})");
  REQUIRE(request.ok());
  CHECK(*request.integer("channels") == INT64_MAX);
}
