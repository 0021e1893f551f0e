// Browser sign-in through the REST API: session cookies, CSRF tokens, tenant scope, sign-out,
// failed sign-ins and the dashboard's static files, against the running gateway.
#include <httplib.h>

#include <catch2/catch.hpp>
#include <map>
#include <random>

#include "tel/testing/api_client.h"
#include "tel/testing/env.h"

using namespace tel::testing;
using nlohmann::json;

namespace {

// A loopback source address of its own for the tests that fail sign-ins on purpose, so that the
// failures they count never block other tests (which connect from 127.0.0.1).
std::string privateLoopbackSource() {
  std::random_device random;
  return "127." + std::to_string(10 + random() % 200) + "." + std::to_string(random() % 250) + "." +
         std::to_string(2 + random() % 250);
}

// A browser: keeps the session cookie the gateway sets and sends the CSRF token when told to.
class Browser {
 public:
  explicit Browser(std::string base_url, std::string source = "")
      : base_url_(std::move(base_url)), source_(std::move(source)) {}
  // Signs out what is still signed in, so that no session of a test outlives it in Redis.
  ~Browser() {
    if (cookie_.empty()) return;
    send_csrf_ = true;
    request("DELETE", "/v1/sessions");
  }
  Browser(const Browser&) = delete;
  Browser& operator=(const Browser&) = delete;

  HttpResult request(const std::string& method, const std::string& path, const json& body = nullptr,
                     httplib::Headers extra = {}) {
    httplib::Client client(base_url_);
    client.set_connection_timeout(5, 0);
    client.set_read_timeout(15, 0);
    if (!source_.empty()) client.set_interface(source_);
    httplib::Headers headers = std::move(extra);
    if (!cookie_.empty()) headers.emplace("Cookie", "tel_session=" + cookie_);
    if (send_csrf_ && !csrf_.empty()) headers.emplace("X-CSRF-Token", csrf_);
    const std::string text = body.is_null() ? "" : body.dump();
    httplib::Result result = [&] {
      if (method == "GET") return client.Get(path, headers);
      if (method == "DELETE") return client.Delete(path, headers);
      if (method == "POST") return client.Post(path, headers, text, "application/json");
      if (method == "PATCH") return client.Patch(path, headers, text, "application/json");
      throw std::invalid_argument(method);
    }();
    HttpResult out;
    if (!result) return out;
    out.status = result->status;
    out.body = result->body;
    out.json = json::parse(out.body, nullptr, false);
    if (out.json.is_discarded()) out.json = nullptr;
    for (const auto& [key, value] : result->headers) out.headers.emplace(key, value);
    const std::string set_cookie = out.header("Set-Cookie");
    if (set_cookie.rfind("tel_session=", 0) == 0) {
      cookie_ = set_cookie.substr(12, set_cookie.find(';') - 12);
    }
    return out;
  }

  HttpResult signIn(const json& body) {
    auto result = request("POST", "/v1/sessions", body);
    if (result.status == 201) csrf_ = result.json.value("csrf_token", "");
    return result;
  }

  std::string cookie_;
  std::string csrf_;
  bool send_csrf_ = true;

 private:
  std::string base_url_;
  std::string source_;
};

constexpr const char* kPassword = "correct horse battery";

// A tenant with a dashboard user who can sign in.
struct TenantWithUser {
  TestTenant tenant;
  std::string email;
  std::string user_id;
  TenantWithUser(const Platform& platform, const std::string& label)
      : tenant(platform, label), email(label + "-" + uniqueSuffix(8) + "@example.com") {
    auto user = tenant.api->post("/v1/users",
                                 {{"email", email}, {"password", kPassword}, {"role", "owner"}});
    if (user.status != 201) throw std::runtime_error("cannot create user: " + user.body);
    user_id = user.json["id"];
  }
};

}  // namespace

