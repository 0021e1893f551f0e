// The control link end to end: media_link::ControlClient → ControlServer → RelayRequests → a real
// RelayEngine with real sockets, all on loopback.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <thread>

#include "control_server.h"
#include "relay_requests.h"
#include "tel/media_link/control_client.h"
#include "tel/media_link/frames.h"

using namespace tel::media;
using tel::media_link::ControlClient;
using namespace std::chrono_literals;

namespace {

RelayOptions relayOptions() {
  RelayOptions options;
  options.port_min = 41500;
  options.port_max = 41599;
  options.workers = 2;
  return options;
}

struct LinkedRelay {
  prometheus::Registry registry;
  tel::log::Logger log = tel::log::Logger::create("control-link-test", tel::log::Level::kError);
  RelayEngine engine{relayOptions(), log, registry};
  RelayRequests requests{engine};
  ControlServer server;
  int port = 0;
  explicit LinkedRelay(ControlServerOptions options = {}, int fixed_port = 0)
      : server(requests, options, log, registry) {
    engine.start();
    port = server.start("127.0.0.1", fixed_port);
  }
  ~LinkedRelay() {
    server.stop();
    engine.stop();
  }
  double rejected(const std::string& reason) {
    for (const auto& family : registry.Collect()) {
      if (family.name != "tel_media_control_rejected_total") continue;
      for (const auto& metric : family.metric) {
        for (const auto& label : metric.label) {
          if (label.name == "reason" && label.value == reason) return metric.counter.value;
        }
      }
    }
    return 0;
  }
};

v1::ControlRequest createRequest(const std::string& call_id) {
  v1::ControlRequest request;
  auto* create = request.mutable_create_session();
  create->set_tenant_id("tenant-1");
  create->set_call_id(call_id);
  auto* caller = create->add_legs();
  caller->set_leg_id("a");
  caller->mutable_remote_rtp()->set_ip("127.0.0.1");
  caller->mutable_remote_rtp()->set_port(40000);
  create->add_legs()->set_leg_id("b1.1");
  return request;
}

v1::ControlRequest deleteRequest(const std::string& session_id) {
  v1::ControlRequest request;
  request.mutable_delete_session()->set_session_id(session_id);
  return request;
}

// A raw TCP connection to the control port, for bytes no client would send.
struct RawConnection {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  explicit RawConnection(int port) {
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    address.sin_port = htons(static_cast<uint16_t>(port));
    REQUIRE(connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0);
  }
  ~RawConnection() { close(fd); }
  void send(const std::string& bytes) const {
    REQUIRE(::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL) ==
            static_cast<ssize_t>(bytes.size()));
  }
  // True when the relay closes the connection within a second.
  bool closedByRelay() const {
    pollfd ready{fd, POLLIN, 0};
    if (poll(&ready, 1, 1000) <= 0) return false;
    char byte;
    return recv(fd, &byte, 1, 0) <= 0;
  }
};

}  // namespace

TEST_CASE("a call's media is set up and torn down over the control link") {
  LinkedRelay relay;
  ControlClient client("127.0.0.1", relay.port, 2s);
  auto created = client.call(createRequest("call-1"));
  REQUIRE(created.ok());
  const v1::Session& session = created->session();
  REQUIRE(session.legs_size() == 2);
  CHECK(session.legs(0).leg_id() == "a");
  CHECK(session.legs(0).local_rtp().port() >= 41500);
  CHECK(session.legs(1).leg_id() == "b1.1");
  CHECK(relay.engine.stats().ports_in_use() == 4);

  v1::ControlRequest link;
  link.mutable_link()->set_session_id(session.session_id());
  link.mutable_link()->set_leg_a("a");
  link.mutable_link()->set_leg_b("b1.1");
  link.mutable_link()->mutable_leg_b_remote()->set_ip("127.0.0.1");
  link.mutable_link()->mutable_leg_b_remote()->set_port(40002);
  auto linked = client.call(link);
  REQUIRE(linked.ok());
  for (const auto& leg : linked->session().legs()) CHECK(!leg.linked_to().empty());

  auto deleted = client.call(deleteRequest(session.session_id()));
  REQUIRE(deleted.ok());
  CHECK(deleted->session().end_reason() == "deleted");
  CHECK(relay.engine.stats().ports_in_use() == 0);
  CHECK(relay.engine.stats().sessions() == 0);
}

