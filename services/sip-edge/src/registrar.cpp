#include "registrar.h"

#include "tel/crypto/crypto.h"

namespace tel::sip {
namespace {

SipResponse unavailable() { return {503, "Service Unavailable", {{"Retry-After", "5"}}}; }

}  // namespace

Registrar::Registrar(const DigestAuthenticator& authenticator, CredentialsSource& credentials,
                     Bindings& bindings, RegistrarOptions options, log::Logger logger,
                     prometheus::Registry& registry)
    : authenticator_(authenticator),
      credentials_(credentials),
      bindings_(bindings),
      options_(options),
      log_(std::move(logger)),
      outcomes_(prometheus::BuildCounter()
                    .Name("tel_sip_registrations_total")
                    .Help("REGISTER requests by outcome")
                    .Register(registry)),
      decoy_{crypto::md5Hex(crypto::randomBytes(16)), crypto::sha256Hex(crypto::randomBytes(16))} {
  // Every outcome exists from the start, so that rates over them are defined.
  for (const char* outcome :
       {"registered", "unregistered", "queried", "challenged", "stale", "bad_nonce",
        "wrong_credentials", "forbidden", "interval_too_brief", "malformed", "error"}) {
    outcomes_.Add({{"outcome", outcome}});
  }
}

void Registrar::count(const char* outcome) { outcomes_.Add({{"outcome", outcome}}).Increment(); }

SipResponse Registrar::challenge(const std::string& realm,
                                 DigestAuthenticator::Clock::time_point now, bool stale,
                                 const char* outcome) {
  count(outcome);
  SipResponse response{401, "Unauthorized", {}};
  for (auto& value : authenticator_.challenges(realm, now, stale)) {
    response.headers.emplace_back("WWW-Authenticate", std::move(value));
  }
  return response;
}

SipResponse Registrar::handle(const RegisterRequest& request,
                              DigestAuthenticator::Clock::time_point now) {
  if (request.aor_user.empty() || request.aor_domain.empty()) {
    count("malformed");
    return {400, "Bad Request", {}};
  }
  if (!request.digest || request.digest->realm != request.aor_domain) {
    return challenge(request.aor_domain, now, false, "challenged");
  }
  const DigestResponse& digest = *request.digest;
  auto found = credentials_.find(request.aor_domain, digest.username);
  if (!found.ok()) {
    count("error");
    log_.error("credentials lookup failed",
               {{"domain", request.aor_domain}, {"error", std::string(found.status().message())}});
    return unavailable();
  }
  const DigestCredentials& credentials = *found ? (*found)->digest : decoy_;
  switch (authenticator_.verify(digest, "REGISTER", credentials, now)) {
    case DigestVerdict::kMalformed:
      count("malformed");
      return {400, "Bad Authorization Header", {}};
    case DigestVerdict::kBadNonce:
      return challenge(request.aor_domain, now, false, "bad_nonce");
    case DigestVerdict::kStaleNonce:
      return challenge(request.aor_domain, now, true, "stale");
    case DigestVerdict::kWrongResponse: {
      log_.warn(
          "registration refused",
          {{"domain", request.aor_domain}, {"user", digest.username}, {"source", request.source}});
      auto response = challenge(request.aor_domain, now, false, "wrong_credentials");
      response.authentication_failed = true;
      return response;
    }
    case DigestVerdict::kOk:
      break;
  }
  const SipAccountCredentials& account = **found;
  // The nonce count must grow: an answer seen before is a replay.
  uint64_t nonce_count = 1;
  if (!digest.nc.empty()) {
    try {
      nonce_count = std::stoull(digest.nc, nullptr, 16);
    } catch (const std::exception&) {
      count("malformed");
      return {400, "Bad Authorization Header", {}};
    }
  }
  auto fresh = bindings_.acceptNonceCount(digest.nonce, nonce_count, 600);
  if (!fresh.ok()) {
    count("error");
    return unavailable();
  }
  if (!*fresh) return challenge(request.aor_domain, now, false, "replayed");
  // An account registers its own address only.
  if (digest.username != request.aor_user) {
    count("forbidden");
    return {403, "Forbidden", {}};
  }
  return applyBindings(
      request, account,
      std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count());
}

SipResponse Registrar::applyBindings(const RegisterRequest& request,
                                     const SipAccountCredentials& account, int64_t now) {
  auto log =
      log_.withFields({{"tenant_id", account.tenant_id}, {"account_id", account.account_id}});
  if (request.wildcard) {
    if (request.expires_header.value_or(-1) != 0 || request.contacts.size() > 0) {
      count("malformed");
      return {400, "Bad Request", {}};
    }
    if (!bindings_.removeAll(account.tenant_id, account.account_id).ok()) return unavailable();
    count("unregistered");
    log.info("all bindings removed");
    return {200, "OK", {}};
  }
  for (const auto& contact : request.contacts) {
    const int64_t expires =
        contact.expires.value_or(request.expires_header.value_or(options_.default_expires));
    if (expires != 0 && expires < options_.min_expires) {
      count("interval_too_brief");
      return {423, "Interval Too Brief", {{"Min-Expires", std::to_string(options_.min_expires)}}};
    }
  }
  for (const auto& contact : request.contacts) {
    int64_t expires =
        contact.expires.value_or(request.expires_header.value_or(options_.default_expires));
    absl::Status status;
    if (expires == 0) {
      status = bindings_.remove(account.tenant_id, account.account_id, contact.uri);
    } else {
      expires = std::min(expires, options_.max_expires);
      status = bindings_.upsert(account.tenant_id, account.account_id,
                                {contact.uri, now + expires, request.source, request.user_agent,
                                 request.call_id, request.cseq, request.path});
    }
    if (!status.ok()) {
      count("error");
      return unavailable();
    }
  }
  auto current = bindings_.list(account.tenant_id, account.account_id, now);
  if (!current.ok()) return unavailable();
  SipResponse response{200, "OK", {}};
  // RFC 3327 section 5.3: the registrar returns the Path it stored.
  if (!request.path.empty() && !request.contacts.empty())
    response.headers.emplace_back("Path", request.path);
  for (const auto& binding : *current) {
    response.headers.emplace_back(
        "Contact", "<" + binding.contact + ">;expires=" + std::to_string(binding.expires_at - now));
  }
  count(request.contacts.empty() ? "queried" : "registered");
  log.info("registration",
           {{"contacts", std::to_string(current->size())}, {"source", request.source}});
  return response;
}

}  // namespace tel::sip
