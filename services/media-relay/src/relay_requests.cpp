#include "relay_requests.h"

#include <set>

namespace tel::media {
namespace {

bool validId(const std::string& id) { return !id.empty() && id.size() <= 128; }

}  // namespace

absl::Status invalidField(const std::string& field, const std::string& reason) {
  return absl::InvalidArgumentError(field + ": " + reason);
}

absl::StatusOr<std::optional<SocketAddress>> parseEndpoint(const v1::Endpoint& endpoint,
                                                           bool has_endpoint) {
  if (!has_endpoint || (endpoint.ip().empty() && endpoint.port() == 0)) return std::nullopt;
  if (endpoint.port() == 0 || endpoint.port() > 65535) {
    return absl::InvalidArgumentError("remote_rtp.port: must be 1..65535");
  }
  auto address = SocketAddress::parse(endpoint.ip(), static_cast<uint16_t>(endpoint.port()));
  if (!address) return absl::InvalidArgumentError("remote_rtp.ip: not an IPv4 or IPv6 address");
  return address;
}

absl::StatusOr<std::optional<LegMediaFormat>> parseLegMedia(const v1::LegMedia& media,
                                                            bool has_media) {
  if (!has_media) return std::nullopt;
  if (media.audio_payload_type() != 0 && media.audio_payload_type() != 8) {
    return absl::InvalidArgumentError("media.audio_payload_type: 0 (PCMU) or 8 (PCMA)");
  }
  if (media.event_payload_type() != 0 &&
      (media.event_payload_type() < 96 || media.event_payload_type() > 127)) {
    return absl::InvalidArgumentError("media.event_payload_type: 96..127, or 0 for none");
  }
  return LegMediaFormat{static_cast<uint8_t>(media.audio_payload_type()),
                        static_cast<uint8_t>(media.event_payload_type())};
}

void RelayRequests::createSession(const v1::CreateSessionRequest& request, Done<v1::Session> done) {
  if (!validId(request.call_id()))
    return done(invalidField("call_id", "required, at most 128 bytes"));
  if (request.tenant_id().size() > 128) return done(invalidField("tenant_id", "at most 128 bytes"));
  if (request.controller().size() > 128) return done(invalidField("controller", "at most 128 bytes"));
  auto legs = std::make_shared<std::vector<NewLeg>>();
  std::set<std::string> leg_ids;
  for (int i = 0; i < request.legs_size(); ++i) {
    const auto& leg = request.legs(i);
    const std::string field = "legs[" + std::to_string(i) + "]";
    if (!validId(leg.leg_id()) || !leg_ids.insert(leg.leg_id()).second) {
      return done(invalidField(field + ".leg_id", "required, unique, at most 128 bytes"));
    }
    auto remote = parseEndpoint(leg.remote_rtp(), leg.has_remote_rtp());
    if (!remote.ok())
      return done(invalidField(field + ".remote_rtp", std::string(remote.status().message())));
    auto media = parseLegMedia(leg.media(), leg.has_media());
    if (!media.ok()) return done(invalidField(field, std::string(media.status().message())));
    legs->push_back(NewLeg{leg.leg_id(), *remote, *media});
  }
  if (draining_) return done(absl::UnavailableError("media-relay is draining"));
  engine_.createSession(request.tenant_id(), request.call_id(), request.controller(),
                        [this, legs, done = std::move(done)](absl::StatusOr<v1::Session> session) {
                          if (!session.ok()) return done(session.status());
                          addLegsThenFinish(std::make_shared<v1::Session>(std::move(*session)),
                                            legs, 0, std::move(done));
                        });
}

void RelayRequests::addLegsThenFinish(std::shared_ptr<v1::Session> session,
                                      std::shared_ptr<std::vector<NewLeg>> legs, size_t next,
                                      Done<v1::Session> done) {
  if (next == legs->size()) return done(std::move(*session));
  const NewLeg& leg = (*legs)[next];
  engine_.addLeg(
      session->session_id(), leg.id, leg.remote, leg.media,
      [this, session, legs, next, done = std::move(done)](absl::StatusOr<v1::Leg> added) {
        if (!added.ok()) {
          // All or nothing: the session goes with the leg that could not be added.
          engine_.deleteSession(session->session_id(), [](absl::StatusOr<v1::Session>) {});
          return done(added.status());
        }
        *session->add_legs() = std::move(*added);
        addLegsThenFinish(session, legs, next + 1, std::move(done));
      });
}

void RelayRequests::addLeg(const v1::AddLegRequest& request, Done<v1::Leg> done) {
  if (!validId(request.leg_id()))
    return done(invalidField("leg_id", "required, at most 128 bytes"));
  auto remote = parseEndpoint(request.remote_rtp(), request.has_remote_rtp());
  if (!remote.ok()) return done(invalidField("remote_rtp", std::string(remote.status().message())));
  auto media = parseLegMedia(request.media(), request.has_media());
  if (!media.ok()) return done(media.status());
  engine_.addLeg(request.session_id(), request.leg_id(), *remote, *media, std::move(done));
}

void RelayRequests::updateLeg(const v1::UpdateLegRequest& request, Done<v1::Leg> done) {
  auto remote = parseEndpoint(request.remote_rtp(), request.has_remote_rtp());
  if (!remote.ok()) return done(invalidField("remote_rtp", std::string(remote.status().message())));
  auto media = parseLegMedia(request.media(), request.has_media());
  if (!media.ok()) return done(media.status());
  engine_.updateLeg(request.session_id(), request.leg_id(), *remote, *media, std::move(done));
}

void RelayRequests::play(const v1::PlayRequest& request, Done<v1::Playback> done) {
  if (request.playback_id().empty() || request.playback_id().size() > 64)
    return done(invalidField("playback_id", "required, at most 64 bytes"));
  if (request.prompts_size() < 1 || request.prompts_size() > 16)
    return done(invalidField("prompts", "1..16 prompt names"));
  std::vector<std::string> prompts;
  for (int i = 0; i < request.prompts_size(); ++i) {
    const std::string& name = request.prompts(i);
    if (!PromptLibrary::validName(name) && !PromptLibrary::builtIn(name) && !PromptLibrary::systemName(name))
      return done(invalidField("prompts[" + std::to_string(i) + "]",
                               "1..64 of a-z 0-9 - _, @beep, @ringback, or @ and a platform prompt's name"));
    prompts.push_back(request.prompts(i));
  }
  engine_.play(request.session_id(), request.leg_id(), request.playback_id(), prompts,
               request.loop(), std::move(done));
}

void RelayRequests::stopPlayback(const v1::StopPlaybackRequest& request, Done<v1::Playback> done) {
  engine_.stopPlayback(request.session_id(), request.leg_id(), std::move(done));
}

void RelayRequests::startRecording(const v1::StartRecordingRequest& request, Done<v1::Recording> done) {
  if (request.leg_a().empty()) return done(invalidField("leg_a", "required"));
  if (request.leg_a() == request.leg_b()) return done(invalidField("leg_b", "must be another leg than leg_a"));
  if (request.silence_ms() != 0 && (request.silence_ms() < 500 || request.silence_ms() > 60000))
    return done(invalidField("silence_ms", "0, or 500..60000"));
  engine_.startRecording(request.session_id(), request.leg_a(), request.leg_b(),
                         std::chrono::milliseconds(request.silence_ms()), std::move(done));
}

void RelayRequests::stopRecording(const v1::SessionRef& request, Done<v1::Recording> done) {
  engine_.stopRecording(request.session_id(), std::move(done));
}

void RelayRequests::subscribe(const v1::Subscribe& request, RelayEngine::EventSubscriber sink,
                              Done<v1::Session> done) {
  if (request.controller().empty() || request.controller().size() > 128)
    return done(invalidField("controller", "required, at most 128 bytes"));
  engine_.subscribe(request.controller(), std::move(sink));
  done(v1::Session{});
}

void RelayRequests::link(const v1::LinkRequest& request, Done<v1::Session> done) {
  if (request.leg_a() == request.leg_b())
    return done(invalidField("leg_b", "a leg cannot be linked to itself"));
  auto remote = parseEndpoint(request.leg_b_remote(), request.has_leg_b_remote());
  if (!remote.ok())
    return done(invalidField("leg_b_remote", std::string(remote.status().message())));
  if (!*remote) {
    engine_.link(request.session_id(), request.leg_a(), request.leg_b(), std::move(done));
    return;
  }
  engine_.updateLeg(
      request.session_id(), request.leg_b(), *remote, std::nullopt,
      [this, session_id = request.session_id(), leg_a = request.leg_a(), leg_b = request.leg_b(),
       done = std::move(done)](absl::StatusOr<v1::Leg> updated) {
        if (!updated.ok()) return done(updated.status());
        engine_.link(session_id, leg_a, leg_b, std::move(done));
      });
}

void RelayRequests::getSession(const v1::SessionRef& request, Done<v1::Session> done) {
  engine_.getSession(request.session_id(), std::move(done));
}

void RelayRequests::deleteSession(const v1::SessionRef& request, Done<v1::Session> done) {
  engine_.deleteSession(request.session_id(), std::move(done));
}

}  // namespace tel::media
