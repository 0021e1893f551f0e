// Prompt playback benchmark: concurrent playback streams (G.711 in 20 ms packets, a prompt played
// in a loop, as music on hold or a menu that is listened to) sent by
//   - media-relay (one worker), each stream a session whose leg knows its codec and plays a 10 s
//     prompt in a loop (CreateSession and Play through its gRPC API),
//   - a bare player (this program, --bare): one thread, a 20 ms timerfd and one UDP socket per
//     stream, each sent a prebuilt packet per tick: the floor of any player on this machine,
// each pinned to core 0 while this program receives every stream on core 1. For a ramp of stream
// counts it prints the player's CPU use, CPU time per packet, loss, and lateness (a packet later
// than 20 ms behind its stream's schedule).
//
// Usage: bench_playback [max_streams]   (bench/run playback)
#include <grpcpp/grpcpp.h>
#include <sys/resource.h>
#include <sys/timerfd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <map>
#include <unordered_map>

#include "bench_process.h"
#include "tel/media/v1/media_relay.grpc.pb.h"

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

namespace {

constexpr size_t kPacketBytes = 172;
constexpr uint16_t kReceiverPort = 48990;
constexpr auto kWarmUp = 2s;
constexpr auto kWindow = 10s;

struct LevelResult {
  int streams = 0;
  double cpu_percent = 0;  // of one core
  double us_per_packet = 0;
  double loss_percent = 0;
  double late_percent = 0;
};

// Receives every stream on one socket for the window and measures it against each stream's own
// schedule (its sequence numbers, 20 ms apart).
LevelResult receive(int fd, int streams, pid_t player) {
  struct Stream {
    uint16_t first_sequence = 0;
    int64_t base_us = INT64_MAX;  // min over packets of arrival - position * 20 ms
    std::vector<int64_t> offsets_us;
  };
  std::unordered_map<uint32_t, Stream> by_source;
  const auto drain_until = Clock::now() + kWarmUp;
  std::array<uint8_t, 2048> buffer{};
  while (Clock::now() < drain_until) recv(fd, buffer.data(), buffer.size(), MSG_DONTWAIT);
  const double cpu_before = bench::cpuSeconds(player);
  const auto start = Clock::now();
  const auto end = start + kWindow;
  constexpr int kBatch = 64;
  std::array<std::array<uint8_t, 256>, kBatch> packets{};
  std::array<mmsghdr, kBatch> messages{};
  std::array<iovec, kBatch> iovecs{};
  for (int i = 0; i < kBatch; ++i) {
    iovecs[i] = {packets[i].data(), packets[i].size()};
    messages[i].msg_hdr.msg_iov = &iovecs[i];
    messages[i].msg_hdr.msg_iovlen = 1;
  }
  uint64_t received = 0;
  while (Clock::now() < end) {
    timespec wait{0, 5'000'000};
    const int count = recvmmsg(fd, messages.data(), kBatch, MSG_WAITFORONE, &wait);
    if (count <= 0) continue;
    const int64_t now_us = std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - start).count();
    for (int i = 0; i < count; ++i) {
      if (messages[i].msg_len < 12) continue;
      const uint8_t* data = packets[i].data();
      const uint16_t sequence = static_cast<uint16_t>(data[2] << 8 | data[3]);
      uint32_t ssrc;
      std::memcpy(&ssrc, data + 8, 4);
      Stream& stream = by_source[ssrc];
      if (stream.offsets_us.empty()) stream.first_sequence = sequence;
      const auto position = static_cast<uint16_t>(sequence - stream.first_sequence);
      const int64_t offset = now_us - static_cast<int64_t>(position) * 20'000;
      stream.base_us = std::min(stream.base_us, offset);
      stream.offsets_us.push_back(offset);
      ++received;
    }
  }
  const double cpu = bench::cpuSeconds(player) - cpu_before;
  uint64_t late = 0;
  for (const auto& [ssrc, stream] : by_source) {
    for (const int64_t offset : stream.offsets_us) late += offset - stream.base_us > 20'000;
  }
  const double expected = static_cast<double>(streams) * std::chrono::duration<double>(kWindow).count() * 50;
  LevelResult result;
  result.streams = streams;
  result.cpu_percent = 100 * cpu / std::chrono::duration<double>(kWindow).count();
  result.us_per_packet = received ? cpu * 1e6 / static_cast<double>(received) : 0;
  result.loss_percent = std::max(0.0, 100 * (1 - static_cast<double>(received) / expected));
  result.late_percent = received ? 100.0 * static_cast<double>(late) / static_cast<double>(received) : 0;
  return result;
}

