#include "address_blocks.h"

#include <arpa/inet.h>

#include <algorithm>
#include <cstring>

namespace tel::sip {
namespace {

// Address bytes of `ip`; false when it is neither IPv4 nor IPv6.
bool parseAddress(const std::string& ip, bool& v6, uint8_t bytes[16]) {
  std::memset(bytes, 0, 16);
  if (inet_pton(AF_INET, ip.c_str(), bytes) == 1) {
    v6 = false;
    return true;
  }
  if (inet_pton(AF_INET6, ip.c_str(), bytes) == 1) {
    v6 = true;
    return true;
  }
  return false;
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

bool AddressBlocks::contains(const std::string& ip) const {
  bool v6 = false;
  uint8_t bytes[16];
  if (!parseAddress(ip, v6, bytes)) return false;
  return std::any_of(blocks_.begin(), blocks_.end(), [&](const Block& block) {
    return block.v6 == v6 && prefixMatches(block.bytes, bytes, block.prefix);
  });
}

}  // namespace tel::sip
