#include "target_guard.h"

#include <catch2/catch.hpp>
#include <map>

using namespace tel::integrations;

namespace {

// DNS as the tests want it: a few names, each with its addresses.
TargetGuard::Resolver fakeDns() {
  static const std::map<std::string, std::vector<std::string>> kZone = {
      {"hooks.example.com", {"93.184.216.34", "2606:2800:220:1:248:1893:25c8:1946"}},
      {"localhost", {"127.0.0.1", "::1"}},
      {"internal.example.com", {"10.1.2.3"}},
      {"mixed.example.com", {"93.184.216.34", "192.168.1.10"}},
      {"receiver.test", {"127.0.0.99"}},
  };
  return [](const std::string& host) {
    if (auto found = kZone.find(host); found != kZone.end()) return found->second;
    // Literal addresses resolve to themselves, as getaddrinfo does (numeric forms included).
    if (host == "2130706433" || host == "0x7f000001" || host == "017700000001") return std::vector<std::string>{"127.0.0.1"};
    if (tel::net::AddressBlocks::isAddress(host)) return std::vector<std::string>{host};
    return std::vector<std::string>{};
  };
}

}  // namespace

TEST_CASE("public https and http targets are accepted") {
  TargetGuard guard(tel::net::AddressBlocks{}, fakeDns());
  CHECK_FALSE(guard.refusal("https://hooks.example.com/telephony?x=1"));
  CHECK_FALSE(guard.refusal("http://hooks.example.com:8080/in"));
  CHECK_FALSE(guard.refusal("https://93.184.216.34/in"));
}

TEST_CASE("loopback and private and link-local and metadata targets are refused") {
  TargetGuard guard(tel::net::AddressBlocks{}, fakeDns());
  for (const char* url : {"http://127.0.0.1/", "http://localhost:8080/", "http://10.0.0.5/",
                          "http://172.16.3.4/", "http://172.31.255.255/", "http://192.168.0.1/",
                          "http://169.254.169.254/latest/meta-data/", "http://[::1]/",
                          "http://[::ffff:127.0.0.1]/", "http://[::ffff:10.0.0.1]/", "http://[fe80::1]/",
                          "http://[fd00:ec2::254]/", "http://2130706433/", "http://0x7f000001/",
                          "http://017700000001/", "http://0.0.0.0/", "http://224.0.0.1/",
                          "http://100.64.0.1/", "http://internal.example.com/", "http://mixed.example.com/",
                          "http://[64:ff9b::a00:1]/"}) {
    INFO(url);
    const auto refusal = TargetGuard(tel::net::AddressBlocks{}, fakeDns()).refusal(url);
    REQUIRE(refusal);
    CHECK(refusal->find("non-public") != std::string::npos);
  }
  CHECK_FALSE(guard.allowsAddress("127.0.0.1"));
  CHECK_FALSE(guard.allowsAddress("::ffff:169.254.169.254"));
  CHECK(guard.allowsAddress("93.184.216.34"));
  CHECK_FALSE(guard.allowsAddress("not an address"));
}

TEST_CASE("URLs that are not plain http or https targets are refused with the reason") {
  TargetGuard guard(tel::net::AddressBlocks{}, fakeDns());
  CHECK(guard.refusal("ftp://hooks.example.com/") == std::string("not an http or https URL"));
  CHECK(guard.refusal("file:///etc/passwd") == std::string("not an http or https URL"));
  CHECK(guard.refusal("https://user:pw@hooks.example.com/")->find("credentials") != std::string::npos);
  CHECK(guard.refusal("https://nowhere.invalid/") == std::string("its host does not resolve"));
  CHECK(guard.refusal("not a url") == std::string("spaces, control or non-ASCII characters (percent-encode them)"));
  CHECK(guard.refusal("https://hooks.example.com/\xc3\xa9") ==
        std::string("spaces, control or non-ASCII characters (percent-encode them)"));
  CHECK(guard.refusal("https://hooks.example.com/" + std::string(2100, 'a')) ==
        std::string("longer than 2048 characters"));
  CHECK(guard.refusal("https://") == std::string("not a URL"));
}

TEST_CASE("blocks the operator allows are let through and nothing else") {
  TargetGuard guard(tel::net::AddressBlocks({"127.0.0.99/32"}), fakeDns());
  CHECK_FALSE(guard.refusal("http://127.0.0.99:9000/hook"));
  CHECK_FALSE(guard.refusal("http://receiver.test/hook"));
  CHECK(guard.refusal("http://127.0.0.1:9000/hook"));
  CHECK(guard.refusal("http://localhost/"));
  CHECK(guard.allowsAddress("127.0.0.99"));
  CHECK_FALSE(guard.allowsAddress("127.0.0.98"));
}
