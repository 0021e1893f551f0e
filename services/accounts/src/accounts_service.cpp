#include "accounts_service.h"

#include <chrono>
#include <cstdio>
#include <set>

#include "tel/crypto/crypto.h"
#include "tel/grpc/status.h"
#include "tel/metrics/admin_server.h"
#include "validation.h"

namespace tel::accounts {
namespace {

using grpc::Status;
using grpc::StatusCode;
using grpc_util::invalidArgument;

std::string newUuid() {
  const std::string random = crypto::randomBytes(16);
  unsigned char bytes[16];
  std::copy(random.begin(), random.end(), bytes);
  bytes[6] = (bytes[6] & 0x0f) | 0x40;  // version 4
  bytes[8] = (bytes[8] & 0x3f) | 0x80;  // RFC 4122 variant
  char text[37];
  std::snprintf(text, sizeof text,
                "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", bytes[0],
                bytes[1], bytes[2], bytes[3], bytes[4], bytes[5], bytes[6], bytes[7], bytes[8],
                bytes[9], bytes[10], bytes[11], bytes[12], bytes[13], bytes[14], bytes[15]);
  return text;
}

// A failed check becomes INVALID_ARGUMENT naming the field.
#define TEL_CHECK_FIELD(field, check)                        \
  do {                                                       \
    if (std::string problem_ = (check); !problem_.empty()) { \
      return invalidArgument(field, problem_);               \
    }                                                        \
  } while (false)

// The gateway always sets tenant_id from the authenticated key; anything else is a caller bug.
Status checkTenant(const std::string& tenant_id) {
  if (!isUuid(tenant_id)) return invalidArgument("tenant_id", "must be a tenant id");
  return Status::OK;
}

// Ids that cannot exist are simply not found: the caller learns nothing about id formats.
Status checkId(const std::string& id, const char* what) {
  return isUuid(id) ? Status::OK : grpc_util::notFound(what);
}

const Status kUnauthenticated(StatusCode::UNAUTHENTICATED, "invalid or revoked API key");

// A user's SIP account: empty (none) or an id (that it is the tenant's the database checks).
std::string checkLinkedSipAccount(const std::string& id) {
  return id.empty() || isUuid(id) ? "" : "a SIP account's id, or empty for none";
}

}  // namespace

grpc::Status completeRoute(const v1::NumberRoute& route, v1::NumberRoute* out) {
  using Kind = v1::NumberRoute;
  const bool extensions = route.kind() == Kind::KIND_EXTENSIONS;
  const bool external = route.kind() == Kind::KIND_EXTERNAL;
  if (!extensions && !external && route.kind() != Kind::KIND_NONE) {
    return invalidArgument("route.kind", "must be one of none, extensions, external");
  }
  if (!extensions && !route.extensions().empty()) {
    return invalidArgument("route.extensions", "must be empty unless kind is extensions");
  }
  if (!external && !route.external().empty()) {
    return invalidArgument("route.external", "must be empty unless kind is external");
  }
  if (extensions) {
    if (route.extensions().empty() || route.extensions_size() > 20) {
      return invalidArgument("route.extensions", "must list 1 to 20 extensions");
    }
    std::set<std::string> seen;
    for (int i = 0; i < route.extensions_size(); ++i) {
      const std::string entry = "entry " + std::to_string(i + 1) + " ";
      if (std::string problem = checkExtension(route.extensions(i)); !problem.empty()) {
        return invalidArgument("route.extensions", entry + problem);
      }
      if (!seen.insert(route.extensions(i)).second) {
        return invalidArgument("route.extensions", entry + "repeats an extension");
      }
    }
  }
  if (external) {
    TEL_CHECK_FIELD("route.external", route.external().empty()
                                          ? "must not be empty when kind is external"
                                          : checkExternalTarget(route.external()));
  }
  const int timeout = route.ring_timeout_seconds() == 0 ? 30 : route.ring_timeout_seconds();
  if (timeout < 5 || timeout > 300) {
    return invalidArgument("route.ring_timeout_seconds", "must be between 5 and 300");
  }
  *out = route;
  out->set_ring_timeout_seconds(timeout);
  return Status::OK;
}

grpc::Status checkCarrierAddresses(
    const google::protobuf::RepeatedPtrField<std::string>& addresses) {
  if (addresses.size() > 32) return invalidArgument("addresses", "must list at most 32 addresses");
  for (int i = 0; i < addresses.size(); ++i) {
    if (std::string problem = checkCarrierAddress(addresses[i]); !problem.empty()) {
      return invalidArgument("addresses", "entry " + std::to_string(i + 1) + " " + problem);
    }
  }
  return Status::OK;
}

grpc::Status parsePage(int32_t limit, const std::string& token, Page* out) {
  if (limit < 0 || limit > 200) return invalidArgument("limit", "must be between 1 and 200");
  out->limit = limit == 0 ? 50 : limit;
  if (!token.empty()) {
    out->after = decodeCursor(token);
    if (!out->after) return invalidArgument("page_token", "is not a token from a previous page");
  }
  return Status::OK;
}

AccountsService::AccountsService(std::shared_ptr<AccountStore> store,
                                 AccountsServiceOptions options, log::Logger logger,
                                 prometheus::Registry& registry)
    : store_(std::move(store)),
      options_(std::move(options)),
      log_(std::move(logger)),
      requests_(prometheus::BuildCounter()
                    .Name("tel_accounts_requests_total")
                    .Help("Accounts gRPC requests by method and status code")
                    .Register(registry)),
      latency_(prometheus::BuildHistogram()
                   .Name("tel_accounts_request_duration_seconds")
                   .Help("Accounts gRPC request handling time by method")
                   .Register(registry)),
      executor_(options_.workers),
      dummy_password_hash_(hashPassword(newUuid(), options_.password_cost)) {}

AccountsService::Reactor* AccountsService::handle(Ctx* context, const char* method,
                                                  std::function<grpc::Status()> handler) {
  const auto started = std::chrono::steady_clock::now();
  return executor_.runUnary(context, [this, method, started, handler = std::move(handler)] {
    Status status = handler();
    const std::string code = std::to_string(static_cast<int>(status.error_code()));
    requests_.Add({{"method", method}, {"code", code}}).Increment();
    latency_.Add({{"method", method}}, metrics::latencyBuckets())
        .Observe(std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
    if (status.error_code() == StatusCode::INTERNAL ||
        status.error_code() == StatusCode::UNAVAILABLE) {
      log_.error("request failed", {{"method", method}, {"error", status.error_message()}});
    }
    return status;
  });
}

grpc::Status AccountsService::installAdminKey(const std::string& admin_key) {
  auto parsed = parseApiKey(admin_key);
  if (!parsed || parsed->kind != kAdminKeyKind) {
    return invalidArgument("admin_key", "is not an admin key (tela_<12>_<43>)");
  }
  return store_->ensureAdminKey(parsed->prefix, crypto::sha256Hex(admin_key));
}

grpc::Status AccountsService::authenticate(const v1::AuthenticateRequest& request,
                                           v1::Principal* out) {
  auto parsed = parseApiKey(request.api_key());
  if (!parsed) return kUnauthenticated;
  StoredKey stored;
  const bool admin = parsed->kind == kAdminKeyKind;
  Status found = admin ? store_->findAdminKey(parsed->prefix, &stored)
                       : store_->findApiKey(parsed->prefix, &stored);
  if (found.error_code() == StatusCode::NOT_FOUND) return kUnauthenticated;
  if (!found.ok()) return found;
  if (stored.revoked ||
      !crypto::constantTimeEquals(stored.hash, crypto::sha256Hex(request.api_key()))) {
    return kUnauthenticated;
  }
  out->set_kind(admin ? v1::Principal::KIND_ADMIN : v1::Principal::KIND_TENANT);
  out->set_tenant_id(stored.tenant_id);
  out->set_key_id(stored.id);
  return Status::OK;
}

grpc::Status AccountsService::createTenant(const v1::CreateTenantRequest& request,
                                           v1::Tenant* out) {
  TEL_CHECK_FIELD("name", checkName(request.name(), 200));
  v1::Tenant tenant;
  tenant.set_id(newUuid());
  tenant.set_name(request.name());
  tenant.set_timezone(request.timezone().empty() ? "UTC" : request.timezone());
  TEL_CHECK_FIELD("timezone", checkTimezone(tenant.timezone()));
  if (request.sip_domain().empty()) {
    // Unique by construction: a short random tail keeps two "Acme" tenants apart.
    tenant.set_sip_domain(slugify(request.name()) + "-" + tenant.id().substr(0, 6) + "." +
                          options_.sip_base_domain);
  } else {
    TEL_CHECK_FIELD("sip_domain", checkSipDomain(request.sip_domain()));
    tenant.set_sip_domain(request.sip_domain());
  }
  Status status = store_->createTenant(tenant, out);
  if (status.ok()) log_.info("tenant created", {{"tenant_id", out->id()}});
  return status;
}

grpc::Status AccountsService::createUser(const v1::CreateUserRequest& request, v1::User* out) {
  if (auto status = checkTenant(request.tenant_id()); !status.ok()) return status;
  TEL_CHECK_FIELD("email", checkEmail(request.email()));
  const std::string role = request.role().empty() ? "agent" : request.role();
  TEL_CHECK_FIELD("role", checkRole(role));
  if (!request.name().empty()) TEL_CHECK_FIELD("name", checkName(request.name(), 200));
  TEL_CHECK_FIELD("password", checkUserPassword(request.password()));
  v1::User user;
  user.set_tenant_id(request.tenant_id());
  // E-mails are compared case-insensitively by people; store them lower-cased.
  std::string email = request.email();
  for (auto& c : email) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  user.set_email(email);
  user.set_name(request.name());
  user.set_role(role);
  TEL_CHECK_FIELD("sip_account_id", checkLinkedSipAccount(request.sip_account_id()));
  user.set_sip_account_id(request.sip_account_id());
  return store_->createUser(user, hashPassword(request.password(), options_.password_cost), out);
}

grpc::Status AccountsService::updateUser(const v1::UpdateUserRequest& request, v1::User* out) {
  if (auto status = checkTenant(request.tenant_id()); !status.ok()) return status;
  if (auto status = checkId(request.id(), "user"); !status.ok()) return status;
  if (request.has_name()) TEL_CHECK_FIELD("name", checkName(request.name(), 200));
  if (request.has_role()) TEL_CHECK_FIELD("role", checkRole(request.role()));
  if (request.has_sip_account_id()) TEL_CHECK_FIELD("sip_account_id", checkLinkedSipAccount(request.sip_account_id()));
  std::optional<std::string> hash;
  if (request.has_password()) {
    TEL_CHECK_FIELD("password", checkUserPassword(request.password()));
    hash = hashPassword(request.password(), options_.password_cost);
  }
  return store_->updateUser(request, hash, out);
}

grpc::Status AccountsService::verifyUserPassword(const v1::VerifyUserPasswordRequest& request,
                                                 v1::User* out) {
  const Status refused(StatusCode::UNAUTHENTICATED, "invalid e-mail or password");
  std::string email = request.email();
  for (auto& c : email) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  std::vector<UserCredentials> candidates;
  if (auto status = store_->findUsersByEmail(email, &candidates); !status.ok()) return status;
  if (candidates.empty()) {
    verifyPassword(request.password(), dummy_password_hash_);  // same cost as a real check
    return refused;
  }
  for (const auto& candidate : candidates) {
    if (!request.tenant_id().empty() && candidate.tenant_id != request.tenant_id()) continue;
    if (verifyPassword(request.password(), candidate.password_hash)) {
      return store_->getUser(candidate.tenant_id, candidate.id, out);
    }
  }
  return refused;
}

grpc::Status AccountsService::createSipAccount(const v1::CreateSipAccountRequest& request,
                                               v1::SipAccount* out) {
  if (auto status = checkTenant(request.tenant_id()); !status.ok()) return status;
  TEL_CHECK_FIELD("username", checkSipUsername(request.username()));
  TEL_CHECK_FIELD("extension", checkExtension(request.extension()));
  if (!request.display_name().empty())
    TEL_CHECK_FIELD("display_name", checkName(request.display_name(), 100));
  std::string password = request.password();
  if (password.empty()) {
    password = generateSipPassword();
  } else {
    TEL_CHECK_FIELD("password", checkSipPassword(password, request.username()));
  }
  v1::Tenant tenant;
  if (auto status = store_->getTenant(request.tenant_id(), &tenant); !status.ok()) return status;
  StoredSipAccount stored;
  stored.account.set_tenant_id(request.tenant_id());
  stored.account.set_username(request.username());
  stored.account.set_extension(request.extension());
  stored.account.set_display_name(request.display_name());
  stored.account.set_outbound_allowed(request.has_outbound_allowed() ? request.outbound_allowed()
                                                                     : true);
  stored.ha1_md5 = digestHa1Md5(request.username(), tenant.sip_domain(), password);
  stored.ha1_sha256 = digestHa1Sha256(request.username(), tenant.sip_domain(), password);
  Status status = store_->createSipAccount(stored, out);
  if (status.ok()) out->set_password(password);  // shown once, never stored
  return status;
}

grpc::Status AccountsService::updateSipAccount(const v1::UpdateSipAccountRequest& request,
                                               v1::SipAccount* out) {
  if (auto status = checkTenant(request.tenant_id()); !status.ok()) return status;
  if (auto status = checkId(request.id(), "SIP account"); !status.ok()) return status;
  if (request.has_extension()) TEL_CHECK_FIELD("extension", checkExtension(request.extension()));
  if (request.has_display_name() && !request.display_name().empty()) {
    TEL_CHECK_FIELD("display_name", checkName(request.display_name(), 100));
  }
  std::optional<std::pair<std::string, std::string>> new_ha1;
  std::string password;
  if (request.has_password()) {
    v1::SipAccount current;
    if (auto status = store_->getSipAccount(request.tenant_id(), request.id(), &current);
        !status.ok()) {
      return status;
    }
    password = request.password().empty() ? generateSipPassword() : request.password();
    TEL_CHECK_FIELD("password", checkSipPassword(password, current.username()));
    new_ha1 = {digestHa1Md5(current.username(), current.sip_domain(), password),
               digestHa1Sha256(current.username(), current.sip_domain(), password)};
  }
  Status status = store_->updateSipAccount(request, new_ha1, out);
  if (status.ok() && new_ha1) out->set_password(password);
  return status;
}

grpc::Status AccountsService::createNumber(const v1::CreateNumberRequest& request,
                                           v1::Number* out) {
  if (auto status = checkTenant(request.tenant_id()); !status.ok()) return status;
  TEL_CHECK_FIELD("e164", checkE164(request.e164()));
  const int channels = request.has_channels() ? request.channels() : 2;
  if (channels < 1 || channels > 1000)
    return invalidArgument("channels", "must be between 1 and 1000");
  if (!request.label().empty()) TEL_CHECK_FIELD("label", checkName(request.label(), 200));
  v1::Number number;
  number.set_tenant_id(request.tenant_id());
  number.set_e164(request.e164());
  number.set_channels(channels);
  number.set_label(request.label());
  if (auto status = completeRoute(request.route(), number.mutable_route()); !status.ok())
    return status;
  return store_->createNumber(number, out);
}

grpc::Status AccountsService::updateNumber(const v1::UpdateNumberRequest& request,
                                           v1::Number* out) {
  if (auto status = checkTenant(request.tenant_id()); !status.ok()) return status;
  if (auto status = checkId(request.id(), "number"); !status.ok()) return status;
  if (request.has_channels() && (request.channels() < 1 || request.channels() > 1000)) {
    return invalidArgument("channels", "must be between 1 and 1000");
  }
  if (request.has_label() && !request.label().empty())
    TEL_CHECK_FIELD("label", checkName(request.label(), 200));
  if (!request.has_route()) return store_->updateNumber(request, out);
  v1::UpdateNumberRequest completed = request;
  if (auto status = completeRoute(request.route(), completed.mutable_route()); !status.ok()) {
    return status;
  }
  return store_->updateNumber(completed, out);
}

grpc::Status AccountsService::createApiKey(const v1::CreateApiKeyRequest& request,
                                           v1::ApiKey* out) {
  if (auto status = checkTenant(request.tenant_id()); !status.ok()) return status;
  if (!request.name().empty()) TEL_CHECK_FIELD("name", checkName(request.name(), 100));
  v1::Tenant tenant;
  if (auto status = store_->getTenant(request.tenant_id(), &tenant); !status.ok()) return status;
  const GeneratedKey generated = generateApiKey(kTenantKeyKind);
  v1::ApiKey key;
  key.set_tenant_id(request.tenant_id());
  key.set_name(request.name());
  key.set_prefix(generated.prefix);
  Status status = store_->createApiKey(key, generated.hash, out);
  if (status.ok()) {
    out->set_secret(generated.key);  // shown once
    log_.info("api key created",
              {{"tenant_id", request.tenant_id()}, {"prefix", generated.prefix}});
  }
  return status;
}

grpc::Status AccountsService::carrierDigest(const std::string& tenant_id,
                                            const std::string& username,
                                            const std::string& password, CarrierDigest* out) {
  *out = {};
  if (username.empty() && password.empty()) return Status::OK;
  if (username.empty()) {
    return invalidArgument("auth_username", "must be set together with auth_password");
  }
  if (password.empty()) {
    return invalidArgument("auth_password", "must be set together with auth_username");
  }
  TEL_CHECK_FIELD("auth_username", checkCarrierUsername(username));
  // The same rules as a SIP account's password: the HA1 values are as guessable as the password.
  TEL_CHECK_FIELD("auth_password", checkSipPassword(password, username));
  // The realm is the tenant's SIP domain, fixed at creation, so the HA1 values stay valid.
  v1::Tenant tenant;
  if (auto status = store_->getTenant(tenant_id, &tenant); !status.ok()) return status;
  out->username = username;
  out->ha1_md5 = digestHa1Md5(username, tenant.sip_domain(), password);
  out->ha1_sha256 = digestHa1Sha256(username, tenant.sip_domain(), password);
  return Status::OK;
}

grpc::Status AccountsService::createCarrier(const v1::CreateCarrierRequest& request,
                                            v1::Carrier* out) {
  if (auto status = checkTenant(request.tenant_id()); !status.ok()) return status;
  TEL_CHECK_FIELD("name", checkName(request.name(), 100));
  if (auto status = checkCarrierAddresses(request.addresses()); !status.ok()) return status;
  if (!request.outbound_uri().empty())
    TEL_CHECK_FIELD("outbound_uri", checkOutboundUri(request.outbound_uri()));
  if (!request.caller_id().empty()) TEL_CHECK_FIELD("caller_id", checkE164(request.caller_id()));
  CarrierDigest auth;
  if (auto status = carrierDigest(request.tenant_id(), request.auth_username(),
                                  request.auth_password(), &auth);
      !status.ok()) {
    return status;
  }
  StoredRegistration registration;
  if (request.has_registration()) {
    if (request.outbound_uri().empty()) {
      return invalidArgument("outbound_uri", "needed to register to the carrier (the registrar)");
    }
    if (auto status = storedRegistration(request.registration(), "", false, &registration);
        !status.ok()) {
      return status;
    }
  }
  v1::Carrier carrier;
  carrier.set_tenant_id(request.tenant_id());
  carrier.set_name(request.name());
  *carrier.mutable_addresses() = request.addresses();
  carrier.set_outbound_uri(request.outbound_uri());
  carrier.set_caller_id(request.caller_id());
  Status status = store_->createCarrier(carrier, auth, registration, out);
  if (status.ok())
    log_.info("carrier created", {{"tenant_id", out->tenant_id()}, {"carrier_id", out->id()}});
  return status;
}

grpc::Status AccountsService::updateCarrier(const v1::UpdateCarrierRequest& request,
                                            v1::Carrier* out) {
  if (auto status = checkTenant(request.tenant_id()); !status.ok()) return status;
  if (auto status = checkId(request.id(), "carrier"); !status.ok()) return status;
  if (request.has_name()) TEL_CHECK_FIELD("name", checkName(request.name(), 100));
  if (!request.replace_addresses() && !request.addresses().empty()) {
    return invalidArgument("addresses", "replace the list with replace_addresses set");
  }
  if (auto status = checkCarrierAddresses(request.addresses()); !status.ok()) return status;
  if (request.has_outbound_uri() && !request.outbound_uri().empty()) {
    TEL_CHECK_FIELD("outbound_uri", checkOutboundUri(request.outbound_uri()));
  }
  if (request.has_caller_id() && !request.caller_id().empty()) {
    TEL_CHECK_FIELD("caller_id", checkE164(request.caller_id()));
  }
  // Credentials change as a pair: both set replaces them, both empty removes them.
  if (request.has_auth_username() && !request.has_auth_password()) {
    return invalidArgument("auth_password",
                           "must be given with auth_username (both empty remove the credentials)");
  }
  if (request.has_auth_password() && !request.has_auth_username()) {
    return invalidArgument("auth_username",
                           "must be given with auth_password (both empty remove the credentials)");
  }
  std::optional<CarrierDigest> new_auth;
  if (request.has_auth_username()) {
    new_auth.emplace();
    if (auto status = carrierDigest(request.tenant_id(), request.auth_username(),
                                    request.auth_password(), &*new_auth);
        !status.ok()) {
      return status;
    }
  }
  RegistrationChange registration;
  if (request.has_registration() && request.remove_registration()) {
    return invalidArgument("remove_registration", "not together with registration");
  }
  if (request.remove_registration()) {
    registration.kind = RegistrationChange::Kind::kRemove;
  } else if (request.has_registration()) {
    std::string contact;
    if (auto status = store_->findRegistrationContact(request.tenant_id(), request.id(), &contact);
        !status.ok()) {
      return status;
    }
    registration.kind = RegistrationChange::Kind::kSet;
    registration.expected_contact = contact;
    if (auto status = storedRegistration(request.registration(), contact, !contact.empty(),
                                         &registration.value);
        !status.ok()) {
      return status;
    }
  }
  Status status = store_->updateCarrier(request, new_auth, registration, out);
  if (status.ok() && registration.kind != RegistrationChange::Kind::kKeep) {
    log_.info(registration.kind == RegistrationChange::Kind::kSet ? "carrier registration set"
                                                                  : "carrier registration removed",
              {{"tenant_id", request.tenant_id()}, {"carrier_id", request.id()}});
  }
  return status;
}

namespace {
// What a sealed registration password is bound to (the row's unguessable contact): a sealed value
// copied into another row does not open there.
std::string registrationContext(const std::string& contact) {
  return "tel carrier registration " + contact;
}
}  // namespace

grpc::Status AccountsService::storedRegistration(const v1::RegistrationSettings& settings,
                                                 std::string contact, bool keep_password,
                                                 StoredRegistration* out) {
  if (options_.credentials_key.empty()) {
    return Status(StatusCode::FAILED_PRECONDITION,
                  "registration: the operator has set no secrets.credentials_key, so the "
                  "platform cannot keep a carrier's password");
  }
  TEL_CHECK_FIELD("registration.username", checkRegistrationUsername(settings.username()));
  if (!settings.password().empty() || !keep_password) {
    TEL_CHECK_FIELD("registration.password", checkRegistrationPassword(settings.password()));
  }
  if (!settings.domain().empty()) {
    TEL_CHECK_FIELD("registration.domain", checkRegistrationDomain(settings.domain()));
  }
  const int32_t expires = settings.expires_seconds() == 0 ? 300 : settings.expires_seconds();
  if (expires < 60 || expires > 3600) {
    return invalidArgument("registration.expires_seconds", "60 to 3600 seconds");
  }
  if (contact.empty()) contact = "r" + crypto::toHex(crypto::randomBytes(16));
  out->username = settings.username();
  out->domain = settings.domain();
  out->expires_seconds = expires;
  if (!settings.password().empty()) {
    out->secret = crypto::sealAes256Gcm(options_.credentials_key, settings.password(),
                                        registrationContext(contact));
  }
  out->contact = std::move(contact);
  return Status::OK;
}

grpc::Status AccountsService::listCarrierRegistrations(v1::CarrierRegistrationList* out) {
  std::vector<SealedRegistration> sealed;
  if (auto status = store_->listRegistrations(&sealed); !status.ok()) return status;
  for (auto& [registration, secret] : sealed) {
    std::optional<std::string> password;
    if (!options_.credentials_key.empty()) {
      password = crypto::openAes256Gcm(options_.credentials_key, secret,
                                       registrationContext(registration.contact_user()));
    }
    if (!password) {
      // Sealed under another key (secrets.credentials_key changed): the tenant must set the
      // password again. Said once per carrier, not at every sip-edge poll.
      std::lock_guard lock(unopenable_mutex_);
      if (unopenable_logged_.insert(registration.carrier_id()).second) {
        log_.error("carrier registration password does not open with this credentials key",
                   {{"tenant_id", registration.tenant_id()},
                    {"carrier_id", registration.carrier_id()}});
      }
      continue;
    }
    registration.set_password(std::move(*password));
    *out->add_registrations() = std::move(registration);
  }
  return Status::OK;
}

grpc::Status AccountsService::reportCarrierRegistration(
    const v1::CarrierRegistrationReport& report) {
  if (auto status = checkTenant(report.tenant_id()); !status.ok()) return status;
  if (auto status = checkId(report.carrier_id(), "carrier"); !status.ok()) return status;
  if (report.state() != "registering" && report.state() != "registered" &&
      report.state() != "failed") {
    return invalidArgument("state", "one of registering, registered, failed");
  }
  if (report.reason().size() > 200) return invalidArgument("reason", "at most 200 bytes");
  return store_->reportRegistration(report);
}

grpc::Status AccountsService::getCarrierCredentials(const v1::GetCarrierCredentialsRequest& request,
                                                    v1::CarrierCredentials* out) {
  if (auto status = checkTenant(request.tenant_id()); !status.ok()) return status;
  // A username that cannot exist (the empty one among them) is simply not found.
  if (!checkCarrierUsername(request.username()).empty()) {
    return grpc_util::notFound("carrier credentials");
  }
  return store_->findCarrierCredentials(request.tenant_id(), request.username(), out);
}

grpc::Status AccountsService::lookupInboundNumber(const v1::LookupInboundNumberRequest& request,
                                                  v1::InboundNumber* out) {
  if (!request.source_ip().empty() && !isIpAddress(request.source_ip())) {
    return invalidArgument("source_ip", "must be an IPv4 or IPv6 address");
  }
  // A number that cannot exist is simply not found.
  if (!checkE164(request.e164()).empty()) return grpc_util::notFound("number");
  return store_->lookupInboundNumber(request.e164(), request.source_ip(), out);
}

grpc::Status AccountsService::getOutboundRoute(const v1::GetOutboundRouteRequest& request,
                                               v1::OutboundRoute* out) {
  if (auto status = checkTenant(request.tenant_id()); !status.ok()) return status;
  Status status = store_->findOutboundRoute(request.tenant_id(), out);
  if (status.error_code() == StatusCode::NOT_FOUND) {
    return Status(StatusCode::FAILED_PRECONDITION, "tenant has no outbound carrier");
  }
  return status;
}

// ---- gRPC entry points: each hands its work to the executor. ----

AccountsService::Reactor* AccountsService::Authenticate(Ctx* c, const v1::AuthenticateRequest* r,
                                                        v1::Principal* o) {
  return handle(c, "Authenticate", [=, this] { return authenticate(*r, o); });
}
AccountsService::Reactor* AccountsService::CreateTenant(Ctx* c, const v1::CreateTenantRequest* r,
                                                        v1::Tenant* o) {
  return handle(c, "CreateTenant", [=, this] { return createTenant(*r, o); });
}
AccountsService::Reactor* AccountsService::ListTenants(Ctx* c, const v1::ListTenantsRequest* r,
                                                       v1::ListTenantsResponse* o) {
  return handle(c, "ListTenants", [=, this] {
    Page page;
    if (auto status = parsePage(r->limit(), r->page_token(), &page); !status.ok()) return status;
    return store_->listTenants(page, o);
  });
}
AccountsService::Reactor* AccountsService::GetTenant(Ctx* c, const v1::GetTenantRequest* r,
                                                     v1::Tenant* o) {
  return handle(c, "GetTenant", [=, this] {
    if (auto status = checkId(r->id(), "tenant"); !status.ok()) return status;
    return store_->getTenant(r->id(), o);
  });
}
AccountsService::Reactor* AccountsService::UpdateTenant(Ctx* c, const v1::UpdateTenantRequest* r,
                                                        v1::Tenant* o) {
  return handle(c, "UpdateTenant", [=, this] {
    if (auto status = checkId(r->id(), "tenant"); !status.ok()) return status;
    if (r->has_name()) TEL_CHECK_FIELD("name", checkName(r->name(), 200));
    if (r->has_timezone()) TEL_CHECK_FIELD("timezone", checkTimezone(r->timezone()));
    if (r->has_recording_retention_days() &&
        (r->recording_retention_days() < 1 || r->recording_retention_days() > 3650)) {
      return invalidArgument("recording_retention_days", "1 to 3650 days");
    }
    return store_->updateTenant(*r, o);
  });
}
AccountsService::Reactor* AccountsService::DeleteTenant(Ctx* c, const v1::DeleteTenantRequest* r,
                                                        v1::Empty*) {
  return handle(c, "DeleteTenant", [=, this] {
    if (auto status = checkId(r->id(), "tenant"); !status.ok()) return status;
    Status status = store_->deleteTenant(r->id());
    if (status.ok()) log_.info("tenant deleted", {{"tenant_id", r->id()}});
    return status;
  });
}

// The tenant-scoped list/get/delete entry points share their shape.
#define TEL_LIST(Method, Store)                                                      \
  return handle(c, #Method, [=, this] {                                              \
    if (auto status = checkTenant(r->tenant_id()); !status.ok()) return status;      \
    Page page;                                                                       \
    if (auto status = parsePage(r->limit(), r->page_token(), &page); !status.ok()) { \
      return status;                                                                 \
    }                                                                                \
    return store_->Store(r->tenant_id(), page, o);                                   \
  })
#define TEL_GET(Method, What, Body)                                             \
  return handle(c, #Method, [=, this] {                                         \
    if (auto status = checkTenant(r->tenant_id()); !status.ok()) return status; \
    if (auto status = checkId(r->id(), What); !status.ok()) return status;      \
    return Body;                                                                \
  })