// The bare player: `streams` sockets, one packet each per 20 ms tick, to the receiver.
int runBare(int streams) {
  std::vector<int> sockets;
  for (int i = 0; i < streams; ++i) sockets.push_back(socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0));
  const sockaddr_in to = bench::loopback(kReceiverPort);
  std::vector<std::array<uint8_t, kPacketBytes>> packets(streams);
  for (int i = 0; i < streams; ++i) {
    packets[i].fill(0xd5);
    packets[i][0] = 0x80;
    packets[i][1] = 8;
    const uint32_t ssrc = 0x10000 + static_cast<uint32_t>(i);
    std::memcpy(packets[i].data() + 8, &ssrc, 4);
  }
  const int timer = timerfd_create(CLOCK_MONOTONIC, 0);
  const itimerspec every{{0, 20'000'000}, {0, 20'000'000}};
  timerfd_settime(timer, 0, &every, nullptr);
  uint16_t sequence = 0;
  while (true) {
    uint64_t ticks = 0;
    if (read(timer, &ticks, sizeof ticks) <= 0) continue;
    for (uint64_t tick = 0; tick < ticks; ++tick, ++sequence) {
      for (int i = 0; i < streams; ++i) {
        packets[i][2] = static_cast<uint8_t>(sequence >> 8);
        packets[i][3] = static_cast<uint8_t>(sequence);
        sendto(sockets[i], packets[i].data(), kPacketBytes, 0, reinterpret_cast<const sockaddr*>(&to), sizeof to);
      }
    }
  }
}

// media-relay with one worker and a prompt directory holding tenant "bench"'s 10 s prompt.
struct Relay {
  pid_t pid = -1;
  std::unique_ptr<tel::media::v1::MediaRelay::Stub> stub;
  int sessions = 0;

  bool start(const std::string& binary, const std::string& prompts) {
    setenv("TEL_MEDIA_RELAY_GRPC_LISTEN", "127.0.0.1:48120", 1);
    setenv("TEL_MEDIA_RELAY_ADMIN_LISTEN", "127.0.0.1:48121", 1);
    setenv("TEL_MEDIA_RELAY_CONTROL_LISTEN", "127.0.0.1:0", 1);
    setenv("TEL_MEDIA_RELAY_RTP_PORT_MIN", "40000", 1);
    setenv("TEL_MEDIA_RELAY_RTP_PORT_MAX", "47999", 1);
    setenv("TEL_MEDIA_RELAY_WORKERS", "1", 1);
    setenv("TEL_MEDIA_RELAY_TIMEOUTS_SETUP", "10m", 1);
    setenv("TEL_MEDIA_RELAY_PROMPTS_DIR", prompts.c_str(), 1);
    pid = bench::spawn({"taskset", "-c", "0", binary}, "/tmp/bench-playback-relay.log");
    stub = tel::media::v1::MediaRelay::NewStub(
        grpc::CreateChannel("127.0.0.1:48120", grpc::InsecureChannelCredentials()));
    grpc::ClientContext context;
    context.set_wait_for_ready(true);
    context.set_deadline(std::chrono::system_clock::now() + 10s);
    tel::media::v1::Stats stats;
    return stub->GetStats(&context, {}, &stats).ok();
  }

  // Adds playing streams up to `streams`.
  bool grow(int streams) {
    for (; sessions < streams; ++sessions) {
      grpc::ClientContext create_context, play_context;
      tel::media::v1::CreateSessionRequest create;
      create.set_tenant_id("bench");
      create.set_call_id("playback-" + std::to_string(sessions));
      auto* leg = create.add_legs();
      leg->set_leg_id("a");
      leg->mutable_remote_rtp()->set_ip("127.0.0.1");
      leg->mutable_remote_rtp()->set_port(kReceiverPort);
      leg->mutable_media()->set_audio_payload_type(8);
      tel::media::v1::Session session;
      if (!stub->CreateSession(&create_context, create, &session).ok()) return false;
      tel::media::v1::PlayRequest play;
      play.set_session_id(session.session_id());
      play.set_leg_id("a");
      play.set_playback_id("music");
      play.add_prompts("music");
      play.set_loop(true);
      tel::media::v1::Playback playback;
      const auto status = stub->Play(&play_context, play, &playback);
      if (!status.ok()) {
        std::fprintf(stderr, "Play failed: %s\n", status.error_message().c_str());
        return false;
      }
    }
    return true;
  }
};

