#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <thread>

#include "router.h"
#include "tel/accounts_client/extension_resolver.h"
#include "tel/cache/ttl_cache.h"

namespace tel::routing {

// What is found is kept for `cache_ttl` (a route change reaches calls that much later); what is
// missing is asked again every time, so a new extension or carrier works at once.
class AccountsRouteDirectory final : public RouteDirectory {
 public:
  AccountsRouteDirectory(std::shared_ptr<accounts::v1::Accounts::StubInterface> stub,
                         std::chrono::milliseconds timeout, std::chrono::milliseconds cache_ttl)
      : stub_(std::move(stub)),
        timeout_(timeout),
        numbers_(cache_ttl, 100000),
        extensions_(stub_, timeout, cache_ttl),
        outbound_(cache_ttl, 100000) {}
  absl::StatusOr<accounts::v1::Number> number(const std::string& tenant_id,
                                              const std::string& number_id) override;
  absl::StatusOr<std::optional<accounts::v1::SipAccount>> extension(
      const std::string& tenant_id, const std::string& extension) override;
  absl::StatusOr<std::optional<accounts::v1::OutboundRoute>> outboundRoute(
      const std::string& tenant_id) override;

 private:
  std::shared_ptr<accounts::v1::Accounts::StubInterface> stub_;
  std::chrono::milliseconds timeout_;
  cache::TtlCache<accounts::v1::Number> numbers_;  // by tenant and number id
  accounts_client::ExtensionResolver extensions_;
  cache::TtlCache<accounts::v1::OutboundRoute> outbound_;  // by tenant
};

class GrpcCallCommander final : public CallCommander {
 public:
  GrpcCallCommander(std::shared_ptr<calls::v1::CallControl::StubInterface> stub,
                    std::chrono::milliseconds timeout)
      : stub_(std::move(stub)), timeout_(timeout) {}
  absl::Status dial(const calls::v1::DialRequest& request) override;
  absl::Status hangup(const calls::v1::HangupRequest& request) override;

 private:
  std::shared_ptr<calls::v1::CallControl::StubInterface> stub_;
  std::chrono::milliseconds timeout_;
};

// Keeps routing attached to one sip-edge's call-control stream: attaches, hands every notification
// to `on_notification` (which must not block: it queues the work), and re-attaches with a capped
// backoff when the stream ends (sip-edge restarted, network cut). Owns its reader thread.
class ApplicationLink {
 public:
  ApplicationLink(std::shared_ptr<calls::v1::CallControl::StubInterface> stub,
                  std::string application,
                  std::function<void(calls::v1::CallNotification)> on_notification,
                  log::Logger logger);
  ~ApplicationLink();
  void start();
  void stop();
  bool attached() const { return attached_; }

 private:
  void run();

  std::shared_ptr<calls::v1::CallControl::StubInterface> stub_;
  std::string application_;
  std::function<void(calls::v1::CallNotification)> on_notification_;
  log::Logger log_;
  std::thread thread_;
  std::atomic<bool> stopping_{false};
  std::atomic<bool> attached_{false};
  std::mutex mutex_;
  grpc::ClientContext* current_ = nullptr;  // guarded by mutex_; cancelled by stop()
};

// Keeps routing attached to every sip-edge behind one name: the name is resolved again every
// `refresh`, and each address (a Kubernetes headless Service lists every sip-edge pod) gets its own
// ApplicationLink and commander; addresses that disappear are detached. A notification is handed
// over with the commander of the sip-edge it came from, since a call can only be driven there.
class SipEdgeFleet {
 public:
  using Handler = std::function<void(calls::v1::CallNotification, std::shared_ptr<CallCommander>)>;

  SipEdgeFleet(std::string address, Handler handler, std::chrono::milliseconds rpc_timeout,
               std::chrono::seconds refresh, log::Logger logger);
  ~SipEdgeFleet();
  void start();
  void stop();
  // sip-edges known / attached right now.
  size_t members() const;
  size_t attached() const;

 private:
  struct Member {
    std::shared_ptr<CallCommander> commander;
    std::unique_ptr<ApplicationLink> link;
  };
  void run();
  void reconcile(const std::vector<std::string>& addresses);

  std::string address_;
  Handler handler_;
  std::chrono::milliseconds rpc_timeout_;
  std::chrono::seconds refresh_;
  log::Logger log_;
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;                  // guarded by mutex_
  std::map<std::string, Member> members_;  // guarded by mutex_; by "ip:port"
  std::thread resolver_;
};

}  // namespace tel::routing
