// RTP relay benchmark: concurrent G.711 calls (50 packets/s each way, 172-byte RTP) relayed by
//   - media-relay (one worker), set up through its gRPC API,
//   - rtpengine in userspace mode (--table=-1 --num-threads=1), set up through its ng protocol,
//   - a bare epoll + recvmmsg/sendmmsg forwarder with no per-packet logic (this program, --bare),
// each pinned to core 0 while this load generator runs on core 1. For a ramp of call counts it
// prints the system's CPU use, CPU time per relayed packet, loss and one-way latency through it
// (from just before a packet is sent to the kernel's arrival stamp on the receiving socket, so that
// the generator's own scheduling does not count).
//
// Usage: bench_rtp [max_calls]        (bench/run rtp)
#include <arpa/inet.h>
#include <fcntl.h>
#include <grpcpp/grpcpp.h>
#include <netinet/in.h>
#include <sched.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <map>
#include <memory>
#include <regex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "bench_process.h"
#include "tel/media/v1/media_relay.grpc.pb.h"

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

namespace {

using bench::boundSocket;
using bench::cpuSeconds;
using bench::loopback;
using bench::pinTo;
using bench::spawn;
using bench::stopProcess;

constexpr size_t kPacketBytes = 172;
constexpr int kSlots = 20;  // 1 ms slots in the 20 ms packet interval: sends are spread evenly

// Wall-clock nanoseconds: the clock of the kernel's receive timestamps (SO_TIMESTAMPNS).
int64_t realtimeNs() {
  timespec now{};
  clock_gettime(CLOCK_REALTIME, &now);
  return static_cast<int64_t>(now.tv_sec) * 1'000'000'000 + now.tv_nsec;
}

// One call: the two phones' sockets and the relay ports each sends to.
struct CallPath {
  int a_fd = -1, b_fd = -1;
  uint16_t a_port = 0, b_port = 0;
  uint16_t a_sends_to = 0, b_sends_to = 0;
};

// ---- systems under test ----

struct System {
  std::string name;
  pid_t pid = -1;
  virtual ~System() = default;
  virtual bool start() = 0;
  virtual bool setUp(std::vector<CallPath>& calls) = 0;
  void stop() {
    if (pid > 0) stopProcess(pid);
    pid = -1;
  }
};

struct MediaRelay : System {
  std::string binary;
  std::unique_ptr<tel::media::v1::MediaRelay::Stub> stub;
  explicit MediaRelay(std::string path) : binary(std::move(path)) {
    name = "media-relay (1 worker)";
  }
  bool start() override {
    setenv("TEL_MEDIA_RELAY_GRPC_LISTEN", "127.0.0.1:47120", 1);
    setenv("TEL_MEDIA_RELAY_ADMIN_LISTEN", "127.0.0.1:47121", 1);
    setenv("TEL_MEDIA_RELAY_CONTROL_LISTEN", "127.0.0.1:0", 1);
    setenv("TEL_MEDIA_RELAY_RTP_PORT_MIN", "40000", 1);
    setenv("TEL_MEDIA_RELAY_RTP_PORT_MAX", "47999", 1);
    setenv("TEL_MEDIA_RELAY_WORKERS", "1", 1);
    setenv("TEL_MEDIA_RELAY_TIMEOUTS_SETUP", "10m", 1);
    pid = spawn({"taskset", "-c", "0", binary}, "/tmp/bench-media-relay.log");
    stub = tel::media::v1::MediaRelay::NewStub(
        grpc::CreateChannel("127.0.0.1:47120", grpc::InsecureChannelCredentials()));
    grpc::ClientContext context;
    context.set_wait_for_ready(true);  // the server may still be starting
    context.set_deadline(std::chrono::system_clock::now() + 10s);
    tel::media::v1::Stats stats;
    return stub->GetStats(&context, {}, &stats).ok();
  }
  bool setUp(std::vector<CallPath>& calls) override {
    for (size_t i = 0; i < calls.size(); ++i) {
      grpc::ClientContext c1, c2, c3, c4;
      tel::media::v1::CreateSessionRequest create;
      create.set_call_id("bench-" + std::to_string(i));
      tel::media::v1::Session session;
      if (!stub->CreateSession(&c1, create, &session).ok()) return false;
      tel::media::v1::AddLegRequest leg;
      leg.set_session_id(session.session_id());
      leg.set_leg_id("a");
      leg.mutable_remote_rtp()->set_ip("127.0.0.1");
      leg.mutable_remote_rtp()->set_port(calls[i].a_port);
      tel::media::v1::Leg a, b;
      if (!stub->AddLeg(&c2, leg, &a).ok()) return false;
      leg.set_leg_id("b");
      leg.mutable_remote_rtp()->set_port(calls[i].b_port);
      if (!stub->AddLeg(&c3, leg, &b).ok()) return false;
      tel::media::v1::LinkRequest link;
      link.set_session_id(session.session_id());
      link.set_leg_a("a");
      link.set_leg_b("b");
      if (!stub->Link(&c4, link, &session).ok()) return false;
      calls[i].a_sends_to = static_cast<uint16_t>(a.local_rtp().port());
      calls[i].b_sends_to = static_cast<uint16_t>(b.local_rtp().port());
    }
    return true;
  }
};

// rtpengine's ng control protocol: "<cookie> <bencoded dict>" over UDP.
std::string bencode(const std::string& text) { return std::to_string(text.size()) + ":" + text; }

struct Rtpengine : System {
  int control = -1;
  Rtpengine() { name = "rtpengine (userspace, 1 thread)"; }
  bool start() override {
    pid = spawn({"taskset", "-c", "0", "rtpengine", "--foreground", "--log-stderr", "--table=-1",
                 "--interface=127.0.0.1", "--listen-ng=127.0.0.1:47222", "--port-min=48000",
                 "--port-max=55999", "--num-threads=1", "--log-level=3", "--delete-delay=0"},
                "/tmp/bench-rtpengine.log");
    control = socket(AF_INET, SOCK_DGRAM, 0);
    timeval timeout{2, 0};
    setsockopt(control, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
    for (int i = 0; i < 50; ++i) {
      if (request("d7:command4:pinge").find("pong") != std::string::npos) return true;
      std::this_thread::sleep_for(100ms);
    }
    return false;
  }
  std::string request(const std::string& dict) {
    static int cookie = 0;
    const std::string id = "c" + std::to_string(++cookie);
    const std::string message = id + " " + dict;
    sockaddr_in address = loopback(47222);
    sendto(control, message.data(), message.size(), 0, reinterpret_cast<sockaddr*>(&address),
           sizeof address);
    char buffer[8192];
    const auto size = recv(control, buffer, sizeof buffer, 0);
    return size > 0 ? std::string(buffer, static_cast<size_t>(size)) : "";
  }
  static std::string sdp(uint16_t port) {
    return "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio " +
           std::to_string(port) + " RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\na=sendrecv\r\n";
  }
  static uint16_t mediaPort(const std::string& reply) {
    std::smatch match;
    if (!std::regex_search(reply, match, std::regex("m=audio (\\d+)"))) return 0;
    return static_cast<uint16_t>(std::stoi(match[1]));
  }
  bool setUp(std::vector<CallPath>& calls) override {
    for (size_t i = 0; i < calls.size(); ++i) {
      const std::string call_id = "bench-" + std::to_string(i);
      const std::string offer =
          request("d7:call-id" + bencode(call_id) + "7:command5:offer8:from-tag" +
                  bencode("a" + std::to_string(i)) + "3:sdp" + bencode(sdp(calls[i].a_port)) + "e");
      const std::string answer =
          request("d7:call-id" + bencode(call_id) + "7:command6:answer8:from-tag" +
                  bencode("a" + std::to_string(i)) + "3:sdp" + bencode(sdp(calls[i].b_port)) +
                  "6:to-tag" + bencode("b" + std::to_string(i)) + "e");
      calls[i].b_sends_to = mediaPort(offer);
      calls[i].a_sends_to = mediaPort(answer);
      if (calls[i].a_sends_to == 0 || calls[i].b_sends_to == 0) {
        std::fprintf(stderr, "rtpengine refused call %zu: %s\n", i, offer.c_str());
        return false;
      }
    }
    return true;
  }
};

struct Bare : System {
  std::string self;
  explicit Bare(std::string path) : self(std::move(path)) {
    name = "bare recvmmsg/sendmmsg forwarder";
  }
  bool start() override { return true; }
  bool setUp(std::vector<CallPath>& calls) override {
    std::ofstream plan("/tmp/bench-bare.plan");
    for (size_t i = 0; i < calls.size(); ++i) {
      calls[i].a_sends_to = static_cast<uint16_t>(61000 + 2 * i);
      calls[i].b_sends_to = static_cast<uint16_t>(61001 + 2 * i);
      plan << calls[i].a_sends_to << " " << calls[i].b_port << " " << calls[i].b_sends_to << " "
           << calls[i].a_port << "\n";
    }
    plan.close();
    pid = spawn({"taskset", "-c", "0", self, "--bare", "/tmp/bench-bare.plan"},
                "/tmp/bench-bare.log");
    std::this_thread::sleep_for(500ms);
    return waitpid(pid, nullptr, WNOHANG) == 0;
  }
};

// The bare forwarder: each pair of sockets forwards to fixed destinations, nothing else.
int runBare(const std::string& plan_path) {
  std::ifstream plan(plan_path);
  struct Socket {
    int fd;
    sockaddr_in destination;
    Socket* out;
  };
  std::vector<std::unique_ptr<Socket>> sockets;
  const int epoll = epoll_create1(0);
  uint16_t in_a, to_b, in_b, to_a;
  while (plan >> in_a >> to_b >> in_b >> to_a) {
    auto a = std::make_unique<Socket>(Socket{boundSocket(in_a), loopback(to_a), nullptr});
    auto b = std::make_unique<Socket>(Socket{boundSocket(in_b), loopback(to_b), nullptr});
    a->out = b.get();
    b->out = a.get();
    for (Socket* s : {a.get(), b.get()}) {
      epoll_event event{EPOLLIN, {.ptr = s}};
      epoll_ctl(epoll, EPOLL_CTL_ADD, s->fd, &event);
    }
    sockets.push_back(std::move(a));
    sockets.push_back(std::move(b));
  }
  constexpr int kBatch = 32;
  static std::array<std::array<char, 2048>, kBatch> buffers;
  std::array<mmsghdr, kBatch> in{}, out{};
  std::array<iovec, kBatch> in_iov{}, out_iov{};
  for (int i = 0; i < kBatch; ++i) {
    in_iov[i] = {buffers[i].data(), buffers[i].size()};
    in[i].msg_hdr.msg_iov = &in_iov[i];
    in[i].msg_hdr.msg_iovlen = 1;
    out[i].msg_hdr.msg_iov = &out_iov[i];
    out[i].msg_hdr.msg_iovlen = 1;
  }
  std::array<epoll_event, 64> events;
  for (;;) {
    const int ready = epoll_wait(epoll, events.data(), 64, 1000);
    for (int e = 0; e < ready; ++e) {
      auto* socket = static_cast<Socket*>(events[e].data.ptr);
      const int received = recvmmsg(socket->fd, in.data(), kBatch, MSG_DONTWAIT, nullptr);
      for (int i = 0; i < received; ++i) {
        out_iov[i] = {buffers[i].data(), in[i].msg_len};
        out[i].msg_hdr.msg_name = &socket->out->destination;
        out[i].msg_hdr.msg_namelen = sizeof(sockaddr_in);
      }
      if (received > 0) sendmmsg(socket->out->fd, out.data(), received, MSG_DONTWAIT);
    }
  }
}

// ---- the load ----

struct LevelResult {
  int calls = 0;
  double sut_cpu = 0;        // fraction of one core
  double us_per_packet = 0;  // system CPU per relayed packet
  double loss = 0;           // fraction
  double p50_us = 0, p99_us = 0;
  double generator_cpu = 0;  // fraction of one core, to show the generator was not the limit
  uint64_t relayed = 0;
};

LevelResult runLevel(std::vector<CallPath>& calls, int active, pid_t sut,
                     std::chrono::seconds duration) {
  const int epoll = epoll_create1(0);
  const int on = 1;
  for (int i = 0; i < active; ++i) {
    for (int fd : {calls[i].a_fd, calls[i].b_fd}) {
      // The kernel stamps each packet as it reaches the generator's socket, so the latency measured
      // ends where the relay delivered the packet, not when this busy generator got round to it.
      setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &on, sizeof on);
      epoll_event event{EPOLLIN, {.fd = fd}};
      epoll_ctl(epoll, EPOLL_CTL_ADD, fd, &event);
    }
  }
  const int timer = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK);
  itimerspec period{{0, 1'000'000}, {0, 1'000'000}};
  timerfd_settime(timer, 0, &period, nullptr);
  epoll_event timer_event{EPOLLIN, {.fd = timer}};
  epoll_ctl(epoll, EPOLL_CTL_ADD, timer, &timer_event);

