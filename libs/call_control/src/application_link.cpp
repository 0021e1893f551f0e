#include "tel/call_control/application_link.h"

#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>

#include <algorithm>

#include "tel/grpc/resolve.h"
#include "tel/grpc/status.h"

namespace tel::call_control {

ApplicationLink::ApplicationLink(std::shared_ptr<calls::v1::CallControl::StubInterface> stub,
                                 AttachOptions attach, NotificationHandler on_notification,
                                 CommandFailures failures, log::Logger logger)
    : stub_(std::move(stub)),
      attach_(std::move(attach)),
      on_notification_(std::move(on_notification)),
      failures_(failures),
      log_(std::move(logger)) {}

ApplicationLink::~ApplicationLink() { stop(); }

void ApplicationLink::start() {
  thread_ = std::thread([this] { run(); });
}

void ApplicationLink::stop() {
  stopping_ = true;
  {
    std::lock_guard lock(mutex_);
    if (current_ != nullptr) current_->TryCancel();
  }
  if (thread_.joinable()) thread_.join();
}

absl::Status ApplicationLink::dial(const calls::v1::DialRequest& request) {
  calls::v1::Command command;
  *command.mutable_dial() = request;
  return send(std::move(command), request.call_id());
}

absl::Status ApplicationLink::hangup(const calls::v1::HangupRequest& request) {
  calls::v1::Command command;
  *command.mutable_hangup() = request;
  return send(std::move(command), request.call_id());
}

absl::Status ApplicationLink::answer(const calls::v1::AnswerRequest& request) {
  calls::v1::Command command;
  *command.mutable_answer() = request;
  return send(std::move(command), request.call_id());
}

absl::Status ApplicationLink::play(const calls::v1::PlayRequest& request) {
  calls::v1::Command command;
  *command.mutable_play() = request;
  return send(std::move(command), request.call_id());
}

absl::Status ApplicationLink::collectDigits(const calls::v1::CollectDigitsRequest& request) {
  calls::v1::Command command;
  *command.mutable_collect_digits() = request;
  return send(std::move(command), request.call_id());
}

absl::Status ApplicationLink::handOver(const calls::v1::HandOverRequest& request) {
  calls::v1::Command command;
  *command.mutable_hand_over() = request;
  return send(std::move(command), request.call_id());
}

absl::Status ApplicationLink::note(const calls::v1::NoteRequest& request) {
  calls::v1::Command command;
  *command.mutable_note() = request;
  return send(std::move(command), request.call_id());
}

absl::Status ApplicationLink::record(const calls::v1::RecordRequest& request) {
  calls::v1::Command command;
  *command.mutable_record() = request;
  return send(std::move(command), request.call_id());
}

namespace {

const char* commandName(const calls::v1::Command& command) {
  switch (command.kind_case()) {
    case calls::v1::Command::kDial: return "dial";
    case calls::v1::Command::kHangup: return "hangup";
    case calls::v1::Command::kAnswer: return "answer";
    case calls::v1::Command::kPlay: return "play";
    case calls::v1::Command::kStopPlayback: return "stop_playback";
    case calls::v1::Command::kCollectDigits: return "collect_digits";
    case calls::v1::Command::kRecord: return "record";
    case calls::v1::Command::kHandOver: return "hand_over";
    case calls::v1::Command::kNote: return "note";
    case calls::v1::Command::KIND_NOT_SET: break;
  }
  return "none";
}

}  // namespace

absl::Status ApplicationLink::send(calls::v1::Command command, const std::string& call_id) {
  std::lock_guard write_lock(write_mutex_);
  if (stream_ == nullptr) return absl::UnavailableError("sip-edge: not attached");
  uint64_t id;
  {
    std::lock_guard lock(mutex_);
    id = next_command_++;
    pending_[id] = Pending{call_id, commandName(command)};
  }
  command.set_id(id);
  calls::v1::ApplicationMessage message;
  *message.mutable_command() = std::move(command);
  if (stream_->Write(message)) return absl::OkStatus();
  {
    std::lock_guard lock(mutex_);
    pending_.erase(id);
  }
  return absl::UnavailableError("sip-edge: the call-control stream broke");
}

void ApplicationLink::onOutcome(const calls::v1::CommandOutcome& outcome) {
  Pending command;
  {
    std::lock_guard lock(mutex_);
    auto found = pending_.find(outcome.id());
    if (found == pending_.end()) return;  // no command of ours has this id
    command = std::move(found->second);
    pending_.erase(found);
  }
  const auto code = static_cast<grpc::StatusCode>(outcome.code());
  if (code == grpc::StatusCode::OK) return;
  // The call ended meanwhile (the caller gave up while it was being routed): nothing left to do.
  if (code == grpc::StatusCode::NOT_FOUND) return;
  failed(command, outcome.code(), outcome.message());
}

void ApplicationLink::failed(const Pending& command, int code, const std::string& why) {
  failures_.by_command.Add({{"command", command.command}}).Increment();
  log_.warn("call-control command failed", {{"call_id", command.call_id},
                                            {"command", command.command},
                                            {"code", std::to_string(code)},
                                            {"error", why}});
}

void ApplicationLink::run() {
  auto backoff = std::chrono::milliseconds(100);
  while (!stopping_) {
    grpc::ClientContext context;
    context.set_wait_for_ready(true);
    {
      std::lock_guard lock(mutex_);
      if (stopping_) break;
      current_ = &context;
    }
    auto stream = stub_->Attach(&context);
    calls::v1::ApplicationMessage hello;
    hello.mutable_attach()->set_application(attach_.application);
    hello.mutable_attach()->set_decisions_only(attach_.decisions_only);
    hello.mutable_attach()->set_hand_overs_only(attach_.hand_overs_only);
    if (stream->Write(hello)) {
      stream->WaitForInitialMetadata();  // sent by sip-edge once the stream is registered
      if (!stopping_) {
        {
          std::lock_guard write_lock(write_mutex_);
          stream_ = stream.get();
        }
        ++attachment_;
        attached_ = true;
        log_.info("attached to sip-edge");
        backoff = std::chrono::milliseconds(100);
      }
      for (calls::v1::ControlMessage message; stream->Read(&message);) {
        if (message.has_notification()) {
          on_notification_(std::move(*message.mutable_notification()), shared_from_this());
        } else if (message.has_outcome()) {
          onOutcome(message.outcome());
        }
      }
    }
    {
      std::lock_guard write_lock(write_mutex_);
      stream_ = nullptr;
    }
    attached_ = false;
    const grpc::Status status = stream->Finish();
    std::map<uint64_t, Pending> lost;
    {
      std::lock_guard lock(mutex_);
      current_ = nullptr;
      lost.swap(pending_);
    }
    for (const auto& [id, command] : lost)
      failed(command, grpc::StatusCode::UNAVAILABLE, "the stream ended before the outcome came");
    if (stopping_) break;
    log_.warn("call-control stream ended; re-attaching", {{"error", status.error_message()}});
    std::this_thread::sleep_for(backoff);
    backoff = std::min(backoff * 2, std::chrono::milliseconds(2000));
  }
}

namespace {
CommandFailures commandFailures(const std::string& application, prometheus::Registry& registry) {
  auto& family = prometheus::BuildCounter()
                     .Name("tel_" + application + "_commands_failed_total")
                     .Help(
                         "Call-control commands that sip-edge refused, or whose outcome was lost "
                         "with the stream, by command")
                     .Register(registry);
  for (const char* command : {"dial", "hangup", "answer", "play", "collect_digits", "record", "hand_over", "note"}) family.Add({{"command", command}});
  return CommandFailures{family};
}
}  // namespace

SipEdgeFleet::SipEdgeFleet(std::string address, AttachOptions attach, Handler handler, std::chrono::seconds refresh,
                           prometheus::Registry& registry, log::Logger logger)
    : address_(std::move(address)),
      attach_(std::move(attach)),
      handler_(std::move(handler)),
      refresh_(refresh),
      failures_(commandFailures(attach_.application, registry)),
      log_(std::move(logger)) {}

SipEdgeFleet::~SipEdgeFleet() { stop(); }

void SipEdgeFleet::start() {
  resolver_ = std::thread([this] { run(); });
}

void SipEdgeFleet::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (resolver_.joinable()) resolver_.join();
  std::map<std::string, Member> members;
  {
    std::lock_guard lock(mutex_);
    members.swap(members_);
  }
  for (auto& [address, link] : members) link->stop();
}

