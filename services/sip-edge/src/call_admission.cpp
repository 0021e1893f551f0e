#include "call_admission.h"

#include <arpa/inet.h>

#include <algorithm>

#include "tel/crypto/crypto.h"
#include "tel/phone/e164.h"

namespace tel::sip {
namespace {

SipResponse refuse(int status, const char* phrase) {
  return SipResponse{status, phrase, {}};
}

SipResponse unavailable() {
  return SipResponse{503, "Service Unavailable", {{"Retry-After", "5"}}};
}

bool isIpLiteral(const std::string& host) {
  in6_addr v6;
  in_addr v4;
  std::string bare = host;
  if (bare.size() > 2 && bare.front() == '[' && bare.back() == ']')
    bare = bare.substr(1, bare.size() - 2);
  return inet_pton(AF_INET, bare.c_str(), &v4) == 1 || inet_pton(AF_INET6, bare.c_str(), &v6) == 1;
}

}  // namespace

CallAdmission::CallAdmission(CallAdmissionOptions options, NumberDirectory& numbers,
                             const RegisteredLines& lines, CredentialsSource& credentials,
                             Bindings& nonces,
                             const DigestAuthenticator& authenticator, ChannelLimiter& channels,
                             MediaControl& media, log::Logger logger)
    : options_(std::move(options)),
      numbers_(numbers),
      lines_(lines),
      credentials_(credentials),
      nonces_(nonces),
      authenticator_(authenticator),
      channels_(channels),
      media_(media),
      log_(std::move(logger)),
      decoy_{crypto::md5Hex(crypto::randomBytes(16)), crypto::sha256Hex(crypto::randomBytes(16))} {}

bool CallAdmission::isCarrierHost(const std::string& host) const {
  if (isIpLiteral(host)) return true;
  return std::find(options_.carrier_hosts.begin(), options_.carrier_hosts.end(), host) !=
         options_.carrier_hosts.end();
}

Admission CallAdmission::admit(const InviteRequest& invite,
                               DigestAuthenticator::Clock::time_point now) {
  if (invite.request_user.empty()) {
    Admission refused;
    refused.refusal = refuse(404, "Not Found");
    return refused;
  }
  // A registered contact's user is unguessable and looks like no number or extension: whatever
  // host the carrier put in the Request-URI, the call is that line's.
  if (auto line = lines_.lineForContact(invite.request_user)) {
    return admitFromRegisteredLine(invite, *line);
  }
  return isCarrierHost(invite.request_host) ? admitFromCarrier(invite, now)
                                            : admitFromAccount(invite, now);
}

Admission CallAdmission::admitFromCarrier(const InviteRequest& invite,
                                          DigestAuthenticator::Clock::time_point now) {
  Admission admission;
  const auto e164 = phone::toE164(invite.request_user);
  if (!e164) {
    admission.refusal = refuse(404, "Not Found");
    return admission;
  }
  auto number = numbers_.lookupInbound(*e164, invite.source_ip);
  if (!number.ok()) {
    log_.error("number lookup failed",
               {{"call_id", invite.call_id}, {"error", std::string(number.status().message())}});
    admission.refusal = unavailable();
    return admission;
  }
  if (!*number) {
    admission.refusal = refuse(404, "Not Found");
    return admission;
  }
  admission.refusal = authenticateCarrier(invite, **number, now);
  if (admission.refusal) return admission;
  return admitInbound(invite, **number, *e164);
}

Admission CallAdmission::admitFromRegisteredLine(const InviteRequest& invite,
                                                 const RegisteredLine& line) {
  for (const std::string* dialled : {&invite.to_user, &line.username}) {
    const auto e164 = phone::toE164(*dialled);
    if (!e164) continue;
    auto number = numbers_.lookupInbound(*e164, invite.source_ip);
    if (!number.ok()) {
      log_.error("number lookup failed",
                 {{"call_id", invite.call_id}, {"error", std::string(number.status().message())}});
      Admission admission;
      admission.refusal = unavailable();
      return admission;
    }
    // Another tenant's number is as unknown as no number: a line delivers to its own tenant.
    if (*number && (*number)->tenant_id() == line.tenant_id) {
      return admitInbound(invite, **number, *e164);
    }
  }
  log_.warn("call on a registered line names no number of the tenant",
            {{"call_id", invite.call_id},
             {"tenant_id", line.tenant_id},
             {"carrier_id", line.carrier_id},
             {"to", invite.to_user}});
  Admission admission;
  admission.refusal = refuse(404, "Not Found");
  return admission;
}

Admission CallAdmission::admitInbound(const InviteRequest& invite,
                                      const accounts::v1::InboundNumber& number,
                                      const std::string& e164) {
  Admission admission;
  admission.tenant_id = number.tenant_id();
  admission.direction = calls::v1::DIRECTION_INBOUND;
  admission.caller = invite.from_user;
  admission.called = e164;
  admission.number_id = number.number_id();
  auto held = channels_.acquire(admission.tenant_id, admission.number_id, invite.call_id,
                                number.channels());
  if (!held.ok()) {
    log_.error("channel count failed",
               {{"call_id", invite.call_id}, {"error", std::string(held.status().message())}});
    admission.refusal = unavailable();
    return admission;
  }
  if (!*held) {
    admission.refusal = refuse(486, "Busy Here");
    return admission;
  }
  admission.holds_channel = true;
  if (!setUpMedia(admission, invite)) {
    release(admission, invite.call_id);
    admission.holds_channel = false;
  }
  return admission;
}

SipResponse CallAdmission::challenge(const std::string& realm,
                                     DigestAuthenticator::Clock::time_point now, bool stale) {
  SipResponse response{407, "Proxy Authentication Required", {}};
  for (auto& value : authenticator_.challenges(realm, now, stale)) {
    response.headers.emplace_back("Proxy-Authenticate", std::move(value));
  }
  return response;
}

std::optional<SipResponse> CallAdmission::checkDigest(const InviteRequest& invite,
                                                      const std::string& realm,
                                                      const DigestCredentials* credentials,
                                                      DigestAuthenticator::Clock::time_point now) {
  const DigestResponse& digest = *invite.proxy_authorization;
  // Unknown users are checked against decoy credentials, so they look like wrong passwords.
  switch (authenticator_.verify(digest, "INVITE", credentials ? *credentials : decoy_, now)) {
    case DigestVerdict::kMalformed:
      return refuse(400, "Bad Proxy-Authorization Header");
    case DigestVerdict::kStaleNonce:
      return challenge(realm, now, true);
    case DigestVerdict::kBadNonce:
    case DigestVerdict::kWrongResponse: {
      log_.warn("call refused: wrong credentials", {{"call_id", invite.call_id},
                                                    {"domain", realm},
                                                    {"user", digest.username},
                                                    {"source", invite.source_ip}});
      SipResponse refusal = refuse(403, "Forbidden");
      refusal.authentication_failed = true;
      return refusal;
    }
    case DigestVerdict::kOk:
      break;
  }
  // The nonce count must grow: an answer seen before is a replay.
  uint64_t nonce_count = 1;
  if (!digest.nc.empty()) {
    try {
      nonce_count = std::stoull(digest.nc, nullptr, 16);
    } catch (const std::exception&) {
      return refuse(400, "Bad Proxy-Authorization Header");
    }
  }
  auto fresh = nonces_.acceptNonceCount(digest.nonce, nonce_count, 3600);
  if (!fresh.ok()) return unavailable();
  if (!*fresh) return challenge(realm, now, true);
  return std::nullopt;
}

Admission CallAdmission::admitFromAccount(const InviteRequest& invite,
                                          DigestAuthenticator::Clock::time_point now) {
  Admission admission;
  const std::string& realm = invite.request_host;
  if (!invite.proxy_authorization || invite.proxy_authorization->realm != realm) {
    admission.refusal = challenge(realm, now, false);
    return admission;
  }
  const std::string& username = invite.proxy_authorization->username;
  auto found = credentials_.find(realm, username);
  if (!found.ok()) {
    log_.error("credentials lookup failed",
               {{"call_id", invite.call_id}, {"error", std::string(found.status().message())}});
    admission.refusal = unavailable();
    return admission;
  }
  admission.refusal = checkDigest(invite, realm, *found ? &(*found)->digest : nullptr, now);
  if (admission.refusal) return admission;
  const SipAccountCredentials& account = **found;
  admission.tenant_id = account.tenant_id;
  admission.caller = account.extension.empty() ? username : account.extension;
  admission.called = invite.request_user;
  admission.caller_account_id = account.account_id;
  admission.caller_outbound_allowed = account.outbound_allowed;
  auto internal = numbers_.isExtension(account.tenant_id, invite.request_user);
  if (!internal.ok()) {
    admission.refusal = unavailable();
    return admission;
  }
  admission.direction = *internal ? calls::v1::DIRECTION_INTERNAL : calls::v1::DIRECTION_OUTBOUND;
  setUpMedia(admission, invite);
  return admission;
}

std::optional<SipResponse> CallAdmission::authenticateCarrier(
    const InviteRequest& invite, const accounts::v1::InboundNumber& number,
    DigestAuthenticator::Clock::time_point now) {
  // Only the tenant's own carriers may deliver calls to its numbers: anyone else reaching the port
  // would otherwise make free calls into (and, through forwarding, out of) the tenant. A carrier
  // is known by its address, or, for tenants whose carriers have credentials, by digest in the
  // tenant's domain.
  if (!number.carrier_id().empty()) return std::nullopt;
  if (!number.carrier_auth()) {
    log_.warn("call from an address that is not the tenant's carrier",
              {{"call_id", invite.call_id},
               {"tenant_id", number.tenant_id()},
               {"source", invite.source_ip}});
    return refuse(403, "Forbidden");
  }
  const std::string& realm = number.sip_domain();
  if (!invite.proxy_authorization || invite.proxy_authorization->realm != realm)
    return challenge(realm, now, false);
  auto found =
      numbers_.carrierCredentials(number.tenant_id(), invite.proxy_authorization->username);
  if (!found.ok()) {
    log_.error("carrier credentials lookup failed",
               {{"call_id", invite.call_id}, {"error", std::string(found.status().message())}});
    return unavailable();
  }
  return checkDigest(invite, realm, *found ? &(*found)->digest : nullptr, now);
}

std::string calleeLegId(int dial, size_t index) {
  return "b" + std::to_string(dial) + "." + std::to_string(index);
}

bool CallAdmission::setUpMedia(Admission& admission, const InviteRequest& invite) {
  NewLeg caller{"a", std::nullopt};
  if (!invite.caller_media.onHold())
    caller.remote = RelayEndpoint{invite.caller_media.ip, invite.caller_media.port};
  if (auto audio = chooseAudio(invite.caller_sdp); audio.ok()) {
    admission.caller_audio = *audio;
    caller.audio = LegAudio{audio->audio_payload_type, audio->event_payload_type};
  }
  auto session = media_.createSession(admission.tenant_id, invite.call_id,
                                      {caller, NewLeg{calleeLegId(1, 1), std::nullopt}});
  if (!session.ok()) {
    log_.error("media set-up failed", {{"call_id", invite.call_id},
                                       {"tenant_id", admission.tenant_id},
                                       {"error", std::string(session.status().message())}});
    admission.refusal = unavailable();
    return false;
  }
  admission.media_session = session->session_id;
  admission.media_relay = session->relay;
  admission.caller_relay = session->legs[0];
  admission.first_callee_relay = session->legs[1];
  return true;
}

absl::StatusOr<std::optional<std::string>> CallAdmission::holdLimits(
    const std::string& tenant_id, const std::string& call_id, const std::vector<std::pair<std::string, int>>& limits) {
  std::vector<std::string> taken;
  for (const auto& [key, max] : limits) {
    auto held = channels_.acquire(tenant_id, limitCounterName(key), call_id, max);
    if (!held.ok() || !*held) {
      releaseLimits(tenant_id, call_id, taken);
      if (!held.ok()) return held.status();
      return std::optional<std::string>(key);
    }
    taken.push_back(key);
  }
  return std::optional<std::string>();
}

void CallAdmission::releaseLimits(const std::string& tenant_id, const std::string& call_id,
                                  const std::vector<std::string>& keys) {
  for (const auto& key : keys) {
    if (auto status = channels_.release(tenant_id, limitCounterName(key), call_id); !status.ok()) {
      // The hold lapses by itself, like a channel's.
      log_.error("limit release failed",
                 {{"call_id", call_id}, {"tenant_id", tenant_id}, {"limit", key}, {"error", std::string(status.message())}});
    }
  }
}

void CallAdmission::release(const Admission& admission, const std::string& call_id) {
  if (!admission.holds_channel) return;
  if (auto status = channels_.release(admission.tenant_id, admission.number_id, call_id);
      !status.ok()) {
    // The hold lapses by itself (see RedisChannelLimiter); until then the number has one channel
    // less.
    log_.error("channel release failed", {{"call_id", call_id},
                                          {"tenant_id", admission.tenant_id},
                                          {"error", std::string(status.message())}});
  }
}

}  // namespace tel::sip
