#include "tel/net/address_blocks.h"

#include <arpa/inet.h>

#include <algorithm>
#include <cstring>

namespace tel::net {
namespace {

// Address bytes of `ip` (4 or 16); false when it is neither IPv4 nor IPv6. An IPv4-mapped IPv6
// address (::ffff:a.b.c.d, what a dual-stack socket reports for an IPv4 peer) counts as IPv4.
bool parseAddress(const std::string& ip, bool& v6, uint8_t bytes[16]) {
  std::memset(bytes, 0, 16);
  if (inet_pton(AF_INET, ip.c_str(), bytes) == 1) {
    v6 = false;
    return true;
  }
  if (inet_pton(AF_INET6, ip.c_str(), bytes) != 1) return false;
  static const uint8_t kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  if (std::memcmp(bytes, kMapped, 12) == 0) {
    std::memmove(bytes, bytes + 12, 4);
    std::memset(bytes + 4, 0, 12);
    v6 = false;
    return true;
  }
  v6 = true;
  return true;
}

bool prefixMatches(const uint8_t* a, const uint8_t* b, int prefix) {
  const int whole = prefix / 8;
  if (std::memcmp(a, b, static_cast<size_t>(whole)) != 0) return false;
  const int rest = prefix % 8;
  if (rest == 0) return true;
  const uint8_t mask = static_cast<uint8_t>(0xFF << (8 - rest));
  return (a[whole] & mask) == (b[whole] & mask);
}

}  // namespace

AddressBlocks::AddressBlocks(const std::vector<std::string>& entries) {
  for (const auto& entry : entries) {
    Block block;
    const auto slash = entry.find('/');
    if (!parseAddress(entry.substr(0, slash), block.v6, block.bytes)) continue;
    block.prefix =
        slash == std::string::npos ? (block.v6 ? 128 : 32) : std::stoi(entry.substr(slash + 1));
    blocks_.push_back(block);
  }
}

std::optional<std::string> AddressBlocks::invalidEntry(const std::vector<std::string>& entries) {
  for (const auto& entry : entries) {
    const auto slash = entry.find('/');
    bool v6 = false;
    uint8_t bytes[16];
    if (!parseAddress(entry.substr(0, slash), v6, bytes)) return entry;
    if (slash != std::string::npos) {
      const std::string prefix = entry.substr(slash + 1);
      if (prefix.empty() || prefix.size() > 3 ||
          !std::all_of(prefix.begin(), prefix.end(), ::isdigit))
        return entry;
      if (std::stoi(prefix) > (v6 ? 128 : 32)) return entry;
    }
  }
  return std::nullopt;
}

bool AddressBlocks::isAddress(const std::string& text) {
  bool v6 = false;
  uint8_t bytes[16];
  return parseAddress(text, v6, bytes);
}

bool AddressBlocks::contains(const std::string& ip) const {
  bool v6 = false;
  uint8_t bytes[16];
  if (!parseAddress(ip, v6, bytes)) return false;
  return std::any_of(blocks_.begin(), blocks_.end(), [&](const Block& block) {
    return block.v6 == v6 && prefixMatches(block.bytes, bytes, block.prefix);
  });
}

}  // namespace tel::net
