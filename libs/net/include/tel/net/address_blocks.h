#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace tel::net {

// A set of IPv4/IPv6 addresses and CIDR blocks ("10.0.0.1", "10.8.0.0/16", "fd00::/8"): the
// sources a service treats specially, e.g. proxies believed when they say where a request came
// from, or sources never banned. An IPv4-mapped IPv6 address (::ffff:10.0.0.1) counts as the IPv4
// address it carries. Immutable once built, so any thread may read it.
class AddressBlocks {
 public:
  AddressBlocks() = default;
  // Entries that do not parse are skipped: validate them first with invalidEntry().
  explicit AddressBlocks(const std::vector<std::string>& entries);

  // The first entry that is not an address or CIDR block, if any.
  static std::optional<std::string> invalidEntry(const std::vector<std::string>& entries);

  bool contains(const std::string& ip) const;
  // True when `text` is an IPv4 or IPv6 address.
  static bool isAddress(const std::string& text);
  bool empty() const { return blocks_.empty(); }

 private:
  struct Block {
    bool v6 = false;
    uint8_t bytes[16] = {};
    int prefix = 0;
  };
  std::vector<Block> blocks_;
};

}  // namespace tel::net
