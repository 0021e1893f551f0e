// Number routes and carriers (SIP trunks) through the REST API, against the running platform.
#include <catch2/catch.hpp>

#include "tel/testing/api_client.h"

using namespace tel::testing;
using nlohmann::json;

TEST_CASE("a number's route: set on create, read back, listed, replaced, defaulted") {
  TestTenant tenant(Platform::fromEnv());
  auto& api = *tenant.api;

  auto plain = api.post("/v1/numbers", {{"e164", uniqueE164()}});
  REQUIRE(plain.status == 201);
  CHECK(plain.json["route"] == json{{"kind", "none"},
                                    {"extensions", json::array()},
                                    {"external", ""},
                                    {"ring_timeout_seconds", 30}});

  const json ring_group = {
      {"kind", "extensions"}, {"extensions", {"101", "102"}}, {"ring_timeout_seconds", 20}};
  auto created =
      api.post("/v1/numbers", {{"e164", uniqueE164()}, {"label", "Sales"}, {"route", ring_group}});
  REQUIRE(created.status == 201);
  const std::string id = created.json["id"];
  const json expected = {{"kind", "extensions"},
                         {"extensions", {"101", "102"}},
                         {"external", ""},
                         {"ring_timeout_seconds", 20}};
  CHECK(created.json["route"] == expected);
  CHECK(api.get("/v1/numbers/" + id).json["route"] == expected);
  bool listed = false;
  const auto numbers = api.get("/v1/numbers");
  for (const auto& item : numbers.json["items"]) {
    if (item["id"] == id) {
      listed = true;
      CHECK(item["route"] == expected);
    }
  }
  CHECK(listed);

  // A PATCH without a route leaves it alone; one with a route replaces all of it.
  auto relabelled = api.patch("/v1/numbers/" + id, {{"label", "Sales desk"}});
  REQUIRE(relabelled.status == 200);
  CHECK(relabelled.json["route"] == expected);

  auto forwarded = api.patch("/v1/numbers/" + id,
                             {{"route", {{"kind", "external"}, {"external", "+380441234567"}}}});
  REQUIRE(forwarded.status == 200);
  const json external = {{"kind", "external"},
                         {"extensions", json::array()},
                         {"external", "+380441234567"},
                         {"ring_timeout_seconds", 30}};
  CHECK(forwarded.json["route"] == external);
  CHECK(forwarded.json["label"] == "Sales desk");
  CHECK(api.get("/v1/numbers/" + id).json["route"] == external);

  auto to_sip = api.patch("/v1/numbers/" + id, {{"route",
                                                 {{"kind", "external"},
                                                  {"external", "sip:desk@pbx.example.com:5080"},
                                                  {"ring_timeout_seconds", 300}}}});
  REQUIRE(to_sip.status == 200);
  CHECK(to_sip.json["route"]["external"] == "sip:desk@pbx.example.com:5080");
  CHECK(to_sip.json["route"]["ring_timeout_seconds"] == 300);

  auto unrouted = api.patch("/v1/numbers/" + id, {{"route", {{"kind", "none"}}}});
  REQUIRE(unrouted.status == 200);
  CHECK(unrouted.json["route"] == json{{"kind", "none"},
                                       {"extensions", json::array()},
                                       {"external", ""},
                                       {"ring_timeout_seconds", 30}});

  auto regrouped =
      api.patch("/v1/numbers/" + id,
                {{"route", {{"kind", "extensions"}, {"extensions", {"203", "201", "202"}}}}});
  REQUIRE(regrouped.status == 200);
  CHECK(regrouped.json["route"]["extensions"] == json{"203", "201", "202"});  // in the order given
  CHECK(api.get("/v1/numbers/" + id).json["route"] == regrouped.json["route"]);
}

