#pragma once

#include <atomic>
#include <memory>
#include <optional>
#include <vector>

#include "relay_engine.h"
#include "tel/media/v1/media_relay.grpc.pb.h"

namespace tel::media {

// tel.media.v1.MediaRelay over gRPC. Handlers validate, hand the operation to the engine, and
// finish the call from the owning worker's thread when it is done: nothing blocks gRPC's threads.
class MediaRelayService final : public v1::MediaRelay::CallbackService {
 public:
  explicit MediaRelayService(RelayEngine& engine) : engine_(engine) {}

  // From now on new sessions are refused (UNAVAILABLE, so that sip-edge picks another relay);
  // the sessions in progress keep relaying. Any thread.
  void drain() { draining_ = true; }
  bool draining() const { return draining_; }

  using Reactor = grpc::ServerUnaryReactor;
  using Ctx = grpc::CallbackServerContext;
  Reactor* CreateSession(Ctx*, const v1::CreateSessionRequest*, v1::Session*) override;
  Reactor* AddLeg(Ctx*, const v1::AddLegRequest*, v1::Leg*) override;
  Reactor* UpdateLeg(Ctx*, const v1::UpdateLegRequest*, v1::Leg*) override;
  Reactor* Link(Ctx*, const v1::LinkRequest*, v1::Session*) override;
  Reactor* GetSession(Ctx*, const v1::SessionRef*, v1::Session*) override;
  Reactor* DeleteSession(Ctx*, const v1::SessionRef*, v1::Session*) override;
  Reactor* GetStats(Ctx*, const v1::StatsRequest*, v1::Stats*) override;

 private:
  struct NewLeg {
    std::string id;
    std::optional<SocketAddress> remote;
  };
  // CreateSession's legs, one after the other, then the reply (or the session deleted again).
  void addLegsThenFinish(Reactor* reactor, v1::Session* session,
                         std::shared_ptr<std::vector<NewLeg>> legs, size_t next);

  RelayEngine& engine_;
  std::atomic<bool> draining_{false};
};

// The address in a request, when one is given: absent (empty ip) is fine, malformed is not.
absl::StatusOr<std::optional<SocketAddress>> parseEndpoint(const v1::Endpoint& endpoint,
                                                           bool has_endpoint);

}  // namespace tel::media
