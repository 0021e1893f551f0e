#pragma once

#include <grpcpp/grpcpp.h>

#include <optional>
#include <string>
#include <vector>

#include "tel/accounts/v1/accounts.pb.h"

namespace tel::accounts {

namespace v1 = ::tel::accounts::v1;

// A page position: rows come newest first, ordered by (created_at, id).
struct PageCursor {
  int64_t created_micros = 0;
  std::string id;
};
std::string encodeCursor(const PageCursor& cursor);
std::optional<PageCursor> decodeCursor(const std::string& token);

struct Page {
  int limit = 50;
  std::optional<PageCursor> after;
};

struct StoredKey {
  std::string id;
  std::string tenant_id;  // empty for admin keys
  std::string hash;
  bool revoked = false;
};

struct StoredSipAccount {
  v1::SipAccount account;
  std::string ha1_md5;
  std::string ha1_sha256;
};

// A carrier's digest credentials as stored: the username and its HA1 values (see credentials.h);
// all empty when the carrier has none. The password itself is never stored.
struct CarrierDigest {
  std::string username;
  std::string ha1_md5;
  std::string ha1_sha256;
};

// A carrier's registration as stored (see migration 0023): `secret` is the password sealed with
// AES-256-GCM, bound to `contact`; an empty username means none.
struct StoredRegistration {
  std::string username;
  std::string domain;
  std::string secret;  // empty on update: keep the stored one
  int expires_seconds = 300;
  std::string contact;
};

// A registration to keep as read across tenants: everything but the password, which is sealed.
struct SealedRegistration {
  v1::RegistrationToKeep registration;
  std::string secret;
};

// What an update does to a carrier's registration.
struct RegistrationChange {
  enum class Kind { kKeep, kSet, kRemove };
  Kind kind = Kind::kKeep;
  StoredRegistration value;  // kSet
  // kSet: the contact the registration had when `value` was sealed ("" for none); the update is
  // refused (ABORTED) if it has changed since.
  std::string expected_contact;
};

struct UserCredentials {
  std::string id;
  std::string tenant_id;
  std::string password_hash;
};

// Persistence port of the accounts service. Every tenant-scoped method runs in a transaction
// scoped to `tenant_id` (row-level security); rows of other tenants behave as absent (NOT_FOUND).
// Uniqueness conflicts give ALREADY_EXISTS naming the field. Implementations are thread-safe.
class AccountStore {
 public:
  virtual ~AccountStore() = default;

  virtual grpc::Status findApiKey(const std::string& prefix, StoredKey* out) = 0;
  virtual grpc::Status findAdminKey(const std::string& prefix, StoredKey* out) = 0;
  virtual grpc::Status ensureAdminKey(const std::string& prefix, const std::string& hash) = 0;

  virtual grpc::Status createTenant(const v1::Tenant& tenant, v1::Tenant* out) = 0;
  virtual grpc::Status listTenants(const Page& page, v1::ListTenantsResponse* out) = 0;
  virtual grpc::Status getTenant(const std::string& id, v1::Tenant* out) = 0;
  virtual grpc::Status updateTenant(const v1::UpdateTenantRequest& request, v1::Tenant* out) = 0;
  virtual grpc::Status deleteTenant(const std::string& id) = 0;

  virtual grpc::Status createUser(const v1::User& user, const std::string& password_hash,
                                  v1::User* out) = 0;
  virtual grpc::Status listUsers(const std::string& tenant_id, const Page& page,
                                 v1::ListUsersResponse* out) = 0;
  virtual grpc::Status getUser(const std::string& tenant_id, const std::string& id,
                               v1::User* out) = 0;
  virtual grpc::Status updateUser(const v1::UpdateUserRequest& request,
                                  const std::optional<std::string>& password_hash,
                                  v1::User* out) = 0;
  virtual grpc::Status deleteRow(const std::string& table, const std::string& tenant_id,
                                 const std::string& id) = 0;
  virtual grpc::Status findUsersByEmail(const std::string& email,
                                        std::vector<UserCredentials>* out) = 0;

