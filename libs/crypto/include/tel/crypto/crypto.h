#pragma once

#include <optional>
#include <string>
#include <string_view>

// Small wrappers over OpenSSL used across the platform: digests as hex, random bytes, base64url.
// All throw std::runtime_error only when OpenSSL itself fails (out of entropy, memory).
namespace tel::crypto {

std::string toHex(std::string_view bytes);
std::string md5Hex(std::string_view data);
std::string sha1Hex(std::string_view data);
std::string sha256Hex(std::string_view data);

// HMAC-SHA256 as raw 32 bytes.
std::string hmacSha256(std::string_view key, std::string_view data);

std::string randomBytes(size_t count);
// Uniform over [A-Za-z0-9].
std::string randomAlphanumeric(size_t length);

// RFC 4648 section 5, without padding.
std::string base64UrlEncode(std::string_view bytes);
std::optional<std::string> base64UrlDecode(std::string_view text);
// RFC 4648 section 4, with padding (decoding accepts it missing).
std::string base64Encode(std::string_view bytes);
std::optional<std::string> base64Decode(std::string_view text);

bool constantTimeEquals(std::string_view a, std::string_view b);

// AES-256-GCM with a random 96-bit nonce; `key` is 32 bytes. The result is nonce || ciphertext ||
// 128-bit tag, and `associated` (not stored) binds it to its context: a value sealed for one row
// does not open for another. open() gives nullopt for a wrong key, a wrong context, or any change
// to the sealed bytes. Both throw std::invalid_argument for a key that is not 32 bytes.
std::string sealAes256Gcm(std::string_view key, std::string_view plaintext,
                          std::string_view associated);
std::optional<std::string> openAes256Gcm(std::string_view key, std::string_view sealed,
                                         std::string_view associated);

}  // namespace tel::crypto
