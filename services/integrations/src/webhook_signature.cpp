#include "webhook_signature.h"

#include "tel/crypto/crypto.h"

namespace tel::integrations {
namespace {

constexpr std::string_view kSecretPrefix = "whsec_";
constexpr size_t kKeyBytes = 24;

std::optional<std::string> keyOf(std::string_view secret) {
  if (secret.substr(0, kSecretPrefix.size()) != kSecretPrefix) return std::nullopt;
  auto key = crypto::base64Decode(secret.substr(kSecretPrefix.size()));
  if (!key || key->size() < kKeyBytes || key->size() > 64) return std::nullopt;
  return key;
}

}  // namespace

std::string newSigningSecret() {
  return std::string(kSecretPrefix) + crypto::base64Encode(crypto::randomBytes(kKeyBytes));
}

bool isSigningSecret(std::string_view secret) { return keyOf(secret).has_value(); }

std::optional<std::string> sign(std::string_view secret, std::string_view id, int64_t timestamp,
                                std::string_view body) {
  auto key = keyOf(secret);
  if (!key) return std::nullopt;
  std::string content;
  content.reserve(id.size() + body.size() + 24);
  content.append(id).append(".").append(std::to_string(timestamp)).append(".").append(body);
  return "v1," + crypto::base64Encode(crypto::hmacSha256(*key, content));
}

std::optional<std::string> signatureHeader(const std::vector<std::string>& secrets, std::string_view id,
                                           int64_t timestamp, std::string_view body) {
  std::string header;
  for (const auto& secret : secrets) {
    auto signature = sign(secret, id, timestamp, body);
    if (!signature) return std::nullopt;
    if (!header.empty()) header += ' ';
    header += *signature;
  }
  if (header.empty()) return std::nullopt;
  return header;
}

}  // namespace tel::integrations
