#include "role_policy.h"

namespace tel::gateway {
namespace {

bool startsWith(const std::string& text, const std::string& prefix) {
  return text.rfind(prefix, 0) == 0;
}

// The users and the API keys: who can sign in and who can call the API.
bool isAccessControl(const std::string& label) {
  return startsWith(label, "/v1/users") || startsWith(label, "/v1/api-keys");
}

bool isRead(const std::string& method) { return method == "GET" || method == "HEAD"; }

}  // namespace

std::optional<std::string> roleRefusal(const std::string& role, const std::string& method,
                                       const std::string& label) {
  if (role == "owner") return std::nullopt;
  const std::string refused = "a user with the role " + role + " may not " + method + " " + label;
  if (role == "admin") {
    if (isAccessControl(label) && !isRead(method))
      return refused + " (owners manage users and API keys)";
    return std::nullopt;
  }
  if (role == "agent") {
    if (label == "/v1/sessions" && method == "DELETE") return std::nullopt;  // signing out
    if (label == "/v1/voicemails/{id}" && method == "PATCH") return std::nullopt;  // listening to messages
    // Its own queue state, when it is a SIP account's user (the route checks which account).
    if (label == "/v1/agents/{account_id}/state" && method == "PUT") return std::nullopt;
    if (isRead(method) && !isAccessControl(label)) return std::nullopt;
    return refused + " (agents read; owners and admins change settings)";
  }
  return "a user with the role '" + role + "' may not use the API";
}

}  // namespace tel::gateway
