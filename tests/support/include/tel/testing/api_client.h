#pragma once

#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

namespace tel::testing {

struct HttpResult {
  int status = 0;  // 0: no response (connection failed)
  std::string body;
  nlohmann::json json;  // parsed body, null when not JSON
  std::multimap<std::string, std::string> headers;
  std::string header(const std::string& name) const;
  // error.code / error.field of an API error body, "" otherwise.
  std::string errorCode() const;
  std::string errorField() const;
};

// A REST client for black-box tests of the gateway, authenticated with one API key.
class ApiClient {
 public:
  ApiClient(std::string base_url, std::string api_key);
  ~ApiClient();

  HttpResult get(const std::string& path);
  HttpResult post(const std::string& path, const nlohmann::json& body);
  HttpResult patch(const std::string& path, const nlohmann::json& body);
  HttpResult put(const std::string& path, const nlohmann::json& body);
  HttpResult del(const std::string& path);
  // Sends `body` verbatim with the given content type (and any extra headers).
  HttpResult raw(const std::string& method, const std::string& path, const std::string& body,
                 const std::string& content_type, const std::multimap<std::string, std::string>& headers = {});

 private:
  std::string base_url_;
  std::string api_key_;
};

// The platform as the tests find it through `./tel env`.
struct Platform {
  std::string api_url = "";
  std::string admin_key = "";
  static Platform fromEnv();
  ApiClient admin() const { return ApiClient(api_url, admin_key); }
};

// A tenant made for one test, with its own API key; deleted at the end.
struct TestTenant {
  std::string id;
  std::string key;
  std::string key_id;
  std::string sip_domain;
  std::unique_ptr<ApiClient> api;
  Platform platform;

  // `timezone`: an IANA zone for the tenant; empty: the platform's default (UTC).
  explicit TestTenant(const Platform& platform, const std::string& label = "test",
                      const std::string& timezone = "");
  ~TestTenant();
};

// A unique E.164 number in the +1 555 range, for tests.
std::string uniqueE164();
// Percent-encodes a query parameter's value ("+1555" -> "%2B1555").
std::string urlEncode(const std::string& value);

}  // namespace tel::testing
