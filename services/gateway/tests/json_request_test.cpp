#include "json_request.h"

#include <catch2/catch.hpp>

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

TEST_CASE("arrays of strings and nested objects are typed and checked") {
  auto parse = [](const std::string& body) {
    return JsonRequest::parse(
        body, {{"addresses", FieldType::kStringArray}, {"route", FieldType::kObject}});
  };
  auto request =
      parse(R"({"addresses": ["203.0.113.0/24", "198.51.100.7"], "route": {"kind": "external"}})");
  REQUIRE(request.ok());
  CHECK(*request.strings("addresses") ==
        std::vector<std::string>{"203.0.113.0/24", "198.51.100.7"});
  auto route = request.object(
      "route", {{"kind", FieldType::kString, true}, {"ring_timeout_seconds", FieldType::kInteger}});
  REQUIRE(route);
  REQUIRE(route->ok());
  CHECK(*route->string("kind") == "external");
  CHECK_FALSE(route->integer("ring_timeout_seconds"));
  CHECK(parse("{}").ok());
  CHECK(parse(R"({"addresses": []})").strings("addresses")->empty());
  CHECK_FALSE(parse("{}").object("route", {}));

  for (const char* body : {R"({"addresses": "203.0.113.1"})",
                           R"({"addresses": ["203.0.113.1", 7]})", R"({"addresses": [null]})"}) {
    auto bad = parse(body);
    REQUIRE_FALSE(bad.ok());
    CHECK(bad.error->field == "addresses");
  }
  auto not_object = parse(R"({"route": ["external"]})");
  REQUIRE_FALSE(not_object.ok());
  CHECK(not_object.error->field == "route");

  auto nested = parse(R"({"route": {"kind": "external", "colour": "red"}})");
  REQUIRE(nested.ok());
  auto unknown = nested.object("route", {{"kind", FieldType::kString, true}});
  REQUIRE_FALSE(unknown->ok());
  CHECK(unknown->error->field == "route.colour");
  auto missing = parse(R"({"route": {}})").object("route", {{"kind", FieldType::kString, true}});
  REQUIRE_FALSE(missing->ok());
  CHECK(missing->error->field == "route.kind");
  CHECK(missing->error->message == "route.kind: is required");
  auto wrong =
      parse(R"({"route": {"kind": 1}})").object("route", {{"kind", FieldType::kString, true}});
  REQUIRE_FALSE(wrong->ok());
  CHECK(wrong->error->field == "route.kind");
}

TEST_CASE("a nullable field takes null, and others refuse it naming the field") {
  auto request = JsonRequest::parse(R"({"registration": null})",
                                    {{"registration", FieldType::kObject, false, true}});
  REQUIRE(request.ok());
  CHECK(request.isNull("registration"));
  CHECK_FALSE(request.object("registration", {}));
  auto refused = JsonRequest::parse(R"({"registration": null})",
                                    {{"registration", FieldType::kObject}});
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.error->field == "registration");
  auto absent = JsonRequest::parse("{}", {{"registration", FieldType::kObject, false, true}});
  CHECK_FALSE(absent.isNull("registration"));
}