AccountsService::Reactor* AccountsService::CreateUser(Ctx* c, const v1::CreateUserRequest* r,
                                                      v1::User* o) {
  return handle(c, "CreateUser", [=, this] { return createUser(*r, o); });
}
AccountsService::Reactor* AccountsService::ListUsers(Ctx* c, const v1::ListRequest* r,
                                                     v1::ListUsersResponse* o) {
  TEL_LIST(ListUsers, listUsers);
}
AccountsService::Reactor* AccountsService::GetUser(Ctx* c, const v1::GetRequest* r, v1::User* o) {
  TEL_GET(GetUser, "user", store_->getUser(r->tenant_id(), r->id(), o));
}
AccountsService::Reactor* AccountsService::UpdateUser(Ctx* c, const v1::UpdateUserRequest* r,
                                                      v1::User* o) {
  return handle(c, "UpdateUser", [=, this] { return updateUser(*r, o); });
}
AccountsService::Reactor* AccountsService::DeleteUser(Ctx* c, const v1::GetRequest* r, v1::Empty*) {
  TEL_GET(DeleteUser, "user", store_->deleteRow("users", r->tenant_id(), r->id()));
}
AccountsService::Reactor* AccountsService::VerifyUserPassword(
    Ctx* c, const v1::VerifyUserPasswordRequest* r, v1::User* o) {
  return handle(c, "VerifyUserPassword", [=, this] { return verifyUserPassword(*r, o); });
}
AccountsService::Reactor* AccountsService::CreateSipAccount(Ctx* c,
                                                            const v1::CreateSipAccountRequest* r,
                                                            v1::SipAccount* o) {
  return handle(c, "CreateSipAccount", [=, this] { return createSipAccount(*r, o); });
}
AccountsService::Reactor* AccountsService::ListSipAccounts(Ctx* c, const v1::ListRequest* r,
                                                           v1::ListSipAccountsResponse* o) {
  TEL_LIST(ListSipAccounts, listSipAccounts);
}
AccountsService::Reactor* AccountsService::GetSipAccount(Ctx* c, const v1::GetRequest* r,
                                                         v1::SipAccount* o) {
  TEL_GET(GetSipAccount, "SIP account", store_->getSipAccount(r->tenant_id(), r->id(), o));
}
AccountsService::Reactor* AccountsService::UpdateSipAccount(Ctx* c,
                                                            const v1::UpdateSipAccountRequest* r,
                                                            v1::SipAccount* o) {
  return handle(c, "UpdateSipAccount", [=, this] { return updateSipAccount(*r, o); });
}
AccountsService::Reactor* AccountsService::DeleteSipAccount(Ctx* c, const v1::GetRequest* r,
                                                            v1::Empty*) {
  TEL_GET(DeleteSipAccount, "SIP account",
          store_->deleteRow("sip_accounts", r->tenant_id(), r->id()));
}
AccountsService::Reactor* AccountsService::CreateNumber(Ctx* c, const v1::CreateNumberRequest* r,
                                                        v1::Number* o) {
  return handle(c, "CreateNumber", [=, this] { return createNumber(*r, o); });
}
AccountsService::Reactor* AccountsService::ListNumbers(Ctx* c, const v1::ListRequest* r,
                                                       v1::ListNumbersResponse* o) {
  TEL_LIST(ListNumbers, listNumbers);
}
AccountsService::Reactor* AccountsService::GetNumber(Ctx* c, const v1::GetRequest* r,
                                                     v1::Number* o) {
  TEL_GET(GetNumber, "number", store_->getNumber(r->tenant_id(), r->id(), o));
}
AccountsService::Reactor* AccountsService::UpdateNumber(Ctx* c, const v1::UpdateNumberRequest* r,
                                                        v1::Number* o) {
  return handle(c, "UpdateNumber", [=, this] { return updateNumber(*r, o); });
}
AccountsService::Reactor* AccountsService::DeleteNumber(Ctx* c, const v1::GetRequest* r,
                                                        v1::Empty*) {
  TEL_GET(DeleteNumber, "number", store_->deleteRow("numbers", r->tenant_id(), r->id()));
}
AccountsService::Reactor* AccountsService::CreateApiKey(Ctx* c, const v1::CreateApiKeyRequest* r,
                                                        v1::ApiKey* o) {
  return handle(c, "CreateApiKey", [=, this] { return createApiKey(*r, o); });
}
AccountsService::Reactor* AccountsService::ListApiKeys(Ctx* c, const v1::ListRequest* r,
                                                       v1::ListApiKeysResponse* o) {
  TEL_LIST(ListApiKeys, listApiKeys);
}
AccountsService::Reactor* AccountsService::RevokeApiKey(Ctx* c, const v1::GetRequest* r,
                                                        v1::ApiKey* o) {
  TEL_GET(RevokeApiKey, "API key", store_->revokeApiKey(r->tenant_id(), r->id(), o));
}

