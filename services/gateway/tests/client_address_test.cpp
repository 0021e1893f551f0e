#include "client_address.h"

#include <catch2/catch.hpp>

using tel::gateway::ClientAddress;

namespace {

httplib::Request from(const std::string& peer, std::vector<std::string> forwarded = {}) {
  httplib::Request request;
  request.remote_addr = peer;
  for (auto& header : forwarded) request.headers.emplace("X-Forwarded-For", header);
  return request;
}

}  // namespace

TEST_CASE("without trusted proxies the source is the peer whatever the headers say") {
  ClientAddress addresses;
  CHECK(addresses.of(from("203.0.113.7", {"198.51.100.1"})) == "203.0.113.7");
}

TEST_CASE("a trusted proxy is believed about the client and others are not") {
  ClientAddress addresses({"10.0.0.0/8", "192.0.2.10", "fd00::/8"});
  CHECK(addresses.of(from("10.1.2.3", {"198.51.100.1"})) == "198.51.100.1");
  CHECK(addresses.of(from("192.0.2.10", {"198.51.100.1"})) == "198.51.100.1");
  CHECK(addresses.of(from("fd00::5", {"2001:db8::1"})) == "2001:db8::1");
  // A client that sends its own header through the proxy cannot choose its source: the proxy
  // appends the real peer, and the rightmost untrusted hop counts.
  CHECK(addresses.of(from("10.1.2.3", {"1.2.3.4, 198.51.100.1"})) == "198.51.100.1");
  // Chains of trusted proxies are walked past.
  CHECK(addresses.of(from("10.1.2.3", {"198.51.100.1, 10.9.9.9"})) == "198.51.100.1");
  CHECK(addresses.of(from("10.1.2.3", {"198.51.100.1", "10.9.9.9"})) == "198.51.100.1");
  // Not a trusted peer: the header is ignored.
  CHECK(addresses.of(from("192.0.2.11", {"198.51.100.1"})) == "192.0.2.11");
  CHECK(addresses.of(from("11.0.0.1", {"198.51.100.1"})) == "11.0.0.1");
  // A trusted peer without the header, or with garbage in it, is itself the source.
  CHECK(addresses.of(from("10.1.2.3")) == "10.1.2.3");
  CHECK(addresses.of(from("10.1.2.3", {"not-an-ip"})) == "10.1.2.3");
  CHECK(addresses.of(from("10.1.2.3", {"not-an-ip, 198.51.100.1"})) == "198.51.100.1");
}

TEST_CASE("an IPv4 client seen through a dual-stack socket is matched as IPv4") {
  ClientAddress addresses({"10.0.0.0/8"});
  CHECK(addresses.of(from("::ffff:10.1.2.3", {"198.51.100.1"})) == "198.51.100.1");
}