TEST_CASE("a dashboard user signs in and out with an HttpOnly SameSite session cookie") {
  Platform platform = Platform::fromEnv();
  TenantWithUser a(platform, "session-a");
  Browser browser(platform.api_url);

  auto signed_in = browser.signIn({{"email", a.email}, {"password", kPassword}});
  REQUIRE(signed_in.status == 201);
  CHECK(signed_in.json["kind"] == "user");
  CHECK(signed_in.json["tenant_id"] == a.tenant.id);
  CHECK(signed_in.json["user"]["id"] == a.user_id);
  CHECK(signed_in.json["csrf_token"].get<std::string>().size() >= 32);
  const std::string cookie = signed_in.header("Set-Cookie");
  CHECK(cookie.find("HttpOnly") != std::string::npos);
  CHECK(cookie.find("SameSite=Strict") != std::string::npos);
  CHECK(cookie.find("Path=/") != std::string::npos);
  CHECK(cookie.find("Secure") == std::string::npos);  // plain HTTP here
  REQUIRE(browser.cookie_.size() >= 40);
  CHECK(signed_in.body.find(browser.cookie_) == std::string::npos);  // only in the cookie

  // Signing in again gives a new session and ends the old one.
  const std::string first_cookie = browser.cookie_;
  REQUIRE(browser.signIn({{"email", a.email}, {"password", kPassword}}).status == 201);
  CHECK(browser.cookie_ != first_cookie);
  Browser stale(platform.api_url);
  stale.cookie_ = first_cookie;
  CHECK(stale.request("GET", "/v1/session").status == 401);
  stale.cookie_.clear();

  auto who = browser.request("GET", "/v1/session");
  REQUIRE(who.status == 200);
  CHECK(who.json["user"]["email"] == a.email);
  CHECK(who.json["csrf_token"] == browser.csrf_);
  CHECK(browser.request("GET", "/v1/me").json["tenant_id"] == a.tenant.id);
  // What a softphone needs besides its account: the domain and where to register.
  auto tenant = browser.request("GET", "/v1/tenants/" + a.tenant.id);
  CHECK(tenant.json["sip_domain"] == a.tenant.sip_domain);
  CHECK(tenant.json["sip_registrar"] == requireEnv("TEL_SIP_ADDR"));

  // The session acts as the tenant: it reads and, with the token, changes the tenant's rows.
  const std::string e164 = uniqueE164();
  auto created = browser.request("POST", "/v1/numbers", {{"e164", e164}});
  REQUIRE(created.status == 201);
  CHECK(created.json["tenant_id"] == a.tenant.id);
  CHECK(a.tenant.api->get("/v1/numbers/" + created.json["id"].get<std::string>()).status == 200);
  CHECK(browser.request("GET", "/v1/numbers").body.find(e164) != std::string::npos);
  // A session is a tenant principal, not the operator.
  CHECK(browser.request("POST", "/v1/tenants", {{"name", "nope"}}).status == 403);

  auto signed_out = browser.request("DELETE", "/v1/sessions");
  CHECK(signed_out.status == 204);
  CHECK(signed_out.header("Set-Cookie").find("Max-Age=0") != std::string::npos);
  // The old cookie is dead even if the browser kept it.
  auto after = browser.request("GET", "/v1/numbers");
  CHECK(after.status == 401);
  CHECK(after.errorCode() == "unauthenticated");
  CHECK(browser.request("GET", "/v1/session").status == 401);
}

