#include "credentials.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <stdexcept>
#include <vector>

#include "tel/crypto/crypto.h"

namespace tel::accounts {

using crypto::base64UrlDecode;
using crypto::base64UrlEncode;

namespace {

bool scrypt(std::string_view password, std::string_view salt, int log2_n, int r, int p,
            unsigned char* out, size_t out_size) {
  const uint64_t n = uint64_t{1} << log2_n;
  // OpenSSL's default memory cap is 32 MiB; allow what the parameters need (128 * N * r) plus slack.
  const uint64_t max_memory = 128 * n * static_cast<uint64_t>(r) * 2 + (1 << 20);
  return EVP_PBE_scrypt(password.data(), password.size(),
                        reinterpret_cast<const unsigned char*>(salt.data()), salt.size(), n, r, p,
                        max_memory, out, out_size) == 1;
}

}  // namespace

std::string hashPassword(std::string_view password, const PasswordHashCost& cost) {
  const std::string salt = crypto::randomBytes(16);
  unsigned char key[32];
  if (!scrypt(password, salt, cost.log2_n, cost.r, cost.p, key, sizeof key)) {
    throw std::runtime_error("scrypt failed");
  }
  return "scrypt$" + std::to_string(cost.log2_n) + "$" + std::to_string(cost.r) + "$" +
         std::to_string(cost.p) + "$" + base64UrlEncode(salt) + "$" +
         base64UrlEncode(std::string_view(reinterpret_cast<char*>(key), sizeof key));
}

bool verifyPassword(std::string_view password, std::string_view encoded) {
  std::vector<std::string_view> parts;
  size_t start = 0;
  for (size_t i = 0; i <= encoded.size(); ++i) {
    if (i == encoded.size() || encoded[i] == '$') {
      parts.push_back(encoded.substr(start, i - start));
      start = i + 1;
    }
  }
  if (parts.size() != 6 || parts[0] != "scrypt") return false;
  int log2_n, r, p;
  try {
    log2_n = std::stoi(std::string(parts[1]));
    r = std::stoi(std::string(parts[2]));
    p = std::stoi(std::string(parts[3]));
  } catch (const std::exception&) {
    return false;
  }
  if (log2_n < 10 || log2_n > 20 || r < 1 || r > 32 || p < 1 || p > 16) return false;
  auto salt = base64UrlDecode(parts[4]);
  auto expected = base64UrlDecode(parts[5]);
  if (!salt || !expected || expected->size() != 32) return false;
  unsigned char key[32];
  if (!scrypt(password, *salt, log2_n, r, p, key, sizeof key)) return false;
  return CRYPTO_memcmp(key, expected->data(), sizeof key) == 0;
}

std::string digestHa1Md5(std::string_view username, std::string_view realm,
                         std::string_view password) {
  return crypto::md5Hex(std::string(username) + ":" + std::string(realm) + ":" + std::string(password));
}

std::string digestHa1Sha256(std::string_view username, std::string_view realm,
                            std::string_view password) {
  return crypto::sha256Hex(std::string(username) + ":" + std::string(realm) + ":" +
                           std::string(password));
}

GeneratedKey generateApiKey(std::string_view kind) {
  GeneratedKey generated;
  generated.prefix = std::string(kind) + "_" + crypto::randomAlphanumeric(12);
  generated.key = generated.prefix + "_" + base64UrlEncode(crypto::randomBytes(32));
  generated.hash = crypto::sha256Hex(generated.key);
  return generated;
}

std::optional<ParsedKey> parseApiKey(std::string_view key) {
  // kind(4) _ prefix(12) _ secret(43)
  if (key.size() != 4 + 1 + 12 + 1 + 43 || key[4] != '_' || key[17] != '_') return std::nullopt;
  const std::string_view kind = key.substr(0, 4);
  if (kind != kTenantKeyKind && kind != kAdminKeyKind) return std::nullopt;
  for (char c : key.substr(5, 12)) {
    if (!std::isalnum(static_cast<unsigned char>(c))) return std::nullopt;
  }
  if (!base64UrlDecode(key.substr(18))) return std::nullopt;
  return ParsedKey{std::string(kind), std::string(key.substr(0, 17))};
}

std::string generateSipPassword() { return crypto::randomAlphanumeric(20); }

}  // namespace tel::accounts
