// Source protection: flood limit, failed-authentication bans, scanners, the allow-list, expiry, and
// the kernel filter dropping a banned source's datagrams on a real socket.
#include "source_guard.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include "kernel_source_filter.h"

using namespace tel::sip;
using namespace std::chrono_literals;

namespace {

struct Fixture {
  prometheus::Registry registry;
  SourceGuardOptions options = [] {
    SourceGuardOptions o;
    o.allow = {"192.0.2.0/24", "2001:db8::1"};
    return o;
  }();
  SourceGuard guard{options, registry};
  SourceGuard::Clock::time_point now = SourceGuard::Clock::now();
};

int udpSocket(const char* ip, uint16_t port) {
  const int fd = socket(AF_INET, SOCK_DGRAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  inet_pton(AF_INET, ip, &address.sin_addr);
  REQUIRE(bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0);
  return fd;
}

uint16_t portOf(int fd) {
  sockaddr_in address{};
  socklen_t length = sizeof address;
  getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length);
  return ntohs(address.sin_port);
}

bool receives(int receiver, const char* from_ip) {
  const int sender = udpSocket(from_ip, 0);
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_port = htons(portOf(receiver));
  inet_pton(AF_INET, "127.0.0.1", &to.sin_addr);
  sendto(sender, "OPTIONS", 7, 0, reinterpret_cast<sockaddr*>(&to), sizeof to);
  close(sender);
  pollfd ready{receiver, POLLIN, 0};
  if (poll(&ready, 1, 300) != 1) return false;
  char buffer[64];
  return recv(receiver, buffer, sizeof buffer, 0) == 7;
}

}  // namespace

TEST_CASE_METHOD(Fixture, "more than 16 requests within 2 s ban the source, and the ban expires") {
  for (int i = 0; i < 16; ++i)
    REQUIRE(guard.onRequest("198.51.100.7", "", now) == SourceGuard::Verdict::kAllow);
  CHECK(guard.onRequest("198.51.100.7", "", now + 1s) == SourceGuard::Verdict::kBanned);
  CHECK(guard.banned("198.51.100.7", now + 5min));
  CHECK(guard.onRequest("198.51.100.8", "", now) ==
        SourceGuard::Verdict::kAllow);  // others unaffected
  CHECK(guard.sweep(now + 1s));
  CHECK(guard.bannedIpv4().size() == 1);
  CHECK_FALSE(guard.sweep(now + 2s));  // nothing new
  CHECK(guard.sweep(now + 11min));     // lifted
  CHECK_FALSE(guard.banned("198.51.100.7", now + 11min));
  CHECK(guard.bannedIpv4().empty());
}

TEST_CASE_METHOD(Fixture, "a steady rate under the limit is never banned") {
  for (int second = 0; second < 60; ++second) {
    for (int i = 0; i < 7; ++i) {
      REQUIRE(guard.onRequest("198.51.100.7", "", now + std::chrono::seconds(second)) ==
              SourceGuard::Verdict::kAllow);
    }
  }
}

TEST_CASE_METHOD(Fixture, "three failed authentications within 10 minutes ban the source") {
  guard.onAuthenticationFailure("198.51.100.9", now);
  guard.onAuthenticationFailure("198.51.100.9", now + 4min);
  CHECK_FALSE(guard.banned("198.51.100.9", now + 4min));
  guard.onAuthenticationFailure("198.51.100.9", now + 9min);
  CHECK(guard.banned("198.51.100.9", now + 9min));

  SECTION("failures spread over more than the window do not add up") {
    guard.onAuthenticationFailure("198.51.100.10", now);
    guard.onAuthenticationFailure("198.51.100.10", now + 8min);
    guard.onAuthenticationFailure("198.51.100.10", now + 16min);
    CHECK_FALSE(guard.banned("198.51.100.10", now + 16min));
  }
}

TEST_CASE_METHOD(Fixture, "scanner user agents are banned at once, whatever the case") {
  CHECK(guard.onRequest("203.0.113.5", "Friendly-Scanner", now) == SourceGuard::Verdict::kBanned);
  CHECK(guard.onRequest("203.0.113.6", "sipvicious 0.3", now) == SourceGuard::Verdict::kBanned);
  CHECK(guard.onRequest("203.0.113.7", "Zoiper rv2.10", now) == SourceGuard::Verdict::kAllow);
}

TEST_CASE_METHOD(Fixture, "allow-listed sources are never banned") {
  for (int i = 0; i < 100; ++i)
    REQUIRE(guard.onRequest("192.0.2.77", "", now) == SourceGuard::Verdict::kAllow);
  for (int i = 0; i < 5; ++i) guard.onAuthenticationFailure("192.0.2.77", now);
  CHECK_FALSE(guard.banned("192.0.2.77", now));
  CHECK(guard.onRequest("2001:db8::1", "friendly-scanner", now) == SourceGuard::Verdict::kAllow);
  CHECK(guard.onRequest("2001:db8::2", "friendly-scanner", now) == SourceGuard::Verdict::kBanned);
}

TEST_CASE("the kernel filter drops a banned source's datagrams and lets the others through") {
  const int receiver = udpSocket("127.0.0.1", 0);
  auto filter = KernelSourceFilter::forListeningPort(portOf(receiver));
  REQUIRE(filter.sockets() == 1);
  in_addr banned;
  inet_pton(AF_INET, "127.0.0.2", &banned);
  REQUIRE(filter.install({banned.s_addr}).ok());
  CHECK_FALSE(receives(receiver, "127.0.0.2"));
  CHECK(receives(receiver, "127.0.0.3"));
  REQUIRE(filter.install({}).ok());  // lifted
  CHECK(receives(receiver, "127.0.0.2"));
  close(receiver);
}
