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
  CHECK(stub->AddLeg(context().get(), bad_address, &leg).error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  v1::LinkRequest self;
  self.set_session_id(session.session_id());
  self.set_leg_a("a");
  self.set_leg_b("a");
  CHECK(stub->Link(context().get(), self, &session).error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  v1::SessionRef ref;
  ref.set_session_id(session.session_id());
  CHECK(stub->DeleteSession(context().get(), ref, &session).ok());
}
