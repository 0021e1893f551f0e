// Segmentation: /v1/call-categories, /v1/category-rules and a call's category
// (PATCH /v1/calls/{id}), from the analytics service.
#include <nlohmann/json.hpp>

#include "gateway_forward.h"
#include "json_request.h"

namespace tel::gateway {
namespace {

using nlohmann::json;
namespace segmentation_v1 = ::tel::analytics::v1;
using Stub = segmentation_v1::Segmentation::StubInterface;

const auto noBody = [](const auto&) { return json(); };

// A rule with every condition present: null for those it does not have.
json ruleJson(const segmentation_v1::CategoryRule& rule) {
  return {{"id", rule.id()},
          {"category_id", rule.category_id()},
          {"position", rule.position()},
          {"direction", rule.direction()},
          {"number", rule.number()},
          {"utm_source", rule.utm_source()},
          {"answered", rule.has_answered() ? json(rule.answered()) : json(nullptr)},
          {"min_talk_seconds", rule.has_min_talk_seconds() ? json(rule.min_talk_seconds()) : json(nullptr)},
          {"max_talk_seconds", rule.has_max_talk_seconds() ? json(rule.max_talk_seconds()) : json(nullptr)},
          {"menu", rule.menu()},
          {"menu_key", rule.menu_key()}};
}

int32_t bounded(int64_t value) { return static_cast<int32_t>(std::clamp<int64_t>(value, -1, 1 << 30)); }

}  // namespace

void GatewayServer::registerSegmentationRoutes() {
  route("POST", "/v1/call-categories", "/v1/call-categories", Access::kTenant, [this](Call& call) {
    JsonRequest body = JsonRequest::parse(call.request.body, {{"name", FieldType::kString, true},
                                                              {"value", FieldType::kNumber}});
    if (!body.ok()) return writeError(call.response, *body.error);
    segmentation_v1::CreateCategoryRequest request;
    request.set_tenant_id(call.principal.tenant_id);
    request.set_name(*body.string("name"));
    request.set_value(body.number("value").value_or(0));
    forwardTo(call, *segmentation_, &Stub::CreateCategory, request, 201,
              [](const segmentation_v1::Category& category) { return messageJson(category); });
  });
  route("GET", "/v1/call-categories", "/v1/call-categories", Access::kTenant, [this](Call& call) {
    segmentation_v1::ListCategoriesRequest request;
    request.set_tenant_id(call.principal.tenant_id);
    forwardTo(call, *segmentation_, &Stub::ListCategories, request, 200,
              [](const segmentation_v1::ListCategoriesResponse& reply) {
                json items = json::array();
                for (const auto& category : reply.categories()) items.push_back(messageJson(category));
                return json{{"items", items}, {"next_page_token", ""}};
              });
  });
  route("DELETE", R"(/v1/call-categories/([^/]+))", "/v1/call-categories/{id}", Access::kTenant, [this](Call& call) {
    segmentation_v1::CategoryRef request;
    request.set_tenant_id(call.principal.tenant_id);
    request.set_id(call.request.matches[1]);
    forwardTo(call, *segmentation_, &Stub::DeleteCategory, request, 204, noBody);
  });
  route("POST", "/v1/category-rules", "/v1/category-rules", Access::kTenant, [this](Call& call) {
    JsonRequest body = JsonRequest::parse(
        call.request.body,
        {{"category_id", FieldType::kString, true}, {"position", FieldType::kInteger},
         {"direction", FieldType::kString},         {"number", FieldType::kString},
         {"utm_source", FieldType::kString},        {"answered", FieldType::kBoolean},
         {"min_talk_seconds", FieldType::kInteger}, {"max_talk_seconds", FieldType::kInteger},
         {"menu", FieldType::kString},              {"menu_key", FieldType::kString}});
    if (!body.ok()) return writeError(call.response, *body.error);
    segmentation_v1::CreateRuleRequest request;
    request.set_tenant_id(call.principal.tenant_id);
    auto* rule = request.mutable_rule();
    rule->set_category_id(*body.string("category_id"));
    rule->set_position(bounded(body.integer("position").value_or(0)));
    rule->set_direction(body.string("direction").value_or(""));
    rule->set_number(body.string("number").value_or(""));
    rule->set_utm_source(body.string("utm_source").value_or(""));
    if (auto answered = body.boolean("answered")) rule->set_answered(*answered);
    if (auto value = body.integer("min_talk_seconds")) rule->set_min_talk_seconds(bounded(*value));
    if (auto value = body.integer("max_talk_seconds")) rule->set_max_talk_seconds(bounded(*value));
    rule->set_menu(body.string("menu").value_or(""));
    rule->set_menu_key(body.string("menu_key").value_or(""));
    forwardTo(call, *segmentation_, &Stub::CreateRule, request, 201, ruleJson);
  });
  route("GET", "/v1/category-rules", "/v1/category-rules", Access::kTenant, [this](Call& call) {
    segmentation_v1::ListCategoriesRequest request;
    request.set_tenant_id(call.principal.tenant_id);
    forwardTo(call, *segmentation_, &Stub::ListRules, request, 200, [](const segmentation_v1::ListRulesResponse& reply) {
      json items = json::array();
      for (const auto& rule : reply.rules()) items.push_back(ruleJson(rule));
      return json{{"items", items}, {"next_page_token", ""}};
    });
  });
  route("DELETE", R"(/v1/category-rules/([^/]+))", "/v1/category-rules/{id}", Access::kTenant, [this](Call& call) {
    segmentation_v1::CategoryRef request;
    request.set_tenant_id(call.principal.tenant_id);
    request.set_id(call.request.matches[1]);
    forwardTo(call, *segmentation_, &Stub::DeleteRule, request, 204, noBody);
  });
  // A call record is otherwise read-only: its category is the one thing the tenant sets.
  route("PATCH", R"(/v1/calls/([^/]+))", "/v1/calls/{id}", Access::kTenant, [this](Call& call) {
    JsonRequest body = JsonRequest::parse(call.request.body, {{"category_id", FieldType::kString, true}});
    if (!body.ok()) return writeError(call.response, *body.error);
    segmentation_v1::SetCallCategoryRequest request;
    request.set_tenant_id(call.principal.tenant_id);
    request.set_call_id(call.request.matches[1]);
    request.set_category_id(*body.string("category_id"));
    forwardTo(call, *segmentation_, &Stub::SetCallCategory, request, 204, noBody);
  });
}

}  // namespace tel::gateway