TEST_CASE("a wrong password and an unknown user get the same 401") {
  Platform platform = Platform::fromEnv();
  TenantWithUser a(platform, "session-wrong");
  Browser browser(platform.api_url, privateLoopbackSource());
  auto wrong = browser.signIn({{"email", a.email}, {"password", "not the password"}});
  auto unknown = browser.signIn(
      {{"email", "nobody-" + uniqueSuffix(8) + "@example.com"}, {"password", kPassword}});
  CHECK(wrong.status == 401);
  CHECK(unknown.status == 401);
  CHECK(wrong.body == unknown.body);
  CHECK(wrong.header("Set-Cookie").empty());
  CHECK(unknown.header("Set-Cookie").empty());
  CHECK(browser.cookie_.empty());
  // A tenant API key is not an admin key, and says so exactly like a wrong one.
  auto tenant_key = browser.signIn({{"admin_key", a.tenant.key}});
  auto garbage = browser.signIn({{"admin_key", "tela_nothing"}});
  CHECK(tenant_key.status == 401);
  CHECK(tenant_key.body == garbage.body);
  // Bad bodies are 400s naming the field.
  auto both = browser.signIn({{"email", a.email}, {"password", kPassword}, {"admin_key", "x"}});
  CHECK(both.status == 400);
  CHECK(browser.signIn({{"email", a.email}}).errorField() == "password");
  CHECK(browser.signIn({{"email", 5}, {"password", kPassword}}).errorField() == "email");
  CHECK(browser.signIn({{"email", a.email}, {"password", kPassword}, {"remember", true}}).status ==
        400);
}

TEST_CASE("state-changing requests of a session need its CSRF token") {
  Platform platform = Platform::fromEnv();
  TenantWithUser a(platform, "session-csrf");
  Browser browser(platform.api_url);
  Browser other(platform.api_url);
  REQUIRE(browser.signIn({{"email", a.email}, {"password", kPassword}}).status == 201);
  REQUIRE(other.signIn({{"email", a.email}, {"password", kPassword}}).status == 201);
  REQUIRE(browser.csrf_ != other.csrf_);

  const std::string e164 = uniqueE164();
  browser.send_csrf_ = false;
  auto missing = browser.request("POST", "/v1/numbers", {{"e164", e164}});
  CHECK(missing.status == 403);
  CHECK(missing.errorCode() == "forbidden");
  CHECK(missing.body.find("X-CSRF-Token") != std::string::npos);
  CHECK(browser.request("POST", "/v1/numbers", {{"e164", e164}}, {{"X-CSRF-Token", other.csrf_}})
            .status == 403);
  CHECK(browser.request("POST", "/v1/numbers", {{"e164", e164}}, {{"X-CSRF-Token", ""}}).status ==
        403);
  CHECK(browser.request("DELETE", "/v1/sessions").status == 403);
  // Reads need no token; nothing was created by the refused requests.
  auto listing = browser.request("GET", "/v1/numbers");
  REQUIRE(listing.status == 200);
  CHECK(listing.body.find(e164) == std::string::npos);
  // An API key client is not a browser and needs no token, even with a stray cookie.
  ApiClient api(platform.api_url, a.tenant.key);
  CHECK(api.post("/v1/numbers", {{"e164", e164}}).status == 201);
}

