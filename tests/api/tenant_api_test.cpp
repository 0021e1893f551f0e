// The REST API as a tenant and the operator use it, against the running platform.
#include <catch2/catch.hpp>
#include <set>
#include <thread>

#include "tel/testing/api_client.h"
#include "tel/testing/env.h"

using namespace tel::testing;

TEST_CASE("the admin creates a tenant and its first key, and the key works") {
  Platform platform = Platform::fromEnv();
  TestTenant tenant(platform);
  auto me = tenant.api->get("/v1/me");
  REQUIRE(me.status == 200);
  CHECK(me.json["kind"] == "tenant");
  CHECK(me.json["tenant_id"] == tenant.id);

  auto own = tenant.api->get("/v1/tenants/" + tenant.id);
  REQUIRE(own.status == 200);
  CHECK(own.json["timezone"] == "UTC");
  CHECK(own.json["sip_domain"] == tenant.sip_domain);

  auto listed = tenant.api->get("/v1/tenants");
  REQUIRE(listed.status == 200);
  REQUIRE(listed.json["items"].size() == 1);
  CHECK(listed.json["items"][0]["id"] == tenant.id);

  auto renamed = tenant.api->patch("/v1/tenants/" + tenant.id, {{"timezone", "Europe/Kyiv"}});
  REQUIRE(renamed.status == 200);
  CHECK(renamed.json["timezone"] == "Europe/Kyiv");
}

TEST_CASE("numbers: create, read, list, change, delete") {
  TestTenant tenant(Platform::fromEnv());
  const std::string e164 = uniqueE164();
  auto created = tenant.api->post("/v1/numbers", {{"e164", e164}, {"channels", 3}, {"label", "Sales"}});
  REQUIRE(created.status == 201);
  const std::string id = created.json["id"];
  CHECK(created.json["e164"] == e164);
  CHECK(created.json["channels"] == 3);
  CHECK(created.json["tenant_id"] == tenant.id);

  auto fetched = tenant.api->get("/v1/numbers/" + id);
  REQUIRE(fetched.status == 200);
  CHECK(fetched.json["label"] == "Sales");

  auto changed = tenant.api->patch("/v1/numbers/" + id, {{"channels", 5}});
  REQUIRE(changed.status == 200);
  CHECK(changed.json["channels"] == 5);
  CHECK(changed.json["label"] == "Sales");

  auto defaults = tenant.api->post("/v1/numbers", {{"e164", uniqueE164()}});
  REQUIRE(defaults.status == 201);
  CHECK(defaults.json["channels"] == 2);

  CHECK(tenant.api->del("/v1/numbers/" + id).status == 204);
  CHECK(tenant.api->get("/v1/numbers/" + id).status == 404);
  CHECK(tenant.api->del("/v1/numbers/" + id).status == 404);
}

TEST_CASE("SIP accounts show their password once and belong to the tenant's domain") {
  TestTenant tenant(Platform::fromEnv());
  auto created = tenant.api->post("/v1/sip-accounts",
                                  {{"username", "alice"}, {"extension", "101"}, {"display_name", "Alice"}});
  REQUIRE(created.status == 201);
  const std::string id = created.json["id"];
  const std::string password = created.json["password"];
  CHECK(password.size() == 20);
  CHECK(created.json["sip_domain"] == tenant.sip_domain);
  CHECK(created.json["outbound_allowed"] == true);

  auto fetched = tenant.api->get("/v1/sip-accounts/" + id);
  REQUIRE(fetched.status == 200);
  CHECK_FALSE(fetched.json.contains("password"));
  CHECK(fetched.body.find(password) == std::string::npos);

  auto listed = tenant.api->get("/v1/sip-accounts");
  REQUIRE(listed.status == 200);
  CHECK(listed.body.find(password) == std::string::npos);

  auto rotated = tenant.api->patch("/v1/sip-accounts/" + id, {{"password", ""}, {"outbound_allowed", false}});
  REQUIRE(rotated.status == 200);
  CHECK(rotated.json["password"] != password);
  CHECK(rotated.json["outbound_allowed"] == false);

  auto chosen = tenant.api->post("/v1/sip-accounts",
                                 {{"username", "bob"}, {"extension", "102"}, {"password", "Bob-Secret-12345"}});
  REQUIRE(chosen.status == 201);
  CHECK(chosen.json["password"] == "Bob-Secret-12345");

  auto same_extension = tenant.api->post("/v1/sip-accounts", {{"username", "carol"}, {"extension", "101"}});
  CHECK(same_extension.status == 409);
  CHECK(same_extension.errorField() == "extension");
  CHECK(tenant.api->del("/v1/sip-accounts/" + id).status == 204);
}

