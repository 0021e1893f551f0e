#include "media_relay_service.h"

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

MediaRelayService::Reactor* MediaRelayService::CreateSession(Ctx* c, const v1::CreateSessionRequest* r,
                                                             v1::Session* o) {
  if (!validId(r->call_id())) return reject(c, grpc_util::invalidArgument("call_id", "required, at most 128 bytes"));
  if (r->tenant_id().size() > 128) return reject(c, grpc_util::invalidArgument("tenant_id", "at most 128 bytes"));
  if (draining_) return reject(c, grpc::Status(grpc::StatusCode::UNAVAILABLE, "media-relay is draining"));
  auto* reactor = c->DefaultReactor();
  engine_.createSession(r->tenant_id(), r->call_id(), finishInto(reactor, o));
  return reactor;
}

MediaRelayService::Reactor* MediaRelayService::AddLeg(Ctx* c, const v1::AddLegRequest* r, v1::Leg* o) {
  if (!validId(r->leg_id())) return reject(c, grpc_util::invalidArgument("leg_id", "required, at most 128 bytes"));
  auto remote = parseEndpoint(r->remote_rtp(), r->has_remote_rtp());
  if (!remote.ok()) return reject(c, grpc_util::invalidArgument("remote_rtp", std::string(remote.status().message())));
  auto* reactor = c->DefaultReactor();
  engine_.addLeg(r->session_id(), r->leg_id(), *remote, finishInto(reactor, o));
  return reactor;
}

MediaRelayService::Reactor* MediaRelayService::UpdateLeg(Ctx* c, const v1::UpdateLegRequest* r, v1::Leg* o) {
  auto remote = parseEndpoint(r->remote_rtp(), r->has_remote_rtp());
  if (!remote.ok()) return reject(c, grpc_util::invalidArgument("remote_rtp", std::string(remote.status().message())));
  auto* reactor = c->DefaultReactor();
  engine_.updateLeg(r->session_id(), r->leg_id(), *remote, finishInto(reactor, o));
  return reactor;
}

MediaRelayService::Reactor* MediaRelayService::Link(Ctx* c, const v1::LinkRequest* r, v1::Session* o) {
  if (r->leg_a() == r->leg_b()) return reject(c, grpc_util::invalidArgument("leg_b", "a leg cannot be linked to itself"));
  auto* reactor = c->DefaultReactor();
  engine_.link(r->session_id(), r->leg_a(), r->leg_b(), finishInto(reactor, o));
  return reactor;
}

MediaRelayService::Reactor* MediaRelayService::GetSession(Ctx* c, const v1::SessionRef* r, v1::Session* o) {
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

MediaRelayService::Reactor* MediaRelayService::GetStats(Ctx* c, const v1::StatsRequest*, v1::Stats* o) {
  *o = engine_.stats();
  return reject(c, grpc::Status::OK);
}

}  // namespace tel::media