TEST_CASE("a user's role limits its session: admins change settings and agents only read") {
  Platform platform = Platform::fromEnv();
  TenantWithUser a(platform, "session-roles");
  std::map<std::string, std::string> emails;
  for (const std::string role : {"admin", "agent"}) {
    emails[role] = role + "-" + uniqueSuffix(8) + "@example.com";
    REQUIRE(a.tenant.api
                ->post("/v1/users", {{"email", emails[role]}, {"password", kPassword}, {"role", role}})
                .status == 201);
  }
  Browser admin(platform.api_url);
  Browser agent(platform.api_url);
  REQUIRE(admin.signIn({{"email", emails["admin"]}, {"password", kPassword}}).status == 201);
  REQUIRE(agent.signIn({{"email", emails["agent"]}, {"password", kPassword}}).status == 201);

  // An admin runs the tenant's settings but not who may sign in or call the API.
  CHECK(admin.request("POST", "/v1/numbers", {{"e164", uniqueE164()}}).status == 201);
  CHECK(admin.request("GET", "/v1/users").status == 200);
  auto key = admin.request("POST", "/v1/api-keys", {{"name", "escalation"}});
  CHECK(key.status == 403);
  CHECK(key.errorCode() == "forbidden");
  CHECK(key.body.find("role admin may not POST /v1/api-keys") != std::string::npos);
  CHECK(admin.request("PATCH", "/v1/users/" + a.user_id, {{"role", "agent"}}).status == 403);

  // An agent reads the call log and the numbers, changes nothing, and may sign out.
  CHECK(agent.request("GET", "/v1/calls").status == 200);
  CHECK(agent.request("GET", "/v1/numbers").status == 200);
  CHECK(agent.request("GET", "/v1/users").status == 403);
  CHECK(agent.request("GET", "/v1/api-keys").status == 403);
  const std::string e164 = uniqueE164();
  CHECK(agent.request("POST", "/v1/numbers", {{"e164", e164}}).status == 403);
  CHECK(agent.request("PATCH", "/v1/tenants/" + a.tenant.id, {{"name", "renamed"}}).status == 403);
  CHECK(a.tenant.api->get("/v1/numbers").body.find(e164) == std::string::npos);

  // A role changed by the owner applies to the session at once.
  auto users = a.tenant.api->get("/v1/users");
  std::string agent_id;
  for (const auto& user : users.json["items"])
    if (user["email"] == emails["agent"]) agent_id = user["id"];
  REQUIRE_FALSE(agent_id.empty());
  REQUIRE(a.tenant.api->patch("/v1/users/" + agent_id, {{"role", "admin"}}).status == 200);
  CHECK(agent.request("POST", "/v1/numbers", {{"e164", e164}}).status == 201);
  CHECK(agent.request("DELETE", "/v1/sessions").status == 204);
}

TEST_CASE("a session of tenant A never sees or changes tenant B's rows") {
  Platform platform = Platform::fromEnv();
  TenantWithUser a(platform, "session-iso-a");
  TenantWithUser b(platform, "session-iso-b");
  auto b_number = b.tenant.api->post("/v1/numbers", {{"e164", uniqueE164()}});
  auto b_sip = b.tenant.api->post("/v1/sip-accounts", {{"username", "bob"}, {"extension", "301"}});
  auto b_carrier = b.tenant.api->post("/v1/carriers", {{"name", "B trunk"}});
  REQUIRE(b_number.status == 201);
  REQUIRE(b_sip.status == 201);
  REQUIRE(b_carrier.status == 201);
  // A has rows of every kind too, so that an empty list cannot pass by accident.
  REQUIRE(a.tenant.api->post("/v1/numbers", {{"e164", uniqueE164()}}).status == 201);
  REQUIRE(
      a.tenant.api->post("/v1/sip-accounts", {{"username", "anna"}, {"extension", "201"}}).status ==
      201);
  REQUIRE(a.tenant.api->post("/v1/carriers", {{"name", "A trunk"}}).status == 201);

  Browser browser(platform.api_url);
  REQUIRE(browser.signIn({{"email", a.email}, {"password", kPassword}}).status == 201);
  struct Foreign {
    std::string collection;
    std::string id;
    json patch;  // a valid change, had it been allowed
  };
  const std::vector<Foreign> foreign = {
      {"/v1/numbers", b_number.json["id"], {{"label", "hijacked"}}},
      {"/v1/sip-accounts", b_sip.json["id"], {{"display_name", "hijacked"}}},
      {"/v1/carriers", b_carrier.json["id"], {{"name", "hijacked"}}},
      {"/v1/users", b.user_id, {{"name", "hijacked"}}},
  };
  for (const auto& [collection, id, patch] : foreign) {
    INFO(collection);
    CHECK(browser.request("GET", collection + "/" + id).status == 404);
    CHECK(browser.request("PATCH", collection + "/" + id, patch).status == 404);
    CHECK(browser.request("DELETE", collection + "/" + id).status == 404);
    auto listing = browser.request("GET", collection + "?limit=200");
    REQUIRE(listing.status == 200);
    CHECK_FALSE(listing.json["items"].empty());
    for (const auto& item : listing.json["items"]) CHECK(item["tenant_id"] == a.tenant.id);
  }
  CHECK(browser.request("GET", "/v1/tenants/" + b.tenant.id).status == 404);
  CHECK(browser.request("GET", "/v1/tenants").body.find(b.tenant.id) == std::string::npos);
  // B's user cannot sign in into A by naming A's tenant.
  Browser intruder(platform.api_url, privateLoopbackSource());
  CHECK(intruder.signIn({{"email", b.email}, {"password", kPassword}, {"tenant_id", a.tenant.id}})
            .status == 401);
  // All of B's rows are still there.
  CHECK(b.tenant.api->get("/v1/numbers/" + b_number.json["id"].get<std::string>()).status == 200);
}

