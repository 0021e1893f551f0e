#include "pg_account_store.h"

#include <charconv>
#include <functional>
#include <regex>

#include "tel/grpc/status.h"
#include "tel/pg/arrays.h"
#include "validation.h"

namespace tel::accounts {
namespace {

using grpc::Status;
using grpc::StatusCode;

// Selected as the last column of every listed row: the page cursor's time part.
constexpr const char* kCreatedMicros = "(extract(epoch FROM created_at) * 1000000)::bigint";

// Runs `body`, turning database errors into statuses: unique violations become ALREADY_EXISTS with
// the field the constraint guards, an unreachable database UNAVAILABLE.
Status guarded(const std::function<Status()>& body) {
  try {
    return body();
  } catch (const pqxx::unique_violation& e) {
    static const std::pair<const char*, const char*> kConstraintFields[] = {
        {"numbers_e164_key", "e164"},
        {"tenants_sip_domain_key", "sip_domain"},
        {"users_tenant_id_email_key", "email"},
        {"users_sip_account_once", "sip_account_id"},
        {"sip_accounts_tenant_id_username_key", "username"},
        {"sip_accounts_tenant_id_extension_key", "extension"},
        {"api_keys_prefix_key", "prefix"},
        {"carriers_tenant_auth_username", "auth_username"},
    };
    const std::string what = e.what();
    for (const auto& [constraint, field] : kConstraintFields) {
      if (what.find(constraint) != std::string::npos) {
        return grpc_util::alreadyExists(field, std::string(field) + ": already in use");
      }
    }
    return Status(StatusCode::ALREADY_EXISTS, "already exists");
  } catch (const pqxx::foreign_key_violation& e) {
    // The only reference a caller names by id: a user's SIP account (of its own tenant).
    if (std::string(e.what()).find("users_sip_account") != std::string::npos) {
      return grpc_util::invalidArgument("sip_account_id", "no such SIP account");
    }
    return Status(StatusCode::INVALID_ARGUMENT, "refers to something that does not exist");
  } catch (const pqxx::check_violation& e) {
    const std::string what = e.what();
    if (what.find("carriers_registration_registrar") != std::string::npos) {
      return grpc_util::invalidArgument(
          "outbound_uri", "outbound_uri: needed while the platform registers to the carrier");
    }
    // Only the constraint's name: Postgres's detail shows the whole row, secrets included.
    static const std::regex kConstraint(R"re(constraint "([A-Za-z0-9_]+)")re");
    std::smatch constraint;
    return Status(StatusCode::INVALID_ARGUMENT,
                  "rejected by the database: " +
                      (std::regex_search(what, constraint, kConstraint) ? constraint[1].str()
                                                                         : std::string("a check")));
  } catch (const pqxx::broken_connection&) {
    return Status(StatusCode::UNAVAILABLE, "database unavailable");
  } catch (const pqxx::sql_error& e) {
    return Status(StatusCode::INTERNAL, "database error");
  } catch (const std::runtime_error& e) {
    // Pool exhaustion and similar transient conditions.
    return Status(StatusCode::UNAVAILABLE, std::string("database: ") + e.what());
  }
}

void setTimestamp(int64_t micros, google::protobuf::Timestamp* out) {
  out->set_seconds(micros / 1000000);
  out->set_nanos(static_cast<int32_t>((micros % 1000000) * 1000));
}

// Adds "WHERE/AND (created_at, id) < cursor ORDER BY ... LIMIT" to a tenant-scoped select.
std::string pageClause(const Page& page, pqxx::work& txn) {
  std::string clause;
  if (page.after) {
    clause += " AND (created_at, id) < ('epoch'::timestamptz + " +
              txn.quote(page.after->created_micros) + " * interval '1 microsecond', " +
              txn.quote(page.after->id) + "::uuid)";
  }
  clause += " ORDER BY created_at DESC, id DESC LIMIT " + std::to_string(page.limit + 1);
  return clause;
}

// Fills `items` from `rows` (one more than the limit was fetched to learn if a next page exists).
template <typename Item>
void fillPage(const pqxx::result& rows, const Page& page,
              const std::function<void(const pqxx::row&, Item*)>& map,
              google::protobuf::RepeatedPtrField<Item>* items, std::string* next_token) {
  const size_t shown = std::min(rows.size(), static_cast<size_t>(page.limit));
  for (size_t i = 0; i < shown; ++i) map(rows[i], items->Add());
  if (rows.size() > shown) {
    const auto& last = rows[shown - 1];
    *next_token = encodeCursor({last[last.size() - 1].as<int64_t>(), last[0].as<std::string>()});
  }
}

const char* kTenantColumns = "id, name, sip_domain, timezone, recording_retention_days";
void mapTenant(const pqxx::row& row, v1::Tenant* out) {
  out->set_id(row[0].as<std::string>());
  out->set_name(row[1].as<std::string>());
  out->set_sip_domain(row[2].as<std::string>());
  out->set_timezone(row[3].as<std::string>());
  out->set_recording_retention_days(row[4].as<int32_t>());
  setTimestamp(row[5].as<int64_t>(), out->mutable_created_at());
}

const char* kUserColumns = "id, tenant_id, email, name, role, coalesce(sip_account_id::text, '')";
void mapUser(const pqxx::row& row, v1::User* out) {
  out->set_id(row[0].as<std::string>());
  out->set_tenant_id(row[1].as<std::string>());
  out->set_email(row[2].as<std::string>());
  out->set_name(row[3].as<std::string>());
  out->set_role(row[4].as<std::string>());
  out->set_sip_account_id(row[5].as<std::string>());
  setTimestamp(row[6].as<int64_t>(), out->mutable_created_at());
}

// The tenant's SIP domain comes along: clients need it as the registrar domain and digest realm.
const char* kSipColumns =
    "id, tenant_id, username, extension, display_name, outbound_allowed,"
    " (SELECT sip_domain FROM tenants t WHERE t.id = sip_accounts.tenant_id)";
void mapSipAccount(const pqxx::row& row, v1::SipAccount* out) {
  out->set_id(row[0].as<std::string>());
  out->set_tenant_id(row[1].as<std::string>());
  out->set_username(row[2].as<std::string>());
  out->set_extension(row[3].as<std::string>());
  out->set_display_name(row[4].as<std::string>());
  out->set_outbound_allowed(row[5].as<bool>());
  out->set_sip_domain(row[6].is_null() ? "" : row[6].as<std::string>());
  setTimestamp(row[7].as<int64_t>(), out->mutable_created_at());
}



// How numbers.route_kind spells the route kinds.
const char* routeKindColumn(v1::NumberRoute::Kind kind) {
  switch (kind) {
    case v1::NumberRoute::KIND_EXTENSIONS:
      return "extensions";
    case v1::NumberRoute::KIND_EXTERNAL:
      return "external";
    default:
      return "none";
  }
}
v1::NumberRoute::Kind routeKindOf(const std::string& column) {
  if (column == "extensions") return v1::NumberRoute::KIND_EXTENSIONS;
  if (column == "external") return v1::NumberRoute::KIND_EXTERNAL;
  return v1::NumberRoute::KIND_NONE;
}

// Four columns from `first`: route_kind, route_extensions, route_external, ring_timeout_seconds.
void mapRoute(const pqxx::row& row, pqxx::row::size_type first, v1::NumberRoute* out) {
  out->set_kind(routeKindOf(row[first].as<std::string>()));
  pg::appendTextArray(row[first + 1], out->mutable_extensions());
  out->set_external(row[first + 2].as<std::string>());
  out->set_ring_timeout_seconds(row[first + 3].as<int>());
}

const char* kNumberColumns =
    "id, tenant_id, e164, channels, label,"
    " route_kind, route_extensions, route_external, ring_timeout_seconds";
void mapNumber(const pqxx::row& row, v1::Number* out) {
  out->set_id(row[0].as<std::string>());
  out->set_tenant_id(row[1].as<std::string>());
  out->set_e164(row[2].as<std::string>());
  out->set_channels(row[3].as<int>());
  out->set_label(row[4].as<std::string>());
  mapRoute(row, 5, out->mutable_route());
  setTimestamp(row[9].as<int64_t>(), out->mutable_created_at());
}

// Postgres shows a host address as a /32 (/128) block; the API shows it as it was given.
std::string addressText(std::string block) {
  const std::string host_suffix = block.find(':') == std::string::npos ? "/32" : "/128";
  if (block.ends_with(host_suffix)) block.resize(block.size() - host_suffix.size());
  return block;
}

// The HA1 columns are never selected here: a carrier as shown carries its auth username only.
// Nor is the registration's sealed password or its contact.
const char* kCarrierColumns =
    "id, tenant_id, name, addresses, outbound_uri, caller_id, auth_username,"
    " registration_username, registration_domain, registration_expires, registration_state,"
    " registration_reason, (extract(epoch FROM registration_until) * 1000000)::bigint,"
    " (extract(epoch FROM registration_reported_at) * 1000000)::bigint";
void mapCarrier(const pqxx::row& row, v1::Carrier* out) {
  out->set_id(row[0].as<std::string>());
  out->set_tenant_id(row[1].as<std::string>());
  out->set_name(row[2].as<std::string>());
  pg::appendTextArray(row[3], out->mutable_addresses());
  for (auto& address : *out->mutable_addresses()) address = addressText(std::move(address));
  out->set_outbound_uri(row[4].as<std::string>());
  out->set_caller_id(row[5].as<std::string>());
  out->set_auth_username(row[6].as<std::string>());
  if (!row[7].as<std::string>().empty()) {
    auto* registration = out->mutable_registration();
    registration->set_username(row[7].as<std::string>());
    registration->set_domain(row[8].as<std::string>());
    registration->set_expires_seconds(row[9].as<int32_t>());
    registration->set_state(row[10].as<std::string>());
    registration->set_reason(row[11].as<std::string>());
    if (!row[12].is_null()) setTimestamp(row[12].as<int64_t>(), registration->mutable_registered_until());
    if (!row[13].is_null()) setTimestamp(row[13].as<int64_t>(), registration->mutable_reported_at());
  }
  setTimestamp(row[14].as<int64_t>(), out->mutable_created_at());
}

const char* kApiKeyColumns =
    "id, tenant_id, name, prefix,"
    " CASE WHEN revoked_at IS NULL THEN NULL ELSE (extract(epoch FROM revoked_at) * "
    "1000000)::bigint END";
void mapApiKey(const pqxx::row& row, v1::ApiKey* out) {
  out->set_id(row[0].as<std::string>());
  out->set_tenant_id(row[1].as<std::string>());
  out->set_name(row[2].as<std::string>());
  out->set_prefix(row[3].as<std::string>());
  if (!row[4].is_null()) setTimestamp(row[4].as<int64_t>(), out->mutable_revoked_at());
  setTimestamp(row[5].as<int64_t>(), out->mutable_created_at());
}

std::string select(const char* columns, const char* table) {
  return std::string("SELECT ") + columns + ", " + kCreatedMicros + " FROM " + table;
}
std::string returning(const char* columns) {
  return std::string(" RETURNING ") + columns + ", " + kCreatedMicros;
}

// Builds "SET a = $2, b = $3" style updates from optional fields; values are quoted by pqxx.
class UpdateBuilder {
 public:
  explicit UpdateBuilder(pqxx::work& txn) : txn_(txn) {}
  template <typename T>
  void set(const char* column, const T& value) {
    sets_ += (sets_.empty() ? "" : ", ") + std::string(column) + " = " + txn_.quote(value);
  }
  // `sql` as it is: a literal or an expression the caller built (quoted) itself.
  void setRaw(const char* column, const std::string& sql) {
    sets_ += (sets_.empty() ? "" : ", ") + std::string(column) + " = " + sql;
  }
  bool empty() const { return sets_.empty(); }
  const std::string& sql() const { return sets_; }

