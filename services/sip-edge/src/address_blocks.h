#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace tel::sip {

// A set of IPv4/IPv6 addresses and CIDR blocks ("10.0.0.1", "10.8.0.0/16", "fd00::/8"), for the
// sources sip-edge treats specially: never banned (protection.allow), or believed when they say
// where a request came from (sip.trusted_proxies). Immutable once built, so any thread may read it.
class AddressBlocks {
 public:
  AddressBlocks() = default;
  // Entries that do not parse are skipped: validate them first with invalidEntry().
  explicit AddressBlocks(const std::vector<std::string>& entries);

  // The first entry that is not an address or CIDR block, if any.
  static std::optional<std::string> invalidEntry(const std::vector<std::string>& entries);

  bool contains(const std::string& ip) const;
  bool empty() const { return blocks_.empty(); }

 private:
  struct Block {
    bool v6 = false;
    uint8_t bytes[16] = {};
    int prefix = 0;
  };
  std::vector<Block> blocks_;
};

}  // namespace tel::sip