TEST_CASE("made-up cookies and sessions of deleted users are refused") {
  Platform platform = Platform::fromEnv();
  TenantWithUser a(platform, "session-gone");
  Browser forger(platform.api_url);
  forger.cookie_ = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
  CHECK(forger.request("GET", "/v1/numbers").status == 401);
  forger.cookie_ = "../../etc/passwd";
  CHECK(forger.request("GET", "/v1/numbers").status == 401);

  Browser browser(platform.api_url);
  REQUIRE(browser.signIn({{"email", a.email}, {"password", kPassword}}).status == 201);
  REQUIRE(browser.request("GET", "/v1/numbers").status == 200);
  REQUIRE(a.tenant.api->del("/v1/users/" + a.user_id).status == 204);
  auto after = browser.request("GET", "/v1/numbers");
  CHECK(after.status == 401);
  CHECK(after.errorCode() == "unauthenticated");
}

TEST_CASE("repeated failed sign-ins from one source are refused for a while") {
  Platform platform = Platform::fromEnv();
  TenantWithUser a(platform, "session-guess");
  Browser guesser(platform.api_url, privateLoopbackSource());
  // Failures spread over logins (as in credential stuffing) count for the source, and a client
  // that is not a trusted proxy cannot pass for other sources with X-Forwarded-For.
  for (int i = 0; i < 10; ++i) {
    auto attempt = guesser.request(
        "POST", "/v1/sessions",
        {{"email", "guess" + std::to_string(i) + "-" + uniqueSuffix(6) + "@example.com"},
         {"password", "guess"}},
        {{"X-Forwarded-For", "198.51.100." + std::to_string(i + 1)}});
    REQUIRE(attempt.status == 401);
  }
  auto blocked =
      guesser.request("POST", "/v1/sessions", {{"email", a.email}, {"password", kPassword}},
                      {{"X-Forwarded-For", "198.51.100.99"}});
  CHECK(blocked.status == 429);
  CHECK(blocked.errorCode() == "rate_limited");
  CHECK(std::stoi(blocked.header("Retry-After")) > 0);
  CHECK(guesser.cookie_.empty());
  // Another source (a real user elsewhere) is not affected.
  Browser user(platform.api_url);
  CHECK(user.signIn({{"email", a.email}, {"password", kPassword}}).status == 201);
}

TEST_CASE("repeated failed sign-ins against one login are refused from every source") {
  Platform platform = Platform::fromEnv();
  TenantWithUser a(platform, "session-login");
  for (int i = 0; i < 10; ++i) {
    Browser guesser(platform.api_url, privateLoopbackSource());
    REQUIRE(
        guesser.signIn({{"email", a.email}, {"password", "guess " + std::to_string(i)}}).status ==
        401);
  }
  Browser late(platform.api_url, privateLoopbackSource());
  CHECK(late.signIn({{"email", a.email}, {"password", kPassword}}).status == 429);
}

