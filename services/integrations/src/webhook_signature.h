#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tel::integrations {

// Webhook signatures in the Standard Webhooks form (standardwebhooks.com): the receiver gets the
// headers webhook-id, webhook-timestamp (Unix seconds) and webhook-signature, and recomputes
// HMAC-SHA256 over "<id>.<timestamp>.<body>" with the subscription's secret. docs/webhooks.md
// shows how to verify, with a test vector.

// A new signing secret: "whsec_" and the base64 of 24 random bytes (the key).
std::string newSigningSecret();

// True when `secret` has the form newSigningSecret() gives: the prefix and a 24..64-byte key.
bool isSigningSecret(std::string_view secret);

// "v1,<base64 signature>" for one secret; nullopt when it is not a signing secret.
std::optional<std::string> sign(std::string_view secret, std::string_view id, int64_t timestamp,
                                std::string_view body);

// The webhook-signature header: one "v1,..." per secret, space-separated. During a rotation's
// overlap both the new and the previous secret sign, so a receiver with either one verifies.
std::optional<std::string> signatureHeader(const std::vector<std::string>& secrets, std::string_view id,
                                           int64_t timestamp, std::string_view body);

}  // namespace tel::integrations
