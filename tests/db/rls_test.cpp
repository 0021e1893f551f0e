// Row-level security and secret storage, checked in the database itself.
#include <catch2/catch.hpp>
#include <chrono>
#include <pqxx/pqxx>
#include <thread>

#include "tel/crypto/crypto.h"
#include "tel/testing/api_client.h"
#include "tel/testing/env.h"

using namespace tel::testing;

namespace {

// Tables of the application schema that hold tenant data: every table with a tenant_id column,
// and the tenants table itself (keyed by id).
std::vector<std::string> tenantTables(pqxx::work& txn) {
  std::vector<std::string> tables = {"tenants"};
  for (const auto& row :
       txn.exec("SELECT c.table_name FROM information_schema.columns c"
                " JOIN information_schema.tables t USING (table_schema, table_name)"
                " WHERE c.table_schema = 'public' AND c.column_name = 'tenant_id'"
                " AND t.table_type = 'BASE TABLE' ORDER BY 1")) {
    tables.push_back(row[0].as<std::string>());
  }
  return tables;
}

}  // namespace

TEST_CASE("every table with tenant data has forced row-level security and a policy") {
  pqxx::connection connection(requireEnv("TEL_PG_OWNER_URL"));
  pqxx::work txn(connection);
  const auto tables = tenantTables(txn);
  REQUIRE(tables.size() >= 5);
  for (const auto& table : tables) {
    INFO(table);
    auto rls = txn.exec_params(
        "SELECT relrowsecurity, relforcerowsecurity FROM pg_class"
        " WHERE oid = ('public.' || $1)::regclass",
        table);
    REQUIRE(rls.size() == 1);
    CHECK(rls[0][0].as<bool>());
    CHECK(rls[0][1].as<bool>());
    auto policies = txn.exec_params(
        "SELECT count(*) FROM pg_policies WHERE schemaname = 'public' AND tablename = $1", table);
    CHECK(policies[0][0].as<int>() >= 1);
  }
}

TEST_CASE("the application role owns nothing and cannot bypass row-level security") {
  pqxx::connection connection(requireEnv("TEL_PG_URL"));
  pqxx::work txn(connection);
  auto role = txn.exec("SELECT rolsuper, rolbypassrls FROM pg_roles WHERE rolname = current_user");
  REQUIRE(role.size() == 1);
  CHECK_FALSE(role[0][0].as<bool>());
  CHECK_FALSE(role[0][1].as<bool>());
  auto owned = txn.exec(
      "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
      " WHERE n.nspname = 'public' AND pg_get_userbyid(c.relowner) = current_user");
  CHECK(owned[0][0].as<int>() == 0);
}

