#include "call_backends.h"

#include <algorithm>

#include "tel/events/call_events.h"
#include "tel/grpc/status.h"

namespace tel::sip {

using AccountsStub = accounts::v1::Accounts::StubInterface;
namespace {

void setEndpoint(media::v1::Endpoint* out, const RelayEndpoint& endpoint) {
  out->set_ip(endpoint.ip);
  out->set_port(static_cast<uint32_t>(endpoint.port));
}

RelayEndpoint endpointOf(const media::v1::Endpoint& endpoint) {
  return RelayEndpoint{endpoint.ip(), static_cast<int>(endpoint.port())};
}

calls::v1::MediaCounters countersOf(const media::v1::LegCounters& counters) {
  calls::v1::MediaCounters result;
  result.set_packets_in(counters.packets_in());
  result.set_packets_out(counters.packets_out());
  result.set_bytes_in(counters.bytes_in());
  result.set_bytes_out(counters.bytes_out());
  return result;
}

calls::v1::CallRecording recordingOf(const media::v1::Recording& file) {
  calls::v1::CallRecording recording;
  recording.set_file(file.file());
  recording.set_duration_ms(file.duration_ms());
  recording.set_bytes(file.bytes());
  recording.set_channels(file.channels());
  return recording;
}

// KEYS[1] = the number's set; ARGV = now, hold until, channels, call id.
constexpr char kAcquireScript[] = R"lua(
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
if redis.call('ZSCORE', KEYS[1], ARGV[4]) then return 1 end
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[3]) then return 0 end
redis.call('ZADD', KEYS[1], ARGV[2], ARGV[4])
redis.call('EXPIREAT', KEYS[1], ARGV[2])
return 1
)lua";

}  // namespace

absl::StatusOr<std::optional<accounts::v1::InboundNumber>> AccountsNumberDirectory::lookupInbound(
    const std::string& e164, const std::string& source_ip) {
  const std::string key = e164 + "|" + source_ip;
  if (auto cached = numbers_.get(key)) return cached;
  accounts::v1::LookupInboundNumberRequest request;
  request.set_e164(e164);
  request.set_source_ip(source_ip);
  accounts::v1::InboundNumber reply;
  const grpc::Status status =
      grpc_util::callUnary(*stub_, &AccountsStub::LookupInboundNumber, request, &reply, timeout_);
  if (status.error_code() == grpc::StatusCode::NOT_FOUND) return std::nullopt;
  if (!status.ok()) return grpc_util::toAbsl("accounts", status);
  numbers_.put(key, reply);
  return reply;
}

absl::StatusOr<bool> AccountsNumberDirectory::isExtension(const std::string& tenant_id,
                                                          const std::string& extension) {
  auto account = extensions_.resolve(tenant_id, extension);
  if (!account.ok()) return account.status();
  return account->has_value();
}

absl::StatusOr<std::optional<CarrierDigest>> AccountsNumberDirectory::carrierCredentials(
    const std::string& tenant_id, const std::string& username) {
  accounts::v1::GetCarrierCredentialsRequest request;
  request.set_tenant_id(tenant_id);
  request.set_username(username);
  accounts::v1::CarrierCredentials reply;
  const grpc::Status status =
      grpc_util::callUnary(*stub_, &AccountsStub::GetCarrierCredentials, request, &reply, timeout_);
  if (status.error_code() == grpc::StatusCode::NOT_FOUND) return std::nullopt;
  if (!status.ok()) return grpc_util::toAbsl("accounts", status);
  return CarrierDigest{reply.carrier_id(), {reply.ha1_md5(), reply.ha1_sha256()}};
}

std::string RedisChannelLimiter::key(const std::string& tenant_id, const std::string& number_id) {
  return "tel:chan:" + tenant_id + ":" + number_id;
}

absl::StatusOr<bool> RedisChannelLimiter::acquire(const std::string& tenant_id,
                                                  const std::string& number_id,
                                                  const std::string& call_id, int channels) {
  const int64_t now = std::chrono::duration_cast<std::chrono::seconds>(
                          std::chrono::system_clock::now().time_since_epoch())
                          .count();
  auto reply = redis_->eval(kAcquireScript, {key(tenant_id, number_id)},
                            {std::to_string(now), std::to_string(now + max_hold_.count()),
                             std::to_string(channels), call_id});
  if (!reply.ok()) return reply.status();
  return reply->integer == 1;
}

absl::Status RedisChannelLimiter::release(const std::string& tenant_id,
                                          const std::string& number_id,
                                          const std::string& call_id) {
  auto reply = redis_->command({"ZREM", key(tenant_id, number_id), call_id});
  return reply.ok() ? absl::OkStatus() : reply.status();
}

absl::StatusOr<CreatedSession> RelayLinkControl::createSession(const std::string& tenant_id,
                                                               const std::string& call_id,
                                                               const std::vector<NewLeg>& legs) {
  media::v1::ControlRequest request;
  auto* create = request.mutable_create_session();
  create->set_tenant_id(tenant_id);
  create->set_call_id(call_id);
  create->set_controller(controller_);
  for (const NewLeg& leg : legs) {
    auto* added = create->add_legs();
    added->set_leg_id(leg.id);
    if (leg.remote) setEndpoint(added->mutable_remote_rtp(), *leg.remote);
    if (leg.audio) {
      added->mutable_media()->set_audio_payload_type(static_cast<uint32_t>(leg.audio->audio_payload_type));
      added->mutable_media()->set_event_payload_type(static_cast<uint32_t>(leg.audio->event_payload_type));
    }
  }
  auto reply = link_.call(std::move(request));
  if (!reply.ok()) return reply.status();
  const media::v1::Session& session = reply->session();
  CreatedSession created{session.session_id(), {}, ""};
  for (const NewLeg& leg : legs) {
    auto found =
        std::find_if(session.legs().begin(), session.legs().end(),
                     [&leg](const media::v1::Leg& made) { return made.leg_id() == leg.id; });
    if (found == session.legs().end())
      return absl::InternalError("media-relay: the session came without leg " + leg.id);
    created.legs.push_back(endpointOf(found->local_rtp()));
  }
  return created;
}