  virtual grpc::Status createSipAccount(const StoredSipAccount& account, v1::SipAccount* out) = 0;
  virtual grpc::Status listSipAccounts(const std::string& tenant_id, const Page& page,
                                       v1::ListSipAccountsResponse* out) = 0;
  virtual grpc::Status getSipAccount(const std::string& tenant_id, const std::string& id,
                                     v1::SipAccount* out) = 0;
  // `new_ha1` is set when the password changes: {md5, sha256}.
  virtual grpc::Status updateSipAccount(
      const v1::UpdateSipAccountRequest& request,
      const std::optional<std::pair<std::string, std::string>>& new_ha1, v1::SipAccount* out) = 0;

  virtual grpc::Status createNumber(const v1::Number& number, v1::Number* out) = 0;
  virtual grpc::Status listNumbers(const std::string& tenant_id, const Page& page,
                                   v1::ListNumbersResponse* out) = 0;
  virtual grpc::Status getNumber(const std::string& tenant_id, const std::string& id,
                                 v1::Number* out) = 0;
  virtual grpc::Status updateNumber(const v1::UpdateNumberRequest& request, v1::Number* out) = 0;

  virtual grpc::Status createApiKey(const v1::ApiKey& key, const std::string& hash,
                                    v1::ApiKey* out) = 0;
  virtual grpc::Status listApiKeys(const std::string& tenant_id, const Page& page,
                                   v1::ListApiKeysResponse* out) = 0;
  virtual grpc::Status revokeApiKey(const std::string& tenant_id, const std::string& id,
                                    v1::ApiKey* out) = 0;

  virtual grpc::Status findSipCredentials(const std::string& sip_domain,
                                          const std::string& username, v1::SipCredentials* out) = 0;

  // Carriers; deleted through deleteRow("carriers", ...). A username already used by another of
  // the tenant's carriers gives ALREADY_EXISTS naming auth_username.
  virtual grpc::Status createCarrier(const v1::Carrier& carrier, const CarrierDigest& auth,
                                     const StoredRegistration& registration,
                                     v1::Carrier* out) = 0;
  virtual grpc::Status listCarriers(const std::string& tenant_id, const Page& page,
                                    v1::ListCarriersResponse* out) = 0;
  virtual grpc::Status getCarrier(const std::string& tenant_id, const std::string& id,
                                  v1::Carrier* out) = 0;
  // Replaces the addresses only when request.replace_addresses() is set, and the credentials only
  // when `new_auth` is set (all empty: removes them). The request's auth fields are ignored.
  virtual grpc::Status updateCarrier(const v1::UpdateCarrierRequest& request,
                                     const std::optional<CarrierDigest>& new_auth,
                                     const RegistrationChange& registration,
                                     v1::Carrier* out) = 0;
  // The contact of the carrier's registration ("" when it has none). NOT_FOUND for no carrier.
  virtual grpc::Status findRegistrationContact(const std::string& tenant_id, const std::string& id,
                                               std::string* contact) = 0;
  // Across tenants: every registration to keep (a registrar and a username), password sealed.
  virtual grpc::Status listRegistrations(std::vector<SealedRegistration>* out) = 0;
  virtual grpc::Status reportRegistration(const v1::CarrierRegistrationReport& report) = 0;
  // The tenant's carrier whose auth_username is `username` (non-empty). NOT_FOUND when none.
  virtual grpc::Status findCarrierCredentials(const std::string& tenant_id,
                                              const std::string& username,
                                              v1::CarrierCredentials* out) = 0;

  // Across tenants: the number `e164` and, among its own tenant's carriers, the oldest one whose
  // addresses contain `source_ip` (an empty `source_ip` matches none); the tenant's SIP domain and
  // whether any of its carriers has digest credentials. NOT_FOUND for a number no tenant has.
  virtual grpc::Status lookupInboundNumber(const std::string& e164, const std::string& source_ip,
                                           v1::InboundNumber* out) = 0;
  virtual grpc::Status findSipAccountByExtension(const std::string& tenant_id,
                                                 const std::string& extension,
                                                 v1::SipAccount* out) = 0;
  // The tenant's oldest carrier with an outbound URI (NOT_FOUND when it has none); caller_id is the
  // carrier's or else the e164 of the tenant's oldest number (empty when it has none).
  virtual grpc::Status findOutboundRoute(const std::string& tenant_id, v1::OutboundRoute* out) = 0;

  virtual bool healthy() = 0;
};

}  // namespace tel::accounts
