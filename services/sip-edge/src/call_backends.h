#pragma once

#include <absl/status/statusor.h>

#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "digest_auth.h"
#include "tel/accounts/v1/accounts.grpc.pb.h"
#include "tel/accounts_client/extension_resolver.h"
#include "tel/cache/ttl_cache.h"
#include "tel/calls/v1/calls.pb.h"
#include "tel/kafka/kafka.h"
#include "tel/log/log.h"
#include "tel/media/v1/media_relay.pb.h"
#include "tel/media_link/control_client.h"
#include "tel/redis/redis_client.h"

// What the B2BUA needs from the rest of the platform, each behind a small interface. Every method
// here except EventSink::publish blocks (gRPC, Redis, the media-relay control link) and runs on a
// worker thread, never on the SIP thread.
namespace tel::sip {

struct CarrierDigest {
  std::string carrier_id;
  DigestCredentials digest;
};

// A carrier's line the platform registered (see CarrierRegistrations): an INVITE to its contact
// user is that carrier delivering a call.
struct RegisteredLine {
  std::string tenant_id;
  std::string carrier_id;
  std::string username;  // what the platform registered as (often the line's number)
};

class RegisteredLines {
 public:
  virtual ~RegisteredLines() = default;
  // Thread-safe. nullopt: no registration has this contact user.
  virtual std::optional<RegisteredLine> lineForContact(const std::string& user) const = 0;
  // Thread-safe. What the platform registers to the carrier with, which the carrier also asks for
  // when it challenges a call; nullopt when the platform registers nowhere there.
  struct Credentials {
    std::string tenant_id;  // the carrier's
    std::string username;
    std::string password;
  };
  virtual std::optional<Credentials> credentialsFor(const std::string& carrier_id) const = 0;
};

// The tenant a dialled number belongs to, and whether the caller is one of its carriers.
class NumberDirectory {
 public:
  virtual ~NumberDirectory() = default;
  // nullopt: no tenant has this number.
  virtual absl::StatusOr<std::optional<accounts::v1::InboundNumber>> lookupInbound(
      const std::string& e164, const std::string& source_ip) = 0;
  // true: the tenant has an account with this extension (the call is internal).
  virtual absl::StatusOr<bool> isExtension(const std::string& tenant_id,
                                           const std::string& extension) = 0;
  // nullopt: no carrier of the tenant authenticates as `username`.
  virtual absl::StatusOr<std::optional<CarrierDigest>> carrierCredentials(
      const std::string& tenant_id, const std::string& username) = 0;
};

// Found numbers and extensions are kept for `cache_ttl` (a route or carrier change reaches calls
// that much later); misses are not kept, so a new number works at once.
class AccountsNumberDirectory final : public NumberDirectory {
 public:
  AccountsNumberDirectory(std::shared_ptr<accounts::v1::Accounts::StubInterface> stub,
                          std::chrono::milliseconds timeout, std::chrono::milliseconds cache_ttl)
      : stub_(std::move(stub)),
        timeout_(timeout),
        numbers_(cache_ttl, 100000),
        extensions_(stub_, timeout, cache_ttl) {}
  absl::StatusOr<std::optional<accounts::v1::InboundNumber>> lookupInbound(
      const std::string& e164, const std::string& source_ip) override;
  absl::StatusOr<bool> isExtension(const std::string& tenant_id,
                                   const std::string& extension) override;
  absl::StatusOr<std::optional<CarrierDigest>> carrierCredentials(
      const std::string& tenant_id, const std::string& username) override;

