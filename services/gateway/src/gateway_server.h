#pragma once

#include <httplib.h>
#include <prometheus/counter.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json_fwd.hpp>
#include <string>
#include <thread>

#include "api_error.h"
#include "client_address.h"
#include "rate_limiter.h"
#include "session_store.h"
#include "static_files.h"
#include "tel/accounts/v1/accounts.grpc.pb.h"
#include "tel/analytics/v1/reports.grpc.pb.h"
#include "tel/analytics/v1/segmentation.grpc.pb.h"
#include "tel/integrations/v1/webhooks.grpc.pb.h"
#include "tel/queue/v1/queues.grpc.pb.h"
#include "tel/routing/v1/dial_plans.grpc.pb.h"
#include "tel/routing/v1/prompts.grpc.pb.h"
#include "tel/analytics/v1/tracking.grpc.pb.h"
#include "tel/calls/v1/calls.grpc.pb.h"
#include "tel/log/log.h"

namespace tel::gateway {

namespace v1 = ::tel::accounts::v1;

struct GatewayOptions {
  size_t max_body_bytes = 1 << 20;
  // Audio uploads (PUT /v1/prompts/{name} with Content-Type audio/wav); other bodies stay within
  // max_body_bytes.
  size_t max_upload_bytes = 20 << 20;
  int http_threads = 16;
  std::chrono::milliseconds backend_timeout{5000};
  std::string openapi_json;
  // Where phones register (host:port), shown with each tenant; empty: not shown.
  std::string sip_registrar;
  // The built dashboard (web/dist); empty: the gateway serves the API only.
  std::string web_root;
  // The call recordings media-relay writes (<dir>/<tenant_id>/<call_id>.wav, a shared volume);
  // empty: GET /v1/calls/{id}/recording answers 503.
  std::string recordings_dir;
  // Sign-in: the session cookie's lifetime and the guard against password guessing.
  SessionLimits sessions;
  int sign_in_max_failures = 10;
  // Proxies (addresses, CIDR blocks) believed about the client in X-Forwarded-For.
  std::vector<std::string> trusted_proxies;
  std::chrono::seconds sign_in_window{900};
};

// What the gateway talks to besides its clients.
struct GatewayBackends {
  std::shared_ptr<accounts::v1::Accounts::StubInterface> accounts;
  std::shared_ptr<calls::v1::CallLog::StubInterface> call_log;
  std::shared_ptr<analytics::v1::Reports::StubInterface> reports;
  std::shared_ptr<analytics::v1::Tracking::StubInterface> tracking;
  std::shared_ptr<analytics::v1::Segmentation::StubInterface> segmentation;
  std::shared_ptr<integrations::v1::Webhooks::StubInterface> webhooks;
  std::shared_ptr<routing::v1::DialPlans::StubInterface> dial_plans;
  std::shared_ptr<routing::v1::Prompts::StubInterface> prompts;  // the routing service too
  std::shared_ptr<queue::v1::Queues::StubInterface> queues;
  std::shared_ptr<RateLimiter> rate_limiter;
  // The public tracking endpoint's limit, per client address.
  std::shared_ptr<RateLimiter> visit_limiter;
  std::shared_ptr<SessionStore> sessions;
  std::shared_ptr<SignInGuard> sign_in_guard;
};

// The public REST/JSON API (/v1), served with cpp-httplib on a pool of worker threads.
//
// Every request passes, in order: authentication (Bearer API key, resolved by the accounts
// service, or a browser's session cookie, whose state-changing requests must also carry the
// session's CSRF token), the per-key (per-user) rate limit, the route's access rule (admin key,
// tenant key, or either), and body checks (JSON content type, size limit, known fields of the right
// types; a route may also take an audio/wav upload). Tenant scope always comes from the key, never from the request, so a tenant can neither
// name nor reach another tenant's rows: foreign ids answer 404 exactly like ids that do not exist.
class GatewayServer {
 public:
  GatewayServer(GatewayOptions options, GatewayBackends backends, log::Logger logger,
                prometheus::Registry& registry);
  ~GatewayServer();
  GatewayServer(const GatewayServer&) = delete;
  GatewayServer& operator=(const GatewayServer&) = delete;

  // Binds (port 0: any free port) and serves on a background thread; returns the port.
  int start(const std::string& host, int port);
  // Stops accepting and waits for in-flight requests.
  void stop();

