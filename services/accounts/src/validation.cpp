#include "validation.h"

#include <cctype>
#include <filesystem>
#include <regex>

namespace tel::accounts {
namespace {
bool matches(std::string_view text, const std::regex& pattern) {
  return std::regex_match(text.begin(), text.end(), pattern);
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
  static const std::regex kDomain(R"(^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$)");
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

std::string checkRole(std::string_view role) {
  if (role == "owner" || role == "admin" || role == "agent") return "";
  return "must be one of owner, admin, agent";
}

bool isUuid(std::string_view text) {
  static const std::regex kUuid(R"(^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$)");
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
