#pragma once

#include <chrono>
#include <memory>

#include "router.h"
#include "tel/accounts_client/extension_resolver.h"
#include "tel/cache/ttl_cache.h"

namespace tel::routing {

// What is found is kept for `cache_ttl` (a route change reaches calls that much later); what is
// missing is asked again every time, so a new extension or carrier works at once.
class AccountsRouteDirectory final : public RouteDirectory {
 public:
  AccountsRouteDirectory(std::shared_ptr<accounts::v1::Accounts::StubInterface> stub,
                         std::chrono::milliseconds timeout, std::chrono::milliseconds cache_ttl)
      : stub_(std::move(stub)),
        timeout_(timeout),
        numbers_(cache_ttl, 100000),
        extensions_(stub_, timeout, cache_ttl),
        outbound_(cache_ttl, 100000) {}
  absl::StatusOr<accounts::v1::Number> number(const std::string& tenant_id,
                                              const std::string& number_id) override;
  absl::StatusOr<std::optional<accounts::v1::SipAccount>> extension(
      const std::string& tenant_id, const std::string& extension) override;
  absl::StatusOr<std::optional<accounts::v1::OutboundRoute>> outboundRoute(
      const std::string& tenant_id) override;

 private:
  std::shared_ptr<accounts::v1::Accounts::StubInterface> stub_;
  std::chrono::milliseconds timeout_;
  cache::TtlCache<accounts::v1::Number> numbers_;  // by tenant and number id
  accounts_client::ExtensionResolver extensions_;
  cache::TtlCache<accounts::v1::OutboundRoute> outbound_;  // by tenant
};

}  // namespace tel::routing