TEST_CASE("without a tenant set, the application role sees no tenant rows") {
  Platform platform = Platform::fromEnv();
  TestTenant tenant(platform);
  const std::string number = uniqueE164();
  REQUIRE(tenant.api->post("/v1/numbers", {{"e164", number}}).status == 201);
  auto eve = tenant.api->post("/v1/sip-accounts", {{"username", "eve"}, {"extension", "301"}});
  REQUIRE(eve.status == 201);
  // Analytics' tables, each given a row the way a tenant would: a tracked site with the number
  // in its pool, a visit (a session and its hold), report settings, a category, a rule and a
  // custom report.
  auto site = tenant.api->post("/v1/tracking/sites", {{"name", "shop"}});
  REQUIRE(site.status == 201);
  REQUIRE(tenant.api->post("/v1/tracking/sites/" + site.json["id"].get<std::string>() + "/numbers",
                           {{"e164", number}, {"kind", "pool"}})
              .status == 201);
  REQUIRE(tel::testing::ApiClient(platform.api_url, "")
              .post("/v1/tracking/visits", {{"site_key", site.json["site_key"]}})
              .json["tracked"] == true);
  REQUIRE(tenant.api->patch("/v1/report-settings", {{"deal_window_days", 10}}).status == 200);
  auto category = tenant.api->post("/v1/call-categories", {{"name", "spam"}});
  REQUIRE(category.status == 201);
  REQUIRE(tenant.api->post("/v1/category-rules", {{"category_id", category.json["id"]}}).status == 201);
  REQUIRE(tenant.api->post("/v1/custom-reports", {{"name", "all"}, {"columns", nlohmann::json::array({"id"})}})
              .status == 201);
  REQUIRE(
      tenant.api->post("/v1/users", {{"email", "eve@e.example.com"}, {"password", "0123456789ab"}})
          .status == 201);
  REQUIRE(tenant.api->post("/v1/carriers", {{"name", "trunk"}, {"addresses", {"192.0.2.0/24"}}})
              .status == 201);
  // Webhooks: a subscription to an endpoint nobody listens on (the stack allows 127.0.0.99), and a
  // ping to it: an event, its delivery and a failed attempt in the log.
  auto hook = tenant.api->post("/v1/webhooks", {{"url", "http://127.0.0.99:9/hook"}, {"event_types", {"call.started"}}});
  REQUIRE(hook.status == 201);
  const std::string hook_path = "/v1/webhooks/" + hook.json["id"].get<std::string>();
  REQUIRE(tenant.api->post(hook_path + "/ping", nlohmann::json::object()).status == 202);
  for (int i = 0; i < 100 && tenant.api->get(hook_path + "/attempts").json["items"].empty(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  REQUIRE_FALSE(tenant.api->get(hook_path + "/attempts").json["items"].empty());

  // A dial plan that sends the number to the account.
  REQUIRE(tenant.api
              ->put("/v1/dialplan", nlohmann::json::parse(R"({"nodes": {"desk": {"type": "scheme",
                                      "steps": [{"targets": [{"extension": "301"}]}]}},
                                      "numbers": {")" + number + R"(": "desk"}})"))
              .status == 200);
  // A call queue with the account as its agent, who pauses (the queue service's tables).
  REQUIRE(tenant.api->post("/v1/queues", {{"name", "sales"}, {"members", {{{"account_id", eve.json["id"]}}}}})
              .status == 201);
  REQUIRE(tenant.api->put("/v1/agents/" + eve.json["id"].get<std::string>() + "/state", {{"state", "paused"}})
              .status == 200);
  // A voice prompt: its catalog row (the audio file is removed at the end).
  REQUIRE(tenant.api->put("/v1/prompts/hello", {{"text", "Hello"}}).status == 200);

  pqxx::connection app(requireEnv("TEL_PG_URL"));
  {
    // Call history normally arrives through Kafka; a row in each call table is enough here.
    pqxx::work seed(app);
    seed.exec_params("SELECT set_config('tel.tenant_id', $1, true)", tenant.id);
    // What the webhooks keep of a call (the tenant has a subscription, so its calls are noted).
    seed.exec_params("SELECT tel_note_webhook_call($1, 'c1', 'inbound', '{}', '{101}', '', '{}')", tenant.id);
    seed.exec_params(
        "INSERT INTO call_events (tenant_id, event_id, call_id, sequence, type, occurred_at, "
        "payload)"
        " VALUES ($1, 'e1', 'c1', 1, 'call.started', now(), '')",
        tenant.id);
    // A complete missed inbound call that rang an account, so that the report rollups have rows
    // too (they count it from its legs, written first as cdr-ingest does).
    seed.exec_params(
        "INSERT INTO call_legs (tenant_id, call_id, leg_id, position, account_id, extension)"
        " VALUES ($1, 'c1', 'b1', 0, 'account-1', '101')",
        tenant.id);
    seed.exec_params(
        "INSERT INTO calls (tenant_id, call_id, started_at, direction, caller, called, disposition,"
        " complete) VALUES ($1, 'c1', now(), 1, '+15550100001', '+15550100002', 3, true)",
        tenant.id);
    // And an answered, tracked one: a target call and a tracked call.
    seed.exec_params(
        "INSERT INTO calls (tenant_id, call_id, started_at, direction, caller, called, disposition,"
        " talk_seconds, attributed, utm_source, complete)"
        " VALUES ($1, 'c2', now(), 1, '+15550100001', '+15550100002', 1, 60, true, 'google', true)",
        tenant.id);
    seed.commit();
  }
  pqxx::connection owner(requireEnv("TEL_PG_OWNER_URL"));
  pqxx::work owner_txn(owner);
  const auto tables = tenantTables(owner_txn);
  for (const auto& table : tables) {
    INFO(table);
    {
      // The rows exist: the same role sees them once the tenant is set.
      pqxx::work scoped(app);
      scoped.exec_params("SELECT set_config('tel.tenant_id', $1, true)", tenant.id);
      CHECK(scoped.exec("SELECT count(*) FROM " + table)[0][0].as<int>() > 0);
    }
    pqxx::work unscoped(app);
    CHECK(unscoped.exec("SELECT count(*) FROM " + table)[0][0].as<int>() == 0);
  }
  CHECK(tenant.api->del("/v1/prompts/hello").status == 204);
}