TEST_CASE("users and API keys") {
  TestTenant tenant(Platform::fromEnv());
  auto user = tenant.api->post("/v1/users", {{"email", "Owner@Example.com"}, {"password", "long enough pw"},
                                             {"role", "owner"}, {"name", "Olga"}});
  REQUIRE(user.status == 201);
  CHECK(user.json["email"] == "owner@example.com");
  CHECK_FALSE(user.json.contains("password"));
  CHECK(user.body.find("long enough pw") == std::string::npos);
  auto duplicate = tenant.api->post("/v1/users", {{"email", "owner@example.com"}, {"password", "long enough pw"}});
  CHECK(duplicate.status == 409);
  CHECK(duplicate.errorField() == "email");

  auto key = tenant.api->post("/v1/api-keys", {{"name", "crm"}});
  REQUIRE(key.status == 201);
  const std::string secret = key.json["secret"];
  CHECK(secret.rfind(key.json["prefix"].get<std::string>(), 0) == 0);
  ApiClient crm(tenant.platform.api_url, secret);
  CHECK(crm.get("/v1/me").status == 200);

  auto keys = tenant.api->get("/v1/api-keys");
  REQUIRE(keys.status == 200);
  CHECK(keys.json["items"].size() == 2);
  CHECK(keys.body.find(secret) == std::string::npos);

  auto revoked = tenant.api->del("/v1/api-keys/" + key.json["id"].get<std::string>());
  REQUIRE(revoked.status == 200);
  CHECK(revoked.json.contains("revoked_at"));
  auto after = crm.get("/v1/me");
  CHECK(after.status == 401);
  CHECK(after.errorCode() == "unauthenticated");
  CHECK(after.header("WWW-Authenticate") == "Bearer");
}

TEST_CASE("lists page newest first without repeats") {
  TestTenant tenant(Platform::fromEnv());
  std::vector<std::string> created;
  for (int i = 0; i < 5; ++i) {
    auto number = tenant.api->post("/v1/numbers", {{"e164", uniqueE164()}});
    REQUIRE(number.status == 201);
    created.push_back(number.json["id"]);
  }
  std::vector<std::string> seen;
  std::string token;
  int pages = 0;
  do {
    auto page = tenant.api->get("/v1/numbers?limit=2" + (token.empty() ? "" : "&page_token=" + token));
    REQUIRE(page.status == 200);
    CHECK(page.json["items"].size() <= 2);
    for (const auto& item : page.json["items"]) seen.push_back(item["id"]);
    token = page.json["next_page_token"];
    ++pages;
  } while (!token.empty() && pages < 10);
  CHECK(pages == 3);
  std::vector<std::string> newest_first(created.rbegin(), created.rend());
  CHECK(seen == newest_first);
  CHECK(tenant.api->get("/v1/numbers?page_token=garbage").status == 400);
}

TEST_CASE("admin keys manage tenants, tenant keys manage their own tenant resources") {
  Platform platform = Platform::fromEnv();
  TestTenant tenant(platform);
  auto admin = platform.admin();
  CHECK(admin.get("/v1/me").json["kind"] == "admin");
  auto listing = admin.get("/v1/tenants?limit=200");
  REQUIRE(listing.status == 200);
  CHECK(listing.body.find(tenant.id) != std::string::npos);

  auto tenant_creates_tenant = tenant.api->post("/v1/tenants", {{"name", "sneaky"}});
  CHECK(tenant_creates_tenant.status == 403);
  CHECK(tenant_creates_tenant.errorCode() == "forbidden");
  CHECK(tenant.api->del("/v1/tenants/" + tenant.id).status == 403);
  CHECK(admin.get("/v1/numbers").status == 403);
}

TEST_CASE("the OpenAPI document and health are public") {
  ApiClient anonymous(Platform::fromEnv().api_url, "");
  auto spec = anonymous.get("/v1/openapi.json");
  REQUIRE(spec.status == 200);
  CHECK(spec.json["openapi"] == "3.0.3");
  CHECK(anonymous.get("/healthz").status == 200);
  CHECK(anonymous.get("/v1/numbers").status == 401);
}

TEST_CASE("a key that exceeds its rate gets 429 with Retry-After, other keys do not") {
  Platform platform = Platform::fromEnv();
  TestTenant noisy(platform);
  TestTenant quiet(platform);
  std::atomic<bool> limited{false};
  std::atomic<int> sent{0};
  std::string retry_after;
  std::mutex mutex;
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&] {
      ApiClient client(platform.api_url, noisy.key);
      while (!limited && sent++ < 3000) {
        auto reply = client.get("/v1/me");
        if (reply.status == 429) {
          std::lock_guard lock(mutex);
          retry_after = reply.header("Retry-After");
          CHECK(reply.errorCode() == "rate_limited");
          limited = true;
        }
      }
    });
  }
  for (auto& thread : threads) thread.join();
  CHECK(limited);
  CHECK(std::stoi(retry_after.empty() ? "0" : retry_after) >= 1);
  CHECK(quiet.api->get("/v1/me").status == 200);
}
