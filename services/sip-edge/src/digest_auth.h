#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

// SIP digest authentication (RFC 3261 section 22, RFC 7616 algorithms, RFC 8760 SHA-256 for SIP)
// without any SIP stack type, so that it can be tested on its own.
namespace tel::sip {

// The fields of an Authorization header that matter, as parsed by the SIP stack.
struct DigestResponse {
  std::string username, realm, nonce, uri, response, algorithm, qop, nc, cnonce;
};

struct DigestCredentials {
  std::string ha1_md5;
  std::string ha1_sha256;
};

enum class DigestVerdict {
  kOk,
  kMalformed,      // missing fields, unknown algorithm, foreign realm
  kBadNonce,       // not one of ours
  kStaleNonce,     // ours, expired, and the response was right: the client retries at once
  kWrongResponse,  // wrong password (or unknown user: the caller checks against decoy values)
};

// Issues and checks nonces without server state: a nonce carries its issue time and a random part,
// sealed with an HMAC over them and the realm. Replays within the lifetime are caught separately
// (the registrar remembers the highest nonce count seen per nonce).
class DigestAuthenticator {
 public:
  using Clock = std::chrono::system_clock;
  // `algorithms`: the challenges offered, in order ("MD5", "SHA-256"). Many deployed phones answer
  // only the first challenge they see, so the order is a deployment choice.
  DigestAuthenticator(std::string secret, std::chrono::seconds nonce_lifetime,
                      std::vector<std::string> algorithms = {"MD5", "SHA-256"});

  std::string newNonce(const std::string& realm, Clock::time_point now) const;

  // WWW-Authenticate values to offer, one per configured algorithm, in order.
  std::vector<std::string> challenges(const std::string& realm, Clock::time_point now,
                                      bool stale) const;

  DigestVerdict verify(const DigestResponse& response, const std::string& method,
                       const DigestCredentials& credentials, Clock::time_point now) const;

 private:
  enum class NonceState { kValid, kExpired, kForged };
  NonceState checkNonce(const std::string& nonce, const std::string& realm, Clock::time_point now) const;

  std::string secret_;
  std::chrono::seconds lifetime_;
  std::vector<std::string> algorithms_;
};

// The response a client computes: H(HA1:nonce:nc:cnonce:qop:H(method:uri)) with qop=auth,
// H(HA1:nonce:H(method:uri)) without qop. `sha256` selects the hash.
std::string digestResponse(bool sha256, const std::string& ha1, const std::string& nonce,
                           const std::string& nc, const std::string& cnonce, const std::string& qop,
                           const std::string& method, const std::string& uri);

}  // namespace tel::sip
