#pragma once

#include <memory>

#include "account_store.h"
#include "tel/pg/connection_pool.h"

namespace tel::accounts {

// AccountStore on Postgres, connected as the application role (no BYPASSRLS): isolation between
// tenants is enforced by the database's row-level security, not only by the WHERE clauses here.
class PgAccountStore final : public AccountStore {
 public:
  explicit PgAccountStore(std::shared_ptr<pg::ConnectionPool> pool);

  grpc::Status findApiKey(const std::string& prefix, StoredKey* out) override;
  grpc::Status findAdminKey(const std::string& prefix, StoredKey* out) override;
  grpc::Status ensureAdminKey(const std::string& prefix, const std::string& hash) override;

  grpc::Status createTenant(const v1::Tenant& tenant, v1::Tenant* out) override;
  grpc::Status listTenants(const Page& page, v1::ListTenantsResponse* out) override;
  grpc::Status getTenant(const std::string& id, v1::Tenant* out) override;
  grpc::Status updateTenant(const v1::UpdateTenantRequest& request, v1::Tenant* out) override;
  grpc::Status deleteTenant(const std::string& id) override;

  grpc::Status createUser(const v1::User& user, const std::string& password_hash,
                          v1::User* out) override;
  grpc::Status listUsers(const std::string& tenant_id, const Page& page,
                         v1::ListUsersResponse* out) override;
  grpc::Status getUser(const std::string& tenant_id, const std::string& id, v1::User* out) override;
  grpc::Status updateUser(const v1::UpdateUserRequest& request,
                          const std::optional<std::string>& password_hash, v1::User* out) override;
  grpc::Status deleteRow(const std::string& table, const std::string& tenant_id,
                         const std::string& id) override;
  grpc::Status findUsersByEmail(const std::string& email,
                                std::vector<UserCredentials>* out) override;

  grpc::Status createSipAccount(const StoredSipAccount& account, v1::SipAccount* out) override;
  grpc::Status listSipAccounts(const std::string& tenant_id, const Page& page,
                               v1::ListSipAccountsResponse* out) override;
  grpc::Status getSipAccount(const std::string& tenant_id, const std::string& id,
                             v1::SipAccount* out) override;
  grpc::Status updateSipAccount(const v1::UpdateSipAccountRequest& request,
                                const std::optional<std::pair<std::string, std::string>>& new_ha1,
                                v1::SipAccount* out) override;

  grpc::Status createNumber(const v1::Number& number, v1::Number* out) override;
  grpc::Status listNumbers(const std::string& tenant_id, const Page& page,
                           v1::ListNumbersResponse* out) override;
  grpc::Status getNumber(const std::string& tenant_id, const std::string& id,
                         v1::Number* out) override;
  grpc::Status updateNumber(const v1::UpdateNumberRequest& request, v1::Number* out) override;

  grpc::Status createApiKey(const v1::ApiKey& key, const std::string& hash,
                            v1::ApiKey* out) override;
  grpc::Status listApiKeys(const std::string& tenant_id, const Page& page,
                           v1::ListApiKeysResponse* out) override;
  grpc::Status revokeApiKey(const std::string& tenant_id, const std::string& id,
                            v1::ApiKey* out) override;

  grpc::Status findSipCredentials(const std::string& sip_domain, const std::string& username,
                                  v1::SipCredentials* out) override;

  grpc::Status createCarrier(const v1::Carrier& carrier, const CarrierDigest& auth,
                             const StoredRegistration& registration, v1::Carrier* out) override;
  grpc::Status listCarriers(const std::string& tenant_id, const Page& page,
                            v1::ListCarriersResponse* out) override;
  grpc::Status getCarrier(const std::string& tenant_id, const std::string& id,
                          v1::Carrier* out) override;
  grpc::Status updateCarrier(const v1::UpdateCarrierRequest& request,
                             const std::optional<CarrierDigest>& new_auth,
                             const RegistrationChange& registration, v1::Carrier* out) override;
  grpc::Status findRegistrationContact(const std::string& tenant_id, const std::string& id,
                                       std::string* contact) override;
  grpc::Status listRegistrations(
std::vector<SealedRegistration>* out) override;
  grpc::Status reportRegistration(const v1::CarrierRegistrationReport& report) override;
  grpc::Status findCarrierCredentials(const std::string& tenant_id, const std::string& username,
                                      v1::CarrierCredentials* out) override;

  grpc::Status lookupInboundNumber(const std::string& e164, const std::string& source_ip,
                                   v1::InboundNumber* out) override;
  grpc::Status findSipAccountByExtension(const std::string& tenant_id, const std::string& extension,
                                         v1::SipAccount* out) override;
  grpc::Status findOutboundRoute(const std::string& tenant_id, v1::OutboundRoute* out) override;

  bool healthy() override;

 private:
  std::shared_ptr<pg::ConnectionPool> pool_;
};

}  // namespace tel::accounts
