#include "media_relay_service.h"

namespace tel::media {
namespace {

// Finishes `reactor` with the result, copying it into the response on success.
template <typename T>
Done<T> finishInto(grpc::ServerUnaryReactor* reactor, T* response) {
  return [reactor, response](absl::StatusOr<T> result) {
    if (!result.ok()) {
      reactor->Finish(grpc::Status(static_cast<grpc::StatusCode>(result.status().code()),
                                   std::string(result.status().message())));
      return;
    }
    *response = std::move(*result);
    reactor->Finish(grpc::Status::OK);
  };
}

}  // namespace

MediaRelayService::Reactor* MediaRelayService::CreateSession(Ctx* c,
                                                             const v1::CreateSessionRequest* r,
                                                             v1::Session* o) {
  auto* reactor = c->DefaultReactor();
  requests_.createSession(*r, finishInto(reactor, o));
  return reactor;
}

MediaRelayService::Reactor* MediaRelayService::AddLeg(Ctx* c, const v1::AddLegRequest* r,
                                                      v1::Leg* o) {
  auto* reactor = c->DefaultReactor();
  requests_.addLeg(*r, finishInto(reactor, o));
  return reactor;
}

MediaRelayService::Reactor* MediaRelayService::UpdateLeg(Ctx* c, const v1::UpdateLegRequest* r,
                                                         v1::Leg* o) {
  auto* reactor = c->DefaultReactor();
  requests_.updateLeg(*r, finishInto(reactor, o));
  return reactor;
}

MediaRelayService::Reactor* MediaRelayService::Link(Ctx* c, const v1::LinkRequest* r,
                                                    v1::Session* o) {
  auto* reactor = c->DefaultReactor();
  requests_.link(*r, finishInto(reactor, o));
  return reactor;
}

MediaRelayService::Reactor* MediaRelayService::GetSession(Ctx* c, const v1::SessionRef* r,
                                                          v1::Session* o) {
  auto* reactor = c->DefaultReactor();
  requests_.getSession(*r, finishInto(reactor, o));
  return reactor;
}

MediaRelayService::Reactor* MediaRelayService::DeleteSession(Ctx* c, const v1::SessionRef* r,
                                                             v1::Session* o) {
  auto* reactor = c->DefaultReactor();
  requests_.deleteSession(*r, finishInto(reactor, o));
  return reactor;
}

MediaRelayService::Reactor* MediaRelayService::Play(Ctx* c, const v1::PlayRequest* r,
                                                    v1::Playback* o) {
  auto* reactor = c->DefaultReactor();
  requests_.play(*r, finishInto(reactor, o));
  return reactor;
}

MediaRelayService::Reactor* MediaRelayService::StopPlayback(Ctx* c,
                                                            const v1::StopPlaybackRequest* r,
                                                            v1::Playback* o) {
  auto* reactor = c->DefaultReactor();
  requests_.stopPlayback(*r, finishInto(reactor, o));
  return reactor;
}

MediaRelayService::Reactor* MediaRelayService::StartRecording(Ctx* c,
                                                              const v1::StartRecordingRequest* r,
                                                              v1::Recording* o) {
  auto* reactor = c->DefaultReactor();
  requests_.startRecording(*r, finishInto(reactor, o));
  return reactor;
}

MediaRelayService::Reactor* MediaRelayService::StopRecording(Ctx* c, const v1::SessionRef* r,
                                                             v1::Recording* o) {
  auto* reactor = c->DefaultReactor();
  requests_.stopRecording(*r, finishInto(reactor, o));
  return reactor;
}

MediaRelayService::Reactor* MediaRelayService::GetStats(Ctx* c, const v1::StatsRequest*,
                                                        v1::Stats* o) {
  *o = requests_.stats();
  o->set_control_port(static_cast<uint32_t>(control_port_.load()));
  auto* reactor = c->DefaultReactor();
  reactor->Finish(grpc::Status::OK);
  return reactor;
}

}  // namespace tel::media