absl::StatusOr<uint32_t> ApplicationLink::probe(const std::string& uri, std::chrono::milliseconds timeout) {
  calls::v1::ProbeRequest request;
  request.set_request_uri(uri);
  request.set_timeout_ms(static_cast<uint32_t>(timeout.count()));
  calls::v1::ProbeResult result;
  grpc::ClientContext context;
  grpc_util::setTimeout(context, timeout + std::chrono::seconds(1));
  const grpc::Status status = stub_->Probe(&context, request, &result);
  if (!status.ok()) return grpc_util::toAbsl("sip-edge", status);
  return result.status_code();
}

absl::StatusOr<uint32_t> SipEdgeFleet::probe(const std::string& uri, std::chrono::milliseconds timeout) {
  Member member;
  {
    std::lock_guard lock(mutex_);
    for (const auto& [address, link] : members_) {
      if (link->attached()) {
        member = link;
        break;
      }
    }
  }
  if (!member) return absl::UnavailableError("no sip-edge attached");
  return member->probe(uri, timeout);
}

size_t SipEdgeFleet::members() const {
  std::lock_guard lock(mutex_);
  return members_.size();
}

size_t SipEdgeFleet::attached() const {
  std::lock_guard lock(mutex_);
  return static_cast<size_t>(std::count_if(members_.begin(), members_.end(), [](const auto& entry) {
    return entry.second->attached();
  }));
}

void SipEdgeFleet::run() {
  std::unique_lock lock(mutex_);
  while (!stopping_) {
    lock.unlock();
    const auto addresses = grpc_util::resolveAll(address_);
    if (addresses.empty()) log_.warn("sip-edge address does not resolve", {{"address", address_}});
    reconcile(addresses);
    lock.lock();
    wake_.wait_for(lock, refresh_, [this] { return stopping_; });
  }
}

void SipEdgeFleet::reconcile(const std::vector<std::string>& addresses) {
  std::vector<Member> gone;
  {
    std::lock_guard lock(mutex_);
    if (stopping_) return;
    for (auto it = members_.begin(); it != members_.end();) {
      if (std::find(addresses.begin(), addresses.end(), it->first) == addresses.end()) {
        log_.info("sip-edge gone; detaching", {{"sip_edge", it->first}});
        gone.push_back(std::move(it->second));
        it = members_.erase(it);
      } else {
        ++it;
      }
    }
    for (const auto& address : addresses) {
      if (members_.count(address)) continue;
      auto link = std::make_shared<ApplicationLink>(
          calls::v1::CallControl::NewStub(
              grpc::CreateChannel(address, grpc::InsecureChannelCredentials())),
          attach_, handler_, failures_, log_.withFields({{"sip_edge", address}}));
      link->start();
      members_.emplace(address, std::move(link));
    }
  }
  for (auto& link : gone) link->stop();  // joins its reader, outside the lock
}

}  // namespace tel::call_control