TEST_CASE("with a tenant set, only that tenant's rows are visible or writable") {
  Platform platform = Platform::fromEnv();
  TestTenant a(platform, "rls-a");
  TestTenant b(platform, "rls-b");
  REQUIRE(a.api->post("/v1/numbers", {{"e164", uniqueE164()}}).status == 201);
  REQUIRE(b.api->post("/v1/numbers", {{"e164", uniqueE164()}}).status == 201);

  pqxx::connection app(requireEnv("TEL_PG_URL"));
  {
    pqxx::work txn(app);
    txn.exec_params("SELECT set_config('tel.tenant_id', $1, true)", a.id);
    auto rows = txn.exec("SELECT DISTINCT tenant_id::text FROM numbers");
    REQUIRE(rows.size() == 1);
    CHECK(rows[0][0].as<std::string>() == a.id);
    // Writing a row for another tenant is refused by the policy's WITH CHECK.
    CHECK_THROWS_AS(txn.exec_params("INSERT INTO numbers (tenant_id, e164) VALUES ($1, $2)", b.id,
                                    uniqueE164()),
                    pqxx::sql_error);
  }
  {
    pqxx::work txn(app);
    txn.exec_params("SELECT set_config('tel.tenant_id', $1, true)", a.id);
    CHECK(txn.exec_params("UPDATE numbers SET label = 'x' WHERE tenant_id = $1", b.id)
              .affected_rows() == 0);
    CHECK(txn.exec_params("DELETE FROM numbers WHERE tenant_id = $1", b.id).affected_rows() == 0);
  }
}

TEST_CASE("the inbound number lookup crosses tenants for the number and its own carriers only") {
  Platform platform = Platform::fromEnv();
  TestTenant a(platform, "lookup-a");
  TestTenant b(platform, "lookup-b");
  const std::string e164 = uniqueE164();
  auto number = a.api->post("/v1/numbers", {{"e164", e164}});
  auto a_trunk =
      a.api->post("/v1/carriers", {{"name", "A trunk"}, {"addresses", {"192.0.2.0/24"}}});
  // B's carrier claims the same addresses: it must never make a call to A's number B's. It has
  // digest credentials too, which must not count as A's.
  auto b_trunk = b.api->post("/v1/carriers", {{"name", "B trunk"},
                                              {"addresses", {"192.0.2.0/24", "198.51.100.0/24"}},
                                              {"auth_username", "b-trunk"},
                                              {"auth_password", "B-trunk-secret-1"}});
  REQUIRE(number.status == 201);
  REQUIRE(a_trunk.status == 201);
  REQUIRE(b_trunk.status == 201);

  // As the application role with no tenant set: numbers and carriers look empty, the function
  // answers the one number.
  pqxx::connection app(requireEnv("TEL_PG_URL"));
  pqxx::work txn(app);
  CHECK(txn.exec("SELECT count(*) FROM numbers")[0][0].as<int>() == 0);
  CHECK(txn.exec("SELECT count(*) FROM carriers")[0][0].as<int>() == 0);
  auto lookup = [&](const std::string& source) {
    return txn.exec_params(
        "SELECT tenant_id::text, number_id::text, coalesce(carrier_id::text, ''), sip_domain, "
        "carrier_auth"
        " FROM tel_lookup_inbound_number_v2($1, NULLIF($2, '')::inet)",
        e164, source);
  };
  auto inside = lookup("192.0.2.77");
  REQUIRE(inside.size() == 1);
  CHECK(inside[0][0].as<std::string>() == a.id);
  CHECK(inside[0][1].as<std::string>() == number.json["id"].get<std::string>());
  CHECK(inside[0][2].as<std::string>() == a_trunk.json["id"].get<std::string>());
  CHECK(inside[0][3].as<std::string>() == a.sip_domain);
  CHECK_FALSE(inside[0][4].as<bool>());  // only B's carrier has credentials
  CHECK(lookup("198.51.100.1")[0][2].as<std::string>().empty());  // only B's block
  CHECK(lookup("")[0][2].as<std::string>().empty());
  CHECK(txn.exec_params("SELECT count(*) FROM tel_lookup_inbound_number_v2($1, NULL)",
                        uniqueE164())[0][0]
            .as<int>() == 0);
  // 0005's function still answers, for accounts services of the previous release during an update.
  auto previous = txn.exec_params(
      "SELECT tenant_id::text, coalesce(carrier_id::text, '') FROM tel_lookup_inbound_number($1, "
      "'192.0.2.77')",
      e164);
  REQUIRE(previous.size() == 1);
  CHECK(previous[0][0].as<std::string>() == a.id);
  CHECK(previous[0][1].as<std::string>() == a_trunk.json["id"].get<std::string>());
}