 private:
  std::shared_ptr<accounts::v1::Accounts::StubInterface> stub_;
  std::chrono::milliseconds timeout_;
  cache::TtlCache<accounts::v1::InboundNumber> numbers_;  // by e164 and source address
  accounts_client::ExtensionResolver extensions_;
};

// Concurrent calls per number, shared by every sip-edge instance.
class ChannelLimiter {
 public:
  virtual ~ChannelLimiter() = default;
  // Takes one of the number's `channels` for `call_id`; false when all are in use.
  virtual absl::StatusOr<bool> acquire(const std::string& tenant_id, const std::string& number_id,
                                       const std::string& call_id, int channels) = 0;
  virtual absl::Status release(const std::string& tenant_id, const std::string& number_id,
                               const std::string& call_id) = 0;
};

// The counter of a concurrency limit (DialRequest.limits) among a tenant's channel counters.
inline std::string limitCounterName(const std::string& key) { return "limit:" + key; }

// A sorted set per number in Redis: member = call id, score = when the hold lapses. A sip-edge
// that dies mid-call cannot release its channels, so every hold lapses after `max_hold` (longer
// than any call is allowed to last) and lapsed holds are swept on the next acquire.
class RedisChannelLimiter final : public ChannelLimiter {
 public:
  RedisChannelLimiter(std::shared_ptr<redis::RedisClient> redis, std::chrono::seconds max_hold)
      : redis_(std::move(redis)), max_hold_(max_hold) {}
  absl::StatusOr<bool> acquire(const std::string& tenant_id, const std::string& number_id,
                               const std::string& call_id, int channels) override;
  absl::Status release(const std::string& tenant_id, const std::string& number_id,
                       const std::string& call_id) override;
  static std::string key(const std::string& tenant_id, const std::string& number_id);

