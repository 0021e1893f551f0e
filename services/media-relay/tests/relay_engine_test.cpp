// The relay engine with real UDP sockets on loopback: peers are plain sockets sending RTP.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <future>
#include <thread>

#include "relay_engine.h"

using namespace tel::media;
using namespace std::chrono_literals;

namespace {

// A UDP peer on 127.0.0.1 (a phone or a carrier in real life).
struct Peer {
  int fd = -1;
  uint16_t port = 0;
  bool bound = false;
  explicit Peer(uint16_t fixed_port = 0) {
    fd = socket(AF_INET, SOCK_DGRAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    address.sin_port = htons(fixed_port);
    bound = bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0;
    socklen_t length = sizeof address;
    getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length);
    port = ntohs(address.sin_port);
  }
  ~Peer() { close(fd); }
  void sendTo(uint16_t to_port, const std::vector<uint8_t>& packet) const {
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    address.sin_port = htons(to_port);
    sendto(fd, packet.data(), packet.size(), 0, reinterpret_cast<sockaddr*>(&address), sizeof address);
  }
  // Packets received within `wait`, with the port each came from.
  std::vector<std::pair<std::vector<uint8_t>, uint16_t>> receive(std::chrono::milliseconds wait) const {
    std::vector<std::pair<std::vector<uint8_t>, uint16_t>> packets;
    const auto until = std::chrono::steady_clock::now() + wait;
    while (std::chrono::steady_clock::now() < until) {
      pollfd ready{fd, POLLIN, 0};
      if (poll(&ready, 1, 20) <= 0) continue;
      std::vector<uint8_t> buffer(4096);
      sockaddr_in from{};
      socklen_t length = sizeof from;
      const auto size = recvfrom(fd, buffer.data(), buffer.size(), 0, reinterpret_cast<sockaddr*>(&from), &length);
      if (size < 0) continue;
      buffer.resize(static_cast<size_t>(size));
      packets.emplace_back(std::move(buffer), ntohs(from.sin_port));
    }
    return packets;
  }
};

std::vector<uint8_t> rtpPacket(uint16_t sequence, size_t payload = 160) {
  std::vector<uint8_t> packet(12 + payload, 0xd5);
  packet[0] = 0x80;
  packet[1] = 0;  // PCMU
  packet[2] = static_cast<uint8_t>(sequence >> 8);
  packet[3] = static_cast<uint8_t>(sequence);
  return packet;
}

template <typename T>
absl::StatusOr<T> await(const std::function<void(Done<T>)>& call) {
  auto promise = std::make_shared<std::promise<absl::StatusOr<T>>>();
  auto future = promise->get_future();
  call([promise](absl::StatusOr<T> result) { promise->set_value(std::move(result)); });
  REQUIRE(future.wait_for(5s) == std::future_status::ready);
  return future.get();
}

struct Relay {
  prometheus::Registry registry;
  RelayEngine engine;
  explicit Relay(uint16_t port_min, uint16_t port_max, std::chrono::milliseconds media_timeout = 60s,
                 std::chrono::milliseconds setup_timeout = 120s)
      : engine(options(port_min, port_max, media_timeout, setup_timeout),
               tel::log::Logger::create("media-relay-test", tel::log::Level::kError), registry) {
    engine.start();
  }
  static RelayOptions options(uint16_t port_min, uint16_t port_max, std::chrono::milliseconds media,
                              std::chrono::milliseconds setup) {
    RelayOptions options;
    options.port_min = port_min;
    options.port_max = port_max;
    options.workers = 2;
    options.media_timeout = media;
    options.setup_timeout = setup;
    return options;
  }
  v1::Session create() {
    return *await<v1::Session>([&](auto done) { engine.createSession("tenant-1", "call-1", done); });
  }
  absl::StatusOr<v1::Leg> addLeg(const std::string& session, const std::string& leg,
                                 std::optional<SocketAddress> remote = std::nullopt) {
    return await<v1::Leg>([&](auto done) { engine.addLeg(session, leg, remote, done); });
  }
  absl::StatusOr<v1::Session> link(const std::string& session) {
    return await<v1::Session>([&](auto done) { engine.link(session, "a", "b", done); });
  }
  absl::StatusOr<v1::Session> get(const std::string& session) {
    return await<v1::Session>([&](auto done) { engine.getSession(session, done); });
  }
  absl::StatusOr<v1::Session> remove(const std::string& session) {
    return await<v1::Session>([&](auto done) { engine.deleteSession(session, done); });
  }
};

const v1::Leg& legOf(const v1::Session& session, const std::string& id) {
  for (const auto& leg : session.legs()) {
    if (leg.leg_id() == id) return leg;
  }
  throw std::runtime_error("no leg " + id);
}

}  // namespace

