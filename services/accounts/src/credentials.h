#pragma once

#include <optional>
#include <string>
#include <string_view>

// Secrets handling for accounts: every secret we hand out is generated here, and every secret we
// keep is kept as a hash made here.
namespace tel::accounts {

// Dashboard passwords: scrypt (memory-hard, slow on purpose) with a random 16-byte salt, encoded as
// "scrypt$<log2N>$<r>$<p>$<salt b64>$<key b64>" so that the cost can rise later without
// invalidating stored hashes.
struct PasswordHashCost {
  int log2_n = 15;  // 32 MiB, ~50-100 ms per hash on one core
  int r = 8;
  int p = 1;
};
std::string hashPassword(std::string_view password, const PasswordHashCost& cost);
bool verifyPassword(std::string_view password, std::string_view encoded);

// SIP digest HA1 = H(username ":" realm ":" password), hex, for MD5 (RFC 2617) and SHA-256
// (RFC 7616/8760). Registrars verify with HA1 alone, so the plain password is never stored.
std::string digestHa1Md5(std::string_view username, std::string_view realm,
                         std::string_view password);
std::string digestHa1Sha256(std::string_view username, std::string_view realm,
                            std::string_view password);

// API keys look like "<kind>_<prefix>_<secret>": kind "telk" (tenant) or "tela" (admin), a 12-char
// prefix that is stored in clear and identifies the key, and 32 random bytes base64url-encoded.
// Only SHA-256 of the whole key is stored.
struct GeneratedKey {
  std::string prefix;  // "<kind>_<prefix>", the visible part
  std::string key;     // the whole key, shown once
  std::string hash;    // hex SHA-256 of `key`
};
inline constexpr std::string_view kTenantKeyKind = "telk";
inline constexpr std::string_view kAdminKeyKind = "tela";
GeneratedKey generateApiKey(std::string_view kind);

struct ParsedKey {
  std::string kind;
  std::string prefix;  // "<kind>_<prefix>"
};
// Checks the shape only; says nothing about whether the key exists.
std::optional<ParsedKey> parseApiKey(std::string_view key);

// A random password for SIP accounts: 20 characters of [A-Za-z0-9], ~119 bits.
std::string generateSipPassword();

}  // namespace tel::accounts
