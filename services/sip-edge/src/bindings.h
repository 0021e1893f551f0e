#pragma once

#include <absl/status/statusor.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "tel/redis/redis_client.h"

namespace tel::sip {

// Where a registered device can be reached.
struct Binding {
  std::string contact;     // the Contact URI
  int64_t expires_at = 0;  // Unix seconds
  std::string source;      // transport address the REGISTER came from (host:port, after NAT)
  std::string user_agent;
  std::string call_id;
  uint32_t cseq = 0;
  // The REGISTER's Path (RFC 3327): the proxies a call to the device must go through, as a route
  // set ("<sip:lb;lr>,<...>"); empty when it came straight to us.
  std::string path;
};

// Registrations of SIP accounts, shared by every sip-edge instance. Thread-safe.
class Bindings {
 public:
  virtual ~Bindings() = default;
  // The account's live bindings (expired ones are dropped on the way).
  virtual absl::StatusOr<std::vector<Binding>> list(const std::string& tenant_id,
                                                    const std::string& account_id, int64_t now) = 0;
  virtual absl::Status upsert(const std::string& tenant_id, const std::string& account_id,
                              const Binding& binding) = 0;
  virtual absl::Status remove(const std::string& tenant_id, const std::string& account_id,
                              const std::string& contact) = 0;
  virtual absl::Status removeAll(const std::string& tenant_id, const std::string& account_id) = 0;
  // Replay protection: true if `nonce_count` is higher than any seen before for `nonce`.
  virtual absl::StatusOr<bool> acceptNonceCount(const std::string& nonce, uint64_t nonce_count,
                                                int ttl_seconds) = 0;
};

// Bindings in Redis: one hash per account (field = contact URI), expiring with its last binding,
// so registrations survive a sip-edge restart and are seen by every instance.
class RedisBindings final : public Bindings {
 public:
  explicit RedisBindings(std::shared_ptr<redis::RedisClient> redis) : redis_(std::move(redis)) {}

  absl::StatusOr<std::vector<Binding>> list(const std::string& tenant_id,
                                            const std::string& account_id, int64_t now) override;
  absl::Status upsert(const std::string& tenant_id, const std::string& account_id,
                      const Binding& binding) override;
  absl::Status remove(const std::string& tenant_id, const std::string& account_id,
                      const std::string& contact) override;
  absl::Status removeAll(const std::string& tenant_id, const std::string& account_id) override;
  absl::StatusOr<bool> acceptNonceCount(const std::string& nonce, uint64_t nonce_count,
                                        int ttl_seconds) override;

  static std::string key(const std::string& tenant_id, const std::string& account_id);

 private:
  std::shared_ptr<redis::RedisClient> redis_;
};

}  // namespace tel::sip
