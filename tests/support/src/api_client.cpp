#include "tel/testing/api_client.h"

#include <httplib.h>

#include <cctype>

#include <atomic>
#include <random>
#include <stdexcept>

#include "tel/testing/env.h"

namespace tel::testing {

std::string HttpResult::header(const std::string& name) const {
  for (const auto& [key, value] : headers) {
    if (strcasecmp(key.c_str(), name.c_str()) == 0) return value;
  }
  return "";
}

std::string HttpResult::errorCode() const {
  if (json.is_object() && json.contains("error")) return json["error"].value("code", "");
  return "";
}

std::string HttpResult::errorField() const {
  if (json.is_object() && json.contains("error")) return json["error"].value("field", "");
  return "";
}

ApiClient::ApiClient(std::string base_url, std::string api_key)
    : base_url_(std::move(base_url)), api_key_(std::move(api_key)) {}
ApiClient::~ApiClient() = default;

HttpResult ApiClient::raw(const std::string& method, const std::string& path,
                          const std::string& body, const std::string& content_type,
                          const std::multimap<std::string, std::string>& extra_headers) {
  httplib::Client client(base_url_);
  client.set_connection_timeout(5, 0);
  client.set_read_timeout(15, 0);
  httplib::Headers headers;
  if (!api_key_.empty()) headers.emplace("Authorization", "Bearer " + api_key_);
  for (const auto& [name, value] : extra_headers) headers.emplace(name, value);
  httplib::Result result = [&] {
    if (method == "GET") return client.Get(path, headers);
    if (method == "DELETE") return client.Delete(path, headers);
    if (method == "POST") return client.Post(path, headers, body, content_type);
    if (method == "PATCH") return client.Patch(path, headers, body, content_type);
    if (method == "PUT") return client.Put(path, headers, body, content_type);
    throw std::invalid_argument("method " + method);
  }();
  HttpResult out;
  if (!result) return out;
  out.status = result->status;
  out.body = result->body;
  out.json = nlohmann::json::parse(out.body, nullptr, false);
  if (out.json.is_discarded()) out.json = nullptr;
  for (const auto& [key, value] : result->headers) out.headers.emplace(key, value);
  return out;
}

HttpResult ApiClient::get(const std::string& path) { return raw("GET", path, "", ""); }
HttpResult ApiClient::del(const std::string& path) { return raw("DELETE", path, "", ""); }
HttpResult ApiClient::post(const std::string& path, const nlohmann::json& body) {
  return raw("POST", path, body.dump(), "application/json");
}
HttpResult ApiClient::patch(const std::string& path, const nlohmann::json& body) {
  return raw("PATCH", path, body.dump(), "application/json");
}
HttpResult ApiClient::put(const std::string& path, const nlohmann::json& body) {
  return raw("PUT", path, body.dump(), "application/json");
}

Platform Platform::fromEnv() {
  return Platform{requireEnv("TEL_API_URL"), requireEnv("TEL_ADMIN_KEY")};
}

TestTenant::TestTenant(const Platform& p, const std::string& label, const std::string& timezone)
    : platform(p) {
  auto admin = platform.admin();
  nlohmann::json request = {{"name", label + " " + uniqueSuffix(6)}};
  if (!timezone.empty()) request["timezone"] = timezone;
  auto tenant = admin.post("/v1/tenants", request);
  if (tenant.status != 201) throw std::runtime_error("cannot create test tenant: " + tenant.body);
  id = tenant.json["id"];
  sip_domain = tenant.json["sip_domain"];
  auto key_reply = admin.post("/v1/tenants/" + id + "/api-keys", {{"name", "tests"}});
  if (key_reply.status != 201) throw std::runtime_error("cannot create test key: " + key_reply.body);
  key = key_reply.json["secret"];
  key_id = key_reply.json["id"];
  api = std::make_unique<ApiClient>(platform.api_url, key);
}

TestTenant::~TestTenant() { platform.admin().del("/v1/tenants/" + id); }

std::string urlEncode(const std::string& value) {
  static const char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : value) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

std::string uniqueE164() {
  std::random_device device;
  std::mt19937_64 generator(device());
  std::uniform_int_distribution<uint64_t> digits(0, 9999999999ULL);
  char text[32];
  std::snprintf(text, sizeof text, "+1555%010llu", static_cast<unsigned long long>(digits(generator)));
  return text;
}

}  // namespace tel::testing
