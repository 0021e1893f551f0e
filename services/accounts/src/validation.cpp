#include "validation.h"

#include <arpa/inet.h>

#include <cctype>
#include <charconv>
#include <filesystem>
#include <optional>
#include <regex>

namespace tel::accounts {
namespace {
bool matches(std::string_view text, const std::regex& pattern) {
  return std::regex_match(text.begin(), text.end(), pattern);
}

// Parses an address of `family` into `bytes` (4 or 16 of them); false when it is not one.
bool parseIp(std::string_view text, int family, unsigned char* bytes) {
  if (text.empty() || text.size() > 45) return false;
  const std::string copy(text);  // inet_pton wants a terminated string
  return inet_pton(family, copy.c_str(), bytes) == 1;
}

// A decimal number of at most `max_digits` digits, nothing else.
std::optional<int> parseDecimal(std::string_view text, size_t max_digits) {
  if (text.empty() || text.size() > max_digits) return std::nullopt;
  int value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

// "host[:port]" of a SIP URI: a DNS name, an IPv4 address or a bracketed IPv6 address, and a port
// from 1 to 65535.
bool isHostPort(std::string_view text) {
  static const std::regex kHostName(
      R"(^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$)");
  std::string_view host = text;
  std::string_view port;
  bool has_port = false;
  unsigned char bytes[16];
  if (!text.empty() && text.front() == '[') {
    const auto close = text.find(']');
    if (close == std::string_view::npos) return false;
    host = text.substr(1, close - 1);
    const auto rest = text.substr(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':') return false;
      port = rest.substr(1);
      has_port = true;
    }
    if (!parseIp(host, AF_INET6, bytes)) return false;
  } else {
    if (const auto colon = text.find(':'); colon != std::string_view::npos) {
      host = text.substr(0, colon);
      port = text.substr(colon + 1);
      has_port = true;
    }
    if (host.size() > 253 || !matches(host, kHostName)) return false;
  }
  if (has_port) {
    const auto number = parseDecimal(port, 5);
    if (!number || *number < 1 || *number > 65535) return false;
  }
  return true;
}

// A SIP URI without parameters or headers: "sip:host[:port]" or "sip:user@host[:port]".
bool isPlainSipUri(std::string_view uri, bool user_required) {
  static const std::regex kUser(R"(^([A-Za-z0-9._~!*'()&=+$,-]|%[0-9A-Fa-f]{2})+$)");
  constexpr std::string_view kScheme = "sip:";
  if (uri.size() > 256 || uri.substr(0, kScheme.size()) != kScheme) return false;
  const std::string_view rest = uri.substr(kScheme.size());
  const auto at = rest.find('@');
  if (at == std::string_view::npos) return !user_required && isHostPort(rest);
  return matches(rest.substr(0, at), kUser) && isHostPort(rest.substr(at + 1));
}
}  // namespace

std::string checkE164(std::string_view number) {
  static const std::regex kE164(R"(^\+[1-9][0-9]{6,14}$)");
  if (!matches(number, kE164)) return "must be an E.164 number: '+', country code, 7 to 15 digits";
  return "";
}

std::string checkExtension(std::string_view extension) {
  static const std::regex kExtension(R"(^[1-9][0-9]{1,5}$)");
  if (!matches(extension, kExtension)) return "must be 2 to 6 digits, not starting with 0";
  return "";
}

std::string checkSipUsername(std::string_view username) {
  static const std::regex kUser(R"(^[a-z0-9][a-z0-9._-]{1,62}$)");
  if (!matches(username, kUser)) {
    return "must be 2 to 63 characters of a-z, 0-9, '.', '_', '-', starting with a letter or digit";
  }
  return "";
}

std::string checkEmail(std::string_view email) {
  static const std::regex kEmail(R"(^[^@\s]{1,64}@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$)");
  if (email.size() > 254 || !matches(email, kEmail)) return "must be an e-mail address";
  return "";
}

std::string checkTimezone(std::string_view timezone) {
  static const std::regex kZone(R"(^[A-Za-z][A-Za-z0-9_+-]*(/[A-Za-z0-9_+-]+){0,2}$)");
  if (timezone == "UTC") return "";
  if (!matches(timezone, kZone) ||
      !std::filesystem::is_regular_file("/usr/share/zoneinfo/" + std::string(timezone))) {
    return "must be an IANA time zone such as Europe/Kyiv";
  }
  return "";
}

std::string checkSipDomain(std::string_view domain) {
  static const std::regex kDomain(
      R"(^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$)");
  if (domain.size() > 253 || !matches(domain, kDomain)) return "must be a lower-case DNS name";
  return "";
}

std::string checkName(std::string_view name, size_t max_length) {
  if (name.empty()) return "must not be empty";
  if (name.size() > max_length) return "must be at most " + std::to_string(max_length) + " bytes";
  for (unsigned char c : name) {
    if (c < 0x20 || c == 0x7f) return "must not contain control characters";
  }
  return "";
}

std::string checkUserPassword(std::string_view password) {
  if (password.size() < 10) return "must be at least 10 characters";
  if (password.size() > 200) return "must be at most 200 characters";
  return "";
}

std::string checkSipPassword(std::string_view password, std::string_view username) {
  if (password.size() < 12) return "must be at least 12 characters";
  if (password.size() > 128) return "must be at most 128 characters";
  if (password.find(username) != std::string_view::npos) return "must not contain the username";
  for (unsigned char c : password) {
    if (c < 0x21 || c > 0x7e) return "must be printable ASCII without spaces";
  }
  return "";
}

std::string checkCarrierUsername(std::string_view username) {
  static const std::regex kUser(R"(^[A-Za-z0-9._-]{1,64}$)");
  if (!matches(username, kUser)) {
    return "must be 1 to 64 characters of A-Z, a-z, 0-9, '.', '_', '-'";
  }
  return "";
}

std::string checkRegistrationUsername(std::string_view username) {
  static const std::regex kUser(R"(^[A-Za-z0-9._+-]{1,64}$)");
  if (!matches(username, kUser)) {
    return "must be 1 to 64 characters of A-Z, a-z, 0-9, '.', '_', '+', '-'";
  }
  return "";
}

std::string checkRegistrationPassword(std::string_view password) {
  if (password.empty() || password.size() > 128) return "must be 1 to 128 bytes";
  for (unsigned char c : password) {
    if (c < 0x20 || c == 0x7f) return "must not contain control characters";
    // sofia-sip takes a client's credentials as scheme:"realm":user:password and ends the
    // password at a colon, so one with a colon could never be presented.
    if (c == ':') return "must not contain ':'";
  }
  return "";
}

std::string checkRegistrationDomain(std::string_view domain) {
  if (isIpAddress(domain) || checkSipDomain(domain).empty()) return "";
  return "must be a lower-case DNS name or an IP address";
}

std::string checkRole(std::string_view role) {
  if (role == "owner" || role == "admin" || role == "agent") return "";
  return "must be one of owner, admin, agent";
}

std::string checkExternalTarget(std::string_view target) {
  if (!target.empty() && target.front() == '+') return checkE164(target);
  if (target.size() > 256) return "must be at most 256 bytes";
  if (!isPlainSipUri(target, /*user_required=*/true)) {
    return "must be an E.164 number (+380441234567) or a SIP URI sip:user@host[:port]";
  }
  return "";
}

std::string checkOutboundUri(std::string_view uri) {
  if (uri.size() > 256) return "must be at most 256 bytes";
  if (!isPlainSipUri(uri, /*user_required=*/false)) {
    return "must be a SIP URI sip:host[:port] or sip:user@host[:port], without parameters";
  }
  return "";
}

bool isIpAddress(std::string_view text) {
  unsigned char bytes[16];
  return parseIp(text, AF_INET, bytes) || parseIp(text, AF_INET6, bytes);
}

std::string checkCarrierAddress(std::string_view address) {
  const auto slash = address.find('/');
  const std::string_view ip = address.substr(0, slash);
  unsigned char bytes[16];
  int bits = 0;
  if (parseIp(ip, AF_INET, bytes)) {
    bits = 32;
  } else if (parseIp(ip, AF_INET6, bytes)) {
    bits = 128;
  } else {
    return "must be an IPv4 or IPv6 address or a CIDR block such as 203.0.113.0/24";
  }
  if (slash == std::string_view::npos) return "";
  const auto prefix = parseDecimal(address.substr(slash + 1), 3);
  if (!prefix || *prefix > bits) {
    return "must be an IPv4 or IPv6 address or a CIDR block such as 203.0.113.0/24";
  }
  const int widest = bits == 32 ? 8 : 16;
  if (*prefix < widest) {
    return "must be a block of at most /" + std::to_string(widest) + " for " +
           (bits == 32 ? "IPv4" : "IPv6");
  }
  for (int bit = *prefix; bit < bits; ++bit) {
    if (bytes[bit / 8] & (0x80 >> (bit % 8))) {
      return "must not have bits set after the prefix (the block starts at a lower address)";
    }
  }
  return "";
}

bool isUuid(std::string_view text) {
  static const std::regex kUuid(
      R"(^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$)");
  return matches(text, kUuid);
}

std::string slugify(std::string_view name) {
  std::string slug;
  for (unsigned char c : name) {
    if (std::isalnum(c)) {
      slug += static_cast<char>(std::tolower(c));
    } else if (!slug.empty() && slug.back() != '-') {
      slug += '-';
    }
  }
  while (!slug.empty() && slug.back() == '-') slug.pop_back();
  if (slug.size() > 40) slug.resize(40);
  while (!slug.empty() && slug.back() == '-') slug.pop_back();
  return slug.empty() ? "tenant" : slug;
}

}  // namespace tel::accounts
