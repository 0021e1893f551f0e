#include "gateway_server.h"

#include <google/protobuf/util/json_util.h>

#include <charconv>
#include <nlohmann/json.hpp>

#include "gateway_forward.h"
#include "json_request.h"
#include "response_body.h"
#include "role_policy.h"
#include "tel/crypto/crypto.h"
#include "tel/metrics/admin_server.h"

namespace tel::gateway {
namespace {

using nlohmann::json;

constexpr const char* kJson = "application/json";

// Renders nothing: for 204 answers.
const auto noBody = [](const auto&) { return json(); };

// How the API spells route kinds; KIND_NONE, KIND_EXTENSIONS, KIND_EXTERNAL in the proto.
const char* routeKindName(v1::NumberRoute::Kind kind) {
  switch (kind) {
    case v1::NumberRoute::KIND_EXTENSIONS:
      return "extensions";
    case v1::NumberRoute::KIND_EXTERNAL:
      return "external";
    default:
      return "none";
  }
}

// A resource as the API shows it: the proto mapping, except where an item type says otherwise.
template <typename Item>
json itemJson(const Item& item) {
  return messageJson(item);
}
// A number's route with its kind spelt as the API takes it, every field always present.
json itemJson(const v1::Number& number) {
  json rendered = messageJson(number);
  const auto& route = number.route();
  rendered["route"] = {{"kind", routeKindName(route.kind())},
                       {"extensions", json(std::vector<std::string>(route.extensions().begin(),
                                                                    route.extensions().end()))},
                       {"external", route.external()},
                       {"ring_timeout_seconds", route.ring_timeout_seconds()}};
  return rendered;
}

// The "route" object of a number body into request->route(), when the body has one. The accounts
// service checks the targets; here only what the proto cannot carry (kind names, int64 timeouts).
template <typename Request>
std::optional<ApiError> readRoute(const JsonRequest& body, Request* request) {
  auto route = body.object("route", {{"kind", FieldType::kString, true},
                                     {"extensions", FieldType::kStringArray},
                                     {"external", FieldType::kString},
                                     {"ring_timeout_seconds", FieldType::kInteger}});
  if (!route) return std::nullopt;
  if (!route->ok()) return route->error;
  auto* out = request->mutable_route();
  const std::string kind = *route->string("kind");
  if (kind == "none") {
    out->set_kind(v1::NumberRoute::KIND_NONE);
  } else if (kind == "extensions") {
    out->set_kind(v1::NumberRoute::KIND_EXTENSIONS);
  } else if (kind == "external") {
    out->set_kind(v1::NumberRoute::KIND_EXTERNAL);
  } else {
    return ApiError::invalid("route.kind", "route.kind: must be one of none, extensions, external");
  }
  for (auto& extension : route->strings("extensions").value_or(std::vector<std::string>{})) {
    out->add_extensions(std::move(extension));
  }
  out->set_external(route->string("external").value_or(""));
  if (auto timeout = route->integer("ring_timeout_seconds")) {
    if (*timeout < 5 || *timeout > 300) {
      return ApiError::invalid("route.ring_timeout_seconds",
                               "route.ring_timeout_seconds: must be between 5 and 300");
    }
    out->set_ring_timeout_seconds(static_cast<int32_t>(*timeout));
  }
  return std::nullopt;
}

template <typename Item>
json listJson(const google::protobuf::RepeatedPtrField<Item>& items,
              const std::string& next_token) {
  json page = {{"items", json::array()}};
  for (const auto& item : items) page["items"].push_back(itemJson(item));
  page["next_page_token"] = next_token;
  return page;
}

// Paging parameters from the query string; the accounts service checks the token.
std::optional<ApiError> readPage(const httplib::Request& request, int32_t* limit,
                                 std::string* token) {
  if (request.has_param("limit")) {
    const std::string text = request.get_param_value("limit");
    int value = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc() || end != text.data() + text.size() || value < 1 || value > 200) {
      return ApiError::invalid("limit", "limit: must be an integer from 1 to 200");
    }
    *limit = value;
  }
  if (request.has_param("page_token")) *token = request.get_param_value("page_token");
  return std::nullopt;
}

bool isJsonContentType(const httplib::Request& request) {
  const std::string type = request.get_header_value("Content-Type");
  return type.rfind(kJson, 0) == 0;
}

// audio/wav and the other names WAV files go by (audio/x-wav, audio/wave), parameters ignored.
bool isWavContentType(const httplib::Request& request) {
  std::string type = request.get_header_value("Content-Type");
  type = type.substr(0, type.find(';'));
  while (!type.empty() && type.back() == ' ') type.pop_back();
  return type == "audio/wav" || type == "audio/x-wav" || type == "audio/wave";
}

}  // namespace

