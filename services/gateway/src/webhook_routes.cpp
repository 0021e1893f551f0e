// Webhooks: /v1/webhooks (subscriptions), their secret rotation, test ping, delivery attempts and
// replay, from the integrations service.
#include <google/protobuf/util/time_util.h>

#include <charconv>

#include <nlohmann/json.hpp>

#include "gateway_forward.h"
#include "json_request.h"

namespace tel::gateway {
namespace {

using google::protobuf::util::TimeUtil;
using nlohmann::json;
namespace webhooks_v1 = ::tel::integrations::v1;
using Stub = webhooks_v1::Webhooks::StubInterface;

const auto noBody = [](const auto&) { return json(); };

json timeOrNull(const google::protobuf::Timestamp& value, bool present) {
  return present ? json(TimeUtil::ToString(value)) : json(nullptr);
}

json strings(const google::protobuf::RepeatedPtrField<std::string>& items) {
  return json(std::vector<std::string>(items.begin(), items.end()));
}

// A subscription; its secret only in the answers that create one (shown once).
json subscriptionJson(const webhooks_v1::Subscription& subscription) {
  json out = {{"id", subscription.id()},
              {"url", subscription.url()},
              {"event_types", strings(subscription.event_types())},
              {"numbers", strings(subscription.numbers())},
              {"extensions", strings(subscription.extensions())},
              {"description", subscription.description()},
              {"enabled", subscription.enabled()},
              {"disabled_reason", subscription.disabled_reason()},
              {"failing_since", timeOrNull(subscription.failing_since(), subscription.has_failing_since())},
              {"created_at", timeOrNull(subscription.created_at(), subscription.has_created_at())},
              {"previous_secret_expires_at", timeOrNull(subscription.previous_secret_expires_at(),
                                                        subscription.has_previous_secret_expires_at())}};
  if (!subscription.secret().empty()) out["secret"] = subscription.secret();
  return out;
}

json attemptJson(const webhooks_v1::Attempt& attempt) {
  return {{"event_id", attempt.event_id()},
          {"event_type", attempt.event_type()},
          {"call_id", attempt.call_id().empty() ? json(nullptr) : json(attempt.call_id())},
          {"sequence", attempt.sequence()},
          {"attempt", attempt.attempt()},
          {"attempted_at", timeOrNull(attempt.attempted_at(), attempt.has_attempted_at())},
          {"status_code", attempt.status_code() == 0 ? json(nullptr) : json(attempt.status_code())},
          {"latency_ms", attempt.latency_ms()},
          {"error", attempt.error()},
          {"response_excerpt", attempt.response_excerpt()},
          {"outcome", attempt.outcome()},
          {"next_attempt_at", timeOrNull(attempt.next_attempt_at(), attempt.has_next_attempt_at())}};
}

void setStrings(const std::optional<std::vector<std::string>>& values, google::protobuf::RepeatedPtrField<std::string>* out) {
  if (values) out->Assign(values->begin(), values->end());
}

constexpr const char* kOne = R"(/v1/webhooks/([^/]+))";

}  // namespace

void GatewayServer::registerWebhookRoutes() {
  route("POST", "/v1/webhooks", "/v1/webhooks", Access::kTenant, [this](Call& call) {
    JsonRequest body = JsonRequest::parse(
        call.request.body, {{"url", FieldType::kString, true},       {"event_types", FieldType::kStringArray, true},
                            {"numbers", FieldType::kStringArray},    {"extensions", FieldType::kStringArray},
                            {"description", FieldType::kString}});
    if (!body.ok()) return writeError(call.response, *body.error);
    webhooks_v1::CreateSubscriptionRequest request;
    request.set_tenant_id(call.principal.tenant_id);
    request.set_url(*body.string("url"));
    setStrings(body.strings("event_types"), request.mutable_event_types());
    setStrings(body.strings("numbers"), request.mutable_numbers());
    setStrings(body.strings("extensions"), request.mutable_extensions());
    request.set_description(body.string("description").value_or(""));
    forwardTo(call, *webhooks_, &Stub::CreateSubscription, request, 201, subscriptionJson);
  });
  route("GET", "/v1/webhooks", "/v1/webhooks", Access::kTenant, [this](Call& call) {
    webhooks_v1::ListSubscriptionsRequest request;
    request.set_tenant_id(call.principal.tenant_id);
    forwardTo(call, *webhooks_, &Stub::ListSubscriptions, request, 200,
              [](const webhooks_v1::ListSubscriptionsResponse& reply) {
                json items = json::array();
                for (const auto& subscription : reply.subscriptions()) items.push_back(subscriptionJson(subscription));
                return json{{"items", items}, {"next_page_token", ""}};
              });
  });
  route("GET", kOne, "/v1/webhooks/{id}", Access::kTenant, [this](Call& call) {
    webhooks_v1::SubscriptionRef request;
    request.set_tenant_id(call.principal.tenant_id);
    request.set_id(call.request.matches[1]);
    forwardTo(call, *webhooks_, &Stub::GetSubscription, request, 200, subscriptionJson);
  });
  route("PATCH", kOne, "/v1/webhooks/{id}", Access::kTenant, [this](Call& call) {
    JsonRequest body = JsonRequest::parse(
        call.request.body, {{"url", FieldType::kString},           {"event_types", FieldType::kStringArray},
                            {"numbers", FieldType::kStringArray},  {"extensions", FieldType::kStringArray},
                            {"description", FieldType::kString},   {"enabled", FieldType::kBoolean}});
    if (!body.ok()) return writeError(call.response, *body.error);
    webhooks_v1::UpdateSubscriptionRequest request;
    request.set_tenant_id(call.principal.tenant_id);
    request.set_id(call.request.matches[1]);
    // The fields present are the ones to change.
    if (auto url = body.string("url")) {
      request.add_update_mask("url");
      request.set_url(*url);
    }
    for (const char* field : {"event_types", "numbers", "extensions"}) {
      if (auto values = body.strings(field)) request.add_update_mask(field);
    }
    setStrings(body.strings("event_types"), request.mutable_event_types());
    setStrings(body.strings("numbers"), request.mutable_numbers());
    setStrings(body.strings("extensions"), request.mutable_extensions());
    if (auto description = body.string("description")) {
      request.add_update_mask("description");
      request.set_description(*description);
    }
    if (auto enabled = body.boolean("enabled")) {
      request.add_update_mask("enabled");
      request.set_enabled(*enabled);
    }
    forwardTo(call, *webhooks_, &Stub::UpdateSubscription, request, 200, subscriptionJson);
  });
  route("DELETE", kOne, "/v1/webhooks/{id}", Access::kTenant, [this](Call& call) {
    webhooks_v1::SubscriptionRef request;
    request.set_tenant_id(call.principal.tenant_id);
    request.set_id(call.request.matches[1]);
    forwardTo(call, *webhooks_, &Stub::DeleteSubscription, request, 204, noBody);
  });
  route("POST", std::string(kOne) + "/rotate-secret", "/v1/webhooks/{id}/rotate-secret", Access::kTenant,
        [this](Call& call) {
          JsonRequest body = JsonRequest::parse(call.request.body.empty() ? "{}" : call.request.body,
                                                {{"overlap_seconds", FieldType::kInteger}});
          if (!body.ok()) return writeError(call.response, *body.error);
          webhooks_v1::RotateSecretRequest request;
          request.set_tenant_id(call.principal.tenant_id);
          request.set_id(call.request.matches[1]);
          const int64_t overlap = body.integer("overlap_seconds").value_or(0);
          if (overlap < 0 || overlap > 604800) {
            return writeError(call.response, ApiError::invalid("overlap_seconds", "from 0 to 604800 (7 days)"));
          }
          request.set_overlap_seconds(static_cast<uint32_t>(overlap));
          forwardTo(call, *webhooks_, &Stub::RotateSecret, request, 200, [](const webhooks_v1::RotatedSecret& reply) {
            return json{{"secret", reply.secret()},
                        {"previous_secret_expires_at",
                         timeOrNull(reply.previous_secret_expires_at(), reply.has_previous_secret_expires_at())}};
          });
        });
  route("POST", std::string(kOne) + "/ping", "/v1/webhooks/{id}/ping", Access::kTenant, [this](Call& call) {
    webhooks_v1::SubscriptionRef request;
    request.set_tenant_id(call.principal.tenant_id);
    request.set_id(call.request.matches[1]);
    forwardTo(call, *webhooks_, &Stub::Ping, request, 202,
              [](const webhooks_v1::QueuedEvents& reply) { return json{{"event_id", reply.event_id()}}; });
  });
  route("GET", std::string(kOne) + "/attempts", "/v1/webhooks/{id}/attempts", Access::kTenant, [this](Call& call) {
    webhooks_v1::ListAttemptsRequest request;
    request.set_tenant_id(call.principal.tenant_id);
    request.set_subscription_id(call.request.matches[1]);
    request.set_event_id(call.request.get_param_value("event_id"));
    if (call.request.has_param("limit")) {
      const std::string text = call.request.get_param_value("limit");
      int limit = 0;
      const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), limit);
      if (error != std::errc() || end != text.data() + text.size() || limit < 1 || limit > 500) {
        return writeError(call.response, ApiError::invalid("limit", "from 1 to 500"));
      }
      request.set_limit(static_cast<uint32_t>(limit));
    }
    forwardTo(call, *webhooks_, &Stub::ListAttempts, request, 200, [](const webhooks_v1::ListAttemptsResponse& reply) {
      json items = json::array();
      for (const auto& attempt : reply.attempts()) items.push_back(attemptJson(attempt));
      return json{{"items", items}};
    });
  });
  route("POST", std::string(kOne) + "/replay", "/v1/webhooks/{id}/replay", Access::kTenant, [this](Call& call) {
    JsonRequest body =
        JsonRequest::parse(call.request.body, {{"event_id", FieldType::kString}, {"since", FieldType::kString}});
    if (!body.ok()) return writeError(call.response, *body.error);
    webhooks_v1::ReplayRequest request;
    request.set_tenant_id(call.principal.tenant_id);
    request.set_subscription_id(call.request.matches[1]);
    request.set_event_id(body.string("event_id").value_or(""));
    if (auto since = body.string("since")) {
      if (!TimeUtil::FromString(*since, request.mutable_since())) {
        return writeError(call.response, ApiError::invalid("since", "an RFC 3339 time such as 2026-11-28T09:00:00Z"));
      }
    }
    forwardTo(call, *webhooks_, &Stub::Replay, request, 202, [](const webhooks_v1::QueuedEvents& reply) {
      json out = {{"events", reply.events()}};
      if (!reply.event_id().empty()) out["event_id"] = reply.event_id();
      return out;
    });
  });
}

}  // namespace tel::gateway
