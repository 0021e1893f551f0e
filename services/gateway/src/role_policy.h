#pragma once

#include <optional>
#include <string>

namespace tel::gateway {

// What a signed-in dashboard user may do, by the user's role; API keys have no role and may do
// everything their tenant may. The users and the API keys decide who reaches the tenant's data, so
// only owners change them:
//   owner  everything;
//   admin  everything except changing users and API keys (it may read the user list);
//   agent  reads (the call log, numbers, accounts...) except users and API keys, and signs out.
// Returns why `method` on the route `label` (the route's pattern, e.g. "/v1/users/{id}") is
// refused, or nullopt when it is allowed. An unknown role is refused everything (fail closed).
std::optional<std::string> roleRefusal(const std::string& role, const std::string& method,
                                       const std::string& label);

}  // namespace tel::gateway
