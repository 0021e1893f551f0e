#include "tel/crypto/crypto.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include <stdexcept>

namespace tel::crypto {
namespace {

std::string digestHex(const EVP_MD* md, std::string_view data) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  if (EVP_Digest(data.data(), data.size(), digest, &size, md, nullptr) != 1) {
    throw std::runtime_error("OpenSSL EVP_Digest failed");
  }
  return toHex(std::string_view(reinterpret_cast<const char*>(digest), size));
}

constexpr char kBase64Url[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
constexpr char kBase64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

}  // namespace

std::string toHex(std::string_view bytes) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string hex;
  hex.reserve(bytes.size() * 2);
  for (unsigned char byte : bytes) {
    hex += kHex[byte >> 4];
    hex += kHex[byte & 0xf];
  }
  return hex;
}

std::string md5Hex(std::string_view data) { return digestHex(EVP_md5(), data); }
std::string sha1Hex(std::string_view data) { return digestHex(EVP_sha1(), data); }
std::string sha256Hex(std::string_view data) { return digestHex(EVP_sha256(), data); }

std::string hmacSha256(std::string_view key, std::string_view data) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  if (HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
           reinterpret_cast<const unsigned char*>(data.data()), data.size(), digest, &size) == nullptr) {
    throw std::runtime_error("OpenSSL HMAC failed");
  }
  return std::string(reinterpret_cast<const char*>(digest), size);
}

std::string randomBytes(size_t count) {
  std::string bytes(count, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(bytes.data()), static_cast<int>(count)) != 1) {
    throw std::runtime_error("OpenSSL RAND_bytes failed");
  }
  return bytes;
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

namespace {

std::string base64EncodeWith(std::string_view data, const char* alphabet, bool pad) {
  std::string out;
  out.reserve((data.size() + 2) / 3 * 4);
  uint32_t buffer = 0;
  int bits = 0;
  for (unsigned char byte : data) {
    buffer = (buffer << 8) | byte;
    bits += 8;
    while (bits >= 6) {
      bits -= 6;
      out += alphabet[(buffer >> bits) & 63];
    }
  }
  if (bits > 0) out += alphabet[(buffer << (6 - bits)) & 63];
  while (pad && out.size() % 4 != 0) out += '=';
  return out;
}

std::optional<std::string> base64DecodeWith(std::string_view text, const char* alphabet) {
  while (!text.empty() && text.back() == '=') text.remove_suffix(1);
  std::string out;
  uint32_t buffer = 0;
  int bits = 0;
  for (char c : text) {
    const char* position = std::char_traits<char>::find(alphabet, 64, c);
    if (position == nullptr) return std::nullopt;
    buffer = (buffer << 6) | static_cast<uint32_t>(position - alphabet);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((buffer >> bits) & 0xff);
    }
  }
  return out;
}

}  // namespace

std::string base64UrlEncode(std::string_view data) { return base64EncodeWith(data, kBase64Url, false); }

std::optional<std::string> base64UrlDecode(std::string_view text) {
  if (text.find('=') != std::string_view::npos) return std::nullopt;
  return base64DecodeWith(text, kBase64Url);
}

std::string base64Encode(std::string_view data) { return base64EncodeWith(data, kBase64, true); }

std::optional<std::string> base64Decode(std::string_view text) { return base64DecodeWith(text, kBase64); }

bool constantTimeEquals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

namespace {

constexpr size_t kGcmNonceBytes = 12;
constexpr size_t kGcmTagBytes = 16;

struct CipherContext {
  CipherContext() : ctx(EVP_CIPHER_CTX_new()) {
    if (ctx == nullptr) throw std::runtime_error("OpenSSL EVP_CIPHER_CTX_new failed");
  }
  ~CipherContext() { EVP_CIPHER_CTX_free(ctx); }
  EVP_CIPHER_CTX* ctx;
};

const unsigned char* bytesOf(std::string_view text) {
  return reinterpret_cast<const unsigned char*>(text.data());
}

void checkAesKey(std::string_view key) {
  if (key.size() != 32) throw std::invalid_argument("AES-256 needs a 32-byte key");
}

}  // namespace

std::string sealAes256Gcm(std::string_view key, std::string_view plaintext,
                          std::string_view associated) {
  checkAesKey(key);
  const std::string nonce = randomBytes(kGcmNonceBytes);
  std::string sealed = nonce;
  sealed.resize(kGcmNonceBytes + plaintext.size() + kGcmTagBytes);
  auto* out = reinterpret_cast<unsigned char*>(sealed.data()) + kGcmNonceBytes;
  CipherContext cipher;
  int written = 0;
  int ignored = 0;
  if (EVP_EncryptInit_ex(cipher.ctx, EVP_aes_256_gcm(), nullptr, bytesOf(key), bytesOf(nonce)) != 1 ||
      EVP_EncryptUpdate(cipher.ctx, nullptr, &ignored, bytesOf(associated),
                        static_cast<int>(associated.size())) != 1 ||
      EVP_EncryptUpdate(cipher.ctx, out, &written, bytesOf(plaintext),
                        static_cast<int>(plaintext.size())) != 1 ||
      EVP_EncryptFinal_ex(cipher.ctx, out + written, &ignored) != 1 ||
      EVP_CIPHER_CTX_ctrl(cipher.ctx, EVP_CTRL_GCM_GET_TAG, kGcmTagBytes,
                          out + plaintext.size()) != 1) {
    throw std::runtime_error("OpenSSL AES-256-GCM encryption failed");
  }
  return sealed;
}

std::optional<std::string> openAes256Gcm(std::string_view key, std::string_view sealed,
                                         std::string_view associated) {
  checkAesKey(key);
  if (sealed.size() < kGcmNonceBytes + kGcmTagBytes) return std::nullopt;
  const std::string_view nonce = sealed.substr(0, kGcmNonceBytes);
  const std::string_view body =
      sealed.substr(kGcmNonceBytes, sealed.size() - kGcmNonceBytes - kGcmTagBytes);
  std::string tag(sealed.substr(sealed.size() - kGcmTagBytes));
  std::string plaintext(body.size(), '\0');
  CipherContext cipher;
  int written = 0;
  int ignored = 0;
  if (EVP_DecryptInit_ex(cipher.ctx, EVP_aes_256_gcm(), nullptr, bytesOf(key), bytesOf(nonce)) != 1 ||
      EVP_DecryptUpdate(cipher.ctx, nullptr, &ignored, bytesOf(associated),
                        static_cast<int>(associated.size())) != 1 ||
      EVP_DecryptUpdate(cipher.ctx, reinterpret_cast<unsigned char*>(plaintext.data()), &written,
                        bytesOf(body), static_cast<int>(body.size())) != 1 ||
      EVP_CIPHER_CTX_ctrl(cipher.ctx, EVP_CTRL_GCM_SET_TAG, kGcmTagBytes, tag.data()) != 1) {
    throw std::runtime_error("OpenSSL AES-256-GCM decryption failed");
  }
  // The tag check: anything but the sealed bytes under this key and context fails here.
  if (EVP_DecryptFinal_ex(cipher.ctx,
                          reinterpret_cast<unsigned char*>(plaintext.data()) + written,
                          &ignored) != 1) {
    return std::nullopt;
  }
  return plaintext;
}

}  // namespace tel::crypto