TEST_CASE("carriers: create, read, list, change, delete") {
  TestTenant tenant(Platform::fromEnv());
  auto& api = *tenant.api;
  auto created =
      api.post("/v1/carriers", {{"name", "Main trunk"},
                                {"addresses", {"203.0.113.0/24", "198.51.100.7", "2001:db8::/32"}},
                                {"outbound_uri", "sip:trunk.example.net:5060"},
                                {"caller_id", "+380441234567"}});
  REQUIRE(created.status == 201);
  const std::string id = created.json["id"];
  CHECK(created.json["tenant_id"] == tenant.id);
  CHECK(created.json["name"] == "Main trunk");
  CHECK(created.json["addresses"] == json{"203.0.113.0/24", "198.51.100.7", "2001:db8::/32"});
  CHECK(created.json["outbound_uri"] == "sip:trunk.example.net:5060");
  CHECK(created.json["caller_id"] == "+380441234567");
  CHECK(created.json.contains("created_at"));

  auto fetched = api.get("/v1/carriers/" + id);
  REQUIRE(fetched.status == 200);
  CHECK(fetched.json == created.json);

  auto minimal = api.post("/v1/carriers", {{"name", "Inbound only"}});
  REQUIRE(minimal.status == 201);
  CHECK(minimal.json["addresses"] == json::array());
  CHECK(minimal.json["outbound_uri"] == "");
  CHECK(minimal.json["caller_id"] == "");

  auto listed = api.get("/v1/carriers?limit=1");
  REQUIRE(listed.status == 200);
  REQUIRE(listed.json["items"].size() == 1);
  CHECK(listed.json["items"][0]["id"] == minimal.json["id"]);  // newest first
  const std::string token = listed.json["next_page_token"];
  REQUIRE_FALSE(token.empty());
  auto second = api.get("/v1/carriers?limit=1&page_token=" + token);
  REQUIRE(second.status == 200);
  REQUIRE(second.json["items"].size() == 1);
  CHECK(second.json["items"][0]["id"] == id);
  CHECK(second.json["next_page_token"] == "");

  // Fields absent from a PATCH stay; present addresses replace the list.
  auto renamed = api.patch("/v1/carriers/" + id, {{"name", "Backup trunk"}});
  REQUIRE(renamed.status == 200);
  CHECK(renamed.json["name"] == "Backup trunk");
  CHECK(renamed.json["addresses"].size() == 3);
  auto readdressed = api.patch(
      "/v1/carriers/" + id,
      {{"addresses", {"192.0.2.10"}}, {"caller_id", ""}, {"outbound_uri", "sip:gw@192.0.2.10"}});
  REQUIRE(readdressed.status == 200);
  CHECK(readdressed.json["addresses"] == json{"192.0.2.10"});
  CHECK(readdressed.json["caller_id"] == "");
  CHECK(readdressed.json["outbound_uri"] == "sip:gw@192.0.2.10");
  CHECK(readdressed.json["name"] == "Backup trunk");
  auto emptied = api.patch("/v1/carriers/" + id, {{"addresses", json::array()}});
  REQUIRE(emptied.status == 200);
  CHECK(emptied.json["addresses"] == json::array());
  CHECK(api.get("/v1/carriers/" + id).json["addresses"] == json::array());

  CHECK(api.del("/v1/carriers/" + id).status == 204);
  CHECK(api.get("/v1/carriers/" + id).status == 404);
  CHECK(api.del("/v1/carriers/" + id).status == 404);
  CHECK(api.patch("/v1/carriers/" + id, {{"name", "ghost"}}).status == 404);
  CHECK(api.get("/v1/carriers/not-a-uuid").status == 404);
}

