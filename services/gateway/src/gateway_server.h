#pragma once

#include <httplib.h>
#include <prometheus/counter.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include <chrono>
#include <functional>
#include <memory>
#include <nlohmann/json_fwd.hpp>
#include <string>
#include <thread>

#include "api_error.h"
#include "rate_limiter.h"
#include "tel/accounts/v1/accounts.grpc.pb.h"
#include "tel/calls/v1/calls.grpc.pb.h"
#include "tel/log/log.h"

namespace tel::gateway {

namespace v1 = ::tel::accounts::v1;

struct GatewayOptions {
  size_t max_body_bytes = 1 << 20;
  int http_threads = 16;
  std::chrono::milliseconds backend_timeout{5000};
  std::string openapi_json;
};

// The public REST/JSON API (/v1), served with cpp-httplib on a pool of worker threads.
//
// Every request passes, in order: authentication (Bearer API key, resolved by the accounts
// service), the per-key rate limit, the route's access rule (admin key, tenant key, or either),
// and body checks (JSON content type, size limit, known fields of the right types). Tenant scope
// always comes from the key, never from the request, so a tenant can neither name nor reach
// another tenant's rows: foreign ids answer 404 exactly like ids that do not exist.
class GatewayServer {
 public:
  GatewayServer(GatewayOptions options, std::shared_ptr<v1::Accounts::StubInterface> accounts,
                std::shared_ptr<calls::v1::CallLog::StubInterface> call_log,
                std::shared_ptr<RateLimiter> rate_limiter, log::Logger logger,
                prometheus::Registry& registry);
  ~GatewayServer();
  GatewayServer(const GatewayServer&) = delete;
  GatewayServer& operator=(const GatewayServer&) = delete;

  // Binds (port 0: any free port) and serves on a background thread; returns the port.
  int start(const std::string& host, int port);
  // Stops accepting and waits for in-flight requests.
  void stop();

 private:
  enum class Access { kPublic, kAdmin, kTenant, kAnyKey };
  struct Principal {
    bool admin = false;
    std::string tenant_id;
    std::string key_id;
  };
  struct Call {
    const httplib::Request& request;
    httplib::Response& response;
    Principal principal;
  };
  using Handler = std::function<void(Call&)>;

  void registerRoutes();
  void registerTenantRoutes();
  void registerUserRoutes();
  void registerSipAccountRoutes();
  void registerNumberRoutes();
  void registerCarrierRoutes();
  void registerApiKeyRoutes();
  void registerCallLogRoutes();
  void route(const std::string& method, const std::string& pattern, const std::string& label,
             Access access, Handler handler);
  void serve(const std::string& method, const std::string& label, Access access,
             const Handler& handler, const httplib::Request& request, httplib::Response& response);
  std::optional<ApiError> authenticate(const httplib::Request& request, Principal* out);
  std::unique_ptr<grpc::ClientContext> backendContext() const;
  template <typename Stub, typename Request, typename Response>
  using MethodOf = grpc::Status (Stub::*)(grpc::ClientContext*, const Request&, Response*);
  template <typename Request, typename Response>
  using StubMethod = MethodOf<v1::Accounts::StubInterface, Request, Response>;
  // Calls `method` on `stub` and answers with the rendered result or the mapped error.
  template <typename Stub, typename Request, typename Response, typename Render>
  void forwardTo(Call& call, Stub& stub, MethodOf<Stub, Request, Response> method,
                 const Request& request, int success_status, Render render);
  template <typename Request, typename Response, typename Render>
  void forward(Call& call, StubMethod<Request, Response> method, const Request& request,
               int success_status, Render render) {
    forwardTo(call, *accounts_, method, request, success_status, render);
  }
  template <typename ListResponse, typename Item>
  void registerList(const std::string& collection, StubMethod<v1::ListRequest, ListResponse> list,
                    const google::protobuf::RepeatedPtrField<Item>& (ListResponse::*items)() const);
  template <typename Item>
  void registerGetAndDelete(const std::string& collection, StubMethod<v1::GetRequest, Item> get,
                            StubMethod<v1::GetRequest, v1::Empty> remove);
  void countRequest(const std::string& method, const std::string& label, int status,
                    std::chrono::steady_clock::time_point started);

  GatewayOptions options_;
  std::shared_ptr<v1::Accounts::StubInterface> accounts_;
  std::shared_ptr<calls::v1::CallLog::StubInterface> call_log_;
  std::shared_ptr<RateLimiter> rate_limiter_;
  log::Logger log_;
  prometheus::Family<prometheus::Counter>& requests_;
  prometheus::Family<prometheus::Histogram>& latency_;
  prometheus::Counter& rate_limited_;
  httplib::Server server_;
  std::thread thread_;
};

// Writes a JSON body with the status.
void writeJson(httplib::Response& response, int status, const nlohmann::json& body);

// Writes an API error (status, JSON body, Retry-After, WWW-Authenticate as they apply).
void writeError(httplib::Response& response, const ApiError& error);

}  // namespace tel::gateway
