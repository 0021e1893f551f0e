#include "credentials.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <stdexcept>
#include <vector>

namespace tel::accounts {
namespace {

std::string randomBytes(size_t count) {
  std::string bytes(count, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(bytes.data()), static_cast<int>(count)) != 1) {
    throw std::runtime_error("OpenSSL RAND_bytes failed");
  }
  return bytes;
}

std::string base64Url(std::string_view data) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string out;
  size_t i = 0;
  for (; i + 2 < data.size(); i += 3) {
    const uint32_t n = (uint8_t(data[i]) << 16) | (uint8_t(data[i + 1]) << 8) | uint8_t(data[i + 2]);
    out += kAlphabet[(n >> 18) & 63];
    out += kAlphabet[(n >> 12) & 63];
    out += kAlphabet[(n >> 6) & 63];
    out += kAlphabet[n & 63];
  }
  if (i + 1 == data.size()) {
    const uint32_t n = uint8_t(data[i]) << 16;
    out += kAlphabet[(n >> 18) & 63];
    out += kAlphabet[(n >> 12) & 63];
  } else if (i + 2 == data.size()) {
    const uint32_t n = (uint8_t(data[i]) << 16) | (uint8_t(data[i + 1]) << 8);
    out += kAlphabet[(n >> 18) & 63];
    out += kAlphabet[(n >> 12) & 63];
    out += kAlphabet[(n >> 6) & 63];
  }
  return out;
}

std::optional<std::string> base64UrlDecode(std::string_view text) {
  std::string out;
  uint32_t buffer = 0;
  int bits = 0;
  for (char c : text) {
    int value;
    if (c >= 'A' && c <= 'Z') value = c - 'A';
    else if (c >= 'a' && c <= 'z') value = c - 'a' + 26;
    else if (c >= '0' && c <= '9') value = c - '0' + 52;
    else if (c == '-') value = 62;
    else if (c == '_') value = 63;
    else return std::nullopt;
    buffer = (buffer << 6) | value;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((buffer >> bits) & 0xff);
    }
  }
  return out;
}

std::string hex(const unsigned char* data, size_t size) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (size_t i = 0; i < size; ++i) {
    out += kHex[data[i] >> 4];
    out += kHex[data[i] & 0xf];
  }
  return out;
}

std::string digestHex(const EVP_MD* md, std::string_view data) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  if (EVP_Digest(data.data(), data.size(), digest, &size, md, nullptr) != 1) {
    throw std::runtime_error("OpenSSL EVP_Digest failed");
  }
  return hex(digest, size);
}

std::string randomAlphanumeric(size_t length) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
  std::string out;
  while (out.size() < length) {
    // Rejection sampling keeps the distribution uniform over the 62 characters.
    for (unsigned char byte : randomBytes(length)) {
      if (byte < 248 && out.size() < length) out += kAlphabet[byte % 62];
    }
  }
  return out;
}

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
  const std::string salt = randomBytes(16);
  unsigned char key[32];
  if (!scrypt(password, salt, cost.log2_n, cost.r, cost.p, key, sizeof key)) {
    throw std::runtime_error("scrypt failed");
  }
  return "scrypt$" + std::to_string(cost.log2_n) + "$" + std::to_string(cost.r) + "$" +
         std::to_string(cost.p) + "$" + base64Url(salt) + "$" +
         base64Url(std::string_view(reinterpret_cast<char*>(key), sizeof key));
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
  return digestHex(EVP_md5(), std::string(username) + ":" + std::string(realm) + ":" +
                                  std::string(password));
}

std::string digestHa1Sha256(std::string_view username, std::string_view realm,
                            std::string_view password) {
  return digestHex(EVP_sha256(), std::string(username) + ":" + std::string(realm) + ":" +
                                     std::string(password));
}

std::string sha256Hex(std::string_view data) { return digestHex(EVP_sha256(), data); }

bool constantTimeEquals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

GeneratedKey generateApiKey(std::string_view kind) {
  GeneratedKey generated;
  generated.prefix = std::string(kind) + "_" + randomAlphanumeric(12);
  generated.key = generated.prefix + "_" + base64Url(randomBytes(32));
  generated.hash = sha256Hex(generated.key);
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

std::string generateSipPassword() { return randomAlphanumeric(20); }

}  // namespace tel::accounts