AccountsService::Reactor* AccountsService::GetSipCredentials(Ctx* c,
                                                             const v1::GetSipCredentialsRequest* r,
                                                             v1::SipCredentials* o) {
  return handle(c, "GetSipCredentials", [=, this] {
    if (checkSipDomain(r->sip_domain()) != "" || checkSipUsername(r->username()) != "") {
      return grpc_util::notFound("SIP account");  // what cannot exist is simply not found
    }
    return store_->findSipCredentials(r->sip_domain(), r->username(), o);
  });
}

AccountsService::Reactor* AccountsService::CreateCarrier(Ctx* c, const v1::CreateCarrierRequest* r,
                                                         v1::Carrier* o) {
  return handle(c, "CreateCarrier", [=, this] { return createCarrier(*r, o); });
}
AccountsService::Reactor* AccountsService::ListCarriers(Ctx* c, const v1::ListRequest* r,
                                                        v1::ListCarriersResponse* o) {
  TEL_LIST(ListCarriers, listCarriers);
}
AccountsService::Reactor* AccountsService::GetCarrier(Ctx* c, const v1::GetRequest* r,
                                                      v1::Carrier* o) {
  TEL_GET(GetCarrier, "carrier", store_->getCarrier(r->tenant_id(), r->id(), o));
}
AccountsService::Reactor* AccountsService::UpdateCarrier(Ctx* c, const v1::UpdateCarrierRequest* r,
                                                         v1::Carrier* o) {
  return handle(c, "UpdateCarrier", [=, this] { return updateCarrier(*r, o); });
}
AccountsService::Reactor* AccountsService::DeleteCarrier(Ctx* c, const v1::GetRequest* r,
                                                         v1::Empty*) {
  TEL_GET(DeleteCarrier, "carrier", store_->deleteRow("carriers", r->tenant_id(), r->id()));
}

