// Against the real Postgres that ./tel starts.
#include <catch2/catch.hpp>
#include <pqxx/pqxx>

#include "tel/pg/connection_pool.h"
#include "tel/pg/migrator.h"
#include "tel/testing/env.h"

namespace {

// A fresh, empty database for one test, dropped afterwards.
struct ScratchDatabase {
  std::string owner_url = tel::testing::requireEnv("TEL_PG_OWNER_URL");
  std::string name = "tel_scratch_" + tel::testing::uniqueSuffix();
  std::string url;

  ScratchDatabase() {
    pqxx::connection admin(owner_url);
    pqxx::nontransaction(admin).exec("CREATE DATABASE " + name);
    url = withDatabase(owner_url, name);
  }
  ~ScratchDatabase() {
    try {
      pqxx::connection admin(owner_url);
      pqxx::nontransaction(admin).exec("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)");
    } catch (const std::exception&) {
    }
  }
  // Replaces the database name of a postgresql:// URL.
  static std::string withDatabase(const std::string& url, const std::string& database) {
    const auto query = url.find('?');
    const auto base = url.substr(0, query);
    const auto slash = base.rfind('/');
    return base.substr(0, slash + 1) + database + (query == std::string::npos ? "" : url.substr(query));
  }
};

}  // namespace

TEST_CASE("migrations apply on an empty database and are no-ops the second time") {
  ScratchDatabase db;
  auto first = tel::pg::applyMigrations(db.url, TEL_MIGRATIONS_DIR);
  REQUIRE(first.ok());
  CHECK_FALSE(first->applied.empty());
  CHECK(first->already_applied == 0);

  pqxx::connection connection(db.url);
  auto schema_before = pqxx::work(connection).exec(
      "SELECT table_name, column_name, data_type FROM information_schema.columns "
      "WHERE table_schema = 'public' ORDER BY 1, 2");

  auto second = tel::pg::applyMigrations(db.url, TEL_MIGRATIONS_DIR);
  REQUIRE(second.ok());
  CHECK(second->applied.empty());
  CHECK(second->already_applied == first->applied.size());

  auto schema_after = pqxx::work(connection).exec(
      "SELECT table_name, column_name, data_type FROM information_schema.columns "
      "WHERE table_schema = 'public' ORDER BY 1, 2");
  CHECK(schema_before.size() == schema_after.size());
}

TEST_CASE("a tenant transaction's setting does not leak into the next use of the connection") {
  tel::pg::ConnectionPool pool(tel::testing::requireEnv("TEL_PG_URL"), 1);
  std::string inside;
  std::string after;
  pool.inTenantTransaction("11111111-1111-1111-1111-111111111111", [&](pqxx::work& txn) {
    inside = txn.exec("SELECT current_setting('tel.tenant_id', true)")[0][0].as<std::string>();
  });
  pool.inTransaction([&](pqxx::work& txn) {
    auto value = txn.exec("SELECT coalesce(current_setting('tel.tenant_id', true), '')")[0][0];
    after = value.as<std::string>();
  });
  CHECK(inside == "11111111-1111-1111-1111-111111111111");
  CHECK(after.empty());
}

TEST_CASE("a failing transaction rolls back and the pool stays usable") {
  tel::pg::ConnectionPool pool(tel::testing::requireEnv("TEL_PG_URL"), 2);
  CHECK_THROWS(pool.inTransaction([](pqxx::work& txn) { txn.exec("SELECT * FROM no_such_table"); }));
  CHECK(pool.ping());
}

TEST_CASE("an unreachable database makes ping fail instead of throwing") {
  tel::pg::ConnectionPool pool("postgresql://nobody@127.0.0.1:1/none?connect_timeout=1", 1);
  CHECK_FALSE(pool.ping());
}
