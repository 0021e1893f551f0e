// Browser sign-in (/v1/sessions, /v1/session) and the dashboard's static files.
//
// A browser signs in once with a dashboard user's e-mail and password (or, for the operator, the
// admin key) and then holds an opaque session id in an HttpOnly cookie. Requests with that cookie
// act exactly like the tenant's (or the admin's) API key would; the state-changing ones must also
// carry the session's CSRF token in X-CSRF-Token, which a page of another site cannot read.
// Requests with an Authorization header never look at cookies.
#include <google/protobuf/util/time_util.h>

#include <nlohmann/json.hpp>

#include "gateway_forward.h"
#include "json_request.h"
#include "response_body.h"
#include "tel/crypto/crypto.h"

namespace tel::gateway {
namespace {

using nlohmann::json;

constexpr const char* kCookie = "tel_session";

ApiError sessionEnded() {
  ApiError error = ApiError::unauthenticated();
  error.message = "not signed in, or the session has expired";
  return error;
}

std::string isoTime(int64_t unix_ms) {
  return google::protobuf::util::TimeUtil::ToString(
      google::protobuf::util::TimeUtil::MillisecondsToTimestamp(unix_ms));
}

// The cookie attributes: HttpOnly (no script reads it), SameSite=Strict (no other site's page
// sends it), Secure when the client reached us over TLS (through a proxy that says so).
std::string cookieHeader(const httplib::Request& request, const std::string& value,
                         std::chrono::seconds max_age) {
  std::string cookie =
      std::string(kCookie) + "=" + value +
      "; Path=/; HttpOnly; SameSite=Strict; Max-Age=" + std::to_string(max_age.count());
  if (request.get_header_value("X-Forwarded-Proto") == "https") cookie += "; Secure";
  return cookie;
}

}  // namespace

std::string cookieValue(const httplib::Request& request, const std::string& name) {
  const size_t headers = request.get_header_value_count("Cookie");
  for (size_t i = 0; i < headers; ++i) {
    const std::string header = request.get_header_value("Cookie", i);
    size_t at = 0;
    while (at < header.size()) {
      size_t end = header.find(';', at);
      if (end == std::string::npos) end = header.size();
      std::string pair = header.substr(at, end - at);
      const size_t first = pair.find_first_not_of(' ');
      pair = first == std::string::npos ? "" : pair.substr(first);
      const size_t equals = pair.find('=');
      if (equals != std::string::npos && pair.compare(0, equals, name) == 0 &&
          equals == name.size()) {
        return pair.substr(equals + 1);
      }
      at = end + 1;
    }
  }
  return "";
}

std::optional<ApiError> GatewayServer::authenticateSession(const std::string& id, Principal* out) {
  auto found = sessions_->find(id);
  if (!found.ok()) {
    log_.error("session store failed", {{"error", std::string(found.status().message())}});
    return ApiError::unavailable("sessions are unavailable; retry later");
  }
  if (!found->has_value()) return sessionEnded();
  Session& session = **found;
  if (!session.admin) {
    // A deleted user (or tenant) ends the user's sessions at once.
    v1::GetRequest request;
    request.set_tenant_id(session.tenant_id);
    request.set_id(session.user_id);
    v1::User user;
    auto context = backendContext();
    const grpc::Status status = accounts_->GetUser(context.get(), request, &user);
    if (status.error_code() == grpc::StatusCode::NOT_FOUND) {
      (void)sessions_->remove(id);
      return sessionEnded();
    }
    if (!status.ok()) return fromGrpc(status);
    out->role = user.role();  // read on every request: a changed role applies at once
    out->sip_account_id = user.sip_account_id();
  }
  out->admin = session.admin;
  out->tenant_id = session.tenant_id;
  out->key_id =
      session.admin ? "session:" + crypto::sha256Hex(id).substr(0, 16) : "user:" + session.user_id;
  out->session = std::move(session);
  out->session_id = id;
  return std::nullopt;
}

void GatewayServer::signIn(Call& call) {
  JsonRequest body = JsonRequest::parse(call.request.body, {{"email", FieldType::kString},
                                                            {"password", FieldType::kString},
                                                            {"tenant_id", FieldType::kString},
                                                            {"admin_key", FieldType::kString}});
  if (!body.ok()) return writeError(call.response, *body.error);
  const auto admin_key = body.string("admin_key");
  const auto email = body.string("email");
  if (admin_key.has_value() == email.has_value()) {
    return writeError(call.response,
                      ApiError::invalid(admin_key ? "admin_key" : "email",
                                        "give either email and password, or admin_key"));
  }
  if (email && !body.string("password")) {
    return writeError(call.response, ApiError::invalid("password", "password: required"));
  }
  std::string login;
  if (admin_key) {
    login = "admin";
  } else {
    login = *email;
    for (auto& c : login) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  const std::string source = client_address_.of(call.request);
  if (const int wait = sign_in_guard_->blockedFor(source, login); wait > 0) {
    sign_ins_.Add({{"outcome", "blocked"}}).Increment();
    ApiError error = ApiError::rateLimited(wait);
    error.message = "too many failed sign-ins; try again later";
    return writeError(call.response, error);
  }

  Session session;
  json user_json;
  auto context = backendContext();
  grpc::Status status;
  if (admin_key) {
    v1::AuthenticateRequest request;
    request.set_api_key(*admin_key);
    v1::Principal principal;
    status = accounts_->Authenticate(context.get(), request, &principal);
    // A tenant key is no way into the operator's view; it fails like a wrong key.
    if (status.ok() && principal.kind() != v1::Principal::KIND_ADMIN) {
      status = grpc::Status(grpc::StatusCode::UNAUTHENTICATED, "invalid admin key");
    }
    session.admin = true;
  } else {
    v1::VerifyUserPasswordRequest request;
    request.set_email(*email);
    request.set_password(*body.string("password"));
    request.set_tenant_id(body.string("tenant_id").value_or(""));
    v1::User user;
    status = accounts_->VerifyUserPassword(context.get(), request, &user);
    session.tenant_id = user.tenant_id();
    session.user_id = user.id();
    session.email = user.email();
    user_json = {{"id", user.id()},
                 {"email", user.email()},
                 {"name", user.name()},
                 {"role", user.role()},
                 {"sip_account_id", user.sip_account_id()}};
  }
  if (status.error_code() == grpc::StatusCode::UNAUTHENTICATED) {
    sign_in_guard_->failed(source, login);
    sign_ins_.Add({{"outcome", "refused"}}).Increment();
    log_.info("sign-in refused", {{"source", source}});
    ApiError error = ApiError::unauthenticated();
    // One message for unknown logins and wrong passwords (and wrong admin keys).
    error.message = admin_key ? "invalid admin key" : "invalid e-mail or password";
    return writeError(call.response, error);
  }
  if (!status.ok()) return writeError(call.response, fromGrpc(status));
  sign_in_guard_->succeeded(login);
  // Signing in again replaces the browser's session: the old id stops working (whoever may have
  // learnt it), and every sign-in gets a fresh id.
  if (const std::string previous = cookieValue(call.request, kCookie); !previous.empty()) {
    (void)sessions_->remove(previous);
  }

  session.csrf_token = crypto::base64UrlEncode(crypto::randomBytes(32));
  auto id = sessions_->create(session);
  if (!id.ok()) {
    log_.error("session store failed", {{"error", std::string(id.status().message())}});
    return writeError(call.response,
                      ApiError::unavailable("sessions are unavailable; retry later"));
  }
  sign_ins_.Add({{"outcome", "signed_in"}}).Increment();
  log_.info("signed in", {{"tenant_id", session.tenant_id},
                          {"user_id", session.user_id},
                          {"admin", session.admin ? "true" : "false"}});
  call.response.set_header(
      "Set-Cookie",
      cookieHeader(call.request, *id,
                   std::chrono::duration_cast<std::chrono::seconds>(options_.sessions.max_age)));
  json out = {{"kind", session.admin ? "admin" : "user"},
              {"csrf_token", session.csrf_token},
              {"expires_at",
               isoTime(std::chrono::duration_cast<std::chrono::milliseconds>(
                           std::chrono::system_clock::now().time_since_epoch() +
                           std::min(options_.sessions.idle_timeout, options_.sessions.max_age))
                           .count())}};
  if (!session.admin) {
    out["tenant_id"] = session.tenant_id;
    out["user"] = user_json;
  }
  writeJson(call.response, 201, out);
}

void GatewayServer::registerSessionRoutes() {
  route("POST", "/v1/sessions", "/v1/sessions", Access::kPublic,
        [this](Call& call) { signIn(call); });
  route("GET", "/v1/session", "/v1/session", Access::kSession, [this](Call& call) {
    const Session& session = *call.principal.session;
    json out = {{"kind", session.admin ? "admin" : "user"},
                {"csrf_token", session.csrf_token},
                {"expires_at", isoTime(session.expires_unix_ms)}};
    if (session.admin) return writeJson(call.response, 200, out);
    out["tenant_id"] = session.tenant_id;
    v1::GetRequest request;
    request.set_tenant_id(session.tenant_id);
    request.set_id(session.user_id);
    forward(call, &v1::Accounts::StubInterface::GetUser, request, 200,
            [&out](const v1::User& user) {
              out["user"] = {{"id", user.id()},
                             {"email", user.email()},
                             {"name", user.name()},
                             {"role", user.role()},
                             {"sip_account_id", user.sip_account_id()}};
              return out;
            });
  });
  route("DELETE", "/v1/sessions", "/v1/sessions", Access::kSession, [this](Call& call) {
    if (auto removed = sessions_->remove(call.principal.session_id); !removed.ok()) {
      return writeError(call.response,
                        ApiError::unavailable("sessions are unavailable; retry later"));
    }
    call.response.set_header("Set-Cookie", cookieHeader(call.request, "", std::chrono::seconds(0)));
    call.response.status = 204;
  });
}

// Registered last: every GET that no API route took. /v1/... stays an API 404.
void GatewayServer::registerDashboard() {
  if (options_.web_root.empty()) return;
  dashboard_.emplace(options_.web_root);
  server_.Get(R"(/.*)", [this](const httplib::Request& request, httplib::Response& response) {
    const auto started = std::chrono::steady_clock::now();
    std::optional<StaticFile> file;
    if (request.path.rfind("/v1/", 0) != 0 && request.path != "/v1") {
      file = dashboard_->lookup(request.path);
    }
    if (!file) {
      writeError(response, ApiError::notFound());
    } else {
      response.status = 200;
      response.set_header("Cache-Control", file->cache_control);
      response.set_header("X-Content-Type-Options", "nosniff");
      if (file->content_type.rfind("text/html", 0) == 0) {
        // The app loads only its own scripts and styles and talks only to this origin.
        response.set_header("Content-Security-Policy",
                            "default-src 'self'; img-src 'self' data:; object-src 'none'; "
                            "base-uri 'none'; frame-ancestors 'none'; form-action 'self'");
        response.set_header("Referrer-Policy", "no-referrer");
        response.set_header("X-Frame-Options", "DENY");
      }
      sendBody(request, response, file->body, file->gzipped, file->content_type);
    }
    countRequest("GET", response.status == 200 ? "dashboard" : "unmatched", response.status,
                 started);
  });
}

}  // namespace tel::gateway
