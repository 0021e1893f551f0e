// Bad input of every kind gets the documented error and changes nothing.
#include <httplib.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include "tel/testing/api_client.h"

using namespace tel::testing;

namespace {
size_t numberCount(ApiClient& api) { return api.get("/v1/numbers?limit=200").json["items"].size(); }

// Host and port of TEL_API_URL ("http://127.0.0.1:17080").
std::pair<std::string, int> apiAddress(const std::string& url) {
  const auto host_start = url.find("//") + 2;
  const auto colon = url.rfind(':');
  return {url.substr(host_start, colon - host_start), std::stoi(url.substr(colon + 1))};
}
}  // namespace

TEST_CASE("malformed bodies are refused with 400 naming the field") {
  TestTenant tenant(Platform::fromEnv());
  auto& api = *tenant.api;
  struct Case {
    std::string body;
    std::string field;
  };
  const std::vector<Case> cases = {
      {"{not json", ""},
      {"[]", ""},
      {R"({"e164": 380441234567})", "e164"},
      {R"({"e164": "+380441234567", "channels": "two"})", "channels"},
      {R"({"e164": "+380441234567", "colour": "red"})", "colour"},
      {R"({"channels": 2})", "e164"},
      {R"({"e164": "380441234567"})", "e164"},
      {R"({"e164": "+0441234567"})", "e164"},
      {R"({"e164": "+380441234567", "channels": 0})", "channels"},
      {R"({"e164": "+380441234567", "channels": 99999999999999999999})", "channels"},
  };
  for (const auto& c : cases) {
    INFO(c.body);
    auto reply = api.raw("POST", "/v1/numbers", c.body, "application/json");
    CHECK(reply.status == 400);
    CHECK(reply.errorCode() == "invalid_argument");
    CHECK(reply.errorField() == c.field);
  }
  CHECK(numberCount(api) == 0);

  auto bad_user = api.post("/v1/users", {{"email", "not-an-email"}, {"password", "0123456789"}});
  CHECK(bad_user.errorField() == "email");
  auto short_password = api.post("/v1/users", {{"email", "u@x.example.com"}, {"password", "short"}});
  CHECK(short_password.errorField() == "password");
  auto bad_extension = api.post("/v1/sip-accounts", {{"username", "dave"}, {"extension", "0"}});
  CHECK(bad_extension.errorField() == "extension");
  auto bad_zone = api.patch("/v1/tenants/" + tenant.id, {{"timezone", "Mars/Olympus"}});
  CHECK(bad_zone.errorField() == "timezone");
  CHECK(api.get("/v1/numbers?limit=0").errorField() == "limit");
  CHECK(api.get("/v1/numbers?limit=abc").errorField() == "limit");
}

TEST_CASE("oversized bodies get 413, wrong content types 415") {
  TestTenant tenant(Platform::fromEnv());
  const std::string huge = R"({"label": ")" + std::string(2 << 20, 'x') + R"(", "e164": "+380441234567"})";
  auto reply = tenant.api->raw("POST", "/v1/numbers", huge, "application/json");
  CHECK(reply.status == 413);
  CHECK(reply.errorCode() == "payload_too_large");
  auto form = tenant.api->raw("POST", "/v1/numbers", "e164=%2B380441234567", "application/x-www-form-urlencoded");
  CHECK(form.status == 415);
  CHECK(numberCount(*tenant.api) == 0);
}

TEST_CASE("a duplicate number is a conflict and changes nothing") {
  TestTenant tenant(Platform::fromEnv());
  const std::string e164 = uniqueE164();
  auto first = tenant.api->post("/v1/numbers", {{"e164", e164}, {"label", "first"}});
  REQUIRE(first.status == 201);
  auto second = tenant.api->post("/v1/numbers", {{"e164", e164}, {"label", "second"}});
  CHECK(second.status == 409);
  CHECK(second.errorCode() == "conflict");
  CHECK(numberCount(*tenant.api) == 1);
  CHECK(tenant.api->get("/v1/numbers/" + first.json["id"].get<std::string>()).json["label"] == "first");
}

TEST_CASE("missing, malformed, unknown and revoked keys get 401") {
  Platform platform = Platform::fromEnv();
  for (const std::string& key : {std::string(""), std::string("garbage"),
                                std::string("telk_AAAAAAAAAAAA_") + std::string(43, 'A')}) {
    ApiClient client(platform.api_url, key);
    auto reply = client.get("/v1/numbers");
    CHECK(reply.status == 401);
    CHECK(reply.errorCode() == "unauthenticated");
  }
  TestTenant tenant(platform);
  ApiClient revoked(platform.api_url, tenant.key);
  REQUIRE(tenant.api->del("/v1/api-keys/" + tenant.key_id).status == 200);
  auto reply = revoked.post("/v1/numbers", {{"e164", uniqueE164()}});
  CHECK(reply.status == 401);
}

TEST_CASE("unknown routes answer JSON 404") {
  ApiClient client(Platform::fromEnv().api_url, "");
  auto reply = client.get("/v1/no-such-thing");
  CHECK(reply.status == 404);
  CHECK(reply.errorCode() == "not_found");
}

TEST_CASE("garbage on the socket does not take the gateway down") {
  Platform platform = Platform::fromEnv();
  auto [host, port] = apiAddress(platform.api_url);
  const std::vector<std::string> payloads = {
      std::string("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", 11),  // a TLS hello
      "GET / HTTP/9.9\r\n\r\n",
      "POST /v1/numbers HTTP/1.1\r\nContent-Length: -5\r\n\r\n",
      "GET /" + std::string(100000, 'a') + " HTTP/1.1\r\n\r\n",
      "GET / HTTP/1.1\r\nX: " + std::string(100000, 'b') + "\r\n\r\n",
      std::string(4096, '\0'),
  };
  for (const auto& payload : payloads) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    REQUIRE(fd >= 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(static_cast<uint16_t>(port));
    inet_pton(AF_INET, host.c_str(), &address.sin_addr);
    timeval timeout{2, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
    if (connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0) {
      (void)!send(fd, payload.data(), payload.size(), MSG_NOSIGNAL);
      char buffer[512];
      (void)!recv(fd, buffer, sizeof buffer, 0);
    }
    close(fd);
  }
  ApiClient client(platform.api_url, "");
  CHECK(client.get("/healthz").status == 200);
}
