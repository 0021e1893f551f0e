#include "target_guard.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <netdb.h>

#include <memory>

namespace tel::integrations {
namespace {

// Every range that is not the public Internet (IANA special-purpose registries).
const std::vector<std::string> kNonPublic = {
    "0.0.0.0/8",       "10.0.0.0/8",      "100.64.0.0/10",   "127.0.0.0/8",    "169.254.0.0/16",
    "172.16.0.0/12",   "192.0.0.0/24",    "192.0.2.0/24",    "192.88.99.0/24", "192.168.0.0/16",
    "198.18.0.0/15",   "198.51.100.0/24", "203.0.113.0/24",  "224.0.0.0/4",    "240.0.0.0/4",
    "::/96",           "64:ff9b::/96",    "64:ff9b:1::/48", "100::/64",
    "2001::/23",       "2001:db8::/32",   "2002::/16",       "fc00::/7",       "fe80::/10",
    "fec0::/10",       "ff00::/8"};

// A URL's parts through libcurl's own parser, so that what is checked is what curl will use.
struct UrlParts {
  std::string scheme, host, user, password;
};

std::optional<UrlParts> parseUrl(const std::string& url) {
  std::unique_ptr<CURLU, decltype(&curl_url_cleanup)> handle(curl_url(), curl_url_cleanup);
  if (!handle || curl_url_set(handle.get(), CURLUPART_URL, url.c_str(), 0) != CURLUE_OK) {
    return std::nullopt;
  }
  auto part = [&](CURLUPart which) {
    char* value = nullptr;
    std::string text;
    if (curl_url_get(handle.get(), which, &value, 0) == CURLUE_OK && value != nullptr) text = value;
    curl_free(value);
    return text;
  };
  return UrlParts{part(CURLUPART_SCHEME), part(CURLUPART_HOST), part(CURLUPART_USER),
                  part(CURLUPART_PASSWORD)};
}

}  // namespace

TargetGuard::TargetGuard(net::AddressBlocks allowed_private, Resolver resolver)
    : non_public_(kNonPublic), allowed_private_(std::move(allowed_private)), resolver_(std::move(resolver)) {}

bool TargetGuard::allowsAddress(const std::string& ip) const {
  if (!net::AddressBlocks::isAddress(ip)) return false;
  return !non_public_.contains(ip) || allowed_private_.contains(ip);
}

std::optional<std::string> TargetGuard::refusal(const std::string& url) const {
  if (url.size() > 2048) return "longer than 2048 characters";
  for (unsigned char c : url) {
    if (c <= 0x20 || c >= 0x7f) return "spaces, control or non-ASCII characters (percent-encode them)";
  }
  const auto parts = parseUrl(url);
  if (!parts) return "not a URL";
  if (parts->scheme != "https" && parts->scheme != "http") return "not an http or https URL";
  if (!parts->user.empty() || !parts->password.empty()) {
    return "credentials in the URL (use the signature to authenticate deliveries)";
  }
  std::string host = parts->host;
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  if (host.empty()) return "no host";
  const auto addresses = resolver_(host);
  if (addresses.empty()) return "its host does not resolve";
  for (const auto& address : addresses) {
    if (!allowsAddress(address)) {
      return "its host resolves to " + address +
             ", a loopback, private, link-local or otherwise non-public address";
    }
  }
  return std::nullopt;
}

std::vector<std::string> TargetGuard::systemResolver(const std::string& host) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  std::vector<std::string> addresses;
  if (getaddrinfo(host.c_str(), nullptr, &hints, &found) != 0) return addresses;
  for (const addrinfo* entry = found; entry != nullptr; entry = entry->ai_next) {
    char text[INET6_ADDRSTRLEN] = {};
    const void* raw = entry->ai_family == AF_INET
                          ? static_cast<const void*>(&reinterpret_cast<sockaddr_in*>(entry->ai_addr)->sin_addr)
                          : static_cast<const void*>(&reinterpret_cast<sockaddr_in6*>(entry->ai_addr)->sin6_addr);
    if (inet_ntop(entry->ai_family, raw, text, sizeof text) != nullptr) addresses.emplace_back(text);
  }
  freeaddrinfo(found);
  return addresses;
}

}  // namespace tel::integrations