// A message as the API shows it: proto field names, defaults included, RFC 3339 times; secrets
// that are only present in creation responses are dropped when empty.
json messageJson(const google::protobuf::Message& message) {
  google::protobuf::util::JsonPrintOptions options;
  options.preserve_proto_field_names = true;
  options.always_print_primitive_fields = true;
  std::string text;
  if (!google::protobuf::util::MessageToJsonString(message, &text, options).ok()) {
    throw std::runtime_error("cannot render " + message.GetTypeName() + " as JSON");
  }
  json rendered = json::parse(text);
  for (const char* secret : {"password", "secret"}) {
    if (rendered.contains(secret) && rendered[secret] == "") rendered.erase(secret);
  }
  return rendered;
}

void writeJson(httplib::Response& response, int status, const nlohmann::json& body) {
  response.status = status;
  response.set_content(body.dump(), kJson);
}

void writeError(httplib::Response& response, const ApiError& error) {
  response.status = error.status;
  if (error.retry_after_seconds) {
    response.set_header("Retry-After", std::to_string(*error.retry_after_seconds));
  }
  if (error.status == 401) response.set_header("WWW-Authenticate", "Bearer");
  response.set_content(error.body(), kJson);
}

GatewayServer::GatewayServer(GatewayOptions options, GatewayBackends backends, log::Logger logger,
                             prometheus::Registry& registry)
    : options_(std::move(options)),
      accounts_(std::move(backends.accounts)),
      call_log_(std::move(backends.call_log)),
      reports_(std::move(backends.reports)),
      tracking_(std::move(backends.tracking)),
      segmentation_(std::move(backends.segmentation)),
      webhooks_(std::move(backends.webhooks)),
      dial_plans_(std::move(backends.dial_plans)),
      queues_(std::move(backends.queues)),
      prompts_(std::move(backends.prompts)),
      rate_limiter_(std::move(backends.rate_limiter)),
      visit_limiter_(std::move(backends.visit_limiter)),
      sessions_(std::move(backends.sessions)),
      sign_in_guard_(std::move(backends.sign_in_guard)),
      client_address_(options_.trusted_proxies),
      log_(std::move(logger)),
      requests_(prometheus::BuildCounter()
                    .Name("tel_gateway_http_requests_total")
                    .Help("REST API requests by method, route and HTTP status")
                    .Register(registry)),
      latency_(prometheus::BuildHistogram()
                   .Name("tel_gateway_http_request_duration_seconds")
                   .Help("REST API request handling time by method and route")
                   .Register(registry)),
      rate_limited_(prometheus::BuildCounter()
                        .Name("tel_gateway_rate_limited_total")
                        .Help("Requests refused by the per-key rate limit")
                        .Register(registry)
                        .Add({})),
      sign_ins_(prometheus::BuildCounter()
                    .Name("tel_gateway_sign_ins_total")
                    .Help("Browser sign-in attempts by outcome (signed_in, refused, blocked)")
                    .Register(registry)) {
  for (const char* outcome : {"signed_in", "refused", "blocked"}) {
    sign_ins_.Add({{"outcome", outcome}});
  }
  const int threads = options_.http_threads;
  server_.new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
  metrics::configureListener(server_);
  // The library refuses only what no route takes; serve() holds each route to its own limit.
  const size_t largest_body = std::max(options_.max_body_bytes, options_.max_upload_bytes);
  server_.set_payload_max_length(largest_body);
  server_.set_read_timeout(10, 0);
  server_.set_write_timeout(10, 0);
  // Responses that the library makes itself (no route, body too large, bad request line) get the
  // API's JSON error body; responses of our handlers already have one.
  server_.set_error_handler(httplib::Server::HandlerWithResponse(
      [this, largest_body](const httplib::Request& request, httplib::Response& response) {
        if (!response.body.empty()) return httplib::Server::HandlerResponse::Unhandled;
        ApiError error = fromHttpStatus(response.status);
        if (response.status == 413) error = ApiError::payloadTooLarge(largest_body);
        writeError(response, error);
        countRequest(request.method, response.status == 404 ? "unmatched" : "rejected",
                     response.status, std::chrono::steady_clock::now());
        return httplib::Server::HandlerResponse::Handled;
      }));
  server_.set_exception_handler(
      [this](const httplib::Request& request, httplib::Response& response, std::exception_ptr) {
        log_.error("unhandled exception in handler", {{"path", request.path}});
        writeError(response, ApiError{});
      });
  registerRoutes();
}

GatewayServer::~GatewayServer() { stop(); }

