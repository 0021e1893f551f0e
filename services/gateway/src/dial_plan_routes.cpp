// The dial plan: /v1/dialplan (the whole plan, read and replaced at once) and
// /v1/dialplan/preview (what a call to a number does at a time), from the routing service.
#include <google/protobuf/util/time_util.h>

#include <charconv>

#include <nlohmann/json.hpp>

#include "gateway_forward.h"

namespace tel::gateway {
namespace {

using google::protobuf::util::TimeUtil;
using nlohmann::json;
namespace routing_v1 = ::tel::routing::v1;
using Stub = routing_v1::DialPlans::StubInterface;

json planJson(const routing_v1::DialPlan& plan) {
  json out = {{"version", plan.version()},
              {"updated_at", plan.has_updated_at() ? json(TimeUtil::ToString(plan.updated_at())) : json(nullptr)},
              {"plan", json::parse(plan.document_json(), nullptr, /*allow_exceptions=*/false)}};
  return out;
}

json previewJson(const routing_v1::CallPreview& preview) {
  json path = json::array();
  for (const auto& step : preview.path()) {
    json item = {{"node", step.node()}, {"type", step.type()}, {"outcome", step.outcome()}, {"detail", step.detail()}};
    if (step.steps_size() > 0) {
      json steps = json::array();
      for (const auto& ring : step.steps()) {
        steps.push_back({{"targets", std::vector<std::string>(ring.targets().begin(), ring.targets().end())},
                         {"ring_seconds", ring.ring_seconds()}});
      }
      item["steps"] = steps;
    }
    path.push_back(item);
  }
  return {{"plan_version", preview.plan_version()},
          {"at", TimeUtil::ToString(preview.at())},
          {"time_zone", preview.time_zone()},
          {"path", path}};
}

// If-Match: "3" (or 3): save only over version 3; 0 means "no plan saved yet".
std::optional<ApiError> expectedVersion(const httplib::Request& request, routing_v1::PutDialPlanRequest* out) {
  if (!request.has_header("If-Match")) return std::nullopt;
  std::string text = request.get_header_value("If-Match");
  if (text.size() >= 2 && text.front() == '"' && text.back() == '"') text = text.substr(1, text.size() - 2);
  int64_t version = -1;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), version);
  if (error != std::errc() || end != text.data() + text.size() || version < 0) {
    return ApiError::invalid("If-Match", "the plan's version, as GET /v1/dialplan gives it");
  }
  out->set_expected_version(version);
  return std::nullopt;
}

}  // namespace

void GatewayServer::registerDialPlanRoutes() {
  route("GET", "/v1/dialplan", "/v1/dialplan", Access::kTenant, [this](Call& call) {
    routing_v1::GetDialPlanRequest request;
    request.set_tenant_id(call.principal.tenant_id);
    forwardTo(call, *dial_plans_, &Stub::GetDialPlan, request, 200, planJson);
  });
  route("PUT", "/v1/dialplan", "/v1/dialplan", Access::kTenant, [this](Call& call) {
    routing_v1::PutDialPlanRequest request;
    request.set_tenant_id(call.principal.tenant_id);
    if (auto error = expectedVersion(call.request, &request)) return writeError(call.response, *error);
    // The routing service checks the document itself and names the node at fault.
    request.set_document_json(call.request.body);
    forwardTo(call, *dial_plans_, &Stub::PutDialPlan, request, 200, planJson);
  });
  route("GET", "/v1/dialplan/preview", "/v1/dialplan/preview", Access::kTenant, [this](Call& call) {
    for (const auto& [name, value] : call.request.params) {
      if (name != "number" && name != "at") {
        return writeError(call.response, ApiError::invalid(name, "unknown parameter (number, at)"));
      }
    }
    routing_v1::PreviewCallRequest request;
    request.set_tenant_id(call.principal.tenant_id);
    request.set_number(call.request.get_param_value("number"));
    if (request.number().empty()) {
      return writeError(call.response, ApiError::invalid("number", "one of the tenant's numbers, E.164"));
    }
    if (call.request.has_param("at") && !TimeUtil::FromString(call.request.get_param_value("at"), request.mutable_at())) {
      return writeError(call.response, ApiError::invalid("at", "an RFC 3339 time such as 2026-12-24T15:00:00Z"));
    }
    forwardTo(call, *dial_plans_, &Stub::PreviewCall, request, 200, previewJson);
  });
}

}  // namespace tel::gateway
