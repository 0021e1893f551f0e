#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>

#include "router.h"

namespace tel::routing {

class AccountsRouteDirectory final : public RouteDirectory {
 public:
  AccountsRouteDirectory(std::shared_ptr<accounts::v1::Accounts::StubInterface> stub, std::chrono::milliseconds timeout)
      : stub_(std::move(stub)), timeout_(timeout) {}
  absl::StatusOr<accounts::v1::Number> number(const std::string& tenant_id, const std::string& number_id) override;
  absl::StatusOr<std::optional<accounts::v1::SipAccount>> extension(const std::string& tenant_id,
                                                                  const std::string& extension) override;
  absl::StatusOr<std::optional<accounts::v1::OutboundRoute>> outboundRoute(const std::string& tenant_id) override;

 private:
  std::shared_ptr<accounts::v1::Accounts::StubInterface> stub_;
  std::chrono::milliseconds timeout_;
};

class GrpcCallCommander final : public CallCommander {
 public:
  GrpcCallCommander(std::shared_ptr<calls::v1::CallControl::StubInterface> stub, std::chrono::milliseconds timeout)
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
  ApplicationLink(std::shared_ptr<calls::v1::CallControl::StubInterface> stub, std::string application,
                  std::function<void(calls::v1::CallNotification)> on_notification, log::Logger logger);
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

}  // namespace tel::routing
