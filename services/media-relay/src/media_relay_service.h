#pragma once

#include <atomic>

#include "relay_requests.h"
#include "tel/media/v1/media_relay.grpc.pb.h"

namespace tel::media {

// tel.media.v1.MediaRelay over gRPC. Handlers hand the request to RelayRequests and finish the call
// from the owning worker's thread when it is done: nothing blocks gRPC's threads.
class MediaRelayService final : public v1::MediaRelay::CallbackService {
 public:
  MediaRelayService(RelayRequests& requests) : requests_(requests) {}

  // The control link's port, reported by GetStats (0 until it is listening). Any thread.
  void setControlPort(int port) { control_port_ = port; }

  using Reactor = grpc::ServerUnaryReactor;
  using Ctx = grpc::CallbackServerContext;
  Reactor* CreateSession(Ctx*, const v1::CreateSessionRequest*, v1::Session*) override;
  Reactor* AddLeg(Ctx*, const v1::AddLegRequest*, v1::Leg*) override;
  Reactor* UpdateLeg(Ctx*, const v1::UpdateLegRequest*, v1::Leg*) override;
  Reactor* Link(Ctx*, const v1::LinkRequest*, v1::Session*) override;
  Reactor* GetSession(Ctx*, const v1::SessionRef*, v1::Session*) override;
  Reactor* DeleteSession(Ctx*, const v1::SessionRef*, v1::Session*) override;
  Reactor* GetStats(Ctx*, const v1::StatsRequest*, v1::Stats*) override;
  Reactor* Play(Ctx*, const v1::PlayRequest*, v1::Playback*) override;
  Reactor* StopPlayback(Ctx*, const v1::StopPlaybackRequest*, v1::Playback*) override;
  Reactor* StartRecording(Ctx*, const v1::StartRecordingRequest*, v1::Recording*) override;
  Reactor* StopRecording(Ctx*, const v1::SessionRef*, v1::Recording*) override;

 private:
  RelayRequests& requests_;
  std::atomic<int> control_port_{0};
};

}  // namespace tel::media
