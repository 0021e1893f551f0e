#pragma once

#include <httplib.h>

#include <optional>
#include <string>
#include <vector>

#include "tel/net/address_blocks.h"

namespace tel::gateway {

// Where a request really came from, for the limits that count per source (failed sign-ins).
//
// Behind a load balancer or an ingress every request arrives from the proxy's address, so counting
// per peer would let one guesser block everybody's sign-in. Proxies listed in http.trusted_proxies
// (addresses or CIDR blocks) are believed about the client: the source is then the rightmost
// address of X-Forwarded-For that is not itself a trusted proxy. Anyone else's X-Forwarded-For is
// ignored, so a client cannot pick its own source. Immutable; any thread may use it.
class ClientAddress {
 public:
  explicit ClientAddress(const std::vector<std::string>& trusted_proxies = {})
      : trusted_(trusted_proxies) {}

  std::string of(const httplib::Request& request) const;
  bool trusted(const std::string& ip) const { return trusted_.contains(ip); }

 private:
  net::AddressBlocks trusted_;
};

}  // namespace tel::gateway
