#pragma once

#include <httplib.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace tel::gateway {

// Where a request really came from, for the limits that count per source (failed sign-ins).
//
// Behind a load balancer or an ingress every request arrives from the proxy's address, so counting
// per peer would let one guesser block everybody's sign-in. Proxies listed in http.trusted_proxies
// (addresses or CIDR blocks) are believed about the client: the source is then the rightmost
// address of X-Forwarded-For that is not itself a trusted proxy. Anyone else's X-Forwarded-For is
// ignored, so a client cannot pick its own source. Immutable; any thread may use it.
//
// sip-edge has the same kind of address set (sip.trusted_proxies); a shared library for both is
// the natural next step once both services are free to change together.
class ClientAddress {
 public:
  explicit ClientAddress(const std::vector<std::string>& trusted_proxies = {});

  // The first entry that is not an address or CIDR block, if any.
  static std::optional<std::string> invalidEntry(const std::vector<std::string>& entries);

  std::string of(const httplib::Request& request) const;
  bool trusted(const std::string& ip) const;

 private:
  struct Block {
    bool v6 = false;
    uint8_t bytes[16] = {};
    int prefix = 0;
  };
  static std::optional<Block> parse(const std::string& entry);
  std::vector<Block> trusted_;
};

// "a, b,c" -> {"a", "b", "c"}; empty items dropped.
std::vector<std::string> splitCommaList(const std::string& text);

}  // namespace tel::gateway