 private:
  std::shared_ptr<redis::RedisClient> redis_;
  std::chrono::seconds max_hold_;
};

struct RelayEndpoint {
  std::string ip;
  int port = 0;
};

// The codec and DTMF payload type sip-edge would answer a party with itself (an application's
// Answer): what the relay plays to the leg in and hears its digits by.
struct LegAudio {
  int audio_payload_type = 0;  // 0 PCMU, 8 PCMA
  int event_payload_type = 0;  // RFC 4733 telephone-event; 0: the party offered none
};

// What a media session leaves when it is deleted: each leg's final counters, and the call's
// recording when it was recorded.
struct MediaTotals {
  std::map<std::string, calls::v1::MediaCounters> legs;  // by leg id
  std::optional<calls::v1::CallRecording> recording;
};

// A leg created together with its session.
struct NewLeg {
  std::string id;
  std::optional<RelayEndpoint> remote;  // from the leg's SDP; unknown yet for a callee's leg
  std::optional<LegAudio> audio{};      // the caller's: see Admission::caller_audio
};

struct CreatedSession {
  std::string session_id;
  std::vector<RelayEndpoint> legs;  // the local address of each leg created with the session
  std::string relay;  // the media-relay holding it (gRPC address); empty with a single relay
};

// media-relay: one session per call, one leg per SIP dialog side. A call to one target costs
// three requests: the session with the caller's leg and the first callee leg, the answer (the
// callee's address and the link) and the end; each further callee leg (parallel ringing, a second
// dial) one more.
class MediaControl {
 public:
  virtual ~MediaControl() = default;
  // The session with its first legs, all or nothing; `legs` is not empty.
  virtual absl::StatusOr<CreatedSession> createSession(const std::string& tenant_id,
                                                       const std::string& call_id,
                                                       const std::vector<NewLeg>& legs) = 0;
  // Allocates the leg's ports; `remote` (from the leg's SDP) may be unknown yet.
  virtual absl::StatusOr<RelayEndpoint> addLeg(const std::string& session_id,
                                               const std::string& leg_id,
                                               const std::optional<RelayEndpoint>& remote) = 0;
  virtual absl::Status updateLeg(const std::string& session_id, const std::string& leg_id,
                                 const RelayEndpoint& remote) = 0;
  // Links the two legs, after setting leg_b's remote address when given (the answer's SDP).
  virtual absl::Status link(const std::string& session_id, const std::string& leg_a,
                            const std::string& leg_b,
                            const std::optional<RelayEndpoint>& leg_b_remote) = 0;
  // Starts (or replaces) the leg's playback of the tenant's prompts; returns one pass's length.
  virtual absl::StatusOr<uint32_t> play(const std::string& session_id, const std::string& leg_id,
                                        const std::string& playback_id,
                                        const std::vector<std::string>& prompts, bool loop) = 0;
  virtual absl::Status stopPlayback(const std::string& session_id, const std::string& leg_id) = 0;
  // Records the two (linked) legs' parties, leg_a on the left channel, or with leg_b empty leg_a's
  // party alone (mono); the file is finished by stopRecording or when the session is deleted, which
  // reports it. `silence` > 0: a SilenceDetected media event once leg_a has been silent that long.
  virtual absl::Status startRecording(const std::string& session_id, const std::string& leg_a,
                                      const std::string& leg_b, std::chrono::milliseconds silence) = 0;
  virtual absl::StatusOr<calls::v1::CallRecording> stopRecording(const std::string& session_id) = 0;
  // Frees the ports; returns each leg's final counters by leg id.
  virtual absl::StatusOr<MediaTotals> deleteSession(
      const std::string& session_id) = 0;
};

// Media sessions another (lost) sip-edge instance created: ended by the survivors, which know only
// the relay's address and the session id.
class OrphanedMedia {
 public:
  virtual ~OrphanedMedia() = default;
  virtual absl::StatusOr<MediaTotals> deleteSessionAt(
      const std::string& relay, const std::string& session_id) = 0;
};

// MediaControl on one media-relay's control link (media_relay.proto's ControlRequest): a request
// is a frame on a TCP connection the calling worker has to itself, not a gRPC call.
class RelayLinkControl final : public MediaControl {
 public:
  // `controller`: this sip-edge's instance name, so that the relay sends the sessions' events to
  // the subscription it makes (media_link::EventSubscription).
  RelayLinkControl(std::string host, int port, std::chrono::milliseconds timeout,
                   std::string controller = "")
      : link_(std::move(host), port, timeout), controller_(std::move(controller)) {}
  int port() const { return link_.port(); }
  absl::StatusOr<CreatedSession> createSession(const std::string& tenant_id,
                                               const std::string& call_id,
                                               const std::vector<NewLeg>& legs) override;
  absl::StatusOr<RelayEndpoint> addLeg(const std::string& session_id, const std::string& leg_id,
                                       const std::optional<RelayEndpoint>& remote) override;
  absl::Status updateLeg(const std::string& session_id, const std::string& leg_id,
                         const RelayEndpoint& remote) override;
  absl::Status link(const std::string& session_id, const std::string& leg_a,
                    const std::string& leg_b,
                    const std::optional<RelayEndpoint>& leg_b_remote) override;
  absl::StatusOr<uint32_t> play(const std::string& session_id, const std::string& leg_id,
                                const std::string& playback_id,
                                const std::vector<std::string>& prompts, bool loop) override;
  absl::Status stopPlayback(const std::string& session_id, const std::string& leg_id) override;
  absl::Status startRecording(const std::string& session_id, const std::string& leg_a,
                              const std::string& leg_b, std::chrono::milliseconds silence) override;
  absl::StatusOr<calls::v1::CallRecording> stopRecording(const std::string& session_id) override;
  absl::StatusOr<MediaTotals> deleteSession(
      const std::string& session_id) override;

 private:
  media_link::ControlClient link_;
  const std::string controller_;
};

// Call events to Kafka. publish() does not block (the producer queues and batches).
class EventSink {
 public:
  virtual ~EventSink() = default;
  virtual void publish(const std::string& tenant_id, const std::string& call_id, uint64_t sequence,
                       const calls::v1::CallEvent& event) = 0;
};

class KafkaEventSink final : public EventSink {
 public:
  KafkaEventSink(kafka::Producer& producer, std::string producer_name, log::Logger logger)
      : producer_(producer), producer_name_(std::move(producer_name)), log_(std::move(logger)) {}
  void publish(const std::string& tenant_id, const std::string& call_id, uint64_t sequence,
               const calls::v1::CallEvent& event) override;

 private:
  kafka::Producer& producer_;
  std::string producer_name_;
  log::Logger log_;
};

}  // namespace tel::sip
