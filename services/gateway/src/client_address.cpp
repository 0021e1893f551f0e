#include "client_address.h"

#include <arpa/inet.h>

#include <cstring>

namespace tel::gateway {
namespace {

std::string trim(const std::string& text) {
  const size_t first = text.find_first_not_of(" \t");
  if (first == std::string::npos) return "";
  return text.substr(first, text.find_last_not_of(" \t") - first + 1);
}

// An address as 4 or 16 bytes; IPv4-mapped IPv6 (::ffff:a.b.c.d) counts as IPv4.
bool toBytes(const std::string& ip, bool* v6, uint8_t* bytes) {
  in_addr v4{};
  if (inet_pton(AF_INET, ip.c_str(), &v4) == 1) {
    *v6 = false;
    std::memcpy(bytes, &v4, 4);
    return true;
  }
  in6_addr addr{};
  if (inet_pton(AF_INET6, ip.c_str(), &addr) != 1) return false;
  static const uint8_t kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  if (std::memcmp(addr.s6_addr, kMapped, 12) == 0) {
    *v6 = false;
    std::memcpy(bytes, addr.s6_addr + 12, 4);
    return true;
  }
  *v6 = true;
  std::memcpy(bytes, addr.s6_addr, 16);
  return true;
}

}  // namespace

std::vector<std::string> splitCommaList(const std::string& text) {
  std::vector<std::string> items;
  size_t at = 0;
  while (at <= text.size()) {
    size_t end = text.find(',', at);
    if (end == std::string::npos) end = text.size();
    std::string item = trim(text.substr(at, end - at));
    if (!item.empty()) items.push_back(std::move(item));
    at = end + 1;
  }
  return items;
}

std::optional<ClientAddress::Block> ClientAddress::parse(const std::string& entry) {
  Block block;
  const size_t slash = entry.find('/');
  if (!toBytes(entry.substr(0, slash), &block.v6, block.bytes)) return std::nullopt;
  const int bits = block.v6 ? 128 : 32;
  block.prefix = bits;
  if (slash != std::string::npos) {
    const std::string prefix = entry.substr(slash + 1);
    if (prefix.empty() || prefix.size() > 3 ||
        prefix.find_first_not_of("0123456789") != std::string::npos) {
      return std::nullopt;
    }
    block.prefix = std::stoi(prefix);
    if (block.prefix > bits) return std::nullopt;
  }
  return block;
}

ClientAddress::ClientAddress(const std::vector<std::string>& trusted_proxies) {
  for (const auto& entry : trusted_proxies) {
    if (auto block = parse(entry)) trusted_.push_back(*block);
  }
}

std::optional<std::string> ClientAddress::invalidEntry(const std::vector<std::string>& entries) {
  for (const auto& entry : entries) {
    if (!parse(entry)) return entry;
  }
  return std::nullopt;
}

bool ClientAddress::trusted(const std::string& ip) const {
  bool v6 = false;
  uint8_t bytes[16] = {};
  if (!toBytes(ip, &v6, bytes)) return false;
  for (const auto& block : trusted_) {
    if (block.v6 != v6) continue;
    const int whole = block.prefix / 8;
    const int rest = block.prefix % 8;
    if (std::memcmp(block.bytes, bytes, whole) != 0) continue;
    if (rest != 0) {
      const uint8_t mask = static_cast<uint8_t>(0xff << (8 - rest));
      if ((block.bytes[whole] & mask) != (bytes[whole] & mask)) continue;
    }
    return true;
  }
  return false;
}

std::string ClientAddress::of(const httplib::Request& request) const {
  std::string source = request.remote_addr;
  if (trusted_.empty() || !trusted(source)) return source;
  // Every X-Forwarded-For header, in order, as one list; walked from the right (the hop nearest
  // to us) past the trusted proxies.
  std::vector<std::string> hops;
  const size_t headers = request.get_header_value_count("X-Forwarded-For");
  for (size_t i = 0; i < headers; ++i) {
    for (auto& hop : splitCommaList(request.get_header_value("X-Forwarded-For", i))) {
      hops.push_back(std::move(hop));
    }
  }
  for (auto hop = hops.rbegin(); hop != hops.rend(); ++hop) {
    bool v6 = false;
    uint8_t bytes[16] = {};
    // Garbage where an address should be: stop believing the header there.
    if (!toBytes(*hop, &v6, bytes)) return source;
    source = *hop;
    if (!trusted(source)) return source;
  }
  return source;
}

}  // namespace tel::gateway
