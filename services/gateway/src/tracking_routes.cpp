// Call tracking: /v1/tracking/sites (tenant keys) and the public endpoints the snippet on a
// tenant's website uses: POST /v1/tracking/visits and GET /v1/tracking/snippet.js.
#include <google/protobuf/util/time_util.h>

#include <nlohmann/json.hpp>

#include "gateway_forward.h"
#include "json_request.h"

namespace tel::gateway {

// The snippet, compiled in from services/gateway/tracking_snippet.js.
const std::string& trackingSnippet();

namespace {

using nlohmann::json;
namespace tracking_v1 = ::tel::analytics::v1;
using Stub = tracking_v1::Tracking::StubInterface;

const auto noBody = [](const auto&) { return json(); };

json siteJson(const tracking_v1::Site& site) {
  json rendered = messageJson(site);
  if (!rendered.contains("numbers")) rendered["numbers"] = json::array();
  return rendered;
}

// The page that embeds the snippet is on the tenant's own site, another origin: the visit
// endpoint answers any origin. It takes no credentials, so this opens nothing else.
void allowAnyOrigin(httplib::Response& response) {
  response.set_header("Access-Control-Allow-Origin", "*");
  response.set_header("Access-Control-Allow-Methods", "POST, OPTIONS");
  response.set_header("Access-Control-Allow-Headers", "Content-Type");
  response.set_header("Access-Control-Max-Age", "86400");
}

}  // namespace

void GatewayServer::registerTrackingRoutes() {
  route("POST", "/v1/tracking/sites", "/v1/tracking/sites", Access::kTenant, [this](Call& call) {
    JsonRequest body = JsonRequest::parse(call.request.body, {{"name", FieldType::kString, true},
                                                              {"default_number", FieldType::kString},
                                                              {"hold_seconds", FieldType::kInteger}});
    if (!body.ok()) return writeError(call.response, *body.error);
    tracking_v1::CreateSiteRequest request;
    request.set_tenant_id(call.principal.tenant_id);
    request.set_name(*body.string("name"));
    request.set_default_number(body.string("default_number").value_or(""));
    // Out-of-range values stay out of range (the service names the field), without overflowing.
    request.set_hold_seconds(static_cast<int32_t>(std::clamp<int64_t>(body.integer("hold_seconds").value_or(0), -1, 86401)));
    forwardTo(call, *tracking_, &Stub::CreateSite, request, 201, siteJson);
  });
  route("GET", "/v1/tracking/sites", "/v1/tracking/sites", Access::kTenant, [this](Call& call) {
    tracking_v1::ListSitesRequest request;
    request.set_tenant_id(call.principal.tenant_id);
    forwardTo(call, *tracking_, &Stub::ListSites, request, 200, [](const tracking_v1::ListSitesResponse& reply) {
      json items = json::array();
      for (const auto& site : reply.sites()) items.push_back(siteJson(site));
      return json{{"items", items}, {"next_page_token", ""}};
    });
  });
  const std::string site_pattern = R"(/v1/tracking/sites/([^/]+))";
  route("GET", site_pattern, "/v1/tracking/sites/{id}", Access::kTenant, [this](Call& call) {
    tracking_v1::SiteRef request;
    request.set_tenant_id(call.principal.tenant_id);
    request.set_id(call.request.matches[1]);
    forwardTo(call, *tracking_, &Stub::GetSite, request, 200, siteJson);
  });
  route("DELETE", site_pattern, "/v1/tracking/sites/{id}", Access::kTenant, [this](Call& call) {
    tracking_v1::SiteRef request;
    request.set_tenant_id(call.principal.tenant_id);
    request.set_id(call.request.matches[1]);
    forwardTo(call, *tracking_, &Stub::DeleteSite, request, 204, noBody);
  });
  route("POST", site_pattern + "/numbers", "/v1/tracking/sites/{id}/numbers", Access::kTenant, [this](Call& call) {
    JsonRequest body = JsonRequest::parse(call.request.body, {{"e164", FieldType::kString, true},
                                                              {"kind", FieldType::kString, true},
                                                              {"utm_source", FieldType::kString},
                                                              {"utm_medium", FieldType::kString},
                                                              {"utm_campaign", FieldType::kString}});
    if (!body.ok()) return writeError(call.response, *body.error);
    tracking_v1::AddNumberRequest request;
    request.set_tenant_id(call.principal.tenant_id);
    request.set_site_id(call.request.matches[1]);
    auto* number = request.mutable_number();
    number->set_e164(*body.string("e164"));
    number->set_kind(*body.string("kind"));
    number->set_utm_source(body.string("utm_source").value_or(""));
    number->set_utm_medium(body.string("utm_medium").value_or(""));
    number->set_utm_campaign(body.string("utm_campaign").value_or(""));
    forwardTo(call, *tracking_, &Stub::AddNumber, request, 201,
              [](const tracking_v1::TrackingNumber& added) { return messageJson(added); });
  });
  route("DELETE", site_pattern + R"(/numbers/([^/]+))", "/v1/tracking/sites/{id}/numbers/{e164}",
        Access::kTenant, [this](Call& call) {
          tracking_v1::RemoveNumberRequest request;
          request.set_tenant_id(call.principal.tenant_id);
          request.set_site_id(call.request.matches[1]);
          request.set_e164(call.request.matches[2]);
          forwardTo(call, *tracking_, &Stub::RemoveNumber, request, 204, noBody);
        });
  route("GET", site_pattern + "/usage", "/v1/tracking/sites/{id}/usage", Access::kTenant, [this](Call& call) {
    tracking_v1::PoolUsageRequest request;
    request.set_tenant_id(call.principal.tenant_id);
    request.set_site_id(call.request.matches[1]);
    for (const char* name : {"from", "to"}) {
      if (!call.request.has_param(name)) continue;
      google::protobuf::Timestamp value;
      if (!google::protobuf::util::TimeUtil::FromString(call.request.get_param_value(name), &value)) {
        return writeError(call.response, ApiError::invalid(name, std::string(name) +
                                                                     ": must be an RFC 3339 time, e.g. 2026-11-27T00:00:00Z"));
      }
      *(std::string(name) == "from" ? request.mutable_from() : request.mutable_to()) = value;
    }
    forwardTo(call, *tracking_, &Stub::GetPoolUsage, request, 200,
              [](const tracking_v1::PoolUsage& usage) { return messageJson(usage); });
  });

  // Public: what the snippet calls on every page view. Limited per client address (a visitor
  // makes a request per page and one a minute while the page stays open).
  route("POST", "/v1/tracking/visits", "/v1/tracking/visits", Access::kPublic, [this](Call& call) {
    allowAnyOrigin(call.response);
    const RateDecision decision = visit_limiter_->take("visit:" + client_address_.of(call.request));
    if (!decision.allowed) {
      rate_limited_.Increment();
      return writeError(call.response, ApiError::rateLimited(decision.retry_after_seconds));
    }
    JsonRequest body = JsonRequest::parse(
        call.request.body,
        {{"site_key", FieldType::kString, true}, {"session_id", FieldType::kString},
         {"utm_source", FieldType::kString},     {"utm_medium", FieldType::kString},
         {"utm_campaign", FieldType::kString},   {"utm_term", FieldType::kString},
         {"utm_content", FieldType::kString},    {"referrer", FieldType::kString},
         {"landing_page", FieldType::kString},   {"click_ids", FieldType::kObject}});
    if (!body.ok()) return writeError(call.response, *body.error);
    tracking_v1::VisitRequest request;
    request.set_site_key(*body.string("site_key"));
    request.set_session_id(body.string("session_id").value_or(""));
    auto* source = request.mutable_source();
    source->set_utm_source(body.string("utm_source").value_or(""));
    source->set_utm_medium(body.string("utm_medium").value_or(""));
    source->set_utm_campaign(body.string("utm_campaign").value_or(""));
    source->set_utm_term(body.string("utm_term").value_or(""));
    source->set_utm_content(body.string("utm_content").value_or(""));
    source->set_referrer(body.string("referrer").value_or(""));
    source->set_landing_page(body.string("landing_page").value_or(""));
    static const std::initializer_list<FieldSpec> kClickIds = {
        {"gclid", FieldType::kString}, {"gbraid", FieldType::kString}, {"wbraid", FieldType::kString},
        {"fbclid", FieldType::kString}, {"yclid", FieldType::kString}, {"msclkid", FieldType::kString},
        {"ttclid", FieldType::kString}};
    if (auto clicks = body.object("click_ids", kClickIds)) {
      if (!clicks->ok()) return writeError(call.response, *clicks->error);
      for (const auto& spec : kClickIds) {
        if (auto value = clicks->string(spec.name)) (*source->mutable_click_ids())[spec.name] = *value;
      }
    }
    forwardTo(call, *tracking_, &Stub::Visit, request, 200,
              [](const tracking_v1::VisitResponse& reply) { return messageJson(reply); });
  });
  server_.Options("/v1/tracking/visits", [](const httplib::Request&, httplib::Response& response) {
    allowAnyOrigin(response);
    response.status = 204;
  });
  route("GET", "/v1/tracking/snippet.js", "/v1/tracking/snippet.js", Access::kPublic, [](Call& call) {
    call.response.status = 200;
    call.response.set_header("Cache-Control", "public, max-age=3600");
    call.response.set_header("Access-Control-Allow-Origin", "*");
    call.response.set_content(trackingSnippet(), "text/javascript; charset=utf-8");
  });
}

}  // namespace tel::gateway
