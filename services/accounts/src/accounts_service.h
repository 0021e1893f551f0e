#pragma once

#include <prometheus/counter.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include <memory>
#include <mutex>
#include <set>

#include "account_store.h"
#include "credentials.h"
#include "tel/accounts/v1/accounts.grpc.pb.h"
#include "tel/grpc/blocking_executor.h"
#include "tel/log/log.h"

namespace tel::accounts {

struct AccountsServiceOptions {
  PasswordHashCost password_cost;
  // Base under which tenants get their SIP domain when none is given: <slug>.<base>.
  std::string sip_base_domain = "sip.localhost";
  int workers = 8;
  // 32 bytes sealing the passwords the platform registers to carriers with (AES-256-GCM); empty:
  // registrations are refused (FAILED_PRECONDITION), as a password could not be kept.
  std::string credentials_key;
};

// The tel.accounts.v1.Accounts gRPC service: validates requests, generates and hashes secrets, and
// persists through the AccountStore port. Handlers run on a BlockingExecutor (database work) and
// never on gRPC's own threads.
class AccountsService final : public v1::Accounts::CallbackService {
 public:
  AccountsService(std::shared_ptr<AccountStore> store, AccountsServiceOptions options,
                  log::Logger logger, prometheus::Registry& registry);

  // Makes `admin_key` valid (stored hashed); used at start with the operator's key.
  grpc::Status installAdminKey(const std::string& admin_key);

  using Reactor = grpc::ServerUnaryReactor;
  using Ctx = grpc::CallbackServerContext;
  Reactor* Authenticate(Ctx*, const v1::AuthenticateRequest*, v1::Principal*) override;
  Reactor* CreateTenant(Ctx*, const v1::CreateTenantRequest*, v1::Tenant*) override;
  Reactor* ListTenants(Ctx*, const v1::ListTenantsRequest*, v1::ListTenantsResponse*) override;
  Reactor* GetTenant(Ctx*, const v1::GetTenantRequest*, v1::Tenant*) override;
  Reactor* UpdateTenant(Ctx*, const v1::UpdateTenantRequest*, v1::Tenant*) override;
  Reactor* DeleteTenant(Ctx*, const v1::DeleteTenantRequest*, v1::Empty*) override;
  Reactor* CreateUser(Ctx*, const v1::CreateUserRequest*, v1::User*) override;
  Reactor* ListUsers(Ctx*, const v1::ListRequest*, v1::ListUsersResponse*) override;
  Reactor* GetUser(Ctx*, const v1::GetRequest*, v1::User*) override;
  Reactor* UpdateUser(Ctx*, const v1::UpdateUserRequest*, v1::User*) override;
  Reactor* DeleteUser(Ctx*, const v1::GetRequest*, v1::Empty*) override;
  Reactor* VerifyUserPassword(Ctx*, const v1::VerifyUserPasswordRequest*, v1::User*) override;
  Reactor* CreateSipAccount(Ctx*, const v1::CreateSipAccountRequest*, v1::SipAccount*) override;
  Reactor* ListSipAccounts(Ctx*, const v1::ListRequest*, v1::ListSipAccountsResponse*) override;
  Reactor* GetSipAccount(Ctx*, const v1::GetRequest*, v1::SipAccount*) override;
  Reactor* UpdateSipAccount(Ctx*, const v1::UpdateSipAccountRequest*, v1::SipAccount*) override;
  Reactor* DeleteSipAccount(Ctx*, const v1::GetRequest*, v1::Empty*) override;
  Reactor* CreateNumber(Ctx*, const v1::CreateNumberRequest*, v1::Number*) override;
  Reactor* ListNumbers(Ctx*, const v1::ListRequest*, v1::ListNumbersResponse*) override;
  Reactor* GetNumber(Ctx*, const v1::GetRequest*, v1::Number*) override;
  Reactor* UpdateNumber(Ctx*, const v1::UpdateNumberRequest*, v1::Number*) override;
  Reactor* DeleteNumber(Ctx*, const v1::GetRequest*, v1::Empty*) override;
  Reactor* CreateApiKey(Ctx*, const v1::CreateApiKeyRequest*, v1::ApiKey*) override;
  Reactor* ListApiKeys(Ctx*, const v1::ListRequest*, v1::ListApiKeysResponse*) override;
  Reactor* RevokeApiKey(Ctx*, const v1::GetRequest*, v1::ApiKey*) override;
  Reactor* GetSipCredentials(Ctx*, const v1::GetSipCredentialsRequest*,
                             v1::SipCredentials*) override;
  Reactor* CreateCarrier(Ctx*, const v1::CreateCarrierRequest*, v1::Carrier*) override;
  Reactor* ListCarriers(Ctx*, const v1::ListRequest*, v1::ListCarriersResponse*) override;
  Reactor* GetCarrier(Ctx*, const v1::GetRequest*, v1::Carrier*) override;
  Reactor* UpdateCarrier(Ctx*, const v1::UpdateCarrierRequest*, v1::Carrier*) override;
  Reactor* DeleteCarrier(Ctx*, const v1::GetRequest*, v1::Empty*) override;
  Reactor* LookupInboundNumber(Ctx*, const v1::LookupInboundNumberRequest*,
                               v1::InboundNumber*) override;
  Reactor* ResolveExtension(Ctx*, const v1::ResolveExtensionRequest*, v1::SipAccount*) override;
  Reactor* GetOutboundRoute(Ctx*, const v1::GetOutboundRouteRequest*, v1::OutboundRoute*) override;
  Reactor* GetCarrierCredentials(Ctx*, const v1::GetCarrierCredentialsRequest*,
                                 v1::CarrierCredentials*) override;
  Reactor* ListCarrierRegistrations(Ctx*, const v1::ListCarrierRegistrationsRequest*,
                                    v1::CarrierRegistrationList*) override;
  Reactor* ReportCarrierRegistration(Ctx*, const v1::CarrierRegistrationReport*,
                                     v1::Empty*) override;