TEST_CASE("secrets are stored only as hashes") {
  Platform platform = Platform::fromEnv();
  TestTenant tenant(platform);
  auto sip = tenant.api->post("/v1/sip-accounts", {{"username", "frank"}, {"extension", "401"}});
  auto user = tenant.api->post(
      "/v1/users", {{"email", "frank@f.example.com"}, {"password", "frank's long password"}});
  auto key = tenant.api->post("/v1/api-keys", {{"name", "crm"}});
  const std::string carrier_password = "Frank's-trunk-secret";
  auto carrier = tenant.api->post("/v1/carriers", {{"name", "Frank's trunk"},
                                                   {"auth_username", "Frank.Trunk"},
                                                   {"auth_password", carrier_password}});
  REQUIRE(sip.status == 201);
  REQUIRE(user.status == 201);
  REQUIRE(key.status == 201);
  REQUIRE(carrier.status == 201);
  const std::string sip_password = sip.json["password"];
  const std::string secret = key.json["secret"];

  // Read as the application would, scoped to the tenant, but every column.
  pqxx::connection app(requireEnv("TEL_PG_URL"));
  pqxx::work txn(app);
  txn.exec_params("SELECT set_config('tel.tenant_id', $1, true)", tenant.id);
  auto account = txn.exec_params(
      "SELECT ha1_md5, ha1_sha256, row_to_json(s)::text FROM sip_accounts s WHERE id = $1",
      sip.json["id"].get<std::string>());
  REQUIRE(account.size() == 1);
  const std::string a1 = "frank:" + tenant.sip_domain + ":" + sip_password;
  CHECK(account[0][0].as<std::string>() == tel::crypto::md5Hex(a1));
  CHECK(account[0][1].as<std::string>() == tel::crypto::sha256Hex(a1));
  CHECK(account[0][2].as<std::string>().find(sip_password) == std::string::npos);

  auto stored_user =
      txn.exec_params("SELECT password_hash, row_to_json(u)::text FROM users u WHERE id = $1",
                      user.json["id"].get<std::string>());
  CHECK(stored_user[0][0].as<std::string>().rfind("scrypt$", 0) == 0);
  CHECK(stored_user[0][1].as<std::string>().find("frank's long password") == std::string::npos);

  auto stored_key =
      txn.exec_params("SELECT key_hash, row_to_json(k)::text FROM api_keys k WHERE id = $1",
                      key.json["id"].get<std::string>());
  CHECK(stored_key[0][0].as<std::string>() == tel::crypto::sha256Hex(secret));
  CHECK(stored_key[0][1].as<std::string>().find(secret) == std::string::npos);

  // A carrier's digest password: HA1 with the tenant's SIP domain as realm, as for SIP accounts.
  auto trunk = txn.exec_params(
      "SELECT auth_username, auth_ha1_md5, auth_ha1_sha256, row_to_json(c)::text FROM carriers c "
      "WHERE id = $1",
      carrier.json["id"].get<std::string>());
  REQUIRE(trunk.size() == 1);
  const std::string trunk_a1 = "Frank.Trunk:" + tenant.sip_domain + ":" + carrier_password;
  CHECK(trunk[0][0].as<std::string>() == "Frank.Trunk");
  CHECK(trunk[0][1].as<std::string>() == tel::crypto::md5Hex(trunk_a1));
  CHECK(trunk[0][2].as<std::string>() == tel::crypto::sha256Hex(trunk_a1));
  CHECK(trunk[0][3].as<std::string>().find(carrier_password) == std::string::npos);

  // Changed credentials are stored the same way.
  txn.abort();
  const std::string new_password = "Frank's-new-secret";
  REQUIRE(tenant.api
              ->patch("/v1/carriers/" + carrier.json["id"].get<std::string>(),
                      {{"auth_username", "frank2"}, {"auth_password", new_password}})
              .status == 200);
  pqxx::work again(app);
  again.exec_params("SELECT set_config('tel.tenant_id', $1, true)", tenant.id);
  auto changed = again.exec_params(
      "SELECT auth_ha1_md5, auth_ha1_sha256, row_to_json(c)::text FROM carriers c WHERE id = $1",
      carrier.json["id"].get<std::string>());
  REQUIRE(changed.size() == 1);
  const std::string new_a1 = "frank2:" + tenant.sip_domain + ":" + new_password;
  CHECK(changed[0][0].as<std::string>() == tel::crypto::md5Hex(new_a1));
  CHECK(changed[0][1].as<std::string>() == tel::crypto::sha256Hex(new_a1));
  CHECK(changed[0][2].as<std::string>().find(new_password) == std::string::npos);
}

