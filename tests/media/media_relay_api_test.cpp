// The running media-relay service through its gRPC API, with real RTP over loopback.
#include <arpa/inet.h>
#include <grpcpp/grpcpp.h>
#include <netinet/in.h>
#include <poll.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include "tel/media/v1/media_relay.grpc.pb.h"
#include "tel/testing/env.h"

namespace v1 = tel::media::v1;
using tel::testing::requireEnv;

namespace {

std::unique_ptr<v1::MediaRelay::Stub> relay() {
  return v1::MediaRelay::NewStub(
      grpc::CreateChannel(requireEnv("TEL_MEDIA_RELAY_ADDR"), grpc::InsecureChannelCredentials()));
}

std::unique_ptr<grpc::ClientContext> context() {
  auto ctx = std::make_unique<grpc::ClientContext>();
  ctx->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
  return ctx;
}

struct UdpPeer {
  int fd = socket(AF_INET, SOCK_DGRAM, 0);
  uint16_t port = 0;
  UdpPeer() {
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address);
    socklen_t length = sizeof address;
    getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length);
    port = ntohs(address.sin_port);
  }
  ~UdpPeer() { close(fd); }
  void send(uint32_t to_port, const std::string& data) const {
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    address.sin_port = htons(static_cast<uint16_t>(to_port));
    sendto(fd, data.data(), data.size(), 0, reinterpret_cast<sockaddr*>(&address), sizeof address);
  }
  int receiveCount(int timeout_ms) const {
    int count = 0;
    char buffer[2048];
    pollfd ready{fd, POLLIN, 0};
    while (poll(&ready, 1, timeout_ms) > 0) {
      if (recv(fd, buffer, sizeof buffer, 0) > 0) ++count;
    }
    return count;
  }
};

std::string rtp(uint16_t sequence) {
  std::string packet(172, '\xd5');
  packet[0] = '\x80';
  packet[1] = 0;
  packet[2] = static_cast<char>(sequence >> 8);
  packet[3] = static_cast<char>(sequence);
  return packet;
}

// Leg "b" with no address yet (a B leg being rung).
v1::Leg addLegB(v1::MediaRelay::Stub& stub, const std::string& session_id) {
  v1::AddLegRequest request;
  request.set_session_id(session_id);
  request.set_leg_id("b");
  v1::Leg leg;
  REQUIRE(stub.AddLeg(context().get(), request, &leg).ok());
  return leg;
}

// Links "a" and "b", giving b's address with the link (the answer's SDP).
v1::LinkRequest linkWithAnswer(const std::string& session_id, const std::string& ip,
                               uint32_t port) {
  v1::LinkRequest link;
  link.set_session_id(session_id);
  link.set_leg_a("a");
  link.set_leg_b("b");
  link.mutable_leg_b_remote()->set_ip(ip);
  link.mutable_leg_b_remote()->set_port(port);
  return link;
}

}  // namespace

TEST_CASE("a call's media through the media-relay service, then every port is free again") {
  auto stub = relay();
  v1::Stats before;
  REQUIRE(stub->GetStats(context().get(), {}, &before).ok());

  v1::CreateSessionRequest create;
  create.set_tenant_id("tenant-x");
  create.set_call_id("call-api-test");
  v1::Session session;
  REQUIRE(stub->CreateSession(context().get(), create, &session).ok());

  UdpPeer caller, callee;
  v1::AddLegRequest add_a;
  add_a.set_session_id(session.session_id());
  add_a.set_leg_id("a");
  v1::Leg leg_a;
  REQUIRE(stub->AddLeg(context().get(), add_a, &leg_a).ok());
  v1::AddLegRequest add_b = add_a;
  add_b.set_leg_id("b");
  add_b.mutable_remote_rtp()->set_ip("127.0.0.1");
  add_b.mutable_remote_rtp()->set_port(callee.port);
  v1::Leg leg_b;
  REQUIRE(stub->AddLeg(context().get(), add_b, &leg_b).ok());
  v1::LinkRequest link;
  link.set_session_id(session.session_id());
  link.set_leg_a("a");
  link.set_leg_b("b");
  REQUIRE(stub->Link(context().get(), link, &session).ok());

  for (uint16_t i = 0; i < 50; ++i) caller.send(leg_a.local_rtp().port(), rtp(i));
  CHECK(callee.receiveCount(300) == 50);
  for (uint16_t i = 0; i < 50; ++i) callee.send(leg_b.local_rtp().port(), rtp(i));
  CHECK(caller.receiveCount(300) == 50);
  // Garbage and oversized datagrams are dropped and counted, and the relay stays up.
  caller.send(leg_a.local_rtp().port(), std::string(300, '\xff'));
  caller.send(leg_a.local_rtp().port(), std::string(8000, '\x80'));
  CHECK(callee.receiveCount(200) == 0);

  v1::SessionRef ref;
  ref.set_session_id(session.session_id());
  v1::Session ended;
  REQUIRE(stub->DeleteSession(context().get(), ref, &ended).ok());
  for (const auto& leg : ended.legs()) {
    INFO(leg.leg_id());
    CHECK(leg.counters().packets_in() == 50);
    CHECK(leg.counters().packets_out() == 50);
    if (leg.leg_id() == "a") {
      CHECK(leg.counters().dropped_malformed() == 1);
      CHECK(leg.counters().dropped_oversized() == 1);
    }
  }
  v1::Stats after;
  REQUIRE(stub->GetStats(context().get(), {}, &after).ok());
  CHECK(after.ports_in_use() == before.ports_in_use());
  CHECK(after.sessions() == before.sessions());
}

