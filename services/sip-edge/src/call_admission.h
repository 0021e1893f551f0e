#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "bindings.h"
#include "call_backends.h"
#include "digest_auth.h"
#include "registrar.h"
#include "sdp.h"
#include "tel/log/log.h"

namespace tel::sip {

// What the SIP thread copies out of a new INVITE for admission.
struct InviteRequest {
  std::string call_id;       // ours (a UUID), used everywhere after this point
  std::string request_user;  // the dialled number or extension
  std::string request_host;
  std::string from_user;
  std::string to_user;    // the number a carrier delivering to a registered contact names
  std::string source_ip;  // where the INVITE came from (after NAT)
  std::optional<DigestResponse> proxy_authorization;
  AudioEndpoint caller_media;
  std::string caller_sdp;  // the offer, for the codec an application's Answer would choose
};

// Leg ids in a call's media session: the caller's leg is "a"; callee legs are numbered by dial and
// then by order within it, from 1 ("b1.1" is the first leg of the first dial).
std::string calleeLegId(int dial, size_t index);

// The verdict on a new INVITE. Either a SIP refusal, or an admitted call with its tenant, media
// session and (for calls to a number) a held channel.
struct Admission {
  std::optional<SipResponse> refusal;
  std::string tenant_id;
  calls::v1::Direction direction = calls::v1::DIRECTION_UNSPECIFIED;
  std::string caller;
  std::string called;
  std::string number_id;          // inbound: the number called
  bool holds_channel = false;     // one of the number's channels is held for this call
  std::string caller_account_id;  // outbound / internal
  bool caller_outbound_allowed = false;
  std::string media_session;
  std::string media_relay;     // the relay holding media_session
  RelayEndpoint caller_relay;  // where the caller must send its audio
  // What sip-edge answers with should an application answer the caller itself (the relay knows
  // it from the start, so an Answer needs no request); nullopt: the caller offers no G.711.
  std::optional<ChosenAudio> caller_audio;
  // The ports of calleeLegId(1, 1), made with the session: almost every call dials, and the first
  // callee leg then costs no request of its own.
  RelayEndpoint first_callee_relay;
};

struct CallAdmissionOptions {
  // Request-URI hosts that mean "a carrier calling one of our numbers" (besides IP literals). Any
  // other host is a tenant's SIP domain, and the caller must authenticate as an account there.
  std::vector<std::string> carrier_hosts;
};

// Decides who a new INVITE is (a tenant's carrier calling a number, or an account calling out),
// checks it, and sets up what the call needs before it is offered to an application. Blocking:
// runs on worker threads.
class CallAdmission {
 public:
  CallAdmission(CallAdmissionOptions options, NumberDirectory& numbers,
                const RegisteredLines& lines, CredentialsSource& credentials, Bindings& nonces,
                const DigestAuthenticator& authenticator, ChannelLimiter& channels,
                MediaControl& media, log::Logger logger);

  Admission admit(const InviteRequest& invite, DigestAuthenticator::Clock::time_point now);
  // Gives back what an admitted call holds (its channel). The media session is deleted by the B2BUA
  // together with the counters it reads.
  void release(const Admission& admission, const std::string& call_id);

  // Concurrency limits a dial asks for (DialRequest.limits), counted like a number's channels. Takes
  // a slot of each for the call, all or none: nullopt when all were taken, else the key that was
  // full, or an error when the counters cannot be read.
  absl::StatusOr<std::optional<std::string>> holdLimits(const std::string& tenant_id, const std::string& call_id,
                                                        const std::vector<std::pair<std::string, int>>& limits);
  void releaseLimits(const std::string& tenant_id, const std::string& call_id, const std::vector<std::string>& keys);

 private:
  bool isCarrierHost(const std::string& host) const;
  Admission admitFromCarrier(const InviteRequest& invite,
                             DigestAuthenticator::Clock::time_point now);
  // A carrier calling the contact the platform registered at it: its own call, for the number in
  // To (else the registered username, often the line's number) if that is the tenant's.
  Admission admitFromRegisteredLine(const InviteRequest& invite, const RegisteredLine& line);
  // The tenant's number `e164` found for a caller already known to be the tenant's carrier: holds a
  // channel and sets up media.
  Admission admitInbound(const InviteRequest& invite, const accounts::v1::InboundNumber& number,
                         const std::string& e164);
  Admission admitFromAccount(const InviteRequest& invite,
                             DigestAuthenticator::Clock::time_point now);
  // nullopt when the caller is one of the number's tenant's carriers; else the refusal.
  std::optional<SipResponse> authenticateCarrier(const InviteRequest& invite,
                                                 const accounts::v1::InboundNumber& number,
                                                 DigestAuthenticator::Clock::time_point now);
  // Checks the INVITE's Proxy-Authorization against `credentials` (nullptr: unknown user, checked
  // against decoys) and the nonce count; nullopt when it is right.
  std::optional<SipResponse> checkDigest(const InviteRequest& invite, const std::string& realm,
                                         const DigestCredentials* credentials,
                                         DigestAuthenticator::Clock::time_point now);
  bool setUpMedia(Admission& admission, const InviteRequest& invite);
  SipResponse challenge(const std::string& realm, DigestAuthenticator::Clock::time_point now,
                        bool stale);

  CallAdmissionOptions options_;
  NumberDirectory& numbers_;
  const RegisteredLines& lines_;
  CredentialsSource& credentials_;
  Bindings& nonces_;
  const DigestAuthenticator& authenticator_;
  ChannelLimiter& channels_;
  MediaControl& media_;
  log::Logger log_;
  DigestCredentials decoy_;
};

}  // namespace tel::sip