TEST_CASE("RTP flows both ways between linked legs, latching the caller's address") {
  Relay relay(41000, 41099);
  Peer caller, callee;
  auto session = relay.create();
  // The caller's SDP address is unknown (behind NAT); the callee's is known from its SDP.
  auto a = relay.addLeg(session.session_id(), "a");
  auto b = relay.addLeg(session.session_id(), "b", SocketAddress::parse("127.0.0.1", callee.port));
  REQUIRE(a.ok());
  REQUIRE(b.ok());
  CHECK(a->local_rtp().port() % 2 == 0);
  REQUIRE(relay.link(session.session_id()).ok());

  for (uint16_t i = 0; i < 10; ++i) caller.sendTo(a->local_rtp().port(), rtpPacket(i));
  auto at_callee = callee.receive(300ms);
  REQUIRE(at_callee.size() == 10);
  CHECK(at_callee[0].second == b->local_rtp().port());  // symmetric: from the port it sends to
  CHECK(at_callee[3].first == rtpPacket(3));

  for (uint16_t i = 0; i < 7; ++i) callee.sendTo(b->local_rtp().port(), rtpPacket(100 + i));
  auto at_caller = caller.receive(300ms);
  REQUIRE(at_caller.size() == 7);
  CHECK(at_caller[0].second == a->local_rtp().port());

  auto state = relay.get(session.session_id());
  REQUIRE(state.ok());
  const auto& leg_a = legOf(*state, "a");
  const auto& leg_b = legOf(*state, "b");
  CHECK(leg_a.latched());
  CHECK(leg_a.remote_rtp().port() == caller.port);
  CHECK(leg_a.counters().packets_in() == 10);
  CHECK(leg_a.counters().bytes_in() == 1720);
  CHECK(leg_a.counters().packets_out() == 7);
  CHECK(leg_b.counters().packets_in() == 7);
  CHECK(leg_b.counters().packets_out() == 10);
  REQUIRE(relay.remove(session.session_id()).ok());
}

TEST_CASE("garbage, oversized and foreign packets are dropped and counted") {
  Relay relay(41100, 41199);
  Peer caller, callee, intruder;
  auto session = relay.create();
  auto a = relay.addLeg(session.session_id(), "a");
  auto b = relay.addLeg(session.session_id(), "b", SocketAddress::parse("127.0.0.1", callee.port));
  REQUIRE(relay.link(session.session_id()).ok());
  const uint16_t port = a->local_rtp().port();

  caller.sendTo(port, std::vector<uint8_t>(200, 0xff));            // not RTP
  caller.sendTo(port, std::vector<uint8_t>{0x80, 0x00});            // too short
  caller.sendTo(port, rtpPacket(1, 3000));                          // larger than the limit
  caller.sendTo(port, rtpPacket(2));                                // valid: latches the caller
  std::this_thread::sleep_for(50ms);
  intruder.sendTo(port, rtpPacket(3));                              // not the latched peer
  caller.sendTo(a->local_rtp().port() + 1, std::vector<uint8_t>(50, 0x00));  // RTCP garbage

  auto at_callee = callee.receive(300ms);
  REQUIRE(at_callee.size() == 1);
  CHECK(at_callee[0].first == rtpPacket(2));
  auto state = relay.get(session.session_id());
  const auto& counters = legOf(*state, "a").counters();
  CHECK(counters.dropped_malformed() == 3);
  CHECK(counters.dropped_oversized() == 1);
  CHECK(counters.dropped_foreign_source() == 1);
  CHECK(counters.packets_in() == 1);
  REQUIRE(relay.remove(session.session_id()).ok());
}

