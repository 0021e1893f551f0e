#include "call_control_service.h"

#include <deque>

#include "tel/grpc/status.h"

namespace tel::sip {

// One attached application's notification stream. Writes are queued and sent one at a time, as
// gRPC allows only one write in flight. Owned by gRPC: it deletes itself in OnDone, after it has
// detached from the hub (so the hub never holds a dangling pointer).
class ApplicationStream final : public grpc::ServerWriteReactor<calls::v1::CallNotification> {
 public:
  // Initial metadata goes out at once: the application learns that it is attached before any call.
  ApplicationStream(ApplicationHub& hub, uint64_t id, bool decisions_only)
      : hub_(hub), id_(id), decisions_only_(decisions_only) {
    StartSendInitialMetadata();
  }

  bool push(const calls::v1::CallNotification& notification) {
    std::lock_guard lock(mutex_);
    if (closed_) return false;
    if (decisions_only_ && !notification.has_offered() && !notification.has_dial_failed())
      return true;  // not wanted: as good as delivered
    queue_.push_back(notification);
    if (!writing_) {
      writing_ = true;
      StartWrite(&queue_.front());
    }
    return true;
  }

  void close(const grpc::Status& status) {
    std::lock_guard lock(mutex_);
    finishLocked(status);
  }

  void OnWriteDone(bool ok) override {
    std::lock_guard lock(mutex_);
    queue_.pop_front();
    if (!ok) {
      finishLocked(grpc::Status(grpc::StatusCode::UNAVAILABLE, "write failed"));
      return;
    }
    if (!queue_.empty() && !closed_) {
      StartWrite(&queue_.front());
    } else {
      writing_ = false;
    }
  }

  void OnCancel() override {
    hub_.detach(id_);
    close(grpc::Status::CANCELLED);
  }

  void OnDone() override {
    hub_.detach(id_);
    delete this;
  }

 private:
  void finishLocked(const grpc::Status& status) {
    if (closed_) return;
    closed_ = true;
    Finish(status);
  }

  ApplicationHub& hub_;
  const uint64_t id_;
  const bool decisions_only_;
  std::mutex mutex_;
  std::deque<calls::v1::CallNotification> queue_;  // front() is being written while writing_
  bool writing_ = false;
  bool closed_ = false;
};

ApplicationHub::~ApplicationHub() { closeAll(); }

grpc::ServerWriteReactor<calls::v1::CallNotification>* ApplicationHub::attach(
    grpc::CallbackServerContext*, const calls::v1::AttachRequest& request) {
  std::lock_guard lock(mutex_);
  auto* stream = new ApplicationStream(*this, next_id_, request.decisions_only());
  streams_[next_id_++] = stream;
  return stream;
}

void ApplicationHub::detach(uint64_t application) {
  std::lock_guard lock(mutex_);
  streams_.erase(application);
}

std::optional<uint64_t> ApplicationHub::offer(const calls::v1::CallNotification& notification) {
  std::lock_guard lock(mutex_);
  for (size_t tries = 0; tries < streams_.size(); ++tries) {
    auto it = streams_.upper_bound(next_offer_);
    if (it == streams_.end()) it = streams_.begin();
    next_offer_ = it->first;
    if (it->second->push(notification)) return it->first;
  }
  return std::nullopt;
}

bool ApplicationHub::notify(uint64_t application, const calls::v1::CallNotification& notification) {
  std::lock_guard lock(mutex_);
  auto it = streams_.find(application);
  return it != streams_.end() && it->second->push(notification);
}

size_t ApplicationHub::attached() const {
  std::lock_guard lock(mutex_);
  return streams_.size();
}

void ApplicationHub::closeAll() {
  std::lock_guard lock(mutex_);
  for (auto& [id, stream] : streams_)
    stream->close(grpc::Status(grpc::StatusCode::UNAVAILABLE, "sip-edge is shutting down"));
}

grpc::Status validateDial(const calls::v1::DialRequest& request) {
  if (request.call_id().empty() || request.call_id().size() > 128) {
    return grpc_util::invalidArgument("call_id", "required, at most 128 bytes");
  }
  if (request.targets().empty() || request.targets().size() > 20) {
    return grpc_util::invalidArgument("targets", "1 to 20 required");
  }
  if (request.timeout_seconds() > 600) {
    return grpc_util::invalidArgument("timeout_seconds", "at most 600");
  }
  for (const auto& target : request.targets()) {
    if (target.has_external()) {
      const std::string& uri = target.external().request_uri();
      if (uri.rfind("sip:", 0) != 0 || uri.size() > 256 ||
          uri.find_first_of(" \r\n<>\"") != std::string::npos) {
        return grpc_util::invalidArgument("targets.external.request_uri", "must be a sip: URI");
      }
    } else if (target.has_account()) {
      if (target.account().account_id().empty()) {
        return grpc_util::invalidArgument("targets.account.account_id", "required");
      }
    } else {
      return grpc_util::invalidArgument("targets", "each needs account or external");
    }
  }
  return grpc::Status::OK;
}

grpc::Status validateHangup(const calls::v1::HangupRequest& request) {
  if (request.call_id().empty() || request.call_id().size() > 128) {
    return grpc_util::invalidArgument("call_id", "required, at most 128 bytes");
  }
  if (request.status_code() != 0 && (request.status_code() < 400 || request.status_code() > 699)) {
    return grpc_util::invalidArgument("status_code", "0 (480) or 400-699");
  }
  return grpc::Status::OK;
}

grpc::ServerWriteReactor<calls::v1::CallNotification>* CallControlService::Attach(
    grpc::CallbackServerContext* context, const calls::v1::AttachRequest* request) {
  return hub_.attach(context, *request);
}

grpc::ServerUnaryReactor* CallControlService::Dial(grpc::CallbackServerContext* context,
                                                   const calls::v1::DialRequest* request,
                                                   calls::v1::CommandResult*) {
  auto* reactor = context->DefaultReactor();
  if (auto invalid = validateDial(*request); !invalid.ok()) {
    reactor->Finish(invalid);
    return reactor;
  }
  commands_.dial(*request, [reactor](grpc::Status status) { reactor->Finish(status); });
  return reactor;
}

grpc::ServerUnaryReactor* CallControlService::Hangup(grpc::CallbackServerContext* context,
                                                     const calls::v1::HangupRequest* request,
                                                     calls::v1::CommandResult*) {
  auto* reactor = context->DefaultReactor();
  if (auto invalid = validateHangup(*request); !invalid.ok()) {
    reactor->Finish(invalid);
    return reactor;
  }
  commands_.hangup(*request, [reactor](grpc::Status status) { reactor->Finish(status); });
  return reactor;
}

grpc::ServerUnaryReactor* CallControlService::ListLiveCalls(
    grpc::CallbackServerContext* context, const calls::v1::ListLiveCallsRequest*,
    calls::v1::ListLiveCallsResponse* reply) {
  auto* reactor = context->DefaultReactor();
  commands_.listLiveCalls([reactor, reply](calls::v1::ListLiveCallsResponse calls) {
    *reply = std::move(calls);
    reactor->Finish(grpc::Status::OK);
  });
  return reactor;
}

}  // namespace tel::sip