TEST_CASE("the operator signs in with the admin key and manages tenants") {
  Platform platform = Platform::fromEnv();
  Browser browser(platform.api_url);
  auto signed_in = browser.signIn({{"admin_key", platform.admin_key}});
  REQUIRE(signed_in.status == 201);
  CHECK(signed_in.json["kind"] == "admin");
  CHECK_FALSE(signed_in.json.contains("tenant_id"));
  CHECK(signed_in.body.find(platform.admin_key) == std::string::npos);
  auto created =
      browser.request("POST", "/v1/tenants", {{"name", "Operator session " + uniqueSuffix(6)}});
  REQUIRE(created.status == 201);
  const std::string id = created.json["id"];
  CHECK(browser.request("GET", "/v1/tenants?limit=200").status == 200);
  // Tenant routes are not the operator's.
  CHECK(browser.request("GET", "/v1/numbers").status == 403);
  CHECK(browser.request("DELETE", "/v1/tenants/" + id).status == 204);
  CHECK(browser.request("DELETE", "/v1/sessions").status == 204);
  CHECK(browser.request("GET", "/v1/tenants").status == 401);
}

TEST_CASE("the session cookie is Secure behind a TLS-terminating proxy") {
  Platform platform = Platform::fromEnv();
  Browser browser(platform.api_url);
  auto signed_in = browser.request("POST", "/v1/sessions", {{"admin_key", platform.admin_key}},
                                   {{"X-Forwarded-Proto", "https"}});
  REQUIRE(signed_in.status == 201);
  CHECK(signed_in.header("Set-Cookie").find("; Secure") != std::string::npos);
  browser.csrf_ = signed_in.json["csrf_token"];
  CHECK(browser.request("DELETE", "/v1/sessions").status == 204);
}

TEST_CASE("the gateway serves the dashboard with client routes and no way out of its folder") {
  Platform platform = Platform::fromEnv();
  Browser browser(platform.api_url);
  auto index = browser.request("GET", "/");
  REQUIRE(index.status == 200);
  CHECK(index.header("Content-Type") == "text/html; charset=utf-8");
  CHECK(index.header("Cache-Control") == "no-cache");
  CHECK(index.header("Content-Security-Policy").find("default-src 'self'") != std::string::npos);
  CHECK(index.body.find("<div id=\"root\">") != std::string::npos);
  // The app's hashed script, named by index.html, is immutable.
  const auto at = index.body.find("/assets/");
  REQUIRE(at != std::string::npos);
  const std::string script = index.body.substr(at, index.body.find('"', at) - at);
  auto asset = browser.request("GET", script);
  CHECK(asset.status == 200);
  CHECK(asset.header("Content-Type").rfind("text/javascript", 0) == 0);
  CHECK(asset.header("Cache-Control").find("immutable") != std::string::npos);
  // Client routes get the app; API paths stay API answers.
  CHECK(browser.request("GET", "/calls/some-call").body == index.body);
  CHECK(browser.request("GET", "/settings/numbers").body == index.body);
  auto api_miss = browser.request("GET", "/v1/no-such-route");
  CHECK(api_miss.status == 404);
  CHECK(api_miss.errorCode() == "not_found");
  CHECK(browser.request("GET", "/assets/missing-000.js").status == 404);
  // Traversal, plain and percent-encoded, never leaves the folder.
  for (const char* path : {"/../../../../etc/passwd", "/assets/../../../etc/passwd",
                           "/%2e%2e/%2e%2e/%2e%2e/etc/passwd", "/..%2f..%2f..%2fetc%2fpasswd",
                           "/assets/..%5c..%5cpackage.json", "/../package.json"}) {
    INFO(path);
    auto result = browser.request("GET", path);
    CHECK(result.body.find("root:") == std::string::npos);
    CHECK(result.body.find("tel-dashboard") == std::string::npos);
    CHECK(result.status == 404);
  }
}