  std::vector<uint32_t> histogram(100001, 0);  // one-way latency in microseconds, last = overflow
  uint64_t sent = 0, received = 0;
  std::array<char, kPacketBytes> packet{};
  packet[0] = static_cast<char>(0x80);
  uint16_t sequence = 0;
  auto send = [&](int fd, uint16_t port, uint32_t ssrc) {
    packet[2] = static_cast<char>(sequence >> 8);
    packet[3] = static_cast<char>(sequence);
    std::memcpy(&packet[8], &ssrc, 4);
    const int64_t stamp = realtimeNs();  // just before the packet enters the kernel
    std::memcpy(&packet[12], &stamp, 8);
    sockaddr_in to = loopback(port);
    if (sendto(fd, packet.data(), packet.size(), 0, reinterpret_cast<sockaddr*>(&to), sizeof to) >
        0)
      ++sent;
  };
  constexpr int kBatch = 32;
  std::array<std::array<char, 2048>, kBatch> buffers;
  std::array<mmsghdr, kBatch> messages{};
  std::array<iovec, kBatch> iov{};
  using Control = std::array<char, CMSG_SPACE(sizeof(timespec))>;
  std::array<Control, kBatch> controls{};
  for (int i = 0; i < kBatch; ++i) {
    iov[i] = {buffers[i].data(), buffers[i].size()};
    messages[i].msg_hdr.msg_iov = &iov[i];
    messages[i].msg_hdr.msg_iovlen = 1;
  }
  const double sut_before = cpuSeconds(sut);
  const double self_before = cpuSeconds(getpid());
  const auto started = Clock::now();
  const auto stop_sending = started + duration;
  int slot = 0;
  std::array<epoll_event, 128> events;
  while (Clock::now() < stop_sending + 300ms) {
    const int ready = epoll_wait(epoll, events.data(), 128, 5);
    for (int e = 0; e < ready; ++e) {
      const int fd = events[e].data.fd;
      if (fd == timer) {
        uint64_t ticks = 0;
        (void)!read(timer, &ticks, sizeof ticks);
        if (Clock::now() >= stop_sending) continue;
        for (uint64_t t = 0; t < ticks; ++t, slot = (slot + 1) % kSlots) {
          if (slot == 0) ++sequence;
          for (int i = slot; i < active; i += kSlots) {
            send(calls[i].a_fd, calls[i].a_sends_to, 2 * i);
            send(calls[i].b_fd, calls[i].b_sends_to, 2 * i + 1);
          }
        }
        continue;
      }
      for (int i = 0; i < kBatch; ++i) {
        messages[i].msg_hdr.msg_control = controls[i].data();
        messages[i].msg_hdr.msg_controllen = controls[i].size();
      }
      const int count = recvmmsg(fd, messages.data(), kBatch, MSG_DONTWAIT, nullptr);
      const int64_t now = realtimeNs();
      for (int i = 0; i < count; ++i) {
        if (messages[i].msg_len < 20) continue;
        int64_t stamp;
        std::memcpy(&stamp, &buffers[i][12], 8);
        int64_t arrived = now;  // without a kernel stamp: when this generator read it
        for (cmsghdr* c = CMSG_FIRSTHDR(&messages[i].msg_hdr); c != nullptr;
             c = CMSG_NXTHDR(&messages[i].msg_hdr, c)) {
          if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_TIMESTAMPNS) {
            timespec kernel{};
            std::memcpy(&kernel, CMSG_DATA(c), sizeof kernel);
            arrived = static_cast<int64_t>(kernel.tv_sec) * 1'000'000'000 + kernel.tv_nsec;
          }
        }
        histogram[std::clamp<int64_t>((arrived - stamp) / 1000, 0, 100000)]++;
        ++received;
      }
    }
  }
  const double wall = std::chrono::duration<double>(duration).count();
  LevelResult result;
  result.calls = active;
  result.sut_cpu = (cpuSeconds(sut) - sut_before) / wall;
  result.generator_cpu = (cpuSeconds(getpid()) - self_before) / wall;
  result.relayed = received;
  result.us_per_packet =
      received ? (result.sut_cpu * wall * 1e6) / static_cast<double>(received) : 0;
  result.loss = sent ? 1.0 - static_cast<double>(received) / static_cast<double>(sent) : 0;
  auto percentile = [&](double p) {
    const uint64_t target = static_cast<uint64_t>(p * static_cast<double>(received));
    uint64_t seen = 0;
    for (size_t us = 0; us < histogram.size(); ++us) {
      seen += histogram[us];
      if (seen >= target) return static_cast<double>(us);
    }
    return 100000.0;
  };
  result.p50_us = percentile(0.5);
  result.p99_us = percentile(0.99);
  close(timer);
  close(epoll);
  return result;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc == 3 && std::string(argv[1]) == "--bare") return runBare(argv[2]);
  const int max_calls = argc > 1 ? std::stoi(argv[1]) : 1400;
  const std::string media_relay = argc > 2 ? argv[2] : TEL_MEDIA_RELAY_BINARY;
  pinTo(1);

  std::vector<CallPath> calls(max_calls);
  for (int i = 0; i < max_calls; ++i) {
    calls[i].a_port = static_cast<uint16_t>(20000 + i);
    calls[i].b_port = static_cast<uint16_t>(22000 + i);
    calls[i].a_fd = boundSocket(calls[i].a_port);
    calls[i].b_fd = boundSocket(calls[i].b_port);
    if (calls[i].a_fd < 0 || calls[i].b_fd < 0) {
      std::fprintf(stderr, "cannot bind generator ports 20000+%d / 22000+%d\n", i, i);
      return 1;
    }
  }
  std::vector<int> levels;
  for (int n : {100, 200, 400, 600, 800, 1000, 1200, 1400, 1600, 2000}) {
    if (n <= max_calls) levels.push_back(n);
  }
  std::vector<std::unique_ptr<System>> systems;
  systems.push_back(std::make_unique<MediaRelay>(media_relay));
  systems.push_back(std::make_unique<Rtpengine>());
  systems.push_back(std::make_unique<Bare>(argv[0]));

  std::printf(
      "RTP relay, G.711 (172-byte packets, 50/s each way), system on core 0, generator on core "
      "1\n");
  std::map<std::string, int> saturation;
  for (auto& system : systems) {
    if (!system->start() || !system->setUp(calls)) {
      std::printf("%s: could not be set up (see /tmp/bench-*.log)\n", system->name.c_str());
      system->stop();
      continue;
    }
    std::printf(
        "\n%s\n  calls  relayed/s  cpu%%   us/packet  loss%%     p50us  p99us  generator cpu%%\n",
        system->name.c_str());
    int held = 0;
    for (int level : levels) {
      const auto r = runLevel(calls, level, system->pid, 6s);
      std::printf("  %5d  %9.0f  %5.1f  %9.2f  %7.4f  %6.0f  %6.0f  %5.1f\n", r.calls,
                  r.relayed / 6.0, 100 * r.sut_cpu, r.us_per_packet, 100 * r.loss, r.p50_us,
                  r.p99_us, 100 * r.generator_cpu);
      std::fflush(stdout);
      if (r.loss < 0.0001 && r.sut_cpu < 0.95) held = level;
      if (r.loss > 0.01 || r.generator_cpu > 0.97) break;
    }
    saturation[system->name] = held;
    system->stop();
    std::this_thread::sleep_for(1s);
  }
  std::printf("\nhighest level held (loss < 0.01%%, cpu < 95%% of the core):\n");
  for (const auto& [name, held] : saturation) std::printf("  %-36s %d calls\n", name.c_str(), held);
  return 0;
}