TEST_CASE("bad routes and carriers are refused with 400 naming the field, changing nothing") {
  TestTenant tenant(Platform::fromEnv());
  auto& api = *tenant.api;
  struct Case {
    json route;
    std::string field;
  };
  const std::vector<Case> routes = {
      {{{"kind", "voicemail"}}, "route.kind"},
      {{{"kind", 1}}, "route.kind"},
      {{{"extensions", {"101"}}}, "route.kind"},
      {{{"kind", "extensions"}}, "route.extensions"},
      {{{"kind", "extensions"}, {"extensions", json::array()}}, "route.extensions"},
      {{{"kind", "extensions"}, {"extensions", {"101", "0"}}}, "route.extensions"},
      {{{"kind", "extensions"}, {"extensions", {"101", "101"}}}, "route.extensions"},
      {{{"kind", "extensions"}, {"extensions", "101"}}, "route.extensions"},
      {{{"kind", "extensions"}, {"extensions", std::vector<std::string>(21, "101")}},
       "route.extensions"},
      {{{"kind", "external"}}, "route.external"},
      {{{"kind", "external"}, {"external", "380441234567"}}, "route.external"},
      {{{"kind", "external"}, {"external", "sip:pbx.example.com"}}, "route.external"},
      {{{"kind", "external"}, {"external", "sip:desk@pbx.example.com;transport=tcp"}},
       "route.external"},
      {{{"kind", "external"}, {"external", "sip:de sk@pbx.example.com"}}, "route.external"},
      {{{"kind", "external"}, {"external", "sip:desk@" + std::string(260, 'a') + ".com"}},
       "route.external"},
      {{{"kind", "none"}, {"external", "+380441234567"}}, "route.external"},
      {{{"kind", "external"}, {"external", "+380441234567"}, {"ring_timeout_seconds", 4}},
       "route.ring_timeout_seconds"},
      {{{"kind", "external"}, {"external", "+380441234567"}, {"ring_timeout_seconds", 301}},
       "route.ring_timeout_seconds"},
      {{{"kind", "external"},
        {"external", "+380441234567"},
        {"ring_timeout_seconds", 4294967326LL}},
       "route.ring_timeout_seconds"},
      {{{"kind", "external"}, {"external", "+380441234567"}, {"colour", "red"}}, "route.colour"},
      {"external", "route"},
  };
  for (const auto& c : routes) {
    INFO(c.route.dump());
    auto reply = api.post("/v1/numbers", {{"e164", uniqueE164()}, {"route", c.route}});
    CHECK(reply.status == 400);
    CHECK(reply.errorCode() == "invalid_argument");
    CHECK(reply.errorField() == c.field);
    CHECK(reply.json["error"]["message"].get<std::string>().find(c.field) != std::string::npos);
  }
  CHECK(api.get("/v1/numbers").json["items"].empty());

  // The same routes on an existing number leave it as it was.
  auto number = api.post(
      "/v1/numbers",
      {{"e164", uniqueE164()}, {"route", {{"kind", "extensions"}, {"extensions", {"101"}}}}});
  REQUIRE(number.status == 201);
  const std::string number_path = "/v1/numbers/" + number.json["id"].get<std::string>();
  for (const auto& c : routes) {
    INFO(c.route.dump());
    auto reply = api.patch(number_path, {{"label", "changed"}, {"route", c.route}});
    CHECK(reply.status == 400);
    CHECK(reply.errorField() == c.field);
  }
  CHECK(api.get(number_path).body == number.body);

  struct CarrierCase {
    json body;
    std::string field;
  };
  const std::vector<CarrierCase> carriers = {
      {{{"addresses", {"192.0.2.1"}}}, "name"},
      {{{"name", ""}}, "name"},
      {{{"name", std::string(101, 'n')}}, "name"},
      {{{"name", "t"}, {"addresses", {"192.0.2.0/33"}}}, "addresses"},
      {{{"name", "t"}, {"addresses", {"192.0.2.1/24"}}}, "addresses"},
      {{{"name", "t"}, {"addresses", {"carrier.example.net"}}}, "addresses"},
      {{{"name", "t"}, {"addresses", {"0.0.0.0/0"}}}, "addresses"},
      {{{"name", "t"}, {"addresses", {"192.0.2.1", 7}}}, "addresses"},
      {{{"name", "t"}, {"addresses", "192.0.2.1"}}, "addresses"},
      {{{"name", "t"}, {"outbound_uri", "trunk.example.net"}}, "outbound_uri"},
      {{{"name", "t"}, {"outbound_uri", "sip:trunk.example.net:99999"}}, "outbound_uri"},
      {{{"name", "t"}, {"outbound_uri", "sip:trunk.example.net;transport=tls"}}, "outbound_uri"},
      {{{"name", "t"}, {"outbound_uri", "http://trunk.example.net"}}, "outbound_uri"},
      {{{"name", "t"}, {"caller_id", "0441234567"}}, "caller_id"},
      {{{"name", "t"}, {"tenant_id", tenant.id}}, "tenant_id"},
  };
  std::vector<std::string> many;
  for (int i = 0; i < 33; ++i) many.push_back("192.0.2." + std::to_string(i));
  auto too_many = api.post("/v1/carriers", {{"name", "t"}, {"addresses", many}});
  CHECK(too_many.status == 400);
  CHECK(too_many.errorField() == "addresses");
  for (const auto& c : carriers) {
    INFO(c.body.dump());
    auto reply = api.post("/v1/carriers", c.body);
    CHECK(reply.status == 400);
    CHECK(reply.errorCode() == "invalid_argument");
    CHECK(reply.errorField() == c.field);
  }
  CHECK(api.get("/v1/carriers").json["items"].empty());

  auto carrier = api.post("/v1/carriers", {{"name", "Trunk"}, {"addresses", {"192.0.2.0/28"}}});
  REQUIRE(carrier.status == 201);
  const std::string carrier_path = "/v1/carriers/" + carrier.json["id"].get<std::string>();
  for (const auto& c : carriers) {
    if (c.field == "name" && !c.body.contains("name")) continue;  // PATCH needs no name
    INFO(c.body.dump());
    auto reply = api.patch(carrier_path, c.body);
    CHECK(reply.status == 400);
    CHECK(reply.errorField() == c.field);
  }
  CHECK(api.get(carrier_path).body == carrier.body);
}

