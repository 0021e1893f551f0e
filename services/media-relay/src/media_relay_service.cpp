#include "media_relay_service.h"

#include <memory>
#include <set>

#include "tel/grpc/status.h"

namespace tel::media {
namespace {

grpc::Status toGrpc(const absl::Status& status) {
  if (status.ok()) return grpc::Status::OK;
  return grpc::Status(static_cast<grpc::StatusCode>(status.code()), std::string(status.message()));
}

// Finishes `reactor` with the result, copying it into the response on success.
template <typename T>
Done<T> finishInto(grpc::ServerUnaryReactor* reactor, T* response) {
  return [reactor, response](absl::StatusOr<T> result) {
    if (result.ok()) *response = std::move(*result);
    reactor->Finish(toGrpc(result.status()));
  };
}

grpc::ServerUnaryReactor* reject(grpc::CallbackServerContext* context, const grpc::Status& status) {
  auto* reactor = context->DefaultReactor();
  reactor->Finish(status);
  return reactor;
}

bool validId(const std::string& id) { return !id.empty() && id.size() <= 128; }

}  // namespace

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

MediaRelayService::Reactor* MediaRelayService::CreateSession(Ctx* c,
                                                             const v1::CreateSessionRequest* r,
                                                             v1::Session* o) {
  if (!validId(r->call_id()))
    return reject(c, grpc_util::invalidArgument("call_id", "required, at most 128 bytes"));
  if (r->tenant_id().size() > 128)
    return reject(c, grpc_util::invalidArgument("tenant_id", "at most 128 bytes"));
  auto legs = std::make_shared<std::vector<NewLeg>>();
  std::set<std::string> leg_ids;
  for (int i = 0; i < r->legs_size(); ++i) {
    const auto& leg = r->legs(i);
    const std::string field = "legs[" + std::to_string(i) + "]";
    if (!validId(leg.leg_id()) || !leg_ids.insert(leg.leg_id()).second) {
      return reject(
          c, grpc_util::invalidArgument(field + ".leg_id", "required, unique, at most 128 bytes"));
    }
    auto remote = parseEndpoint(leg.remote_rtp(), leg.has_remote_rtp());
    if (!remote.ok())
      return reject(c, grpc_util::invalidArgument(field + ".remote_rtp",
                                                  std::string(remote.status().message())));
    legs->push_back(NewLeg{leg.leg_id(), *remote});
  }
  if (draining_)
    return reject(c, grpc::Status(grpc::StatusCode::UNAVAILABLE, "media-relay is draining"));
  auto* reactor = c->DefaultReactor();
  engine_.createSession(r->tenant_id(), r->call_id(),
                        [this, reactor, o, legs](absl::StatusOr<v1::Session> session) {
                          if (!session.ok()) {
                            reactor->Finish(toGrpc(session.status()));
                            return;
                          }
                          *o = std::move(*session);
                          addLegsThenFinish(reactor, o, legs, 0);
                        });
  return reactor;
}

void MediaRelayService::addLegsThenFinish(Reactor* reactor, v1::Session* session,
                                          std::shared_ptr<std::vector<NewLeg>> legs, size_t next) {
  if (next == legs->size()) {
    reactor->Finish(grpc::Status::OK);
    return;
  }
  const NewLeg& leg = (*legs)[next];
  engine_.addLeg(session->session_id(), leg.id, leg.remote,
                 [this, reactor, session, legs, next](absl::StatusOr<v1::Leg> added) {
                   if (!added.ok()) {
                     // All or nothing: the session goes with the leg that could not be added.
                     engine_.deleteSession(session->session_id(),
                                           [](absl::StatusOr<v1::Session>) {});
                     reactor->Finish(toGrpc(added.status()));
                     return;
                   }
                   *session->add_legs() = std::move(*added);
                   addLegsThenFinish(reactor, session, legs, next + 1);
                 });
}

MediaRelayService::Reactor* MediaRelayService::AddLeg(Ctx* c, const v1::AddLegRequest* r,
                                                      v1::Leg* o) {
  if (!validId(r->leg_id()))
    return reject(c, grpc_util::invalidArgument("leg_id", "required, at most 128 bytes"));
  auto remote = parseEndpoint(r->remote_rtp(), r->has_remote_rtp());
  if (!remote.ok())
    return reject(c,
                  grpc_util::invalidArgument("remote_rtp", std::string(remote.status().message())));
  auto* reactor = c->DefaultReactor();
  engine_.addLeg(r->session_id(), r->leg_id(), *remote, finishInto(reactor, o));
  return reactor;
}

MediaRelayService::Reactor* MediaRelayService::UpdateLeg(Ctx* c, const v1::UpdateLegRequest* r,
                                                         v1::Leg* o) {
  auto remote = parseEndpoint(r->remote_rtp(), r->has_remote_rtp());
  if (!remote.ok())
    return reject(c,
                  grpc_util::invalidArgument("remote_rtp", std::string(remote.status().message())));
  auto* reactor = c->DefaultReactor();
  engine_.updateLeg(r->session_id(), r->leg_id(), *remote, finishInto(reactor, o));
  return reactor;
}

MediaRelayService::Reactor* MediaRelayService::Link(Ctx* c, const v1::LinkRequest* r,
                                                    v1::Session* o) {
  if (r->leg_a() == r->leg_b())
    return reject(c, grpc_util::invalidArgument("leg_b", "a leg cannot be linked to itself"));
  auto remote = parseEndpoint(r->leg_b_remote(), r->has_leg_b_remote());
  if (!remote.ok())
    return reject(
        c, grpc_util::invalidArgument("leg_b_remote", std::string(remote.status().message())));
  auto* reactor = c->DefaultReactor();
  if (!*remote) {
    engine_.link(r->session_id(), r->leg_a(), r->leg_b(), finishInto(reactor, o));
    return reactor;
  }
  engine_.updateLeg(r->session_id(), r->leg_b(), *remote,
                    [this, reactor, o, session_id = r->session_id(), leg_a = r->leg_a(),
                     leg_b = r->leg_b()](absl::StatusOr<v1::Leg> updated) {
                      if (!updated.ok()) {
                        reactor->Finish(toGrpc(updated.status()));
                        return;
                      }
                      engine_.link(session_id, leg_a, leg_b, finishInto(reactor, o));
                    });
  return reactor;
}

MediaRelayService::Reactor* MediaRelayService::GetSession(Ctx* c, const v1::SessionRef* r,
                                                          v1::Session* o) {
  auto* reactor = c->DefaultReactor();
  engine_.getSession(r->session_id(), finishInto(reactor, o));
  return reactor;
}

MediaRelayService::Reactor* MediaRelayService::DeleteSession(Ctx* c, const v1::SessionRef* r,
                                                             v1::Session* o) {
  auto* reactor = c->DefaultReactor();
  engine_.deleteSession(r->session_id(), finishInto(reactor, o));
  return reactor;
}

MediaRelayService::Reactor* MediaRelayService::GetStats(Ctx* c, const v1::StatsRequest*,
                                                        v1::Stats* o) {
  *o = engine_.stats();
  return reject(c, grpc::Status::OK);
}

}  // namespace tel::media