TEST_CASE("a carrier's credentials are all set or all empty, and unique within the tenant") {
  Platform platform = Platform::fromEnv();
  TestTenant tenant(platform);
  auto with = tenant.api->post(
      "/v1/carriers",
      {{"name", "with"}, {"auth_username", "trunk"}, {"auth_password", "Carrier-secret-9"}});
  auto without = tenant.api->post("/v1/carriers", {{"name", "without"}});
  REQUIRE(with.status == 201);
  REQUIRE(without.status == 201);
  const std::string with_id = with.json["id"], without_id = without.json["id"];

  pqxx::connection app(requireEnv("TEL_PG_URL"));
  // Each statement in its own transaction: a refused one aborts it.
  auto refused = [&](const std::string& sql, const std::string& id) {
    pqxx::work txn(app);
    txn.exec_params("SELECT set_config('tel.tenant_id', $1, true)", tenant.id);
    try {
      txn.exec_params(sql, id);
    } catch (const pqxx::integrity_constraint_violation&) {
      return true;
    }
    return false;
  };
  const std::string md5(32, 'a'), sha256(64, 'b');
  CHECK(refused("UPDATE carriers SET auth_ha1_md5 = '' WHERE id = $1", with_id));
  CHECK(refused("UPDATE carriers SET auth_username = '' WHERE id = $1", with_id));
  CHECK(refused("UPDATE carriers SET auth_username = 'x' WHERE id = $1", without_id));
  CHECK(
      refused("UPDATE carriers SET auth_username = 'x', auth_ha1_md5 = '" + md5 + "' WHERE id = $1",
              without_id));
  CHECK(refused(
      "UPDATE carriers SET auth_username = 'x', auth_ha1_md5 = 'plain', auth_ha1_sha256 = '" +
          sha256 + "' WHERE id = $1",
      without_id));
  // The same username as the tenant's other carrier.
  CHECK(refused("UPDATE carriers SET auth_username = 'trunk', auth_ha1_md5 = '" + md5 +
                    "', auth_ha1_sha256 = '" + sha256 + "' WHERE id = $1",
                without_id));
  CHECK_FALSE(refused("UPDATE carriers SET auth_username = 'other', auth_ha1_md5 = '" + md5 +
                          "', auth_ha1_sha256 = '" + sha256 + "' WHERE id = $1",
                      without_id));
  CHECK_FALSE(
      refused("UPDATE carriers SET auth_username = '', auth_ha1_md5 = '', auth_ha1_sha256 = '' "
              "WHERE id = $1",
              with_id));
}