TEST_CASE(
    "carrier credentials: the username is shown, the password never, and they change as a pair") {
  TestTenant tenant(Platform::fromEnv());
  auto& api = *tenant.api;
  const std::string password = "Trunk-Secret-2024";
  // Nowhere in a response: not as a field, not as a value (nor as its HA1).
  auto no_secret = [&](const HttpResult& reply) {
    INFO(reply.body);
    CHECK(reply.body.find(password) == std::string::npos);
    CHECK(reply.body.find("auth_password") == std::string::npos);
    CHECK(reply.body.find("ha1") == std::string::npos);
  };

  auto created = api.post(
      "/v1/carriers",
      {{"name", "Registered trunk"}, {"auth_username", "Trunk.01"}, {"auth_password", password}});
  REQUIRE(created.status == 201);
  CHECK(created.json["auth_username"] == "Trunk.01");
  no_secret(created);
  const std::string path = "/v1/carriers/" + created.json["id"].get<std::string>();
  auto fetched = api.get(path);
  REQUIRE(fetched.status == 200);
  CHECK(fetched.json == created.json);
  no_secret(fetched);
  auto listed = api.get("/v1/carriers");
  REQUIRE(listed.status == 200);
  REQUIRE(listed.json["items"].size() == 1);
  CHECK(listed.json["items"][0]["auth_username"] == "Trunk.01");
  no_secret(listed);

  // Without credentials, auth_username is there and empty.
  auto plain =
      api.post("/v1/carriers", {{"name", "Address trunk"}, {"addresses", {"192.0.2.0/28"}}});
  REQUIRE(plain.status == 201);
  CHECK(plain.json["auth_username"] == "");

  // Another carrier of the same tenant cannot take the username; another tenant's can.
  auto taken = api.post(
      "/v1/carriers",
      {{"name", "Twin"}, {"auth_username", "Trunk.01"}, {"auth_password", "Another-Secret-99"}});
  CHECK(taken.status == 409);
  CHECK(taken.errorField() == "auth_username");
  TestTenant other(Platform::fromEnv(), "carrier-auth-other");
  CHECK(other.api
            ->post(
                "/v1/carriers",
                {{"name", "Same name"}, {"auth_username", "Trunk.01"}, {"auth_password", password}})
            .status == 201);

  // Other fields change without touching the credentials.
  auto renamed = api.patch(path, {{"name", "Renamed trunk"}});
  REQUIRE(renamed.status == 200);
  CHECK(renamed.json["auth_username"] == "Trunk.01");

  // New credentials replace the old; both empty remove them.
  auto changed =
      api.patch(path, {{"auth_username", "trunk-02"}, {"auth_password", "Brand-New-Secret-7"}});
  REQUIRE(changed.status == 200);
  CHECK(changed.json["auth_username"] == "trunk-02");
  CHECK(changed.body.find("Brand-New-Secret-7") == std::string::npos);
  no_secret(changed);
  auto removed = api.patch(path, {{"auth_username", ""}, {"auth_password", ""}});
  REQUIRE(removed.status == 200);
  CHECK(removed.json["auth_username"] == "");
  CHECK(removed.json["name"] == "Renamed trunk");
  CHECK(api.get(path).json["auth_username"] == "");
  // The username is free again, for a new carrier too.
  CHECK(api.post("/v1/carriers",
                 {{"name", "Reuse"}, {"auth_username", "trunk-02"}, {"auth_password", password}})
            .status == 201);
  // Credentials can be added to a carrier that had none.
  auto added = api.patch("/v1/carriers/" + plain.json["id"].get<std::string>(),
                         {{"auth_username", "addr-trunk"}, {"auth_password", password}});
  REQUIRE(added.status == 200);
  CHECK(added.json["auth_username"] == "addr-trunk");
  CHECK(added.json["addresses"] == json{"192.0.2.0/28"});
}