TEST_CASE("the relay's refusals come back as statuses on the link") {
  LinkedRelay relay;
  ControlClient client("127.0.0.1", relay.port, 2s);
  auto missing = client.call(deleteRequest("no-such-session"));
  CHECK(missing.status().code() == absl::StatusCode::kNotFound);

  auto bad_leg = createRequest("call-2");
  bad_leg.mutable_create_session()->mutable_legs(0)->mutable_remote_rtp()->set_ip("not-an-ip");
  auto refused = client.call(bad_leg);
  CHECK(refused.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(refused.status().message().find("legs[0].remote_rtp") != std::string::npos);
  CHECK(relay.engine.stats().sessions() == 0);

  auto no_operation = client.call(v1::ControlRequest());
  CHECK(no_operation.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(relay.rejected("no_operation") == 1);

  // A silence to detect shorter than half a second (or past a minute) is refused, naming it.
  v1::ControlRequest short_silence;
  short_silence.mutable_start_recording()->set_session_id("no-such-session");
  short_silence.mutable_start_recording()->set_leg_a("a");
  short_silence.mutable_start_recording()->set_silence_ms(100);
  auto silence_refused = client.call(short_silence);
  CHECK(silence_refused.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(silence_refused.status().message().find("silence_ms") != std::string::npos);
  v1::ControlRequest stop_missing;
  stop_missing.mutable_stop_recording()->set_session_id("no-such-session");
  CHECK(client.call(stop_missing).status().code() == absl::StatusCode::kNotFound);

  relay.requests.drain();
  auto draining = client.call(createRequest("call-3"));
  CHECK(draining.status().code() == absl::StatusCode::kUnavailable);
  CHECK(relay.engine.stats().ports_in_use() == 0);
}

TEST_CASE("bad bytes on the control link close that connection only") {
  LinkedRelay relay;
  ControlClient client("127.0.0.1", relay.port, 2s);
  REQUIRE(client.call(deleteRequest("warm-up")).status().code() == absl::StatusCode::kNotFound);

  SECTION("a frame longer than the limit") {
    RawConnection raw(relay.port);
    raw.send(std::string("\x7f\xff\xff\xff", 4));
    CHECK(raw.closedByRelay());
    CHECK(relay.rejected("oversized_frame") == 1);
  }
  SECTION("a frame that is not a request") {
    RawConnection raw(relay.port);
    raw.send(std::string("\x00\x00\x00\x05\xff\xff\xff\xff\xff", 9));
    CHECK(raw.closedByRelay());
    CHECK(relay.rejected("malformed_frame") == 1);
  }
  SECTION("a connection that hangs up in the middle of a frame") {
    {
      RawConnection raw(relay.port);
      raw.send(std::string("\x00\x00\x01\x00garbage", 11));
    }
    std::this_thread::sleep_for(100ms);
  }
  // The relay still serves everyone else, and nothing was created by the bad input.
  CHECK(client.call(deleteRequest("after")).status().code() == absl::StatusCode::kNotFound);
  auto created = client.call(createRequest("call-4"));
  REQUIRE(created.ok());
  REQUIRE(client.call(deleteRequest(created->session().session_id())).ok());
  CHECK(relay.engine.stats().sessions() == 0);
}

TEST_CASE("a controller that does not read its replies is cut off") {
  ControlServerOptions options;
  options.max_pending_reply_bytes = 4096;
  LinkedRelay relay(options);
  RawConnection raw(relay.port);
  // Each refusal names the 200-byte session id: 60,000 of them are more than the kernel's socket
  // buffers on both sides can hold (4 MiB at most for the relay's send buffer).
  std::string requests;
  const std::string session_id(200, 's');
  for (int i = 0; i < 60000; ++i) {
    v1::ControlRequest request = deleteRequest(session_id);
    request.set_id(static_cast<uint64_t>(i));
    tel::media_link::appendFrame(request, requests);
  }
  // Written without reading a reply; the relay shuts the connection once 4 KiB of replies wait
  // beyond what the socket took. Sent without blocking, until the relay has cut us off.
  size_t sent = 0;
  const auto until = std::chrono::steady_clock::now() + 10s;
  while (relay.rejected("reply_backlog") == 0 && std::chrono::steady_clock::now() < until) {
    if (sent < requests.size()) {
      const ssize_t written = ::send(raw.fd, requests.data() + sent, requests.size() - sent,
                                     MSG_NOSIGNAL | MSG_DONTWAIT);
      if (written > 0) sent += static_cast<size_t>(written);
      if (written > 0) continue;
    }
    std::this_thread::sleep_for(10ms);
  }
  CHECK(relay.rejected("reply_backlog") == 1);
  // Everyone else is still served.
  ControlClient client("127.0.0.1", relay.port, 2s);
  CHECK(client.call(deleteRequest("s")).status().code() == absl::StatusCode::kNotFound);
}

TEST_CASE("concurrent callers on one client each get their own reply") {
  LinkedRelay relay;
  ControlClient client("127.0.0.1", relay.port, 2s);
  constexpr int kThreads = 6;
  constexpr int kCallsEach = 40;
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kCallsEach; ++i) {
        const std::string call_id = "call-" + std::to_string(t) + "-" + std::to_string(i);
        auto created = client.call(createRequest(call_id));
        if (!created.ok() || created->session().call_id() != call_id) {
          ++failures;
          continue;
        }
        auto deleted = client.call(deleteRequest(created->session().session_id()));
        if (!deleted.ok() || deleted->session().call_id() != call_id) ++failures;
      }
    });
  }
  for (auto& thread : threads) thread.join();
  CHECK(failures == 0);
  CHECK(relay.engine.stats().sessions() == 0);
  CHECK(relay.engine.stats().ports_in_use() == 0);
}

