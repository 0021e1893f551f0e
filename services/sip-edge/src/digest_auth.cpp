#include "digest_auth.h"

#include "tel/crypto/crypto.h"

namespace tel::sip {
namespace {

constexpr size_t kTimeBytes = 8, kRandomBytes = 8, kMacBytes = 16;

std::string hash(bool sha256, const std::string& text) {
  return sha256 ? crypto::sha256Hex(text) : crypto::md5Hex(text);
}

int64_t seconds(DigestAuthenticator::Clock::time_point time) {
  return std::chrono::duration_cast<std::chrono::seconds>(time.time_since_epoch()).count();
}

bool iequals(const std::string& a, const std::string& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i]))) return false;
  }
  return true;
}

}  // namespace

DigestAuthenticator::DigestAuthenticator(std::string secret, std::chrono::seconds nonce_lifetime,
                                         std::vector<std::string> algorithms)
    : secret_(std::move(secret)), lifetime_(nonce_lifetime), algorithms_(std::move(algorithms)) {}

std::string DigestAuthenticator::newNonce(const std::string& realm, Clock::time_point now) const {
  std::string body(kTimeBytes, '\0');
  uint64_t issued = static_cast<uint64_t>(seconds(now));
  for (int i = 7; i >= 0; --i, issued >>= 8) body[i] = static_cast<char>(issued & 0xff);
  body += crypto::randomBytes(kRandomBytes);
  return crypto::base64UrlEncode(body + crypto::hmacSha256(secret_, body + realm).substr(0, kMacBytes));
}

DigestAuthenticator::NonceState DigestAuthenticator::checkNonce(const std::string& nonce,
                                                                const std::string& realm,
                                                                Clock::time_point now) const {
  auto raw = crypto::base64UrlDecode(nonce);
  if (!raw || raw->size() != kTimeBytes + kRandomBytes + kMacBytes) return NonceState::kForged;
  const std::string body = raw->substr(0, kTimeBytes + kRandomBytes);
  const std::string mac = crypto::hmacSha256(secret_, body + realm).substr(0, kMacBytes);
  if (!crypto::constantTimeEquals(mac, raw->substr(kTimeBytes + kRandomBytes))) return NonceState::kForged;
  uint64_t issued = 0;
  for (size_t i = 0; i < kTimeBytes; ++i) issued = (issued << 8) | static_cast<uint8_t>(body[i]);
  const int64_t age = seconds(now) - static_cast<int64_t>(issued);
  if (age < -5 || age > lifetime_.count()) return NonceState::kExpired;
  return NonceState::kValid;
}

std::vector<std::string> DigestAuthenticator::challenges(const std::string& realm,
                                                         Clock::time_point now, bool stale) const {
  std::vector<std::string> values;
  for (const auto& algorithm : algorithms_) {
    values.push_back("Digest realm=\"" + realm + "\", nonce=\"" + newNonce(realm, now) +
                     "\", algorithm=" + algorithm + ", qop=\"auth\"" + (stale ? ", stale=true" : ""));
  }
  return values;
}

DigestVerdict DigestAuthenticator::verify(const DigestResponse& response, const std::string& method,
                                          const DigestCredentials& credentials,
                                          Clock::time_point now) const {
  if (response.username.empty() || response.nonce.empty() || response.uri.empty() ||
      response.response.empty()) {
    return DigestVerdict::kMalformed;
  }
  bool sha256;
  if (response.algorithm.empty() || iequals(response.algorithm, "MD5")) {
    sha256 = false;
  } else if (iequals(response.algorithm, "SHA-256")) {
    sha256 = true;
  } else {
    return DigestVerdict::kMalformed;
  }
  if (!response.qop.empty() && (response.qop != "auth" || response.nc.empty() || response.cnonce.empty())) {
    return DigestVerdict::kMalformed;
  }
  const NonceState nonce = checkNonce(response.nonce, response.realm, now);
  if (nonce == NonceState::kForged) return DigestVerdict::kBadNonce;
  const std::string& ha1 = sha256 ? credentials.ha1_sha256 : credentials.ha1_md5;
  const std::string expected = digestResponse(sha256, ha1, response.nonce, response.nc,
                                              response.cnonce, response.qop, method, response.uri);
  if (!crypto::constantTimeEquals(expected, response.response)) return DigestVerdict::kWrongResponse;
  return nonce == NonceState::kExpired ? DigestVerdict::kStaleNonce : DigestVerdict::kOk;
}

std::string digestResponse(bool sha256, const std::string& ha1, const std::string& nonce,
                           const std::string& nc, const std::string& cnonce, const std::string& qop,
                           const std::string& method, const std::string& uri) {
  const std::string ha2 = hash(sha256, method + ":" + uri);
  if (qop.empty()) return hash(sha256, ha1 + ":" + nonce + ":" + ha2);
  return hash(sha256, ha1 + ":" + nonce + ":" + nc + ":" + cnonce + ":" + qop + ":" + ha2);
}

}  // namespace tel::sip
