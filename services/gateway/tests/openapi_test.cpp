#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "gateway_config.h"

TEST_CASE("the compiled-in OpenAPI document is valid JSON describing every route") {
  auto document = nlohmann::json::parse(tel::gateway::openApiDocument());
  CHECK(document["openapi"].get<std::string>().rfind("3.", 0) == 0);
  const auto& paths = document["paths"];
  for (const char* path :
       {"/v1/tenants", "/v1/tenants/{id}", "/v1/tenants/{id}/api-keys", "/v1/users",
        "/v1/users/{id}", "/v1/sip-accounts", "/v1/sip-accounts/{id}", "/v1/numbers",
        "/v1/numbers/{id}", "/v1/carriers", "/v1/carriers/{id}", "/v1/api-keys",
        "/v1/api-keys/{id}", "/v1/me", "/v1/openapi.json", "/v1/calls", "/v1/calls/{id}",
        "/v1/sessions", "/v1/session", "/v1/reports/{report}", "/v1/tracking/sites",
        "/v1/tracking/sites/{id}", "/v1/tracking/sites/{id}/numbers", "/v1/tracking/sites/{id}/usage",
        "/v1/tracking/visits", "/v1/tracking/snippet.js", "/v1/report-settings",
        "/v1/call-categories", "/v1/call-categories/{id}", "/v1/category-rules", "/v1/category-rules/{id}",
        "/v1/custom-reports", "/v1/custom-reports/{id}", "/v1/custom-reports/{id}/run",
        "/v1/webhooks", "/v1/webhooks/{id}", "/v1/webhooks/{id}/rotate-secret",
        "/v1/webhooks/{id}/ping", "/v1/webhooks/{id}/attempts", "/v1/webhooks/{id}/replay",
        "/v1/dialplan", "/v1/dialplan/preview", "/v1/prompts", "/v1/prompts/{name}", "/v1/prompts/{name}/audio",
        "/v1/calls/{id}/recording", "/v1/voicemails", "/v1/voicemails/{id}"}) {
    INFO(path);
    CHECK(paths.contains(path));
  }
  // Every $ref points at a schema that exists.
  std::function<void(const nlohmann::json&)> checkRefs = [&](const nlohmann::json& node) {
    if (node.is_object()) {
      if (node.contains("$ref")) {
        const std::string ref = node["$ref"];
        const std::string name = ref.substr(ref.rfind('/') + 1);
        INFO(ref);
        CHECK(document["components"]["schemas"].contains(name));
      }
      for (const auto& [key, value] : node.items()) checkRefs(value);
    } else if (node.is_array()) {
      for (const auto& value : node) checkRefs(value);
    }
  };
  checkRefs(document);
}