TEST_CASE("a client whose relay restarted reconnects instead of failing the next call") {
  auto relay = std::make_unique<LinkedRelay>();
  const int port = relay->port;
  ControlClient client("127.0.0.1", port, 2s);
  REQUIRE(client.call(deleteRequest("s")).status().code() == absl::StatusCode::kNotFound);
  relay.reset();  // the connection the client keeps idle is closed by the relay going away
  relay = std::make_unique<LinkedRelay>(ControlServerOptions{}, port);
  auto created = client.call(createRequest("call-after-restart"));
  REQUIRE(created.ok());
  CHECK(client.call(deleteRequest(created->session().session_id())).ok());
}

// A server that reads one request and answers with `reply_bytes`, whatever they are (none: it
// hangs up instead).
// A TCP socket listening on a free loopback port; that port.
int listenOnLoopback(int& port) {
  const int listener = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(bind(listener, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0);
  REQUIRE(listen(listener, 8) == 0);
  socklen_t size = sizeof address;
  getsockname(listener, reinterpret_cast<sockaddr*>(&address), &size);
  port = ntohs(address.sin_port);
  return listener;
}

struct MisbehavingRelay {
  int port = 0;
  int listener = listenOnLoopback(port);
  std::thread thread;
  explicit MisbehavingRelay(std::string reply_bytes) {
    thread = std::thread([this, reply_bytes = std::move(reply_bytes)] {
      const int fd = accept(listener, nullptr, nullptr);
      if (fd < 0) return;
      char request[4096];
      if (recv(fd, request, sizeof request, 0) > 0 && !reply_bytes.empty()) {
        send(fd, reply_bytes.data(), reply_bytes.size(), MSG_NOSIGNAL);
        char byte;
        recv(fd, &byte, 1, 0);  // until the client hangs up
      }
      close(fd);
    });
  }
  ~MisbehavingRelay() {
    thread.join();
    close(listener);
  }
};

TEST_CASE("a reply that is not one the client can trust fails the call as UNAVAILABLE") {
  std::string reply_bytes;
  std::string why;
  SECTION("a frame longer than the limit") {
    reply_bytes = std::string("\x7f\xff\xff\xff", 4);
    why = "oversized";
  }
  SECTION("a frame that is not a reply") {
    reply_bytes = std::string("\x00\x00\x00\x05\xff\xff\xff\xff\xff", 9);
    why = "does not parse";
  }
  SECTION("a reply to another request") {
    v1::ControlReply other;
    other.set_id(987654321);
    tel::media_link::appendFrame(other, reply_bytes);
    why = "another request";
  }
  SECTION("the connection closed before a reply") { why = "closed"; }
  MisbehavingRelay relay(reply_bytes);
  {
    ControlClient client("127.0.0.1", relay.port, 2s);
    const auto reply = client.call(deleteRequest("s"));
    CHECK(reply.status().code() == absl::StatusCode::kUnavailable);
    CHECK(reply.status().message().find(why) != std::string::npos);
  }  // the client closes its connection (it was not kept for reuse), so the relay's thread ends
}

TEST_CASE("a relay that is gone is UNAVAILABLE and one that does not answer is DEADLINE_EXCEEDED") {
  // A listening socket that never reads: the connection is accepted by the kernel, no reply comes.
  int silent_port = 0;
  const int silent = listenOnLoopback(silent_port);

  ControlClient slow("127.0.0.1", silent_port, 200ms);
  const auto started = std::chrono::steady_clock::now();
  CHECK(slow.call(deleteRequest("s")).status().code() == absl::StatusCode::kDeadlineExceeded);
  CHECK(std::chrono::steady_clock::now() - started < 1s);
  close(silent);

  ControlClient gone("127.0.0.1", silent_port, 200ms);
  CHECK(gone.call(deleteRequest("s")).status().code() == absl::StatusCode::kUnavailable);
}