 private:
  // kSession: only a signed-in browser (sign-out, who am I).
  enum class Access { kPublic, kAdmin, kTenant, kAnyKey, kSession };
  struct Principal {
    bool admin = false;
    std::string tenant_id;
    std::string key_id;
    // Set when the request came with a session cookie instead of an API key.
    std::optional<Session> session;
    std::string role;  // the signed-in user's (owner, admin, agent); empty for keys and the operator
    std::string sip_account_id;  // the signed-in user's SIP account (a queue agent), if any
    std::string session_id;
  };
  struct Call {
    const httplib::Request& request;
    httplib::Response& response;
    Principal principal;
  };
  using Handler = std::function<void(Call&)>;
  // What a route takes as the body of a POST, PATCH or PUT.
  enum class Body { kJson, kJsonOrWav };

  void registerRoutes();
  void registerTenantRoutes();
  void registerUserRoutes();
  void registerSipAccountRoutes();
  void registerNumberRoutes();
  void registerCarrierRoutes();
  void registerApiKeyRoutes();
  void registerCallLogRoutes();
  void registerReportRoutes();
  // Runs a report and answers with its table as JSON or CSV (a file named after `name`).
  void answerReport(Call& call, const analytics::v1::ReportRequest& request, const std::string& name, bool csv);
  void registerTrackingRoutes();
  void registerSegmentationRoutes();
  void registerWebhookRoutes();
  void registerDialPlanRoutes();
  void registerQueueRoutes();
  void registerPromptRoutes();
  void registerSessionRoutes();
  void registerDashboard();
  void signIn(Call& call);
  void route(const std::string& method, const std::string& pattern, const std::string& label,
             Access access, Handler handler, Body body = Body::kJson);
  void serve(const std::string& method, const std::string& label, Access access, Body body,
             const Handler& handler, const httplib::Request& request, httplib::Response& response);
  // Why the request's body is refused on a route that takes `body`, or nullopt.
  std::optional<ApiError> bodyRefusal(const httplib::Request& request, Body body) const;
  std::optional<ApiError> authenticate(const httplib::Request& request, Principal* out);
  std::optional<ApiError> authenticateSession(const std::string& id, Principal* out);
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
  std::shared_ptr<analytics::v1::Reports::StubInterface> reports_;
  std::shared_ptr<analytics::v1::Tracking::StubInterface> tracking_;
  std::shared_ptr<analytics::v1::Segmentation::StubInterface> segmentation_;
  std::shared_ptr<integrations::v1::Webhooks::StubInterface> webhooks_;
  std::shared_ptr<routing::v1::DialPlans::StubInterface> dial_plans_;
  std::shared_ptr<queue::v1::Queues::StubInterface> queues_;
  // Wallboard streams open now, in all and by tenant: each holds an HTTP thread, so there are at
  // most kMaxWallboardStreams, and one tenant cannot take them all.
  static constexpr int kMaxWallboardStreams = 8;
  static constexpr int kMaxWallboardStreamsPerTenant = 2;
  bool takeWallboardStream(const std::string& tenant_id);
  void releaseWallboardStream(const std::string& tenant_id);
  std::mutex wallboard_streams_mutex_;
  int wallboard_streams_ = 0;                                   // guarded by wallboard_streams_mutex_
  std::map<std::string, int> wallboard_streams_by_tenant_;      // guarded by wallboard_streams_mutex_
  std::shared_ptr<routing::v1::Prompts::StubInterface> prompts_;
  std::shared_ptr<RateLimiter> rate_limiter_;
  std::shared_ptr<RateLimiter> visit_limiter_;
  std::shared_ptr<SessionStore> sessions_;
  std::shared_ptr<SignInGuard> sign_in_guard_;
  std::optional<StaticFiles> dashboard_;
  ClientAddress client_address_;
  log::Logger log_;
  prometheus::Family<prometheus::Counter>& requests_;
  prometheus::Family<prometheus::Histogram>& latency_;
  prometheus::Counter& rate_limited_;
  prometheus::Family<prometheus::Counter>& sign_ins_;
  httplib::Server server_;
  std::thread thread_;
};

// A message as the API shows it: proto field names, defaults included, RFC 3339 times; secrets
// that are only present in creation responses are dropped when empty.
nlohmann::json messageJson(const google::protobuf::Message& message);

// Writes a JSON body with the status.
void writeJson(httplib::Response& response, int status, const nlohmann::json& body);

// The value of one cookie of the request's Cookie header(s), "" when absent.
std::string cookieValue(const httplib::Request& request, const std::string& name);

// Writes an API error (status, JSON body, Retry-After, WWW-Authenticate as they apply).
void writeError(httplib::Response& response, const ApiError& error);

}  // namespace tel::gateway