absl::StatusOr<RelayEndpoint> RelayLinkControl::addLeg(const std::string& session_id,
                                                       const std::string& leg_id,
                                                       const std::optional<RelayEndpoint>& remote) {
  media::v1::ControlRequest request;
  auto* add = request.mutable_add_leg();
  add->set_session_id(session_id);
  add->set_leg_id(leg_id);
  if (remote) setEndpoint(add->mutable_remote_rtp(), *remote);
  auto reply = link_.call(std::move(request));
  if (!reply.ok()) return reply.status();
  return endpointOf(reply->leg().local_rtp());
}

absl::Status RelayLinkControl::updateLeg(const std::string& session_id, const std::string& leg_id,
                                         const RelayEndpoint& remote) {
  media::v1::ControlRequest request;
  auto* update = request.mutable_update_leg();
  update->set_session_id(session_id);
  update->set_leg_id(leg_id);
  setEndpoint(update->mutable_remote_rtp(), remote);
  return link_.call(std::move(request)).status();
}

absl::Status RelayLinkControl::link(const std::string& session_id, const std::string& leg_a,
                                    const std::string& leg_b,
                                    const std::optional<RelayEndpoint>& leg_b_remote) {
  media::v1::ControlRequest request;
  auto* link = request.mutable_link();
  link->set_session_id(session_id);
  link->set_leg_a(leg_a);
  link->set_leg_b(leg_b);
  if (leg_b_remote) setEndpoint(link->mutable_leg_b_remote(), *leg_b_remote);
  return link_.call(std::move(request)).status();
}

absl::StatusOr<uint32_t> RelayLinkControl::play(const std::string& session_id,
                                                const std::string& leg_id,
                                                const std::string& playback_id,
                                                const std::vector<std::string>& prompts, bool loop) {
  media::v1::ControlRequest request;
  auto* play = request.mutable_play();
  play->set_session_id(session_id);
  play->set_leg_id(leg_id);
  play->set_playback_id(playback_id);
  for (const auto& prompt : prompts) play->add_prompts(prompt);
  play->set_loop(loop);
  auto reply = link_.call(std::move(request));
  if (!reply.ok()) return reply.status();
  return reply->playback().duration_ms();
}

absl::Status RelayLinkControl::stopPlayback(const std::string& session_id,
                                            const std::string& leg_id) {
  media::v1::ControlRequest request;
  request.mutable_stop_playback()->set_session_id(session_id);
  request.mutable_stop_playback()->set_leg_id(leg_id);
  return link_.call(std::move(request)).status();
}

absl::StatusOr<MediaTotals> RelayLinkControl::deleteSession(
    const std::string& session_id) {
  media::v1::ControlRequest request;
  request.mutable_delete_session()->set_session_id(session_id);
  auto reply = link_.call(std::move(request));
  if (!reply.ok()) return reply.status();
  MediaTotals totals;
  for (const auto& leg : reply->session().legs())
    totals.legs[leg.leg_id()] = countersOf(leg.counters());
  if (reply->session().has_recording()) totals.recording = recordingOf(reply->session().recording());
  return totals;
}

absl::Status RelayLinkControl::startRecording(const std::string& session_id, const std::string& leg_a,
                                              const std::string& leg_b, std::chrono::milliseconds silence) {
  media::v1::ControlRequest request;
  auto* start = request.mutable_start_recording();
  start->set_session_id(session_id);
  start->set_leg_a(leg_a);
  start->set_leg_b(leg_b);
  start->set_silence_ms(static_cast<uint32_t>(silence.count()));
  return link_.call(std::move(request)).status();
}

absl::StatusOr<calls::v1::CallRecording> RelayLinkControl::stopRecording(const std::string& session_id) {
  media::v1::ControlRequest request;
  request.mutable_stop_recording()->set_session_id(session_id);
  auto reply = link_.call(std::move(request));
  if (!reply.ok()) return reply.status();
  return recordingOf(reply->recording());
}

void KafkaEventSink::publish(const std::string& tenant_id, const std::string& call_id,
                             uint64_t sequence, const calls::v1::CallEvent& event) {
  const auto encoded = events::encodeCallEvent(tenant_id, call_id, sequence, event,
                                               std::chrono::system_clock::now(), producer_name_);
  // Delivery failures are reported by the producer after its own retries; they are logged so that
  // an operator sees them (the record would be missing an event).
  auto status =
      producer_.produce(events::kCallEventsTopic, encoded.key, encoded.value,
                        [log = log_, call_id, sequence](const kafka::Delivery& delivery) {
                          if (!delivery.status.ok()) {
                            log.error("call event not delivered",
                                      {{"call_id", call_id},
                                       {"sequence", std::to_string(sequence)},
                                       {"error", std::string(delivery.status.message())}});
                          }
                        });
  if (!status.ok()) {
    log_.error(
        "call event not queued",
        {{"call_id", call_id}, {"tenant_id", tenant_id}, {"error", std::string(status.message())}});
  }
}

}  // namespace tel::sip
