#pragma once

#include <absl/status/status.h>
#include <absl/status/statusor.h>
#include <grpcpp/grpcpp.h>
#include <prometheus/counter.h>
#include <prometheus/registry.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "tel/calls/v1/call_control.grpc.pb.h"
#include "tel/log/log.h"

// The application side of sip-edge's call-control API, shared by the applications that drive
// calls (routing, queue): a stream kept attached to every sip-edge, and the commands sent on it.
namespace tel::call_control {

// sip-edge's call-control commands. A command returns once it is sent (or could not be); its
// outcome arrives later and is the commander's to report.
class CallCommander {
 public:
  virtual ~CallCommander() = default;
  virtual absl::Status dial(const calls::v1::DialRequest& request) = 0;
  virtual absl::Status hangup(const calls::v1::HangupRequest& request) = 0;
  virtual absl::Status answer(const calls::v1::AnswerRequest& request) = 0;
  virtual absl::Status play(const calls::v1::PlayRequest& request) = 0;
  virtual absl::Status collectDigits(const calls::v1::CollectDigitsRequest& request) = 0;
  virtual absl::Status record(const calls::v1::RecordRequest& request) = 0;
  virtual absl::Status handOver(const calls::v1::HandOverRequest& request) = 0;
  virtual absl::Status note(const calls::v1::NoteRequest& request) = 0;
  // Which attachment of the stream commands go on now: it changes when the stream is attached
  // again, and sip-edge has then offered the calls of the old one anew (maybe to another
  // instance). 0 while detached.
  virtual uint64_t attachment() const = 0;
};

// How an application attaches (AttachRequest): its name, and what it is sent.
struct AttachOptions {
  std::string application;
  bool decisions_only = false;
  bool hand_overs_only = false;
};

// Failed commands, by command ("dial", "hangup", "answer", "play", "collect_digits"): sent but
// refused by sip-edge (a call that has ended meanwhile is no failure), or lost with the stream
// before their outcome came.
struct CommandFailures {
  prometheus::Family<prometheus::Counter>& by_command;
};

// Keeps the application attached to one sip-edge's call-control stream: attaches, hands every notification
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
                  AttachOptions attach, NotificationHandler on_notification,
                  CommandFailures failures, log::Logger logger);
  ~ApplicationLink() override;
  void start();
  void stop();
  bool attached() const { return attached_; }
  uint64_t attachment() const override { return attached_ ? attachment_.load() : 0; }

  // UNAVAILABLE when not attached or the stream broke while sending.
  absl::Status dial(const calls::v1::DialRequest& request) override;
  absl::Status hangup(const calls::v1::HangupRequest& request) override;
  absl::Status answer(const calls::v1::AnswerRequest& request) override;
  absl::Status play(const calls::v1::PlayRequest& request) override;
  absl::Status collectDigits(const calls::v1::CollectDigitsRequest& request) override;
  absl::Status record(const calls::v1::RecordRequest& request) override;
  absl::Status handOver(const calls::v1::HandOverRequest& request) override;
  absl::Status note(const calls::v1::NoteRequest& request) override;
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
  AttachOptions attach_;
  NotificationHandler on_notification_;
  CommandFailures failures_;
  log::Logger log_;
  std::thread thread_;
  std::atomic<bool> stopping_{false};
  std::atomic<bool> attached_{false};
  std::atomic<uint64_t> attachment_{0};  // counts the attachments of this link
  std::mutex mutex_;
  grpc::ClientContext* current_ = nullptr;  // guarded by mutex_; cancelled by stop()
  uint64_t next_command_ = 1;               // guarded by mutex_
  std::map<uint64_t, Pending> pending_;     // guarded by mutex_: sent, outcome not yet read
  // Held while writing: gRPC allows one write at a time. The reader takes it before it ends the
  // stream, so no write is in progress when the stream goes away.
  std::mutex write_mutex_;
  Stream* stream_ = nullptr;  // guarded by write_mutex_; set while attached
};

// Keeps the application attached to every sip-edge behind one name: the name is resolved again every
// `refresh`, and each address (a Kubernetes headless Service lists every sip-edge pod) gets its own
// ApplicationLink; addresses that disappear are detached. A notification is handed over with the
// link it came on as the commander, since a call can only be driven on the sip-edge that has it.
class SipEdgeFleet {
 public:
  using Handler = ApplicationLink::NotificationHandler;

  SipEdgeFleet(std::string address, AttachOptions attach, Handler handler, std::chrono::seconds refresh,
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
  AttachOptions attach_;
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

}  // namespace tel::call_control