void writeTonePrompt(const std::string& path) {
  std::string data;
  for (int i = 0; i < 80000; ++i) {  // 10 s of 440 Hz
    const auto value = static_cast<int16_t>(6000 * std::sin(2 * M_PI * 440 * i / 8000.0));
    data.push_back(static_cast<char>(value & 0xff));
    data.push_back(static_cast<char>((value >> 8) & 0xff));
  }
  auto le32 = [](uint32_t v) { return std::string{char(v), char(v >> 8), char(v >> 16), char(v >> 24)}; };
  auto le16 = [](uint16_t v) { return std::string{char(v), char(v >> 8)}; };
  std::ofstream(path, std::ios::binary) << "RIFF" + le32(36 + data.size()) + "WAVE" + "fmt " + le32(16) + le16(1) +
                                               le16(1) + le32(8000) + le32(16000) + le16(2) + le16(16) + "data" +
                                               le32(data.size()) + data;
}

void print(const char* system, const LevelResult& r) {
  std::printf("  %-28s %6d streams  CPU %5.1f%% of a core  %5.2f us/packet  loss %5.2f%%  late>20ms %5.2f%%\n", system,
              r.streams, r.cpu_percent, r.us_per_packet, r.loss_percent, r.late_percent);
  std::fflush(stdout);
}

bool sustained(const LevelResult& r) { return r.cpu_percent < 95 && r.loss_percent < 0.1 && r.late_percent < 1; }

}  // namespace

int main(int argc, char** argv) {
  if (argc == 3 && std::string(argv[1]) == "--bare") return runBare(std::atoi(argv[2]));
  const int max_streams = argc > 1 ? std::atoi(argv[1]) : 3000;
  // Two sockets per relay leg, one per bare stream: far past the default 1,024 descriptors.
  rlimit files{};
  getrlimit(RLIMIT_NOFILE, &files);
  files.rlim_cur = files.rlim_max;
  setrlimit(RLIMIT_NOFILE, &files);
  bench::pinTo(1);
  const int receiver = bench::boundSocket(kReceiverPort);
  int buffer = 16 << 20;
  setsockopt(receiver, SOL_SOCKET, SO_RCVBUF, &buffer, sizeof buffer);
  const std::string prompts = "/tmp/bench-playback-prompts";
  std::filesystem::create_directories(prompts + "/bench");
  writeTonePrompt(prompts + "/bench/music.wav");

  std::vector<int> levels;
  for (int level : {250, 500, 1000, 1500, 2000, 2500, 3000, 4000}) {
    if (level <= max_streams) levels.push_back(level);
  }
  std::printf("Playback streams (G.711, 50 packets/s each), player pinned to core 0, receiver on core 1, %lld s per level\n",
              static_cast<long long>(std::chrono::duration_cast<std::chrono::seconds>(kWindow).count()));
  std::map<int, std::pair<LevelResult, LevelResult>> results;
  Relay relay;
  if (!relay.start(TEL_MEDIA_RELAY_BINARY, prompts)) {
    std::fprintf(stderr, "media-relay did not start (see /tmp/bench-playback-relay.log)\n");
    return 1;
  }
  for (const int level : levels) {
    if (!relay.grow(level)) {
      std::fprintf(stderr, "media-relay refused stream %d\n", relay.sessions);
      break;
    }
    results[level].first = receive(receiver, level, relay.pid);
    print("media-relay (1 worker)", results[level].first);
  }
  bench::stopProcess(relay.pid);
  char self[4096] = {};
  const ssize_t length = readlink("/proc/self/exe", self, sizeof self - 1);
  for (const int level : levels) {
    const pid_t bare = bench::spawn({"taskset", "-c", "0", std::string(self, length > 0 ? length : 0), "--bare",
                                     std::to_string(level)},
                                    "/tmp/bench-playback-bare.log");
    results[level].second = receive(receiver, level, bare);
    bench::stopProcess(bare);
    print("bare timerfd player", results[level].second);
  }
  int relay_max = 0, bare_max = 0;
  std::printf("\n| streams | media-relay CPU | us/packet | loss | late | bare player CPU | us/packet | CPU ratio |\n");
  std::printf("|---|---|---|---|---|---|---|---|\n");
  for (const auto& [level, pair] : results) {
    const auto& [ours, floor] = pair;
    if (sustained(ours)) relay_max = level;
    if (sustained(floor)) bare_max = level;
    std::printf("| %d | %.1f%% | %.2f | %.2f%% | %.2f%% | %.1f%% | %.2f | %.2f |\n", level, ours.cpu_percent,
                ours.us_per_packet, ours.loss_percent, ours.late_percent, floor.cpu_percent, floor.us_per_packet,
                floor.cpu_percent > 0 ? ours.cpu_percent / floor.cpu_percent : 0);
  }
  std::printf("\nSustained on one core (CPU < 95%%, loss < 0.1%%, late < 1%%): media-relay %d streams, bare player %d\n",
              relay_max, bare_max);
  return 0;
}