TEST_CASE("the media-relay API refuses bad requests") {
  auto stub = relay();
  v1::Session session;
  v1::CreateSessionRequest no_call;
  CHECK(stub->CreateSession(context().get(), no_call, &session).error_code() ==
        grpc::StatusCode::INVALID_ARGUMENT);
  v1::AddLegRequest unknown;
  unknown.set_session_id("nope");
  unknown.set_leg_id("a");
  v1::Leg leg;
  CHECK(stub->AddLeg(context().get(), unknown, &leg).error_code() == grpc::StatusCode::NOT_FOUND);

  v1::CreateSessionRequest create;
  create.set_call_id("call-bad-input");
  REQUIRE(stub->CreateSession(context().get(), create, &session).ok());
  v1::AddLegRequest bad_address;
  bad_address.set_session_id(session.session_id());
  bad_address.set_leg_id("a");
  bad_address.mutable_remote_rtp()->set_ip("not-an-ip");
  bad_address.mutable_remote_rtp()->set_port(4000);
  CHECK(stub->AddLeg(context().get(), bad_address, &leg).error_code() ==
        grpc::StatusCode::INVALID_ARGUMENT);
  v1::LinkRequest self;
  self.set_session_id(session.session_id());
  self.set_leg_a("a");
  self.set_leg_b("a");
  CHECK(stub->Link(context().get(), self, &session).error_code() ==
        grpc::StatusCode::INVALID_ARGUMENT);
  v1::SessionRef ref;
  ref.set_session_id(session.session_id());
  CHECK(stub->DeleteSession(context().get(), ref, &session).ok());
}

TEST_CASE(
    "a call's media in the fewest requests: the session with its first leg then the link with the "
    "answer's address") {
  auto stub = relay();
  v1::Stats before;
  REQUIRE(stub->GetStats(context().get(), {}, &before).ok());
  UdpPeer caller, callee;

  v1::CreateSessionRequest create;
  create.set_tenant_id("tenant-x");
  create.set_call_id("call-fewest-requests");
  auto* first = create.add_legs();
  first->set_leg_id("a");
  first->mutable_remote_rtp()->set_ip("127.0.0.1");
  first->mutable_remote_rtp()->set_port(caller.port);
  v1::Session session;
  REQUIRE(stub->CreateSession(context().get(), create, &session).ok());
  REQUIRE(session.legs_size() == 1);
  const auto leg_a = session.legs(0);
  CHECK(leg_a.leg_id() == "a");
  CHECK(leg_a.local_rtp().port() > 0);

  const v1::Leg leg_b = addLegB(*stub, session.session_id());
  REQUIRE(stub->Link(context().get(),
                     linkWithAnswer(session.session_id(), "127.0.0.1", callee.port), &session)
              .ok());

  // Both addresses come from the requests (nothing latched yet): each side hears the other.
  for (uint16_t i = 0; i < 20; ++i) callee.send(leg_b.local_rtp().port(), rtp(i));
  CHECK(caller.receiveCount(300) == 20);
  for (uint16_t i = 0; i < 20; ++i) caller.send(leg_a.local_rtp().port(), rtp(i));
  CHECK(callee.receiveCount(300) == 20);

  v1::SessionRef ref;
  ref.set_session_id(session.session_id());
  REQUIRE(stub->DeleteSession(context().get(), ref, &session).ok());
  v1::Stats after;
  REQUIRE(stub->GetStats(context().get(), {}, &after).ok());
  CHECK(after.ports_in_use() == before.ports_in_use());
  CHECK(after.sessions() == before.sessions());
}

TEST_CASE(
    "the media-relay API refuses bad legs in CreateSession and a bad address in Link and creates "
    "nothing") {
  auto stub = relay();
  v1::Stats before;
  REQUIRE(stub->GetStats(context().get(), {}, &before).ok());
  v1::Session session;
  v1::CreateSessionRequest twice;
  twice.set_call_id("call-same-leg-twice");
  twice.add_legs()->set_leg_id("a");
  twice.add_legs()->set_leg_id("a");
  CHECK(stub->CreateSession(context().get(), twice, &session).error_code() ==
        grpc::StatusCode::INVALID_ARGUMENT);
  v1::CreateSessionRequest bad_address;
  bad_address.set_call_id("call-bad-leg-address");
  auto* leg = bad_address.add_legs();
  leg->set_leg_id("a");
  leg->mutable_remote_rtp()->set_ip("999.1.1.1");
  leg->mutable_remote_rtp()->set_port(4000);
  grpc::ClientContext refused;
  refused.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
  const auto status = stub->CreateSession(&refused, bad_address, &session);
  CHECK(status.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  CHECK(status.error_message().find("legs[0].remote_rtp") != std::string::npos);
  v1::CreateSessionRequest unnamed;
  unnamed.set_call_id("call-unnamed-leg");
  unnamed.add_legs();
  CHECK(stub->CreateSession(context().get(), unnamed, &session).error_code() ==
        grpc::StatusCode::INVALID_ARGUMENT);
  v1::Stats after;
  REQUIRE(stub->GetStats(context().get(), {}, &after).ok());
  CHECK(after.sessions() == before.sessions());

  v1::CreateSessionRequest create;
  create.set_call_id("call-bad-link-address");
  create.add_legs()->set_leg_id("a");
  REQUIRE(stub->CreateSession(context().get(), create, &session).ok());
  addLegB(*stub, session.session_id());
  v1::Session linked;
  CHECK(
      stub->Link(context().get(), linkWithAnswer(session.session_id(), "127.0.0.1", 70000), &linked)
          .error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  v1::SessionRef ref;
  ref.set_session_id(session.session_id());
  CHECK(stub->DeleteSession(context().get(), ref, &session).ok());
}
