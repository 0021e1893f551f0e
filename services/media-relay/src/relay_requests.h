#pragma once

#include <atomic>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "relay_engine.h"
#include "tel/media/v1/media_relay.pb.h"

namespace tel::media {

// The session operations of tel.media.v1, whatever transport brought them (the gRPC API, the
// control link): each request is validated, handed to the engine, and `done` runs with the result
// on the owning worker's thread (or at once, on the caller's thread, when the request is
// invalid). Nothing here blocks. Thread-safe.
class RelayRequests {
 public:
  explicit RelayRequests(RelayEngine& engine) : engine_(engine) {}

  // From now on new sessions are refused (UNAVAILABLE, so that sip-edge picks another relay);
  // the sessions in progress keep relaying. Any thread.
  void drain() { draining_ = true; }
  bool draining() const { return draining_; }

  void createSession(const v1::CreateSessionRequest& request, Done<v1::Session> done);
  void addLeg(const v1::AddLegRequest& request, Done<v1::Leg> done);
  void updateLeg(const v1::UpdateLegRequest& request, Done<v1::Leg> done);
  void link(const v1::LinkRequest& request, Done<v1::Session> done);
  void getSession(const v1::SessionRef& request, Done<v1::Session> done);
  void deleteSession(const v1::SessionRef& request, Done<v1::Session> done);
  void play(const v1::PlayRequest& request, Done<v1::Playback> done);
  void stopPlayback(const v1::StopPlaybackRequest& request, Done<v1::Playback> done);
  void startRecording(const v1::StartRecordingRequest& request, Done<v1::Recording> done);
  void stopRecording(const v1::SessionRef& request, Done<v1::Recording> done);
  void subscribe(const v1::Subscribe& request, RelayEngine::EventSubscriber sink,
                 Done<v1::Session> done);
  v1::Stats stats() const { return engine_.stats(); }

 private:
  struct NewLeg {
    std::string id;
    std::optional<SocketAddress> remote;
    std::optional<LegMediaFormat> media;
  };
  // CreateSession's legs, one after the other, then `done` (or the session deleted again).
  void addLegsThenFinish(std::shared_ptr<v1::Session> session,
                         std::shared_ptr<std::vector<NewLeg>> legs, size_t next,
                         Done<v1::Session> done);

  RelayEngine& engine_;
  std::atomic<bool> draining_{false};
};

// INVALID_ARGUMENT naming the field: "<field>: <reason>".
absl::Status invalidField(const std::string& field, const std::string& reason);

// The address in a request, when one is given: absent (empty ip) is fine, malformed is not.
absl::StatusOr<std::optional<SocketAddress>> parseEndpoint(const v1::Endpoint& endpoint,
                                                           bool has_endpoint);

// The leg's media format when one is given: absent is fine, a codec the relay cannot play or a
// telephone-event type outside the dynamic range is not.
absl::StatusOr<std::optional<LegMediaFormat>> parseLegMedia(const v1::LegMedia& media,
                                                            bool has_media);

}  // namespace tel::media
