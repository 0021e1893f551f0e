#pragma once

#include <string>
#include <string_view>

// Input rules for accounts data. Each check returns "" when the value is fine, or the reason it is
// not, phrased to follow the field name in an error ("e164: must be ...").
namespace tel::accounts {

std::string checkE164(std::string_view number);
std::string checkExtension(std::string_view extension);
std::string checkSipUsername(std::string_view username);
std::string checkEmail(std::string_view email);
std::string checkTimezone(std::string_view timezone);
std::string checkSipDomain(std::string_view domain);
std::string checkName(std::string_view name, size_t max_length);
std::string checkUserPassword(std::string_view password);
std::string checkSipPassword(std::string_view password, std::string_view username);
std::string checkRole(std::string_view role);
bool isUuid(std::string_view text);

// "Acme Dental, Ltd." -> "acme-dental-ltd"; used under the platform's SIP base domain.
std::string slugify(std::string_view name);

}  // namespace tel::accounts
