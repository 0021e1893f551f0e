#pragma once

#include <prometheus/counter.h>
#include <prometheus/registry.h>

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "bindings.h"
#include "digest_auth.h"
#include "tel/log/log.h"

namespace tel::sip {

struct SipAccountCredentials {
  std::string tenant_id;
  std::string account_id;
  std::string extension;
  DigestCredentials digest;
  bool outbound_allowed = false;  // may call numbers outside the platform
};

// Looks up the account allowed to register as username@domain. nullopt: no such account.
class CredentialsSource {
 public:
  virtual ~CredentialsSource() = default;
  virtual absl::StatusOr<std::optional<SipAccountCredentials>> find(
      const std::string& domain, const std::string& username) = 0;
};

struct ContactEntry {
  std::string uri;
  std::optional<int64_t> expires;  // the contact's expires parameter
};

// What the SIP thread copies out of a REGISTER (no SIP stack types beyond this point).
struct RegisterRequest {
  std::string aor_user;
  std::string aor_domain;
  std::optional<DigestResponse> digest;
  std::vector<ContactEntry> contacts;
  bool wildcard = false;  // "Contact: *"
  std::optional<int64_t> expires_header;
  std::string source;  // host:port the REGISTER came from
  std::string source_ip;
  std::string path;  // its Path headers as a route set (RFC 3327), empty when none
  std::string user_agent;
  std::string call_id;
  uint32_t cseq = 0;
};

struct SipResponse {
  int status = 500;
  // Static storage only (a string literal): nua_respond() keeps this pointer, unread, until its
  // stack takes the response off its queue, after the SipResponse is gone.
  const char* phrase = "Server Internal Error";
  std::vector<std::pair<std::string, std::string>> headers;  // name, value; repeated names allowed
  bool authentication_failed = false;  // wrong credentials: counts towards banning the source
};

struct RegistrarOptions {
  int64_t min_expires = 60;
  int64_t max_expires = 3600;
  int64_t default_expires = 600;
};

// The registrar (RFC 3261 section 10.3) with digest authentication. handle() does blocking I/O
// (credentials, Redis) and so runs on a worker thread, never on the SIP thread.
//
// Unknown users and wrong passwords get the same answer, after the same work: a response is
// always checked, against decoy credentials when the user does not exist.
class Registrar {
 public:
  Registrar(const DigestAuthenticator& authenticator, CredentialsSource& credentials,
            Bindings& bindings, RegistrarOptions options, log::Logger logger,
            prometheus::Registry& registry);

  SipResponse handle(const RegisterRequest& request, DigestAuthenticator::Clock::time_point now);

 private:
  SipResponse challenge(const std::string& realm, DigestAuthenticator::Clock::time_point now,
                        bool stale, const char* outcome);
  SipResponse applyBindings(const RegisterRequest& request, const SipAccountCredentials& account,
                            int64_t now);
  void count(const char* outcome);

  const DigestAuthenticator& authenticator_;
  CredentialsSource& credentials_;
  Bindings& bindings_;
  RegistrarOptions options_;
  log::Logger log_;
  prometheus::Family<prometheus::Counter>& outcomes_;
  DigestCredentials decoy_;
};

}  // namespace tel::sip