  size_t queuedRequests() const { return executor_.queued(); }

 private:
  // Runs `handler` on the executor, counting and timing it under `method`.
  Reactor* handle(Ctx* context, const char* method, std::function<grpc::Status()> handler);

  grpc::Status authenticate(const v1::AuthenticateRequest& request, v1::Principal* out);
  grpc::Status createTenant(const v1::CreateTenantRequest& request, v1::Tenant* out);
  grpc::Status createUser(const v1::CreateUserRequest& request, v1::User* out);
  grpc::Status updateUser(const v1::UpdateUserRequest& request, v1::User* out);
  grpc::Status verifyUserPassword(const v1::VerifyUserPasswordRequest& request, v1::User* out);
  grpc::Status createSipAccount(const v1::CreateSipAccountRequest& request, v1::SipAccount* out);
  grpc::Status updateSipAccount(const v1::UpdateSipAccountRequest& request, v1::SipAccount* out);
  grpc::Status createNumber(const v1::CreateNumberRequest& request, v1::Number* out);
  grpc::Status updateNumber(const v1::UpdateNumberRequest& request, v1::Number* out);
  grpc::Status createApiKey(const v1::CreateApiKeyRequest& request, v1::ApiKey* out);
  // A carrier's digest credentials from its auth username and password, checked (both or neither,
  // errors naming auth_username / auth_password) and hashed with the tenant's SIP domain as realm;
  // `out` is all empty when both are.
  grpc::Status carrierDigest(const std::string& tenant_id, const std::string& username,
                             const std::string& password, CarrierDigest* out);
  // A carrier's registration settings, checked (errors naming "registration.<field>") and made
  // ready to store: defaults filled, the password sealed to `contact` (a new one when empty). An
  // empty password is allowed only when `keep_password` (the stored one stays).
  grpc::Status storedRegistration(const v1::RegistrationSettings& settings, std::string contact,
                                  bool keep_password, StoredRegistration* out);
  grpc::Status createCarrier(const v1::CreateCarrierRequest& request, v1::Carrier* out);
  grpc::Status updateCarrier(const v1::UpdateCarrierRequest& request, v1::Carrier* out);
  grpc::Status lookupInboundNumber(const v1::LookupInboundNumberRequest& request,
                                   v1::InboundNumber* out);
  grpc::Status getOutboundRoute(const v1::GetOutboundRouteRequest& request, v1::OutboundRoute* out);
  grpc::Status getCarrierCredentials(const v1::GetCarrierCredentialsRequest& request,
                                     v1::CarrierCredentials* out);
  grpc::Status listCarrierRegistrations(v1::CarrierRegistrationList* out);
  grpc::Status reportCarrierRegistration(const v1::CarrierRegistrationReport& report);

  std::shared_ptr<AccountStore> store_;
  AccountsServiceOptions options_;
  log::Logger log_;
  prometheus::Family<prometheus::Counter>& requests_;
  prometheus::Family<prometheus::Histogram>& latency_;
  grpc_util::BlockingExecutor executor_;
  // A valid-looking hash to verify against when the e-mail is unknown, so that unknown users and
  // wrong passwords take the same time.
  std::string dummy_password_hash_;
  std::mutex unopenable_mutex_;
  std::set<std::string> unopenable_logged_;  // carriers whose sealed password did not open
};

// Page settings from a request: limit 1..200 (default 50) and a token from a previous page.
grpc::Status parsePage(int32_t limit, const std::string& token, Page* out);

// Checks a number's route and completes it (ring timeout 0 -> 30 s) into `out`. Errors name the
// field as "route.<field>". The extensions need not exist yet: routing treats a missing one as
// unavailable, so accounts can be created after the number that rings them.
grpc::Status completeRoute(const v1::NumberRoute& route, v1::NumberRoute* out);

// Checks a carrier's source addresses (0..32, each an address or a CIDR block), field "addresses".
grpc::Status checkCarrierAddresses(
    const google::protobuf::RepeatedPtrField<std::string>& addresses);

}  // namespace tel::accounts