TEST_CASE("bad carrier credentials are refused with 400 naming the field, changing nothing") {
  TestTenant tenant(Platform::fromEnv());
  auto& api = *tenant.api;
  struct Case {
    json body;
    std::string field;
  };
  const std::string good = "Good-Password-123";
  const std::vector<Case> cases = {
      {{{"auth_username", "trunk"}}, "auth_password"},
      {{{"auth_password", good}}, "auth_username"},
      {{{"auth_username", "trunk"}, {"auth_password", ""}}, "auth_password"},
      {{{"auth_username", ""}, {"auth_password", good}}, "auth_username"},
      {{{"auth_username", "trunk"}, {"auth_password", "short-pw"}}, "auth_password"},
      {{{"auth_username", "trunk"}, {"auth_password", "elevenchars"}}, "auth_password"},
      {{{"auth_username", "trunk"}, {"auth_password", std::string(129, 'p')}}, "auth_password"},
      {{{"auth_username", "trunk"}, {"auth_password", "with spaces inside"}}, "auth_password"},
      {{{"auth_username", "trunk"}, {"auth_password", "my-trunk-password"}}, "auth_password"},
      {{{"auth_username", "trunk@example.net"}, {"auth_password", good}}, "auth_username"},
      {{{"auth_username", "trunk:1"}, {"auth_password", good}}, "auth_username"},
      {{{"auth_username", std::string(65, 'u')}, {"auth_password", good}}, "auth_username"},
      {{{"auth_username", 7}, {"auth_password", good}}, "auth_username"},
      {{{"auth_username", "trunk"}, {"auth_password", 123456789012}}, "auth_password"},
  };
  for (const auto& c : cases) {
    json body = c.body;
    body["name"] = "Trunk";
    INFO(body.dump());
    auto reply = api.post("/v1/carriers", body);
    CHECK(reply.status == 400);
    CHECK(reply.errorCode() == "invalid_argument");
    CHECK(reply.errorField() == c.field);
    CHECK(reply.json["error"]["message"].get<std::string>().rfind(c.field + ":", 0) == 0);
    CHECK(reply.body.find(good) == std::string::npos);
  }
  CHECK(api.get("/v1/carriers").json["items"].empty());

  // The same on an existing carrier with credentials leaves it as it was.
  auto carrier = api.post("/v1/carriers",
                          {{"name", "Trunk"}, {"auth_username", "kept"}, {"auth_password", good}});
  REQUIRE(carrier.status == 201);
  const std::string path = "/v1/carriers/" + carrier.json["id"].get<std::string>();
  for (const auto& c : cases) {
    json body = c.body;
    body["name"] = "changed";
    INFO(body.dump());
    auto reply = api.patch(path, body);
    CHECK(reply.status == 400);
    CHECK(reply.errorField() == c.field);
  }
  // Removing needs both fields empty: one empty field alone is refused too.
  for (const json& half : {json{{"auth_username", ""}}, json{{"auth_password", ""}}}) {
    INFO(half.dump());
    auto reply = api.patch(path, half);
    CHECK(reply.status == 400);
    CHECK(reply.errorField() ==
          (half.contains("auth_username") ? "auth_password" : "auth_username"));
  }
  CHECK(api.get(path).body == carrier.body);
}