 private:
  pqxx::work& txn_;
  std::string sets_;
};

}  // namespace

std::string encodeCursor(const PageCursor& cursor) {
  return std::to_string(cursor.created_micros) + "." + cursor.id;
}

std::optional<PageCursor> decodeCursor(const std::string& token) {
  const auto dot = token.find('.');
  if (dot == std::string::npos) return std::nullopt;
  PageCursor cursor;
  auto [end, ec] = std::from_chars(token.data(), token.data() + dot, cursor.created_micros);
  if (ec != std::errc() || end != token.data() + dot) return std::nullopt;
  cursor.id = token.substr(dot + 1);
  if (!isUuid(cursor.id)) return std::nullopt;
  return cursor;
}

PgAccountStore::PgAccountStore(std::shared_ptr<pg::ConnectionPool> pool) : pool_(std::move(pool)) {}

bool PgAccountStore::healthy() { return pool_->ping(); }

grpc::Status PgAccountStore::findSipCredentials(const std::string& sip_domain,
                                                const std::string& username,
                                                v1::SipCredentials* out) {
  return guarded([&] {
    bool found = false;
    pool_->inTransaction([&](pqxx::work& txn) {
      auto rows = txn.exec_params(
          "SELECT tenant_id::text, account_id::text, extension, ha1_md5, ha1_sha256, "
          "outbound_allowed"
          " FROM tel_find_sip_account($1, $2)",
          sip_domain, username);
      if (rows.empty()) return;
      found = true;
      out->set_tenant_id(rows[0][0].as<std::string>());
      out->set_account_id(rows[0][1].as<std::string>());
      out->set_username(username);
      out->set_extension(rows[0][2].as<std::string>());
      out->set_ha1_md5(rows[0][3].as<std::string>());
      out->set_ha1_sha256(rows[0][4].as<std::string>());
      out->set_outbound_allowed(rows[0][5].as<bool>());
    });
    return found ? Status::OK : grpc_util::notFound("SIP account");
  });
}

grpc::Status PgAccountStore::findApiKey(const std::string& prefix, StoredKey* out) {
  return guarded([&] {
    bool found = false;
    pool_->inTransaction([&](pqxx::work& txn) {
      auto rows = txn.exec_params(
          "SELECT id, tenant_id, key_hash, revoked FROM tel_find_api_key($1)", prefix);
      if (rows.empty()) return;
      found = true;
      *out = {rows[0][0].as<std::string>(), rows[0][1].as<std::string>(),
              rows[0][2].as<std::string>(), rows[0][3].as<bool>()};
    });
    return found ? Status::OK : grpc_util::notFound("key");
  });
}

grpc::Status PgAccountStore::findAdminKey(const std::string& prefix, StoredKey* out) {
  return guarded([&] {
    bool found = false;
    pool_->inTransaction([&](pqxx::work& txn) {
      auto rows = txn.exec_params(
          "SELECT id, key_hash, revoked_at IS NOT NULL FROM admin_keys WHERE prefix = $1", prefix);
      if (rows.empty()) return;
      found = true;
      *out = {rows[0][0].as<std::string>(), "", rows[0][1].as<std::string>(),
              rows[0][2].as<bool>()};
    });
    return found ? Status::OK : grpc_util::notFound("key");
  });
}

grpc::Status PgAccountStore::ensureAdminKey(const std::string& prefix, const std::string& hash) {
  return guarded([&] {
    pool_->inTransaction([&](pqxx::work& txn) {
      txn.exec_params(
          "INSERT INTO admin_keys (prefix, key_hash) VALUES ($1, $2)"
          " ON CONFLICT (prefix) DO UPDATE SET key_hash = EXCLUDED.key_hash, revoked_at = NULL",
          prefix, hash);
    });
    return Status::OK;
  });
}

grpc::Status PgAccountStore::createTenant(const v1::Tenant& tenant, v1::Tenant* out) {
  return guarded([&] {
    pool_->inTenantTransaction(tenant.id(), [&](pqxx::work& txn) {
      auto rows = txn.exec_params(
          "INSERT INTO tenants (id, name, sip_domain, timezone) VALUES ($1, $2, $3, $4)" +
              returning(kTenantColumns),
          tenant.id(), tenant.name(), tenant.sip_domain(), tenant.timezone());
      mapTenant(rows[0], out);
    });
    return Status::OK;
  });
}

grpc::Status PgAccountStore::listTenants(const Page& page, v1::ListTenantsResponse* out) {
  return guarded([&] {
    pool_->inTransaction([&](pqxx::work& txn) {
      auto rows =
          page.after
              ? txn.exec_params(
                    std::string("SELECT ") + kTenantColumns + ", " + kCreatedMicros +
                        " FROM tel_list_tenants($1, 'epoch'::timestamptz + $2 * interval "
                        "'1 microsecond', $3::uuid)",
                    page.limit + 1, page.after->created_micros, page.after->id)
              : txn.exec_params(std::string("SELECT ") + kTenantColumns + ", " + kCreatedMicros +
                                    " FROM tel_list_tenants($1, NULL, NULL)",
                                page.limit + 1);
      fillPage<v1::Tenant>(rows, page, mapTenant, out->mutable_tenants(),
                           out->mutable_next_page_token());
    });
    return Status::OK;
  });
}

grpc::Status PgAccountStore::getTenant(const std::string& id, v1::Tenant* out) {
  return guarded([&] {
    bool found = false;
    pool_->inTenantTransaction(id, [&](pqxx::work& txn) {
      auto rows = txn.exec_params(select(kTenantColumns, "tenants") + " WHERE id = $1", id);
      if (rows.empty()) return;
      found = true;
      mapTenant(rows[0], out);
    });
    return found ? Status::OK : grpc_util::notFound("tenant");
  });
}

grpc::Status PgAccountStore::updateTenant(const v1::UpdateTenantRequest& request, v1::Tenant* out) {
  return guarded([&] {
    bool found = false;
    pool_->inTenantTransaction(request.id(), [&](pqxx::work& txn) {
      UpdateBuilder update(txn);
      if (request.has_name()) update.set("name", request.name());
      if (request.has_timezone()) update.set("timezone", request.timezone());
      if (request.has_recording_retention_days()) {
        update.set("recording_retention_days", request.recording_retention_days());
      }
      const std::string sql = update.empty() ? select(kTenantColumns, "tenants") + " WHERE id = $1"
                                             : "UPDATE tenants SET " + update.sql() +
                                                   " WHERE id = $1" + returning(kTenantColumns);
      auto rows = txn.exec_params(sql, request.id());
      if (rows.empty()) return;
      found = true;
      mapTenant(rows[0], out);
    });
    return found ? Status::OK : grpc_util::notFound("tenant");
  });
}

grpc::Status PgAccountStore::deleteTenant(const std::string& id) {
  return guarded([&] {
    bool found = false;
    pool_->inTenantTransaction(id, [&](pqxx::work& txn) {
      found = txn.exec_params("DELETE FROM tenants WHERE id = $1", id).affected_rows() == 1;
    });
    return found ? Status::OK : grpc_util::notFound("tenant");
  });
}

grpc::Status PgAccountStore::createUser(const v1::User& user, const std::string& password_hash,
                                        v1::User* out) {
  return guarded([&] {
    pool_->inTenantTransaction(user.tenant_id(), [&](pqxx::work& txn) {
      auto rows = txn.exec_params(
          "INSERT INTO users (tenant_id, email, name, role, password_hash, sip_account_id) VALUES ($1, $2, $3, $4, "
          "$5, NULLIF($6, '')::uuid)" +
              returning(kUserColumns),
          user.tenant_id(), user.email(), user.name(), user.role(), password_hash, user.sip_account_id());
      mapUser(rows[0], out);
    });
    return Status::OK;
  });
}

grpc::Status PgAccountStore::listUsers(const std::string& tenant_id, const Page& page,
                                       v1::ListUsersResponse* out) {
  return guarded([&] {
    pool_->inTenantTransaction(tenant_id, [&](pqxx::work& txn) {
      auto rows = txn.exec(select(kUserColumns, "users") + " WHERE true" + pageClause(page, txn));
      fillPage<v1::User>(rows, page, mapUser, out->mutable_users(), out->mutable_next_page_token());
    });
    return Status::OK;
  });
}

grpc::Status PgAccountStore::getUser(const std::string& tenant_id, const std::string& id,
                                     v1::User* out) {
  return guarded([&] {
    bool found = false;
    pool_->inTenantTransaction(tenant_id, [&](pqxx::work& txn) {
      auto rows = txn.exec_params(select(kUserColumns, "users") + " WHERE id = $1", id);
      if (rows.empty()) return;
      found = true;
      mapUser(rows[0], out);
    });
    return found ? Status::OK : grpc_util::notFound("user");
  });
}

grpc::Status PgAccountStore::updateUser(const v1::UpdateUserRequest& request,
                                        const std::optional<std::string>& password_hash,
                                        v1::User* out) {
  return guarded([&] {
    bool found = false;
    pool_->inTenantTransaction(request.tenant_id(), [&](pqxx::work& txn) {
      UpdateBuilder update(txn);
      if (request.has_name()) update.set("name", request.name());
      if (request.has_role()) update.set("role", request.role());
      if (request.has_sip_account_id()) {
        update.setRaw("sip_account_id", request.sip_account_id().empty()
                                            ? std::string("NULL")
                                            : txn.quote(request.sip_account_id()) + "::uuid");
      }
      if (password_hash) update.set("password_hash", *password_hash);
      const std::string sql = update.empty() ? select(kUserColumns, "users") + " WHERE id = $1"
                                             : "UPDATE users SET " + update.sql() +
                                                   " WHERE id = $1" + returning(kUserColumns);
      auto rows = txn.exec_params(sql, request.id());
      if (rows.empty()) return;
      found = true;
      mapUser(rows[0], out);
    });
    return found ? Status::OK : grpc_util::notFound("user");
  });
}

grpc::Status PgAccountStore::deleteRow(const std::string& table, const std::string& tenant_id,
                                       const std::string& id) {
  static const std::pair<const char*, const char*> kDeletable[] = {{"users", "user"},
                                                                   {"sip_accounts", "SIP account"},
                                                                   {"numbers", "number"},
                                                                   {"carriers", "carrier"}};
  const char* what = nullptr;
  for (const auto& [name, noun] : kDeletable) {
    if (table == name) what = noun;
  }
  if (what == nullptr) return Status(StatusCode::INTERNAL, "deleteRow: table not deletable");
  return guarded([&] {
    bool found = false;
    pool_->inTenantTransaction(tenant_id, [&](pqxx::work& txn) {
      found = txn.exec_params("DELETE FROM " + table + " WHERE id = $1", id).affected_rows() == 1;
    });
    return found ? Status::OK : grpc_util::notFound(what);
  });
}

grpc::Status PgAccountStore::findUsersByEmail(const std::string& email,
                                              std::vector<UserCredentials>* out) {
  return guarded([&] {
    pool_->inTransaction([&](pqxx::work& txn) {
      for (const auto& row : txn.exec_params(
               "SELECT id, tenant_id, password_hash FROM tel_find_users_by_email($1)", email)) {
        out->push_back(
            {row[0].as<std::string>(), row[1].as<std::string>(), row[2].as<std::string>()});
      }
    });
    return Status::OK;
  });
}

grpc::Status PgAccountStore::createSipAccount(const StoredSipAccount& stored, v1::SipAccount* out) {
  const auto& account = stored.account;
  return guarded([&] {
    pool_->inTenantTransaction(account.tenant_id(), [&](pqxx::work& txn) {
      auto rows = txn.exec_params(
          "INSERT INTO sip_accounts (tenant_id, username, extension, display_name, "
          "outbound_allowed,"
          " ha1_md5, ha1_sha256) VALUES ($1, $2, $3, $4, $5, $6, $7)" +
              returning(kSipColumns),
          account.tenant_id(), account.username(), account.extension(), account.display_name(),
          account.outbound_allowed(), stored.ha1_md5, stored.ha1_sha256);
      mapSipAccount(rows[0], out);
    });
    return Status::OK;
  });
}

grpc::Status PgAccountStore::listSipAccounts(const std::string& tenant_id, const Page& page,
                                             v1::ListSipAccountsResponse* out) {
  return guarded([&] {
    pool_->inTenantTransaction(tenant_id, [&](pqxx::work& txn) {
      auto rows =
          txn.exec(select(kSipColumns, "sip_accounts") + " WHERE true" + pageClause(page, txn));
      fillPage<v1::SipAccount>(rows, page, mapSipAccount, out->mutable_sip_accounts(),
                               out->mutable_next_page_token());
    });
    return Status::OK;
  });
}

grpc::Status PgAccountStore::getSipAccount(const std::string& tenant_id, const std::string& id,
                                           v1::SipAccount* out) {
  return guarded([&] {
    bool found = false;
    pool_->inTenantTransaction(tenant_id, [&](pqxx::work& txn) {
      auto rows = txn.exec_params(select(kSipColumns, "sip_accounts") + " WHERE id = $1", id);
      if (rows.empty()) return;
      found = true;
      mapSipAccount(rows[0], out);
    });
    return found ? Status::OK : grpc_util::notFound("SIP account");
  });
}

grpc::Status PgAccountStore::updateSipAccount(
    const v1::UpdateSipAccountRequest& request,
    const std::optional<std::pair<std::string, std::string>>& new_ha1, v1::SipAccount* out) {
  return guarded([&] {
    bool found = false;
    pool_->inTenantTransaction(request.tenant_id(), [&](pqxx::work& txn) {
      UpdateBuilder update(txn);
      if (request.has_extension()) update.set("extension", request.extension());
      if (request.has_display_name()) update.set("display_name", request.display_name());
      if (request.has_outbound_allowed())
        update.set("outbound_allowed", request.outbound_allowed());
      if (new_ha1) {
        update.set("ha1_md5", new_ha1->first);
        update.set("ha1_sha256", new_ha1->second);
      }
      const std::string sql = update.empty()
                                  ? select(kSipColumns, "sip_accounts") + " WHERE id = $1"
                                  : "UPDATE sip_accounts SET " + update.sql() + " WHERE id = $1" +
                                        returning(kSipColumns);
      auto rows = txn.exec_params(sql, request.id());
      if (rows.empty()) return;
      found = true;
      mapSipAccount(rows[0], out);
    });
    return found ? Status::OK : grpc_util::notFound("SIP account");
  });
}

grpc::Status PgAccountStore::createNumber(const v1::Number& number, v1::Number* out) {
  return guarded([&] {
    pool_->inTenantTransaction(number.tenant_id(), [&](pqxx::work& txn) {
      const auto& route = number.route();
      auto rows = txn.exec_params(
          "INSERT INTO numbers (tenant_id, e164, channels, label, route_kind, route_extensions,"
          " route_external, ring_timeout_seconds) VALUES ($1, $2, $3, $4, $5, $6::text[], $7, $8)" +
              returning(kNumberColumns),
          number.tenant_id(), number.e164(), number.channels(), number.label(),
          routeKindColumn(route.kind()), pg::arrayLiteral(route.extensions()), route.external(),
          route.ring_timeout_seconds());
      mapNumber(rows[0], out);
    });
    return Status::OK;
  });
}

grpc::Status PgAccountStore::listNumbers(const std::string& tenant_id, const Page& page,
                                         v1::ListNumbersResponse* out) {
  return guarded([&] {
    pool_->inTenantTransaction(tenant_id, [&](pqxx::work& txn) {
      auto rows =
          txn.exec(select(kNumberColumns, "numbers") + " WHERE true" + pageClause(page, txn));
      fillPage<v1::Number>(rows, page, mapNumber, out->mutable_numbers(),
                           out->mutable_next_page_token());
    });
    return Status::OK;
  });
}

grpc::Status PgAccountStore::getNumber(const std::string& tenant_id, const std::string& id,
                                       v1::Number* out) {
  return guarded([&] {
    bool found = false;
    pool_->inTenantTransaction(tenant_id, [&](pqxx::work& txn) {
      auto rows = txn.exec_params(select(kNumberColumns, "numbers") + " WHERE id = $1", id);
      if (rows.empty()) return;
      found = true;
      mapNumber(rows[0], out);
    });
    return found ? Status::OK : grpc_util::notFound("number");
  });
}

grpc::Status PgAccountStore::updateNumber(const v1::UpdateNumberRequest& request, v1::Number* out) {
  return guarded([&] {
    bool found = false;
    pool_->inTenantTransaction(request.tenant_id(), [&](pqxx::work& txn) {
      UpdateBuilder update(txn);
      if (request.has_channels()) update.set("channels", request.channels());
      if (request.has_label()) update.set("label", request.label());
      if (request.has_route()) {
        // The whole route at once: the service has checked and completed it.
        const auto& route = request.route();
        update.set("route_kind", std::string(routeKindColumn(route.kind())));
        update.set("route_extensions", pg::arrayLiteral(route.extensions()));
        update.set("route_external", route.external());
        update.set("ring_timeout_seconds", route.ring_timeout_seconds());
      }
      const std::string sql = update.empty() ? select(kNumberColumns, "numbers") + " WHERE id = $1"
                                             : "UPDATE numbers SET " + update.sql() +
                                                   " WHERE id = $1" + returning(kNumberColumns);
      auto rows = txn.exec_params(sql, request.id());
      if (rows.empty()) return;
      found = true;
      mapNumber(rows[0], out);
    });
    return found ? Status::OK : grpc_util::notFound("number");
  });
}

grpc::Status PgAccountStore::createApiKey(const v1::ApiKey& key, const std::string& hash,
                                          v1::ApiKey* out) {
  return guarded([&] {
    pool_->inTenantTransaction(key.tenant_id(), [&](pqxx::work& txn) {
      auto rows = txn.exec_params(
          "INSERT INTO api_keys (tenant_id, name, prefix, key_hash) VALUES ($1, $2, $3, $4)" +
              returning(kApiKeyColumns),
          key.tenant_id(), key.name(), key.prefix(), hash);
      mapApiKey(rows[0], out);
    });
    return Status::OK;
  });
}

grpc::Status PgAccountStore::listApiKeys(const std::string& tenant_id, const Page& page,
                                         v1::ListApiKeysResponse* out) {
  return guarded([&] {
    pool_->inTenantTransaction(tenant_id, [&](pqxx::work& txn) {
      auto rows =
          txn.exec(select(kApiKeyColumns, "api_keys") + " WHERE true" + pageClause(page, txn));
      fillPage<v1::ApiKey>(rows, page, mapApiKey, out->mutable_api_keys(),
                           out->mutable_next_page_token());
    });
    return Status::OK;
  });
}

grpc::Status PgAccountStore::revokeApiKey(const std::string& tenant_id, const std::string& id,
                                          v1::ApiKey* out) {
  return guarded([&] {
    bool found = false;
    pool_->inTenantTransaction(tenant_id, [&](pqxx::work& txn) {
      auto rows = txn.exec_params(
          "UPDATE api_keys SET revoked_at = coalesce(revoked_at, now()) WHERE id = $1" +
              returning(kApiKeyColumns),
          id);
      if (rows.empty()) return;
      found = true;
      mapApiKey(rows[0], out);
    });
    return found ? Status::OK : grpc_util::notFound("API key");
  });
}

grpc::Status PgAccountStore::createCarrier(const v1::Carrier& carrier, const CarrierDigest& auth,
                                           const StoredRegistration& registration,
                                           v1::Carrier* out) {
  return guarded([&] {
    pool_->inTenantTransaction(carrier.tenant_id(), [&](pqxx::work& txn) {
      auto rows = txn.exec_params(
          "INSERT INTO carriers (tenant_id, name, addresses, outbound_uri, caller_id, "
          "auth_username, auth_ha1_md5, auth_ha1_sha256, registration_username,"
          " registration_domain, registration_secret, registration_expires, registration_contact)"
          " VALUES ($1, $2, $3::cidr[], $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)" +
              returning(kCarrierColumns),
          carrier.tenant_id(), carrier.name(), pg::arrayLiteral(carrier.addresses()),
          carrier.outbound_uri(), carrier.caller_id(), auth.username, auth.ha1_md5,
          auth.ha1_sha256, registration.username, registration.domain,
          pqxx::binarystring(registration.secret), registration.expires_seconds,
          registration.contact);
      mapCarrier(rows[0], out);
    });
    return Status::OK;
  });
}

grpc::Status PgAccountStore::listCarriers(const std::string& tenant_id, const Page& page,
                                          v1::ListCarriersResponse* out) {
  return guarded([&] {
    pool_->inTenantTransaction(tenant_id, [&](pqxx::work& txn) {
      auto rows =
          txn.exec(select(kCarrierColumns, "carriers") + " WHERE true" + pageClause(page, txn));
      fillPage<v1::Carrier>(rows, page, mapCarrier, out->mutable_carriers(),
                            out->mutable_next_page_token());
    });
    return Status::OK;
  });
}

grpc::Status PgAccountStore::getCarrier(const std::string& tenant_id, const std::string& id,
                                        v1::Carrier* out) {
  return guarded([&] {
    bool found = false;
    pool_->inTenantTransaction(tenant_id, [&](pqxx::work& txn) {
      auto rows = txn.exec_params(select(kCarrierColumns, "carriers") + " WHERE id = $1", id);
      if (rows.empty()) return;
      found = true;
      mapCarrier(rows[0], out);
    });
    return found ? Status::OK : grpc_util::notFound("carrier");
  });
}

grpc::Status PgAccountStore::updateCarrier(const v1::UpdateCarrierRequest& request,
                                           const std::optional<CarrierDigest>& new_auth,
                                           const RegistrationChange& registration,
                                           v1::Carrier* out) {
  return guarded([&] {
    bool found = false;
    bool raced = false;
    pool_->inTenantTransaction(request.tenant_id(), [&](pqxx::work& txn) {
      UpdateBuilder update(txn);
      if (request.has_name()) update.set("name", request.name());
      if (request.replace_addresses()) update.set("addresses", pg::arrayLiteral(request.addresses()));
      if (request.has_outbound_uri()) update.set("outbound_uri", request.outbound_uri());
      if (request.has_caller_id()) update.set("caller_id", request.caller_id());
      if (new_auth) {
        update.set("auth_username", new_auth->username);
        update.set("auth_ha1_md5", new_auth->ha1_md5);
        update.set("auth_ha1_sha256", new_auth->ha1_sha256);
      }
      if (registration.kind != RegistrationChange::Kind::kKeep) {
        const StoredRegistration& value = registration.value;  // empty for kRemove
        update.set("registration_username", value.username);
        update.set("registration_domain", value.domain);
        update.set("registration_expires", value.expires_seconds);
        update.set("registration_contact", value.contact);
        if (registration.kind == RegistrationChange::Kind::kRemove || !value.secret.empty()) {
          update.setRaw("registration_secret",
                        txn.quote_raw(reinterpret_cast<const unsigned char*>(value.secret.data()),
                                      value.secret.size()));
        }
      }
      // What sip-edge reported holds while the registration is the same (the SET expressions see
      // the row as it was); new settings, or a new registrar, start from "".
      std::string unchanged;
      if (registration.kind == RegistrationChange::Kind::kSet) {
        const StoredRegistration& value = registration.value;
        unchanged = "registration_username = " + txn.quote(value.username) +
                    " AND registration_domain = " + txn.quote(value.domain) +
                    " AND registration_expires = " + txn.quote(value.expires_seconds) +
                    " AND registration_contact = " + txn.quote(value.contact) +
                    (value.secret.empty() ? "" : " AND false");
      } else if (registration.kind == RegistrationChange::Kind::kRemove) {
        unchanged = "false";
      }
      if (request.has_outbound_uri()) {
        unchanged += (unchanged.empty() ? "" : " AND ") + std::string("outbound_uri = ") +
                     txn.quote(request.outbound_uri());
      }
      if (!unchanged.empty()) {
        const std::string keep = "CASE WHEN " + unchanged + " THEN ";
        update.setRaw("registration_state", keep + "registration_state ELSE '' END");
        update.setRaw("registration_reason", keep + "registration_reason ELSE '' END");
        update.setRaw("registration_until", keep + "registration_until END");
        update.setRaw("registration_reported_at", keep + "registration_reported_at END");
      }
      // The password was sealed to the contact read before: the update holds only if the
      // registration still has it (a concurrent change would leave a password that never opens).
      const std::string still_same =
          registration.kind == RegistrationChange::Kind::kSet
              ? " AND registration_contact = " + txn.quote(registration.expected_contact)
              : "";
      const std::string sql = update.empty()
                                  ? select(kCarrierColumns, "carriers") + " WHERE id = $1"
                                  : "UPDATE carriers SET " + update.sql() + " WHERE id = $1" +
                                        still_same + returning(kCarrierColumns);
      auto rows = txn.exec_params(sql, request.id());
      if (rows.empty()) {
        raced = !still_same.empty() &&
                !txn.exec_params("SELECT 1 FROM carriers WHERE id = $1", request.id()).empty();
        return;
      }
      found = true;
      mapCarrier(rows[0], out);
    });
    if (raced) {
      return Status(StatusCode::ABORTED,
                    "the carrier's registration changed meanwhile: send the change again");
    }
    return found ? Status::OK : grpc_util::notFound("carrier");
  });
}

grpc::Status PgAccountStore::findCarrierCredentials(const std::string& tenant_id,
                                                    const std::string& username,
                                                    v1::CarrierCredentials* out) {
  return guarded([&] {
    bool found = false;
    pool_->inTenantTransaction(tenant_id, [&](pqxx::work& txn) {
      // Row-level security scopes this to the tenant already; the explicit tenant_id and the ''
      // guard match the partial unique index, and keep carriers without credentials out even if
      // a caller passes "".
      auto rows = txn.exec_params(
          "SELECT id::text, auth_ha1_md5, auth_ha1_sha256 FROM carriers"
          " WHERE tenant_id = $1::uuid AND auth_username = $2 AND auth_username <> ''",
          tenant_id, username);
      if (rows.empty()) return;
      found = true;
      out->set_carrier_id(rows[0][0].as<std::string>());
      out->set_ha1_md5(rows[0][1].as<std::string>());
      out->set_ha1_sha256(rows[0][2].as<std::string>());
    });
    return found ? Status::OK : grpc_util::notFound("carrier credentials");
  });
}

grpc::Status PgAccountStore::findRegistrationContact(const std::string& tenant_id,
                                                     const std::string& id, std::string* contact) {
  return guarded([&] {
    bool found = false;
    pool_->inTenantTransaction(tenant_id, [&](pqxx::work& txn) {
      auto rows =
          txn.exec_params("SELECT registration_contact FROM carriers WHERE id = $1::uuid", id);
      if (rows.empty()) return;
      found = true;
      *contact = rows[0][0].as<std::string>();
    });
    return found ? Status::OK : grpc_util::notFound("carrier");
  });
}

grpc::Status PgAccountStore::listRegistrations(std::vector<SealedRegistration>* out) {
  return guarded([&] {
    pool_->inTransaction([&](pqxx::work& txn) {
      auto rows = txn.exec(
          "SELECT tenant_id::text, carrier_id::text, outbound_uri, username, domain, secret,"
          " expires, contact FROM tel_carrier_registrations()");
      out->clear();
      out->reserve(rows.size());
      for (const auto& row : rows) {
        SealedRegistration& sealed = out->emplace_back();
        v1::RegistrationToKeep& registration = sealed.registration;
        registration.set_tenant_id(row[0].as<std::string>());
        registration.set_carrier_id(row[1].as<std::string>());
        registration.set_registrar_uri(row[2].as<std::string>());
        registration.set_username(row[3].as<std::string>());
        registration.set_domain(row[4].as<std::string>());
        sealed.secret = pqxx::binarystring(row[5]).str();
        registration.set_expires_seconds(row[6].as<int32_t>());
        registration.set_contact_user(row[7].as<std::string>());
      }
    });
    return Status::OK;
  });
}

grpc::Status PgAccountStore::reportRegistration(const v1::CarrierRegistrationReport& report) {
  return guarded([&] {
    bool found = false;
    const int64_t until_micros = report.has_registered_until()
                                     ? report.registered_until().seconds() * 1000000 +
                                           report.registered_until().nanos() / 1000
                                     : 0;
    pool_->inTenantTransaction(report.tenant_id(), [&](pqxx::work& txn) {
      // Only a carrier that is still registered to: a report racing the registration's removal
      // changes nothing.
      auto rows = txn.exec_params(
          "UPDATE carriers SET registration_state = $2, registration_reason = $3,"
          " registration_until = CASE WHEN $4::bigint = 0 THEN NULL"
          "   ELSE 'epoch'::timestamptz + $4::bigint * interval '1 microsecond' END,"
          " registration_reported_at = now()"
          " WHERE id = $1::uuid AND registration_username <> '' RETURNING id",
          report.carrier_id(), report.state(), report.reason(), until_micros);
      found = !rows.empty();
    });
    return found ? Status::OK : grpc_util::notFound("carrier registration");
  });
}

grpc::Status PgAccountStore::lookupInboundNumber(const std::string& e164,
                                                 const std::string& source_ip,
                                                 v1::InboundNumber* out) {
  return guarded([&] {
    bool found = false;
    pool_->inTransaction([&](pqxx::work& txn) {
      auto rows = txn.exec_params(
          "SELECT tenant_id::text, number_id::text, e164, channels, route_kind, route_extensions,"
          " route_external, ring_timeout_seconds, coalesce(carrier_id::text, ''), sip_domain,"
          " carrier_auth FROM tel_lookup_inbound_number_v2($1, NULLIF($2, '')::inet)",
          e164, source_ip);
      if (rows.empty()) return;
      found = true;
      out->set_tenant_id(rows[0][0].as<std::string>());
      out->set_number_id(rows[0][1].as<std::string>());
      out->set_e164(rows[0][2].as<std::string>());
      out->set_channels(rows[0][3].as<int>());
      mapRoute(rows[0], 4, out->mutable_route());
      out->set_carrier_id(rows[0][8].as<std::string>());
      out->set_sip_domain(rows[0][9].as<std::string>());
      out->set_carrier_auth(rows[0][10].as<bool>());
    });
    return found ? Status::OK : grpc_util::notFound("number");
  });
}

grpc::Status PgAccountStore::findSipAccountByExtension(const std::string& tenant_id,
                                                       const std::string& extension,
                                                       v1::SipAccount* out) {
  return guarded([&] {
    bool found = false;
    pool_->inTenantTransaction(tenant_id, [&](pqxx::work& txn) {
      auto rows =
          txn.exec_params(select(kSipColumns, "sip_accounts") + " WHERE extension = $1", extension);
      if (rows.empty()) return;
      found = true;
      mapSipAccount(rows[0], out);
    });
    return found ? Status::OK : grpc_util::notFound("SIP account");
  });
}

grpc::Status PgAccountStore::findOutboundRoute(const std::string& tenant_id,
                                               v1::OutboundRoute* out) {
  return guarded([&] {
    bool found = false;
    pool_->inTenantTransaction(tenant_id, [&](pqxx::work& txn) {
      auto rows = txn.exec(
          "SELECT c.id::text, c.outbound_uri, CASE WHEN c.caller_id <> '' THEN c.caller_id ELSE"
          " coalesce((SELECT n.e164 FROM numbers n ORDER BY n.created_at, n.id LIMIT 1), '') END"
          " FROM carriers c WHERE c.outbound_uri <> '' ORDER BY c.created_at, c.id LIMIT 5");
      if (rows.empty()) return;
      found = true;
      out->set_carrier_id(rows[0][0].as<std::string>());
      out->set_outbound_uri(rows[0][1].as<std::string>());
      out->set_caller_id(rows[0][2].as<std::string>());
      for (size_t i = 1; i < rows.size(); ++i) {
        auto* fallback = out->add_fallbacks();
        fallback->set_carrier_id(rows[i][0].as<std::string>());
        fallback->set_outbound_uri(rows[i][1].as<std::string>());
        fallback->set_caller_id(rows[i][2].as<std::string>());
      }
    });
    return found ? Status::OK : grpc_util::notFound("outbound carrier");
  });
}

}  // namespace tel::accounts