int GatewayServer::start(const std::string& host, int port) {
  int bound =
      port == 0 ? server_.bind_to_any_port(host) : (server_.bind_to_port(host, port) ? port : -1);
  if (bound <= 0)
    throw std::runtime_error("gateway: cannot bind " + host + ":" + std::to_string(port));
  thread_ = std::thread([this] { server_.listen_after_bind(); });
  metrics::waitUntilListening(server_);
  return bound;
}

void GatewayServer::stop() {
  server_.stop();
  if (thread_.joinable()) thread_.join();
}

std::unique_ptr<grpc::ClientContext> GatewayServer::backendContext() const {
  auto context = std::make_unique<grpc::ClientContext>();
  context->set_deadline(std::chrono::system_clock::now() + options_.backend_timeout);
  return context;
}

void GatewayServer::countRequest(const std::string& method, const std::string& label, int status,
                                 std::chrono::steady_clock::time_point started) {
  requests_.Add({{"method", method}, {"route", label}, {"status", std::to_string(status)}})
      .Increment();
  latency_.Add({{"method", method}, {"route", label}}, metrics::latencyBuckets())
      .Observe(std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
}

std::optional<ApiError> GatewayServer::authenticate(const httplib::Request& request,
                                                    Principal* out) {
  // An API client says who it is in Authorization; only requests without one use the cookie.
  if (!request.has_header("Authorization")) {
    const std::string session = cookieValue(request, "tel_session");
    if (!session.empty()) return authenticateSession(session, out);
  }
  const std::string header = request.get_header_value("Authorization");
  static constexpr std::string_view kBearer = "Bearer ";
  if (header.size() <= kBearer.size() || header.compare(0, kBearer.size(), kBearer) != 0) {
    return ApiError::unauthenticated();
  }
  v1::AuthenticateRequest auth;
  auth.set_api_key(header.substr(kBearer.size()));
  v1::Principal principal;
  auto context = backendContext();
  const grpc::Status status = accounts_->Authenticate(context.get(), auth, &principal);
  if (!status.ok()) return fromGrpc(status);
  out->admin = principal.kind() == v1::Principal::KIND_ADMIN;
  out->tenant_id = principal.tenant_id();
  out->key_id = principal.key_id();
  return std::nullopt;
}

std::optional<ApiError> GatewayServer::bodyRefusal(const httplib::Request& request, Body body) const {
  const bool takes_body = request.method == "POST" || request.method == "PATCH" || request.method == "PUT";
  if (takes_body && body == Body::kJsonOrWav && isWavContentType(request)) {
    if (request.body.size() > options_.max_upload_bytes) return ApiError::payloadTooLarge(options_.max_upload_bytes);
    return std::nullopt;
  }
  if (takes_body && !isJsonContentType(request)) {
    ApiError error = ApiError::unsupportedMediaType();
    if (body == Body::kJsonOrWav) error.message = "request body must be application/json or audio/wav";
    return error;
  }
  if (request.body.size() > options_.max_body_bytes) return ApiError::payloadTooLarge(options_.max_body_bytes);
  return std::nullopt;
}

void GatewayServer::serve(const std::string& method, const std::string& label, Access access, Body body,
                          const Handler& handler, const httplib::Request& request,
                          httplib::Response& response) {
  const auto started = std::chrono::steady_clock::now();
  Call call{request, response, {}};
  auto fail = [&](const ApiError& error) { writeError(response, error); };
  [&] {
    if (access != Access::kPublic) {
      if (auto error = authenticate(request, &call.principal)) return fail(*error);
      if (access == Access::kSession && !call.principal.session) {
        ApiError error = ApiError::unauthenticated();
        error.message = "this route is for signed-in browsers (session cookie)";
        return fail(error);
      }
      // A browser's state-changing request must prove it comes from our own page: another site
      // can make the browser send the cookie, but cannot read the token to put in the header.
      if (call.principal.session && method != "GET" && method != "HEAD" &&
          !crypto::constantTimeEquals(request.get_header_value("X-CSRF-Token"),
                                      call.principal.session->csrf_token)) {
        return fail(ApiError::forbidden(
            "missing or wrong X-CSRF-Token header (the csrf_token of the session)"));
      }
      const RateDecision decision = rate_limiter_->take(call.principal.key_id);
      if (!decision.allowed) {
        rate_limited_.Increment();
        return fail(ApiError::rateLimited(decision.retry_after_seconds));
      }
      if (access == Access::kAdmin && !call.principal.admin) {
        return fail(ApiError::forbidden("this route needs the operator's admin key"));
      }
      if (access == Access::kTenant && call.principal.admin) {
        return fail(ApiError::forbidden("admin keys manage tenants; use a tenant API key here"));
      }
      if (!call.principal.role.empty()) {
        if (auto refusal = roleRefusal(call.principal.role, method, label))
          return fail(ApiError::forbidden(*refusal));
      }
    }
    if (auto refusal = bodyRefusal(request, body)) return fail(*refusal);
    try {
      handler(call);
    } catch (const std::exception& e) {
      log_.error("request failed",
                 {{"route", label}, {"tenant_id", call.principal.tenant_id}, {"error", e.what()}});
      fail(ApiError{});
    }
  }();
  // Errors keep their body in place: the library's error handler looks at it (and they are small).
  if (response.status < 400) finishBody(request, response);
  countRequest(method, label, response.status, started);
  if (response.status >= 500) {
    log_.warn("request answered with a server error", {{"route", label},
                                                       {"status", std::to_string(response.status)},
                                                       {"tenant_id", call.principal.tenant_id}});
  }
}

void GatewayServer::route(const std::string& method, const std::string& pattern,
                          const std::string& label, Access access, Handler handler, Body body) {
  auto bound = [this, method, label, access, body, handler = std::move(handler)](
                   const httplib::Request& request, httplib::Response& response) {
    serve(method, label, access, body, handler, request, response);
  };
  if (method == "GET")
    server_.Get(pattern, bound);
  else if (method == "POST")
    server_.Post(pattern, bound);
  else if (method == "PATCH")
    server_.Patch(pattern, bound);
  else if (method == "PUT")
    server_.Put(pattern, bound);
  else if (method == "DELETE")
    server_.Delete(pattern, bound);
  else
    throw std::logic_error("unsupported method " + method);
}

// GET <collection>: the caller's tenant's rows, newest first, paged.
template <typename ListResponse, typename Item>
void GatewayServer::registerList(
    const std::string& collection, StubMethod<v1::ListRequest, ListResponse> list,
    const google::protobuf::RepeatedPtrField<Item>& (ListResponse::*items)() const) {
  route("GET", collection, collection, Access::kTenant, [=, this](Call& call) {
    v1::ListRequest request;
    request.set_tenant_id(call.principal.tenant_id);
    int32_t limit = 0;
    if (auto error = readPage(call.request, &limit, request.mutable_page_token())) {
      return writeError(call.response, *error);
    }
    request.set_limit(limit);
    forward(call, list, request, 200, [items](const ListResponse& reply) {
      return listJson((reply.*items)(), reply.next_page_token());
    });
  });
}

// GET and DELETE <collection>/{id} within the caller's tenant.
template <typename Item>
void GatewayServer::registerGetAndDelete(const std::string& collection,
                                         StubMethod<v1::GetRequest, Item> get,
                                         StubMethod<v1::GetRequest, v1::Empty> remove) {
  auto request_for = [](const Call& call) {
    v1::GetRequest request;
    request.set_tenant_id(call.principal.tenant_id);
    request.set_id(call.request.matches[1]);
    return request;
  };
  const std::string pattern = collection + "/([^/]+)";
  const std::string label = collection + "/{id}";
  route("GET", pattern, label, Access::kTenant, [=, this](Call& call) {
    forward(call, get, request_for(call), 200, [](const Item& item) { return itemJson(item); });
  });
  route("DELETE", pattern, label, Access::kTenant,
        [=, this](Call& call) { forward(call, remove, request_for(call), 204, noBody); });
}

void GatewayServer::registerRoutes() {
  route("GET", "/v1/openapi.json", "/v1/openapi.json", Access::kPublic,
        [this](Call& call) { call.response.set_content(options_.openapi_json, kJson); });
  route("GET", "/healthz", "/healthz", Access::kPublic, [](Call& call) {
    writeJson(call.response, 200, {{"status", "alive"}});
  });
  route("GET", "/v1/me", "/v1/me", Access::kAnyKey, [](Call& call) {
    json me = {{"kind", call.principal.admin ? "admin" : "tenant"}};
    if (call.principal.session) {
      if (!call.principal.admin) me["user_id"] = call.principal.session->user_id;
    } else {
      me["key_id"] = call.principal.key_id;
    }
    if (!call.principal.admin) me["tenant_id"] = call.principal.tenant_id;
    writeJson(call.response, 200, me);
  });
  registerTenantRoutes();
  registerUserRoutes();
  registerSipAccountRoutes();
  registerNumberRoutes();
  registerCarrierRoutes();
  registerApiKeyRoutes();
  registerCallLogRoutes();
  registerReportRoutes();
  registerTrackingRoutes();
  registerSegmentationRoutes();
  registerWebhookRoutes();
  registerDialPlanRoutes();
  registerQueueRoutes();
  registerPromptRoutes();
  registerSessionRoutes();
  registerDashboard();
}

void GatewayServer::registerTenantRoutes() {
  auto render = [](const auto& message) { return messageJson(message); };
  // A tenant with where its phones register, when the gateway knows it (sip.registrar): with the
  // SIP domain, that is what a softphone needs besides its account.
  auto tenantJson = [this](const v1::Tenant& tenant) {
    json rendered = messageJson(tenant);
    if (!options_.sip_registrar.empty()) rendered["sip_registrar"] = options_.sip_registrar;
    return rendered;
  };
  route("POST", "/v1/tenants", "/v1/tenants", Access::kAdmin, [=, this](Call& call) {
    JsonRequest body = JsonRequest::parse(call.request.body, {{"name", FieldType::kString, true},
                                                              {"sip_domain", FieldType::kString},
                                                              {"timezone", FieldType::kString}});
    if (!body.ok()) return writeError(call.response, *body.error);
    v1::CreateTenantRequest request;
    request.set_name(*body.string("name"));
    request.set_sip_domain(body.string("sip_domain").value_or(""));
    request.set_timezone(body.string("timezone").value_or(""));
    forward(call, &v1::Accounts::StubInterface::CreateTenant, request, 201, tenantJson);
  });
  route("GET", "/v1/tenants", "/v1/tenants", Access::kAnyKey, [=, this](Call& call) {
    v1::ListTenantsRequest request;
    int32_t limit = 0;
    std::string token;
    if (auto error = readPage(call.request, &limit, &token))
      return writeError(call.response, *error);
    if (!call.principal.admin) {
      // A tenant's list of tenants is itself.
      v1::GetTenantRequest own;
      own.set_id(call.principal.tenant_id);
      forward(call, &v1::Accounts::StubInterface::GetTenant, own, 200,
              [tenantJson](const v1::Tenant& tenant) {
                return json{{"items", json::array({tenantJson(tenant)})}, {"next_page_token", ""}};
              });
      return;
    }
    request.set_limit(limit);
    request.set_page_token(token);
    forward(call, &v1::Accounts::StubInterface::ListTenants, request, 200,
            [tenantJson](const v1::ListTenantsResponse& r) {
              json page = {{"items", json::array()}, {"next_page_token", r.next_page_token()}};
              for (const auto& tenant : r.tenants()) page["items"].push_back(tenantJson(tenant));
              return page;
            });
  });
  // A tenant key reaches only its own tenant; any other id is "not found".
  auto ownOrAdmin = [](const Call& call, const std::string& id) {
    return call.principal.admin || id == call.principal.tenant_id;
  };
  route("GET", R"(/v1/tenants/([^/]+))", "/v1/tenants/{id}", Access::kAnyKey,
        [=, this](Call& call) {
          const std::string id = call.request.matches[1];
          if (!ownOrAdmin(call, id))
            return writeError(call.response, ApiError::notFound("tenant not found"));
          v1::GetTenantRequest request;
          request.set_id(id);
          forward(call, &v1::Accounts::StubInterface::GetTenant, request, 200, tenantJson);
        });
  route("PATCH", R"(/v1/tenants/([^/]+))", "/v1/tenants/{id}", Access::kAnyKey,
        [=, this](Call& call) {
          const std::string id = call.request.matches[1];
          if (!ownOrAdmin(call, id))
            return writeError(call.response, ApiError::notFound("tenant not found"));
          JsonRequest body = JsonRequest::parse(call.request.body, {{"name", FieldType::kString},
                                                                    {"timezone", FieldType::kString},
                                                                    {"recording_retention_days", FieldType::kInteger}});
          if (!body.ok()) return writeError(call.response, *body.error);
          v1::UpdateTenantRequest request;
          request.set_id(id);
          if (auto name = body.string("name")) request.set_name(*name);
          if (auto timezone = body.string("timezone")) request.set_timezone(*timezone);
          if (auto days = body.integer("recording_retention_days")) {
            if (*days < 1 || *days > 3650) {
              return writeError(call.response, ApiError::invalid("recording_retention_days", "1 to 3650 days"));
            }
            request.set_recording_retention_days(static_cast<int32_t>(*days));
          }
          forward(call, &v1::Accounts::StubInterface::UpdateTenant, request, 200, tenantJson);
        });
  route("DELETE", R"(/v1/tenants/([^/]+))", "/v1/tenants/{id}", Access::kAdmin,
        [=, this](Call& call) {
          v1::DeleteTenantRequest request;
          request.set_id(call.request.matches[1]);
          forward(call, &v1::Accounts::StubInterface::DeleteTenant, request, 204, noBody);
        });
  route("POST", R"(/v1/tenants/([^/]+)/api-keys)", "/v1/tenants/{id}/api-keys", Access::kAdmin,
        [=, this](Call& call) {
          JsonRequest body = JsonRequest::parse(call.request.body, {{"name", FieldType::kString}});
          if (!body.ok()) return writeError(call.response, *body.error);
          v1::CreateApiKeyRequest request;
          request.set_tenant_id(call.request.matches[1]);
          request.set_name(body.string("name").value_or(""));
          forward(call, &v1::Accounts::StubInterface::CreateApiKey, request, 201, render);
        });
}

void GatewayServer::registerUserRoutes() {
  auto render = [](const auto& message) { return messageJson(message); };
  route("POST", "/v1/users", "/v1/users", Access::kTenant, [=, this](Call& call) {
    JsonRequest body =
        JsonRequest::parse(call.request.body, {{"email", FieldType::kString, true},
                                               {"name", FieldType::kString},
                                               {"role", FieldType::kString},
                                               {"password", FieldType::kString, true},
                                               {"sip_account_id", FieldType::kString}});
    if (!body.ok()) return writeError(call.response, *body.error);
    v1::CreateUserRequest request;
    request.set_tenant_id(call.principal.tenant_id);
    request.set_email(*body.string("email"));
    request.set_name(body.string("name").value_or(""));
    request.set_role(body.string("role").value_or(""));
    request.set_password(*body.string("password"));
    request.set_sip_account_id(body.string("sip_account_id").value_or(""));
    forward(call, &v1::Accounts::StubInterface::CreateUser, request, 201, render);
  });
  route("PATCH", R"(/v1/users/([^/]+))", "/v1/users/{id}", Access::kTenant, [=, this](Call& call) {
    JsonRequest body = JsonRequest::parse(call.request.body, {{"name", FieldType::kString},
                                                              {"role", FieldType::kString},
                                                              {"password", FieldType::kString},
                                                              {"sip_account_id", FieldType::kString}});
    if (!body.ok()) return writeError(call.response, *body.error);
    v1::UpdateUserRequest request;
    request.set_tenant_id(call.principal.tenant_id);
    request.set_id(call.request.matches[1]);
    if (auto name = body.string("name")) request.set_name(*name);
    if (auto role = body.string("role")) request.set_role(*role);
    if (auto password = body.string("password")) request.set_password(*password);
    if (auto account = body.string("sip_account_id")) request.set_sip_account_id(*account);
    forward(call, &v1::Accounts::StubInterface::UpdateUser, request, 200, render);
  });
  registerList("/v1/users", &v1::Accounts::StubInterface::ListUsers, &v1::ListUsersResponse::users);
  registerGetAndDelete("/v1/users", &v1::Accounts::StubInterface::GetUser,
                       &v1::Accounts::StubInterface::DeleteUser);
}

void GatewayServer::registerSipAccountRoutes() {
  auto render = [](const auto& message) { return messageJson(message); };
  route("POST", "/v1/sip-accounts", "/v1/sip-accounts", Access::kTenant, [=, this](Call& call) {
    JsonRequest body =
        JsonRequest::parse(call.request.body, {{"username", FieldType::kString, true},
                                               {"extension", FieldType::kString, true},
                                               {"display_name", FieldType::kString},
                                               {"outbound_allowed", FieldType::kBoolean},
                                               {"password", FieldType::kString}});
    if (!body.ok()) return writeError(call.response, *body.error);
    v1::CreateSipAccountRequest request;
    request.set_tenant_id(call.principal.tenant_id);
    request.set_username(*body.string("username"));
    request.set_extension(*body.string("extension"));
    request.set_display_name(body.string("display_name").value_or(""));
    if (auto allowed = body.boolean("outbound_allowed")) request.set_outbound_allowed(*allowed);
    request.set_password(body.string("password").value_or(""));
    forward(call, &v1::Accounts::StubInterface::CreateSipAccount, request, 201, render);
  });
  route("PATCH", R"(/v1/sip-accounts/([^/]+))", "/v1/sip-accounts/{id}", Access::kTenant,
        [=, this](Call& call) {
          JsonRequest body =
              JsonRequest::parse(call.request.body, {{"extension", FieldType::kString},
                                                     {"display_name", FieldType::kString},
                                                     {"outbound_allowed", FieldType::kBoolean},
                                                     {"password", FieldType::kString}});
          if (!body.ok()) return writeError(call.response, *body.error);
          v1::UpdateSipAccountRequest request;
          request.set_tenant_id(call.principal.tenant_id);
          request.set_id(call.request.matches[1]);
          if (auto extension = body.string("extension")) request.set_extension(*extension);
          if (auto name = body.string("display_name")) request.set_display_name(*name);
          if (auto allowed = body.boolean("outbound_allowed"))
            request.set_outbound_allowed(*allowed);
          if (auto password = body.string("password")) request.set_password(*password);
          forward(call, &v1::Accounts::StubInterface::UpdateSipAccount, request, 200, render);
        });
  registerList("/v1/sip-accounts", &v1::Accounts::StubInterface::ListSipAccounts,
               &v1::ListSipAccountsResponse::sip_accounts);
  registerGetAndDelete("/v1/sip-accounts", &v1::Accounts::StubInterface::GetSipAccount,
                       &v1::Accounts::StubInterface::DeleteSipAccount);
}

void GatewayServer::registerNumberRoutes() {
  auto render = [](const v1::Number& number) { return itemJson(number); };
  route("POST", "/v1/numbers", "/v1/numbers", Access::kTenant, [=, this](Call& call) {
    JsonRequest body = JsonRequest::parse(call.request.body, {{"e164", FieldType::kString, true},
                                                              {"channels", FieldType::kInteger},
                                                              {"label", FieldType::kString},
                                                              {"route", FieldType::kObject}});
    if (!body.ok()) return writeError(call.response, *body.error);
    v1::CreateNumberRequest request;
    request.set_tenant_id(call.principal.tenant_id);
    request.set_e164(*body.string("e164"));
    if (auto channels = body.integer("channels")) {
      if (*channels < 1 || *channels > 1000) {
        return writeError(call.response,
                          ApiError::invalid("channels", "channels: must be between 1 and 1000"));
      }
      request.set_channels(static_cast<int32_t>(*channels));
    }
    request.set_label(body.string("label").value_or(""));
    if (auto error = readRoute(body, &request)) return writeError(call.response, *error);
    forward(call, &v1::Accounts::StubInterface::CreateNumber, request, 201, render);
  });
  route("PATCH", R"(/v1/numbers/([^/]+))", "/v1/numbers/{id}", Access::kTenant,
        [=, this](Call& call) {
          JsonRequest body =
              JsonRequest::parse(call.request.body, {{"channels", FieldType::kInteger},
                                                     {"label", FieldType::kString},
                                                     {"route", FieldType::kObject}});
          if (!body.ok()) return writeError(call.response, *body.error);
          v1::UpdateNumberRequest request;
          request.set_tenant_id(call.principal.tenant_id);
          request.set_id(call.request.matches[1]);
          if (auto channels = body.integer("channels")) {
            if (*channels < 1 || *channels > 1000) {
              return writeError(
                  call.response,
                  ApiError::invalid("channels", "channels: must be between 1 and 1000"));
            }
            request.set_channels(static_cast<int32_t>(*channels));
          }
          if (auto label = body.string("label")) request.set_label(*label);
          if (auto error = readRoute(body, &request)) return writeError(call.response, *error);
          forward(call, &v1::Accounts::StubInterface::UpdateNumber, request, 200, render);
        });
  registerList("/v1/numbers", &v1::Accounts::StubInterface::ListNumbers,
               &v1::ListNumbersResponse::numbers);
  registerGetAndDelete("/v1/numbers", &v1::Accounts::StubInterface::GetNumber,
                       &v1::Accounts::StubInterface::DeleteNumber);
}

namespace {
// A carrier's registration settings from the body's "registration" object; nullopt (with the
// error answered) when they do not parse.
std::optional<v1::RegistrationSettings> registrationSettings(const JsonRequest& body,
                                                             bool password_required,
                                                             httplib::Response& response) {
  auto object = body.object("registration", {{"username", FieldType::kString, true},
                                             {"password", FieldType::kString, password_required},
                                             {"domain", FieldType::kString},
                                             {"expires_seconds", FieldType::kInteger}});
  if (object && !object->ok()) {
    writeError(response, *object->error);
    return std::nullopt;
  }
  v1::RegistrationSettings settings;
  settings.set_username(*object->string("username"));
  settings.set_password(object->string("password").value_or(""));
  settings.set_domain(object->string("domain").value_or(""));
  // Out-of-range values are clamped into a range the accounts service refuses, naming the field.
  settings.set_expires_seconds(
      static_cast<int32_t>(std::clamp<int64_t>(object->integer("expires_seconds").value_or(0), -1, 1 << 20)));
  return settings;
}
}  // namespace

// A carrier's auth_password and registration.password are write-only: the accounts service keeps
// only digest HA1 values of the first and the second sealed, and returns neither; responses show
// auth_username ("" when the carrier has no credentials) and the registration with its state.
void GatewayServer::registerCarrierRoutes() {
  auto render = [](const v1::Carrier& carrier) { return itemJson(carrier); };
  route("POST", "/v1/carriers", "/v1/carriers", Access::kTenant, [=, this](Call& call) {
    JsonRequest body =
        JsonRequest::parse(call.request.body, {{"name", FieldType::kString, true},
                                               {"addresses", FieldType::kStringArray},
                                               {"outbound_uri", FieldType::kString},
                                               {"caller_id", FieldType::kString},
                                               {"auth_username", FieldType::kString},
                                               {"auth_password", FieldType::kString},
                                               {"registration", FieldType::kObject}});
    if (!body.ok()) return writeError(call.response, *body.error);
    v1::CreateCarrierRequest request;
    if (body.object("registration", {})) {
      auto settings = registrationSettings(body, true, call.response);
      if (!settings) return;
      *request.mutable_registration() = std::move(*settings);
    }
    request.set_tenant_id(call.principal.tenant_id);
    request.set_name(*body.string("name"));
    for (auto& address : body.strings("addresses").value_or(std::vector<std::string>{})) {
      request.add_addresses(std::move(address));
    }
    request.set_outbound_uri(body.string("outbound_uri").value_or(""));
    request.set_caller_id(body.string("caller_id").value_or(""));
    request.set_auth_username(body.string("auth_username").value_or(""));
    request.set_auth_password(body.string("auth_password").value_or(""));
    forward(call, &v1::Accounts::StubInterface::CreateCarrier, request, 201, render);
  });
  route("PATCH", R"(/v1/carriers/([^/]+))", "/v1/carriers/{id}", Access::kTenant,
        [=, this](Call& call) {
          JsonRequest body =
              JsonRequest::parse(call.request.body, {{"name", FieldType::kString},
                                                     {"addresses", FieldType::kStringArray},
                                                     {"outbound_uri", FieldType::kString},
                                                     {"caller_id", FieldType::kString},
                                                     {"auth_username", FieldType::kString},
                                                     {"auth_password", FieldType::kString},
                                                     {"registration", FieldType::kObject, false,
                                                      true}});
          if (!body.ok()) return writeError(call.response, *body.error);
          v1::UpdateCarrierRequest request;
          // An object sets the registration (without a password: the stored one stays); null
          // stops registering.
          if (body.isNull("registration")) {
            request.set_remove_registration(true);
          } else if (body.object("registration", {})) {
            auto settings = registrationSettings(body, false, call.response);
            if (!settings) return;
            *request.mutable_registration() = std::move(*settings);
          }
          request.set_tenant_id(call.principal.tenant_id);
          request.set_id(call.request.matches[1]);
          if (auto name = body.string("name")) request.set_name(*name);
          // Present addresses replace the list ([] empties it); absent ones leave it as it is.
          if (auto addresses = body.strings("addresses")) {
            request.set_replace_addresses(true);
            for (auto& address : *addresses) request.add_addresses(std::move(address));
          }
          if (auto uri = body.string("outbound_uri")) request.set_outbound_uri(*uri);
          if (auto caller_id = body.string("caller_id")) request.set_caller_id(*caller_id);
          // Both replace the credentials, both "" remove them; the accounts service refuses one
          // alone.
          if (auto username = body.string("auth_username")) request.set_auth_username(*username);
          if (auto password = body.string("auth_password")) request.set_auth_password(*password);
          forward(call, &v1::Accounts::StubInterface::UpdateCarrier, request, 200, render);
        });
  registerList("/v1/carriers", &v1::Accounts::StubInterface::ListCarriers,
               &v1::ListCarriersResponse::carriers);
  registerGetAndDelete("/v1/carriers", &v1::Accounts::StubInterface::GetCarrier,
                       &v1::Accounts::StubInterface::DeleteCarrier);
}

void GatewayServer::registerApiKeyRoutes() {
  auto render = [](const auto& message) { return messageJson(message); };
  route("POST", "/v1/api-keys", "/v1/api-keys", Access::kTenant, [=, this](Call& call) {
    JsonRequest body = JsonRequest::parse(call.request.body, {{"name", FieldType::kString}});
    if (!body.ok()) return writeError(call.response, *body.error);
    v1::CreateApiKeyRequest request;
    request.set_tenant_id(call.principal.tenant_id);
    request.set_name(body.string("name").value_or(""));
    forward(call, &v1::Accounts::StubInterface::CreateApiKey, request, 201, render);
  });
  registerList("/v1/api-keys", &v1::Accounts::StubInterface::ListApiKeys,
               &v1::ListApiKeysResponse::api_keys);
  route("DELETE", R"(/v1/api-keys/([^/]+))", "/v1/api-keys/{id}", Access::kTenant,
        [=, this](Call& call) {
          v1::GetRequest request;
          request.set_tenant_id(call.principal.tenant_id);
          request.set_id(call.request.matches[1]);
          forward(call, &v1::Accounts::StubInterface::RevokeApiKey, request, 200, render);
        });
}

}  // namespace tel::gateway
