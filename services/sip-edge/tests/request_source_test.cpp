// Where a request came from: its transport peer (the top Via, corrected by received/rport), or, for
// a request a trusted proxy (the SIP load balancer) forwarded, the address in its X-Tel-Source.
#include <sofia-sip/msg.h>
#include <sofia-sip/sip.h>
#include <sofia-sip/sip_header.h>

#include <catch2/catch.hpp>
#include <string>

#include "sip_stack.h"

using namespace tel::sip;

namespace {

// An OPTIONS whose top Via is `via` and which carries `extra` header lines.
class ParsedRequest {
 public:
  ParsedRequest(const std::string& via, const std::string& extra) {
    text_ = "OPTIONS sip:edge.example SIP/2.0\r\nVia: " + via +
            "\r\nFrom: <sip:a@example>;tag=1\r\nTo: <sip:edge.example>\r\nCall-ID: c1\r\n"
            "CSeq: 1 OPTIONS\r\nMax-Forwards: 70\r\n" +
            extra + "Content-Length: 0\r\n\r\n";
    msg_ = msg_make(sip_default_mclass(), 0, text_.data(), static_cast<isize_t>(text_.size()));
    REQUIRE(msg_ != nullptr);
  }
  ~ParsedRequest() { msg_destroy(msg_); }
  const sip_t* sip() const { return sip_object(msg_); }

 private:
  std::string text_;
  msg_t* msg_ = nullptr;
};

SipStack stackTrusting(std::vector<std::string> proxies) {
  SipStackOptions options;
  options.trusted_proxies = std::move(proxies);
  return SipStack(
      options, [](RegisterRequest, SipStack::Respond) {},
      tel::log::Logger::create("test", tel::log::Level::kError));
}

}  // namespace

TEST_CASE("a request's source is its transport peer when no proxy is trusted") {
  auto stack = stackTrusting({});
  ParsedRequest request("SIP/2.0/UDP 10.0.0.1:5062;branch=z9hG4bK1;received=203.0.113.5;rport=4000",
                        "X-Tel-Source: 198.51.100.7:5070\r\n");
  const auto source = stack.sourceOf(request.sip());
  CHECK(source.ip == "203.0.113.5");
  CHECK(source.port == "4000");
}

TEST_CASE("a trusted proxy's X-Tel-Source names the source: IPv4 or IPv6 or without a port") {
  auto stack = stackTrusting({"192.0.2.10"});
  const std::string via = "SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK2";
  ParsedRequest v4(via, "X-Tel-Source: 198.51.100.7:5070\r\n");
  CHECK(stack.sourceOf(v4.sip()).ip == "198.51.100.7");
  CHECK(stack.sourceOf(v4.sip()).port == "5070");
  ParsedRequest v6(via, "X-Tel-Source: [2001:db8::1]:5080\r\n");
  CHECK(stack.sourceOf(v6.sip()).ip == "2001:db8::1");
  CHECK(stack.sourceOf(v6.sip()).port == "5080");
  ParsedRequest bare(via, "x-tel-source: 198.51.100.8\r\n");
  CHECK(stack.sourceOf(bare.sip()).ip == "198.51.100.8");
  CHECK(stack.sourceOf(bare.sip()).port == "5060");
}

TEST_CASE(
    "X-Tel-Source is ignored from anyone but a trusted proxy and garbage from one is not "
    "believed") {
  auto stack = stackTrusting({"192.0.2.10"});
  ParsedRequest forged("SIP/2.0/UDP 198.51.100.66:5060;branch=z9hG4bK3",
                       "X-Tel-Source: 198.51.100.7:5070\r\n");
  CHECK(stack.sourceOf(forged.sip()).ip == "198.51.100.66");
  ParsedRequest garbage("SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK4",
                        "X-Tel-Source: not-an-ip:5070\r\n");
  CHECK(stack.sourceOf(garbage.sip()).ip == "192.0.2.10");
  ParsedRequest missing("SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK5", "");
  CHECK(stack.sourceOf(missing.sip()).ip == "192.0.2.10");
}

TEST_CASE("a trusted proxy may be named by its network: a CIDR block") {
  auto stack = stackTrusting({"10.244.0.0/16"});
  ParsedRequest inside("SIP/2.0/UDP 10.244.3.7:5060;branch=z9hG4bK9", "X-Tel-Source: 198.51.100.7:5070\r\n");
  CHECK(stack.sourceOf(inside.sip()).ip == "198.51.100.7");
  ParsedRequest outside("SIP/2.0/UDP 10.245.0.1:5060;branch=z9hG4bK10", "X-Tel-Source: 198.51.100.7:5070\r\n");
  CHECK(stack.sourceOf(outside.sip()).ip == "10.245.0.1");
}
