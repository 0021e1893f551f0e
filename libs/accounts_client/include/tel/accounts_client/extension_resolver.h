#pragma once

#include <absl/status/statusor.h>

#include <chrono>
#include <memory>
#include <optional>
#include <string>

#include "tel/accounts/v1/accounts.grpc.pb.h"
#include "tel/cache/ttl_cache.h"

namespace tel::accounts_client {

// A tenant's extension resolved to its SIP account through the accounts service (sip-edge tells
// internal from outbound calls with it, routing dials it). Found accounts are kept for `ttl`;
// misses are asked again every time, so a new extension works at once. Thread-safe; blocking.
class ExtensionResolver {
 public:
  ExtensionResolver(std::shared_ptr<accounts::v1::Accounts::StubInterface> stub,
                    std::chrono::milliseconds timeout, std::chrono::milliseconds ttl)
      : stub_(std::move(stub)), timeout_(timeout), found_(ttl, 100000) {}

  // nullopt: the tenant has no account with this extension (or it cannot be one).
  absl::StatusOr<std::optional<accounts::v1::SipAccount>> resolve(const std::string& tenant_id,
                                                                  const std::string& extension);

 private:
  std::shared_ptr<accounts::v1::Accounts::StubInterface> stub_;
  std::chrono::milliseconds timeout_;
  cache::TtlCache<accounts::v1::SipAccount> found_;  // by tenant and extension
};

}  // namespace tel::accounts_client
