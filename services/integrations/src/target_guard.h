#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "tel/net/address_blocks.h"

namespace tel::integrations {

// Where webhooks may go (SSRF protection). A subscription's URL is checked when it is saved
// (http or https, a host, no user:password, and every address the host resolves to), and every
// connection again when curl is about to open it, since DNS may answer differently by then.
// Loopback, private, shared (CGNAT), link-local (cloud metadata at 169.254.169.254), multicast,
// reserved and documentation ranges are refused in IPv4 and IPv6, IPv4-mapped and NAT64 forms
// included, except the blocks the operator allows (on-premise receivers, the test suite).
// Immutable: any thread may use it.
class TargetGuard {
 public:
  // The host's addresses as text; empty when it does not resolve.
  using Resolver = std::function<std::vector<std::string>(const std::string& host)>;

  explicit TargetGuard(net::AddressBlocks allowed_private, Resolver resolver = systemResolver);

  // Why `url` may not receive webhooks, or nullopt when it may.
  std::optional<std::string> refusal(const std::string& url) const;
  // Whether a connection to `ip` may be opened.
  bool allowsAddress(const std::string& ip) const;

  static std::vector<std::string> systemResolver(const std::string& host);

 private:
  net::AddressBlocks non_public_;
  net::AddressBlocks allowed_private_;
  Resolver resolver_;
};

}  // namespace tel::integrations