AccountsService::Reactor* AccountsService::LookupInboundNumber(
    Ctx* c, const v1::LookupInboundNumberRequest* r, v1::InboundNumber* o) {
  return handle(c, "LookupInboundNumber", [=, this] { return lookupInboundNumber(*r, o); });
}
AccountsService::Reactor* AccountsService::ResolveExtension(Ctx* c,
                                                            const v1::ResolveExtensionRequest* r,
                                                            v1::SipAccount* o) {
  return handle(c, "ResolveExtension", [=, this] {
    if (auto status = checkTenant(r->tenant_id()); !status.ok()) return status;
    if (!checkExtension(r->extension()).empty()) return grpc_util::notFound("SIP account");
    return store_->findSipAccountByExtension(r->tenant_id(), r->extension(), o);
  });
}
AccountsService::Reactor* AccountsService::GetOutboundRoute(Ctx* c,
                                                            const v1::GetOutboundRouteRequest* r,
                                                            v1::OutboundRoute* o) {
  return handle(c, "GetOutboundRoute", [=, this] { return getOutboundRoute(*r, o); });
}
AccountsService::Reactor* AccountsService::ListCarrierRegistrations(
    Ctx* c, const v1::ListCarrierRegistrationsRequest*, v1::CarrierRegistrationList* o) {
  return handle(c, "ListCarrierRegistrations", [=, this] { return listCarrierRegistrations(o); });
}
AccountsService::Reactor* AccountsService::ReportCarrierRegistration(
    Ctx* c, const v1::CarrierRegistrationReport* r, v1::Empty*) {
  return handle(c, "ReportCarrierRegistration",
                [=, this] { return reportCarrierRegistration(*r); });
}
AccountsService::Reactor* AccountsService::GetCarrierCredentials(
    Ctx* c, const v1::GetCarrierCredentialsRequest* r, v1::CarrierCredentials* o) {
  return handle(c, "GetCarrierCredentials", [=, this] { return getCarrierCredentials(*r, o); });
}

}  // namespace tel::accounts
