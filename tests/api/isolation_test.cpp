// Tenant isolation through the REST API: tenant B's key against tenant A's ids.
#include <catch2/catch.hpp>

#include "tel/testing/api_client.h"

using namespace tel::testing;
using nlohmann::json;

namespace {

struct Resource {
  std::string collection;  // e.g. "/v1/numbers"
  std::string id;
  json patch;  // a valid change, had it been allowed
};

}  // namespace

TEST_CASE("tenant B can neither see nor change nor delete tenant A's rows") {
  Platform platform = Platform::fromEnv();
  TestTenant a(platform, "tenant-a");
  TestTenant b(platform, "tenant-b");

  auto number = a.api->post("/v1/numbers", {{"e164", uniqueE164()}});
  auto sip = a.api->post("/v1/sip-accounts", {{"username", "anna"}, {"extension", "201"}});
  auto user =
      a.api->post("/v1/users", {{"email", "anna@a.example.com"}, {"password", "0123456789ab"}});
  auto key = a.api->post("/v1/api-keys", {{"name", "a-crm"}});
  auto carrier = a.api->post("/v1/carriers", {{"name", "A trunk"},
                                              {"addresses", {"192.0.2.0/24"}},
                                              {"outbound_uri", "sip:trunk.a.example.net"}});
  REQUIRE(number.status == 201);
  REQUIRE(carrier.status == 201);
  REQUIRE(sip.status == 201);
  REQUIRE(user.status == 201);
  REQUIRE(key.status == 201);
  // B has rows of its own too, so that "empty list" cannot pass by accident.
  REQUIRE(b.api->post("/v1/numbers", {{"e164", uniqueE164()}}).status == 201);
  REQUIRE(b.api->post("/v1/carriers", {{"name", "B trunk"}}).status == 201);

  const std::vector<Resource> resources = {
      {"/v1/numbers", number.json["id"], {{"channels", 9}}},
      {"/v1/sip-accounts", sip.json["id"], {{"display_name", "hijacked"}}},
      {"/v1/users", user.json["id"], {{"name", "hijacked"}}},
      {"/v1/carriers",
       carrier.json["id"],
       {{"addresses", {"198.51.100.0/24"}}, {"name", "hijacked"}}},
  };

  std::map<std::string, std::string> before;
  for (const auto& r : resources) before[r.id] = a.api->get(r.collection + "/" + r.id).body;

  for (const auto& r : resources) {
    INFO(r.collection);
    const std::string path = r.collection + "/" + r.id;
    auto read = b.api->get(path);
    CHECK(read.status == 404);
    CHECK(read.errorCode() == "not_found");
    CHECK(b.api->patch(path, r.patch).status == 404);
    CHECK(b.api->del(path).status == 404);
    auto listing = b.api->get(r.collection + "?limit=200");
    REQUIRE(listing.status == 200);
    for (const auto& item : listing.json["items"]) {
      CHECK(item["tenant_id"] == b.id);
      CHECK(item["id"] != r.id);
    }
  }

  // API keys: B can neither list nor revoke A's.
  const std::string key_id = key.json["id"];
  CHECK(b.api->del("/v1/api-keys/" + key_id).status == 404);
  CHECK(b.api->get("/v1/api-keys").body.find(key_id) == std::string::npos);
  ApiClient a_crm(platform.api_url, key.json["secret"]);
  CHECK(a_crm.get("/v1/me").status == 200);

  // The tenant itself.
  CHECK(b.api->get("/v1/tenants/" + a.id).status == 404);
  CHECK(b.api->patch("/v1/tenants/" + a.id, {{"name", "hijacked"}}).status == 404);
  CHECK(b.api->post("/v1/tenants/" + a.id + "/api-keys", {{"name", "x"}}).status == 403);
  CHECK(b.api->get("/v1/tenants").body.find(a.id) == std::string::npos);

  // Nothing of A changed.
  for (const auto& r : resources) {
    CHECK(a.api->get(r.collection + "/" + r.id).body == before[r.id]);
  }
  CHECK(a.api->get("/v1/tenants/" + a.id).json["name"] != "hijacked");
}

TEST_CASE("a number belongs to one tenant: another tenant cannot claim it") {
  Platform platform = Platform::fromEnv();
  TestTenant a(platform, "tenant-a");
  TestTenant b(platform, "tenant-b");
  const std::string e164 = uniqueE164();
  REQUIRE(a.api->post("/v1/numbers", {{"e164", e164}}).status == 201);
  auto claim = b.api->post("/v1/numbers", {{"e164", e164}});
  CHECK(claim.status == 409);
  CHECK(claim.errorField() == "e164");
  CHECK(b.api->get("/v1/numbers").json["items"].empty());
}

TEST_CASE("ids that are not ids are simply not found") {
  TestTenant tenant(Platform::fromEnv());
  for (const char* id :
       {"not-a-uuid", "00000000-0000-0000-0000-000000000000", "%27%20OR%201%3D1"}) {
    INFO(id);
    CHECK(tenant.api->get(std::string("/v1/numbers/") + id).status == 404);
    CHECK(tenant.api->get(std::string("/v1/tenants/") + id).status == 404);
  }
}
