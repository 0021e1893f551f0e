// The relay engine with real UDP sockets on loopback: peers are plain sockets sending RTP.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <future>
#include <thread>

#include "g711.h"
#include "relay_engine.h"
#include "rtp_packet.h"

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
                 std::chrono::milliseconds setup_timeout = 120s, std::string prompts_dir = "")
      : engine(options(port_min, port_max, media_timeout, setup_timeout, std::move(prompts_dir)),
               tel::log::Logger::create("media-relay-test", tel::log::Level::kError), registry) {
    engine.start();
  }
  static RelayOptions options(uint16_t port_min, uint16_t port_max, std::chrono::milliseconds media,
                              std::chrono::milliseconds setup, std::string prompts_dir) {
    RelayOptions options;
    options.prompts_dir = std::move(prompts_dir);
    options.port_min = port_min;
    options.port_max = port_max;
    options.workers = 2;
    options.media_timeout = media;
    options.setup_timeout = setup;
    return options;
  }
  v1::Session create(const std::string& controller = "") {
    return *await<v1::Session>(
        [&](auto done) { engine.createSession("tenant-1", "call-1", controller, done); });
  }
  absl::StatusOr<v1::Leg> addLeg(const std::string& session, const std::string& leg,
                                 std::optional<SocketAddress> remote = std::nullopt,
                                 std::optional<LegMediaFormat> media = std::nullopt) {
    return await<v1::Leg>([&](auto done) { engine.addLeg(session, leg, remote, media, done); });
  }
  absl::StatusOr<v1::Playback> play(const std::string& session, const std::string& leg,
                                    std::vector<std::string> prompts, bool loop = false) {
    return await<v1::Playback>(
        [&](auto done) { engine.play(session, leg, "pb-1", prompts, loop, done); });
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

// ---------------------------------------------------------------------------------------------
// Endpoint work: prompts played to a leg, digits heard from it.

namespace {

// A temporary prompt directory with tenant-1's prompts, removed at the end.
struct PromptDir {
  std::string path;
  PromptDir() {
    char pattern[] = "/tmp/tel-prompts-XXXXXX";
    path = mkdtemp(pattern);
    std::filesystem::create_directories(path + "/tenant-1");
  }
  ~PromptDir() { std::filesystem::remove_all(path); }
  void write(const std::string& name, const std::string& bytes, const std::string& folder = "tenant-1") const {
    std::filesystem::create_directories(path + "/" + folder);
    std::ofstream(path + "/" + folder + "/" + name + ".wav", std::ios::binary) << bytes;
  }
};

// An 8 kHz mono 16-bit WAV of a `frequency` tone lasting `samples`.
std::string toneWav(size_t samples, double frequency = 1000) {
  std::string data;
  for (size_t i = 0; i < samples; ++i) {
    const auto value = static_cast<int16_t>(8000 * std::sin(2 * M_PI * frequency * i / 8000.0));
    data.push_back(static_cast<char>(value & 0xff));
    data.push_back(static_cast<char>((value >> 8) & 0xff));
  }
  auto le32 = [](uint32_t v) { return std::string{char(v), char(v >> 8), char(v >> 16), char(v >> 24)}; };
  auto le16 = [](uint16_t v) { return std::string{char(v), char(v >> 8)}; };
  return "RIFF" + le32(36 + data.size()) + "WAVE" + "fmt " + le32(16) + le16(1) + le16(1) + le32(8000) +
         le32(16000) + le16(2) + le16(16) + "data" + le32(data.size()) + data;
}

std::vector<uint8_t> telephoneEvent(uint32_t timestamp, uint8_t event, bool end, size_t payload = 4) {
  std::vector<uint8_t> packet(12 + payload, 0);
  tel::media::writeRtpHeader(packet.data(), 101, false, 1, timestamp, 0x1234);
  if (payload >= 4) {
    packet[12] = event;
    packet[13] = end ? 0x80 : 0x00;
    packet[15] = 160;
  }
  return packet;
}

// The events the relay delivers for controller "edge-1".
struct EventLog {
  std::mutex mutex;
  std::vector<v1::MediaEvent> events;
  void attach(RelayEngine& engine) {
    engine.subscribe("edge-1", [this](const v1::MediaEvent& event) {
      std::lock_guard lock(mutex);
      events.push_back(event);
      return true;
    });
  }
  std::string digits() {
    std::lock_guard lock(mutex);
    std::string out;
    for (const auto& event : events) {
      if (event.has_digit()) out += event.digit().digit();
    }
    return out;
  }
  std::vector<std::string> playbackEnds() {
    std::lock_guard lock(mutex);
    std::vector<std::string> out;
    for (const auto& event : events) {
      if (event.has_playback_ended()) out.push_back(event.playback_ended().reason());
    }
    return out;
  }
};

// Waits up to `wait` for `condition`.
template <typename Condition>
bool eventually(Condition condition, std::chrono::milliseconds wait = 3s) {
  const auto until = std::chrono::steady_clock::now() + wait;
  while (std::chrono::steady_clock::now() < until) {
    if (condition()) return true;
    std::this_thread::sleep_for(10ms);
  }
  return condition();
}

}  // namespace

TEST_CASE("a prompt reaches the leg as 20 ms packets of its codec, and its end is reported") {
  PromptDir prompts;
  prompts.write("hello", toneWav(4000));  // half a second
  Relay relay(41410, 41419, 60s, 120s, prompts.path);
  EventLog log;
  log.attach(relay.engine);
  for (const uint8_t payload_type : {uint8_t{0}, uint8_t{8}}) {
    Peer caller;
    auto session = relay.create("edge-1");
    REQUIRE(relay.addLeg(session.session_id(), "a", SocketAddress::parse("127.0.0.1", caller.port),
                         LegMediaFormat{payload_type, 101})
                .ok());
    auto playback = relay.play(session.session_id(), "a", {"hello"});
    REQUIRE(playback.ok());
    CHECK(playback->duration_ms() == 500);
    const auto packets = caller.receive(900ms);
    REQUIRE(packets.size() == 25);
    RtpView first;
    REQUIRE(viewRtp(packets[0].first.data(), packets[0].first.size(), first));
    CHECK(first.marker);
    for (size_t i = 0; i < packets.size(); ++i) {
      RtpView view;
      REQUIRE(viewRtp(packets[i].first.data(), packets[i].first.size(), view));
      CHECK(view.payload_type == payload_type);
      CHECK(view.payload_size == 160);
      CHECK(view.ssrc == first.ssrc);
      CHECK(view.sequence == static_cast<uint16_t>(first.sequence + i));
      CHECK(view.timestamp == first.timestamp + 160 * i);
    }
    // The tone survives the encoding: a 1 kHz sine at 8 kHz repeats every 8 samples.
    RtpView middle;
    viewRtp(packets[10].first.data(), packets[10].first.size(), middle);
    auto decode = [&](uint8_t code) {
      return payload_type == 0 ? tel::media::g711::decodeMuLaw(code) : tel::media::g711::decodeALaw(code);
    };
    for (size_t i = 0; i + 8 < 160; ++i) {
      CHECK(std::abs(decode(middle.payload[i]) - decode(middle.payload[i + 8])) < 400);
    }
    CHECK(eventually([&] { return log.playbackEnds().size() == (payload_type == 0 ? 1u : 2u); }));
    auto counters = legOf(*relay.get(session.session_id()), "a").counters();
    CHECK(counters.packets_played() == 25);
    REQUIRE(relay.remove(session.session_id()).ok());
  }
  CHECK(log.playbackEnds() == std::vector<std::string>{"finished", "finished"});
}

TEST_CASE("the platform's spoken prompts play for every tenant from their own folder") {
  PromptDir prompts;
  prompts.write("number-3", toneWav(1600), "_system");  // 200 ms
  Relay relay(41490, 41499, 60s, 120s, prompts.path);
  Peer caller;
  auto session = relay.create("edge-1");
  REQUIRE(relay.addLeg(session.session_id(), "a", SocketAddress::parse("127.0.0.1", caller.port), LegMediaFormat{0, 101})
              .ok());
  auto playback = relay.play(session.session_id(), "a", {"@number-3", "@beep"});
  REQUIRE(playback.ok());
  CHECK(playback->duration_ms() == 600);
  CHECK(caller.receive(900ms).size() == 30);
  // A tenant's prompt of that name is another prompt: "number-3" is looked up in the tenant's folder.
  CHECK(relay.play(session.session_id(), "a", {"number-3"}).status().code() == absl::StatusCode::kNotFound);
}

TEST_CASE("a looping playback replaces the linked leg's audio until it is stopped") {
  PromptDir prompts;
  prompts.write("music", toneWav(800, 440));  // 100 ms: loops several times
  Relay relay(41420, 41429, 60s, 120s, prompts.path);
  EventLog log;
  log.attach(relay.engine);
  Peer caller, callee;
  auto session = relay.create("edge-1");
  REQUIRE(relay.addLeg(session.session_id(), "a", SocketAddress::parse("127.0.0.1", caller.port)).ok());
  REQUIRE(relay.addLeg(session.session_id(), "b", SocketAddress::parse("127.0.0.1", callee.port),
                       LegMediaFormat{0, 0})
              .ok());
  REQUIRE(relay.link(session.session_id()).ok());
  REQUIRE(relay.play(session.session_id(), "b", {"music"}, true).ok());
  const auto b_port = static_cast<uint16_t>(legOf(*relay.get(session.session_id()), "a").local_rtp().port());
  for (uint16_t i = 0; i < 10; ++i) caller.sendTo(b_port, rtpPacket(i));
  const auto held = callee.receive(400ms);
  CHECK(held.size() >= 15);  // 20 a second of music, none of the caller's 10 packets
  for (const auto& [packet, port] : held) CHECK(packet.size() == 172);
  for (const auto& [packet, port] : held) CHECK(packet[12] != 0xd5);  // the caller's payload bytes
  REQUIRE(await<v1::Playback>([&](auto done) { relay.engine.stopPlayback(session.session_id(), "b", done); }).ok());
  CHECK(eventually([&] { return log.playbackEnds() == std::vector<std::string>{"stopped"}; }));
  callee.receive(100ms);  // a frame may have been on its way
  for (uint16_t i = 10; i < 15; ++i) caller.sendTo(b_port, rtpPacket(i));
  const auto resumed = callee.receive(300ms);
  CHECK(resumed.size() == 5);
}

TEST_CASE("RFC 4733 digits are reported once per key press, and bad or flooding events are dropped") {
  Relay relay(41430, 41439);
  EventLog log;
  log.attach(relay.engine);
  Peer caller;
  auto session = relay.create("edge-1");
  auto leg = relay.addLeg(session.session_id(), "a", SocketAddress::parse("127.0.0.1", caller.port),
                          LegMediaFormat{0, 101});
  REQUIRE(leg.ok());
  const auto port = static_cast<uint16_t>(leg->local_rtp().port());
  // "5" with its retransmitted end packets, then "#": one digit each.
  for (bool end : {false, false, true, true, true}) caller.sendTo(port, telephoneEvent(1000, 5, end));
  for (bool end : {false, true, true, true}) caller.sendTo(port, telephoneEvent(2000, 11, end));
  CHECK(eventually([&] { return log.digits() == "5#"; }));
  // Garbage: a 2-byte event, an event that is not a key (flash), a packet of another type.
  caller.sendTo(port, telephoneEvent(3000, 1, false, 2));
  caller.sendTo(port, telephoneEvent(4000, 16, false));
  caller.sendTo(port, rtpPacket(7));
  // A flood: 100 distinct presses at once; at most 20 a second are taken.
  for (uint32_t i = 0; i < 100; ++i) caller.sendTo(port, telephoneEvent(10000 + 160 * i, 1, true));
  std::this_thread::sleep_for(300ms);
  const std::string digits = log.digits();
  CHECK(digits.size() <= 2 + DigitDetector::kMaxPerSecond);
  CHECK(digits.size() >= 3);
  auto counters = legOf(*relay.get(session.session_id()), "a").counters();
  CHECK(counters.digits() == digits.size());
  CHECK(counters.dropped_events() == 2 + (100 - (digits.size() - 2)));
  // A linked leg relays its events instead: no digits from it.
  REQUIRE(relay.addLeg(session.session_id(), "b", SocketAddress::parse("127.0.0.1", caller.port)).ok());
  REQUIRE(relay.link(session.session_id()).ok());
  std::this_thread::sleep_for(1100ms);  // a fresh rate window
  caller.sendTo(port, telephoneEvent(90000, 9, true));
  std::this_thread::sleep_for(200ms);
  CHECK(log.digits() == digits);
}

TEST_CASE("a missing or bad prompt, or a leg without a codec, refuses the playback and changes nothing") {
  PromptDir prompts;
  prompts.write("good", toneWav(800));
  prompts.write("broken", std::string("RIFF\x10\0\0\0WAVEfmt ", 16));
  prompts.write("loud", "RIFF" + std::string(4, '\0') + "WAVE" + "fmt " + std::string("\x10\0\0\0\x01\0\x02\0\x44\xac\0\0", 12) + std::string(8, '\0'));
  Relay relay(41440, 41449, 60s, 120s, prompts.path);
  Peer caller;
  auto session = relay.create("edge-1");
  REQUIRE(relay.addLeg(session.session_id(), "a", SocketAddress::parse("127.0.0.1", caller.port), LegMediaFormat{0, 101}).ok());
  REQUIRE(relay.addLeg(session.session_id(), "plain").ok());
  CHECK(relay.play(session.session_id(), "a", {"absent"}).status().code() == absl::StatusCode::kNotFound);
  CHECK(relay.play(session.session_id(), "a", {"good", "absent"}).status().code() == absl::StatusCode::kNotFound);
  CHECK(relay.play(session.session_id(), "a", {"broken"}).status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(relay.play(session.session_id(), "a", {"loud"}).status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(relay.play(session.session_id(), "a", {"../../etc/passwd"}).status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(relay.play(session.session_id(), "plain", {"good"}).status().code() == absl::StatusCode::kFailedPrecondition);
  CHECK(relay.play(session.session_id(), "nobody", {"good"}).status().code() == absl::StatusCode::kNotFound);
  CHECK(relay.play("no-session", "a", {"good"}).status().code() == absl::StatusCode::kNotFound);
  CHECK(relay.play(session.session_id(), "a", {"@../siren"}).status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(relay.play(session.session_id(), "a", {"@siren"}).status().code() == absl::StatusCode::kNotFound);
  CHECK(caller.receive(100ms).empty());
  // The relay's own tones need no file: the voicemail beep, and ringback's 2 s on and 4 s off.
  auto beep = relay.play(session.session_id(), "a", {"@beep"});
  REQUIRE(beep.ok());
  CHECK(beep->duration_ms() == 400);
  auto ringback = relay.play(session.session_id(), "a", {"@ringback"}, /*loop=*/true);
  REQUIRE(ringback.ok());
  CHECK(ringback->duration_ms() == 6000);
  CHECK_FALSE(caller.receive(200ms).empty());
  // Without a prompt directory nothing can be played.
  Relay bare(41450, 41459);
  auto other = bare.create();
  REQUIRE(bare.addLeg(other.session_id(), "a", std::nullopt, LegMediaFormat{0, 0}).ok());
  CHECK(bare.play(other.session_id(), "a", {"good"}).status().code() == absl::StatusCode::kFailedPrecondition);
}

TEST_CASE("G.711 encodes silence, extremes and round trips within a step") {
  using namespace tel::media::g711;
  CHECK(encodeMuLaw(0) == kPcmuSilence);
  CHECK(encodeALaw(0) == kPcmaSilence);
  for (int value = -32768; value <= 32767; value += 97) {
    const auto sample = static_cast<int16_t>(value);
    // The step grows with the magnitude: about 1/16 of it, plus the smallest step.
    const int tolerance = std::abs(value) / 16 + 40;
    CHECK(std::abs(decodeMuLaw(encodeMuLaw(sample)) - value) <= tolerance);
    CHECK(std::abs(decodeALaw(encodeALaw(sample)) - value) <= tolerance);
  }
  CHECK(decodePromptWav("").status().code() == absl::StatusCode::kInvalidArgument);
  std::string huge_chunk = toneWav(16);
  huge_chunk[40] = '\xff';  // the data chunk claims more than the file holds
  huge_chunk[41] = '\xff';
  CHECK(decodePromptWav(huge_chunk).status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(decodePromptWav(toneWav(16))->size() == 16);
}

// ---------------------------------------------------------------------------------------------
// Recording: both parties of a call in one stereo file.

namespace {

// An RTP packet of `payload_type` carrying 20 ms of a `frequency` tone, the `index`th of its stream.
std::vector<uint8_t> tonePacket(uint8_t payload_type, double frequency, uint16_t index) {
  std::vector<uint8_t> packet(12 + 160);
  tel::media::writeRtpHeader(packet.data(), payload_type, index == 0, index, index * 160u, payload_type + 1u);
  for (size_t i = 0; i < 160; ++i) {
    const auto sample = static_cast<int16_t>(8000 * std::sin(2 * M_PI * frequency * (index * 160.0 + i) / 8000.0));
    packet[12 + i] = payload_type == 0 ? tel::media::g711::encodeMuLaw(sample) : tel::media::g711::encodeALaw(sample);
  }
  return packet;
}

// The power of `frequency` in samples (Goertzel).
double powerAt(const std::vector<int16_t>& samples, double frequency) {
  const double coefficient = 2 * std::cos(2 * M_PI * frequency / 8000.0);
  double previous = 0, before = 0;
  for (const int16_t sample : samples) {
    const double current = sample + coefficient * previous - before;
    before = previous;
    previous = current;
  }
  return previous * previous + before * before - coefficient * previous * before;
}

}  // namespace

TEST_CASE("a recording holds each party on its own channel, as long as the call was recorded") {
  char pattern[] = "/tmp/tel-recordings-XXXXXX";
  const std::string directory = mkdtemp(pattern);
  RelayOptions options = Relay::options(41460, 41469, 60s, 120s, "");
  options.recordings_dir = directory;
  prometheus::Registry registry;
  RelayEngine engine(options, tel::log::Logger::create("media-relay-test", tel::log::Level::kError), registry);
  engine.start();
  Peer caller, callee;
  auto session = *await<v1::Session>([&](auto done) { engine.createSession("tenant-1", "call-9", "", done); });
  auto a = await<v1::Leg>([&](auto done) { engine.addLeg(session.session_id(), "a", SocketAddress::parse("127.0.0.1", caller.port), std::nullopt, done); });
  auto b = await<v1::Leg>([&](auto done) { engine.addLeg(session.session_id(), "b", SocketAddress::parse("127.0.0.1", callee.port), std::nullopt, done); });
  REQUIRE((a.ok() && b.ok()));
  REQUIRE(await<v1::Session>([&](auto done) { engine.link(session.session_id(), "a", "b", done); }).ok());
  auto started = await<v1::Recording>([&](auto done) { engine.startRecording(session.session_id(), "a", "b", 0ms, done); });
  REQUIRE(started.ok());
  CHECK(started->file() == "tenant-1/call-9.wav");
  CHECK(await<v1::Recording>([&](auto done) { engine.startRecording(session.session_id(), "a", "b", 0ms, done); })
            .status().code() == absl::StatusCode::kFailedPrecondition);
  // A second of call: the caller says 1 kHz in PCMA, the callee 2 kHz in PCMU, 20 ms apart.
  const auto begin = std::chrono::steady_clock::now();
  for (uint16_t i = 0; i < 50; ++i) {
    caller.sendTo(static_cast<uint16_t>(a->local_rtp().port()), tonePacket(8, 1000, i));
    callee.sendTo(static_cast<uint16_t>(b->local_rtp().port()), tonePacket(0, 2000, i));
    std::this_thread::sleep_until(begin + (i + 1) * 20ms);
  }
  std::this_thread::sleep_until(begin + 1500ms);  // half a second of silence after
  auto ended = await<v1::Session>([&](auto done) { engine.deleteSession(session.session_id(), done); });
  REQUIRE(ended.ok());
  const auto& recording = ended->recording();
  CHECK(recording.error().empty());
  CHECK(recording.duration_ms() >= 1400);
  CHECK(recording.duration_ms() <= 1700);
  std::ifstream file(directory + "/tenant-1/call-9.wav", std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
  REQUIRE(bytes.size() == recording.bytes());
  REQUIRE(bytes.size() > 44);
  CHECK(bytes.compare(0, 4, "RIFF") == 0);
  CHECK(static_cast<uint8_t>(bytes[22]) == 2);  // channels
  CHECK(bytes.size() - 44 == recording.duration_ms() * 32u);  // 8,000 stereo 16-bit frames a second
  std::vector<int16_t> left, right;
  for (size_t at = 44; at + 4 <= bytes.size(); at += 4) {
    left.push_back(static_cast<int16_t>(static_cast<uint8_t>(bytes[at]) | static_cast<uint8_t>(bytes[at + 1]) << 8));
    right.push_back(static_cast<int16_t>(static_cast<uint8_t>(bytes[at + 2]) | static_cast<uint8_t>(bytes[at + 3]) << 8));
  }
  CHECK(powerAt(left, 1000) > 100 * powerAt(left, 2000));
  CHECK(powerAt(right, 2000) > 100 * powerAt(right, 1000));
  // Without a recordings directory, nothing is recorded.
  Relay bare(41470, 41479);
  auto other = bare.create();
  REQUIRE(bare.addLeg(other.session_id(), "a").ok());
  REQUIRE(bare.addLeg(other.session_id(), "b").ok());
  CHECK(await<v1::Recording>([&](auto done) { bare.engine.startRecording(other.session_id(), "a", "b", 0ms, done); })
            .status().code() == absl::StatusCode::kFailedPrecondition);
  std::filesystem::remove_all(directory);
}

TEST_CASE("a voicemail message is its party alone in a mono file, whose silence is reported once") {
  char pattern[] = "/tmp/tel-recordings-XXXXXX";
  const std::string directory = mkdtemp(pattern);
  RelayOptions options = Relay::options(41480, 41489, 60s, 120s, "");
  options.recordings_dir = directory;
  prometheus::Registry registry;
  RelayEngine engine(options, tel::log::Logger::create("media-relay-test", tel::log::Level::kError), registry);
  engine.start();
  EventLog log;
  log.attach(engine);
  Peer caller;
  auto session = *await<v1::Session>([&](auto done) { engine.createSession("tenant-1", "call-vm", "edge-1", done); });
  auto a = await<v1::Leg>([&](auto done) {
    engine.addLeg(session.session_id(), "a", SocketAddress::parse("127.0.0.1", caller.port), std::nullopt, done);
  });
  REQUIRE(a.ok());
  // An unlinked leg (the caller answered by the application) is recorded on its own.
  auto started = await<v1::Recording>([&](auto done) { engine.startRecording(session.session_id(), "a", "", 1000ms, done); });
  REQUIRE(started.ok());
  CHECK(started->channels() == 1);
  auto silences = [&] {
    std::lock_guard lock(log.mutex);
    std::vector<uint32_t> out;
    for (const auto& event : log.events) {
      if (event.has_silence()) out.push_back(event.silence().recorded_ms());
    }
    return out;
  };
  // Two seconds of speech (a 1 kHz tone) is not silence; the second of quiet after it is.
  const auto begin = std::chrono::steady_clock::now();
  for (uint16_t i = 0; i < 100; ++i) {
    caller.sendTo(static_cast<uint16_t>(a->local_rtp().port()), tonePacket(0, 1000, i));
    std::this_thread::sleep_until(begin + (i + 1) * 20ms);
  }
  CHECK(silences().empty());
  REQUIRE(eventually([&] { return !silences().empty(); }, 2s));
  CHECK(silences()[0] >= 2900);
  CHECK(silences()[0] <= 3300);
  std::this_thread::sleep_for(1200ms);
  CHECK(silences().size() == 1);  // once per recording
  auto stopped = await<v1::Recording>([&](auto done) { engine.stopRecording(session.session_id(), done); });
  REQUIRE(stopped.ok());
  CHECK(stopped->error().empty());
  CHECK(stopped->channels() == 1);
  CHECK(stopped->duration_ms() >= 4000);
  CHECK(stopped->duration_ms() <= 4600);
  // A call has one recording: it cannot start again, and the ended session reports the same file.
  CHECK(await<v1::Recording>([&](auto done) { engine.startRecording(session.session_id(), "a", "", 0ms, done); })
            .status().code() == absl::StatusCode::kFailedPrecondition);
  std::this_thread::sleep_for(300ms);
  auto ended = await<v1::Session>([&](auto done) { engine.deleteSession(session.session_id(), done); });
  REQUIRE(ended.ok());
  CHECK(ended->recording().duration_ms() == stopped->duration_ms());
  std::ifstream file(directory + "/tenant-1/call-vm.wav", std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
  REQUIRE(bytes.size() == stopped->bytes());
  CHECK(static_cast<uint8_t>(bytes[22]) == 1);                // channels
  CHECK(bytes.size() - 44 == stopped->duration_ms() * 16u);  // 8,000 mono 16-bit samples a second
  std::vector<int16_t> samples;
  for (size_t at = 44; at + 2 <= bytes.size(); at += 2) {
    samples.push_back(static_cast<int16_t>(static_cast<uint8_t>(bytes[at]) | static_cast<uint8_t>(bytes[at + 1]) << 8));
  }
  CHECK(powerAt(samples, 1000) > 100 * powerAt(samples, 2000));
  // Bad requests change nothing: no leg, a silence out of range, stopping what is not recording.
  auto other = *await<v1::Session>([&](auto done) { engine.createSession("tenant-1", "call-vm2", "edge-1", done); });
  CHECK(await<v1::Recording>([&](auto done) { engine.startRecording(other.session_id(), "a", "", 0ms, done); })
            .status().code() == absl::StatusCode::kNotFound);
  CHECK(await<v1::Recording>([&](auto done) { engine.stopRecording(other.session_id(), done); })
            .status().code() == absl::StatusCode::kFailedPrecondition);
  std::filesystem::remove_all(directory);
}
