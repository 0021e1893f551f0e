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

// Failed commands, by command ("dial", "hangup", "answer", "play", "collect_digits"): sent but
// refused by sip-edge (a call that has ended meanwhile is no failure), or lost with the stream
// before their outcome came.
struct CommandFailures {
  prometheus::Family<prometheus::Counter>& by_command;
};

// Keeps routing attached to one sip-edge's call-control stream: attaches, hands every notification
// to `on_notification` with itself as the commander (the handler must not block: it queues the
// work), sends commands on the same stream, and re-attaches with a capped backoff when the stream
// ends (sip-edge restarted, network cut). A command returns once it is sent; its outcome comes back
// on the stream later, and a failed one is logged with its call id and counted. Owns its reader
// thread.
class ApplicationLink final : public CallCommander,
                              public std::enable_shared_from_this<ApplicationLink> {
 public:
  using NotificationHandler =
      std::function<void(calls::v1::CallNotification, std::shared_ptr<CallCommander>)>;
  // Owned by a shared_ptr: handlers are given one to it.
  ApplicationLink(std::shared_ptr<calls::v1::CallControl::StubInterface> stub,
                  std::string application, NotificationHandler on_notification,
                  CommandFailures failures, log::Logger logger);
  ~ApplicationLink() override;
  void start();
  void stop();
  bool attached() const { return attached_; }

  // UNAVAILABLE when not attached or the stream broke while sending.
  absl::Status dial(const calls::v1::DialRequest& request) override;
  absl::Status hangup(const calls::v1::HangupRequest& request) override;
  absl::Status answer(const calls::v1::AnswerRequest& request) override;
  absl::Status play(const calls::v1::PlayRequest& request) override;
  absl::Status collectDigits(const calls::v1::CollectDigitsRequest& request) override;
  absl::Status record(const calls::v1::RecordRequest& request) override;
  // Sends SIP OPTIONS to `uri` from this sip-edge (call-control's Probe); the final status, 0 for
  // none within `timeout`. Blocking.
  absl::StatusOr<uint32_t> probe(const std::string& uri, std::chrono::milliseconds timeout);

 private:
  using Stream =
      grpc::ClientReaderWriterInterface<calls::v1::ApplicationMessage, calls::v1::ControlMessage>;
  struct Pending {
    std::string call_id;
    const char* command = "";
  };

  void run();
  absl::Status send(calls::v1::Command command, const std::string& call_id);
  void onOutcome(const calls::v1::CommandOutcome& outcome);
  void failed(const Pending& command, int code, const std::string& why);

  std::shared_ptr<calls::v1::CallControl::StubInterface> stub_;
  std::string application_;
  NotificationHandler on_notification_;
  CommandFailures failures_;
  log::Logger log_;
  std::thread thread_;
  std::atomic<bool> stopping_{false};
  std::atomic<bool> attached_{false};
  std::mutex mutex_;
  grpc::ClientContext* current_ = nullptr;  // guarded by mutex_; cancelled by stop()
  uint64_t next_command_ = 1;               // guarded by mutex_
  std::map<uint64_t, Pending> pending_;     // guarded by mutex_: sent, outcome not yet read
  // Held while writing: gRPC allows one write at a time. The reader takes it before it ends the
  // stream, so no write is in progress when the stream goes away.
  std::mutex write_mutex_;
  Stream* stream_ = nullptr;  // guarded by write_mutex_; set while attached
};

// Keeps routing attached to every sip-edge behind one name: the name is resolved again every
// `refresh`, and each address (a Kubernetes headless Service lists every sip-edge pod) gets its own
// ApplicationLink; addresses that disappear are detached. A notification is handed over with the
// link it came on as the commander, since a call can only be driven on the sip-edge that has it.
class SipEdgeFleet {
 public:
  using Handler = ApplicationLink::NotificationHandler;

  SipEdgeFleet(std::string address, Handler handler, std::chrono::seconds refresh,
               prometheus::Registry& registry, log::Logger logger);
  ~SipEdgeFleet();
  void start();
  void stop();
  // sip-edges known / attached right now.
  size_t members() const;
  size_t attached() const;
  // A probe from any attached sip-edge (see ApplicationLink::probe).
  absl::StatusOr<uint32_t> probe(const std::string& uri, std::chrono::milliseconds timeout);

 private:
  // The link is shared with the commands in flight: a worker may still send on it (and be told
  // UNAVAILABLE) after its sip-edge left the fleet.
  using Member = std::shared_ptr<ApplicationLink>;
  void run();
  void reconcile(const std::vector<std::string>& addresses);

  std::string address_;
  Handler handler_;
  std::chrono::seconds refresh_;
  CommandFailures failures_;
  log::Logger log_;
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;                  // guarded by mutex_
  std::map<std::string, Member> members_;  // guarded by mutex_; by "ip:port"
  std::thread resolver_;
};

}  // namespace tel::routing