TEST_CASE("an unlinked leg forwards nothing, and RTCP goes to the SDP port + 1") {
  Relay relay(41200, 41299);
  Peer caller;
  // The callee's RTP and RTCP sockets on an even port and the next one.
  std::unique_ptr<Peer> callee_rtp, callee_rtcp;
  for (uint16_t port = 42000; port < 42100 && !(callee_rtp && callee_rtcp); port += 2) {
    callee_rtp = std::make_unique<Peer>(port);
    callee_rtcp = std::make_unique<Peer>(port + 1);
    if (!callee_rtp->bound || !callee_rtcp->bound) callee_rtp.reset(), callee_rtcp.reset();
  }
  REQUIRE(callee_rtp);
  auto session = relay.create();
  auto a = relay.addLeg(session.session_id(), "a");
  auto b = relay.addLeg(session.session_id(), "b", SocketAddress::parse("127.0.0.1", callee_rtp->port));
  caller.sendTo(a->local_rtp().port(), rtpPacket(1));
  CHECK(callee_rtp->receive(200ms).empty());
  auto state = relay.get(session.session_id());
  CHECK(legOf(*state, "a").counters().dropped_no_destination() == 1);

  REQUIRE(relay.link(session.session_id()).ok());
  std::vector<uint8_t> report = {0x80, 200, 0x00, 0x06};
  report.resize(28, 0);
  caller.sendTo(a->local_rtp().port() + 1, report);
  auto at_rtcp = callee_rtcp->receive(300ms);
  REQUIRE(at_rtcp.size() == 1);
  CHECK(at_rtcp[0].first == report);
  CHECK(at_rtcp[0].second == b->local_rtp().port() + 1);
  CHECK(callee_rtp->receive(100ms).empty());
  REQUIRE(relay.remove(session.session_id()).ok());
}

TEST_CASE("every end path frees the ports") {
  Relay relay(41300, 41399, /*media_timeout=*/500ms, /*setup_timeout=*/500ms);
  const auto before = relay.engine.stats();
  CHECK(before.ports_in_use() == 0);

  // Deleted by the controller.
  auto deleted = relay.create();
  REQUIRE(relay.addLeg(deleted.session_id(), "a").ok());
  REQUIRE(relay.addLeg(deleted.session_id(), "b").ok());
  CHECK(relay.engine.stats().ports_in_use() == 4);
  auto final_state = relay.remove(deleted.session_id());
  REQUIRE(final_state.ok());
  CHECK(final_state->end_reason() == "deleted");
  CHECK(relay.engine.stats().ports_in_use() == 0);
  CHECK(relay.get(deleted.session_id()).status().code() == absl::StatusCode::kNotFound);
  CHECK(relay.remove(deleted.session_id()).status().code() == absl::StatusCode::kNotFound);

  // No media ever (the controller died during set-up), and media that stopped.
  Peer caller;
  auto silent = relay.create();
  REQUIRE(relay.addLeg(silent.session_id(), "a").ok());
  auto stopped = relay.create();
  auto leg = relay.addLeg(stopped.session_id(), "a");
  REQUIRE(leg.ok());
  caller.sendTo(leg->local_rtp().port(), rtpPacket(1));
  const auto until = std::chrono::steady_clock::now() + 5s;
  while (relay.engine.stats().sessions() > 0 && std::chrono::steady_clock::now() < until) {
    std::this_thread::sleep_for(50ms);
  }
  CHECK(relay.engine.stats().sessions() == 0);
  CHECK(relay.engine.stats().ports_in_use() == 0);
  CHECK(relay.get(silent.session_id()).status().code() == absl::StatusCode::kNotFound);
}

TEST_CASE("bad requests are refused without side effects") {
  Relay relay(41400, 41403);  // two port pairs only
  auto session = relay.create();
  REQUIRE(relay.addLeg(session.session_id(), "a").ok());
  CHECK(relay.addLeg(session.session_id(), "a").status().code() == absl::StatusCode::kAlreadyExists);
  REQUIRE(relay.addLeg(session.session_id(), "b").ok());
  CHECK(relay.addLeg(session.session_id(), "c").status().code() == absl::StatusCode::kResourceExhausted);
  CHECK(relay.addLeg("no-such-session", "a").status().code() == absl::StatusCode::kNotFound);
  CHECK(await<v1::Session>([&](auto done) { relay.engine.link(session.session_id(), "a", "zz", done); })
            .status().code() == absl::StatusCode::kNotFound);
  CHECK(relay.engine.stats().legs() == 2);
  REQUIRE(relay.remove(session.session_id()).ok());
  CHECK(relay.engine.stats().ports_in_use() == 0);
}
