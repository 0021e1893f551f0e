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
// The digest username a carrier authenticates with: 1 to 64 of [A-Za-z0-9._-] (carriers choose
// their own, so upper case is allowed, unlike SIP account usernames).
std::string checkCarrierUsername(std::string_view username);
std::string checkRole(std::string_view role);
// The username the platform registers to a carrier as: 1 to 64 of [A-Za-z0-9._+-] (carriers
// often use the line's number, with or without "+").
std::string checkRegistrationUsername(std::string_view username);
// A password the platform presents to a carrier: 1..128 bytes without control characters or ':'
// (the carrier chose it; nothing about its strength is ours to check).
std::string checkRegistrationPassword(std::string_view password);
// The domain a registration names in To and From: a DNS name or an IP address.
std::string checkRegistrationDomain(std::string_view domain);
// Where a routed number may forward to: "+E.164" or "sip:user@host[:port]" (at most 256 bytes).
std::string checkExternalTarget(std::string_view target);
// A carrier's outbound URI: "sip:host[:port]" or "sip:user@host[:port]" (at most 256 bytes).
std::string checkOutboundUri(std::string_view uri);
// A carrier's source address: an IPv4/IPv6 address or a CIDR block without host bits, at most
// /8 (IPv4) or /16 (IPv6) wide: a wider block would let most of the Internet pass as the carrier.
std::string checkCarrierAddress(std::string_view address);
// An IPv4 or IPv6 address (no prefix, no zone).
bool isIpAddress(std::string_view text);
bool isUuid(std::string_view text);

// "Acme Dental, Ltd." -> "acme-dental-ltd"; used under the platform's SIP base domain.
std::string slugify(std::string_view name);

}  // namespace tel::accounts
