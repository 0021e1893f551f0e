#include "call_control_service.h"

#include <deque>

#include "tel/grpc/status.h"

namespace tel::sip {

namespace {
using calls::v1::ApplicationMessage;
using calls::v1::CallNotification;
using calls::v1::ControlMessage;

// Commands one application may have handed to the B2BUA and not yet seen answered. Far above what
// a dial plan needs (its commands complete in milliseconds); a client past it is flooding.
constexpr int kMaxOutstandingCommands = 1000;
}  // namespace

// One application's stream. Reads are taken one at a time: the first must be `attach`, then each
// command is handed to the B2BUA at once, so that a slow command never holds up the next. Writes
// (notifications and outcomes) are queued and sent one at a time, as gRPC allows one in flight.
// Owned by gRPC, but it outlives OnDone while commands it handed over are unfinished: their
// outcomes find it closed, and the last one deletes it.
class ApplicationStream final : public grpc::ServerBidiReactor<ApplicationMessage, ControlMessage> {
 public:
  ApplicationStream(ApplicationHub& hub, CallCommands& commands) : hub_(hub), commands_(commands) {
    StartRead(&incoming_);
  }

  bool push(const CallNotification& notification) {
    std::lock_guard lock(mutex_);
    if (closed_) return false;
    if (decisions_only_ && !notification.has_offered() && !notification.has_dial_failed() && !notification.has_bridged() &&
        !notification.has_digit() && !notification.has_playback_ended() &&
        !notification.has_digits_collected() && !notification.has_recording_ended())
      return true;  // not wanted: as good as delivered
    ControlMessage message;
    *message.mutable_notification() = notification;
    writeLocked(std::move(message));
    return true;
  }

  void close(const grpc::Status& status) {
    std::lock_guard lock(mutex_);
    finishLocked(status);
  }

  void OnReadDone(bool ok) override {
    if (!ok) {  // the application closed its side, or the stream broke
      detach();
      close(grpc::Status::OK);
      return;
    }
    if (!attachedId()) {
      if (!incoming_.has_attach()) {
        close(grpc_util::invalidArgument("attach", "the first message must be attach"));
        return;
      }
      attach(incoming_.attach());
    } else if (incoming_.has_command()) {
      handle(incoming_.command());
    } else {
      detach();
      close(grpc_util::invalidArgument("command", "after attach, every message is a command"));
      return;
    }
    std::lock_guard lock(mutex_);
    if (!closed_) StartRead(&incoming_);
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
    detach();
    close(grpc::Status::CANCELLED);
  }

  void OnDone() override {
    detach();
    bool last;
    {
      std::lock_guard lock(mutex_);
      done_ = true;
      last = outstanding_ == 0;
    }
    if (last) delete this;
  }

 private:
  uint64_t attachedId() {
    std::lock_guard lock(mutex_);
    return id_;
  }

  // Registered first, then the initial metadata tells the application it is attached; a
  // notification offered in between waits in the queue until the metadata has gone.
  void attach(const calls::v1::AttachRequest& request) {
    {
      std::lock_guard lock(mutex_);
      decisions_only_ = request.decisions_only();
    }
    const uint64_t id = hub_.add(this, request);  // outside mutex_: the hub locks itself, then streams
    std::lock_guard lock(mutex_);
    id_ = id;
    if (closed_) return;  // cancelled meanwhile: OnDone detaches it
    StartSendInitialMetadata();
    ready_ = true;
    if (!queue_.empty()) {
      writing_ = true;
      StartWrite(&queue_.front());
    }
  }

  void detach() {
    const uint64_t id = attachedId();
    if (id != 0) hub_.detach(id);
  }

  void handle(const calls::v1::Command& command) {
    const uint64_t id = command.id();
    grpc::Status invalid;
    switch (command.kind_case()) {
      case calls::v1::Command::kDial:
        invalid = validateDial(command.dial());
        break;
      case calls::v1::Command::kHangup:
        invalid = validateHangup(command.hangup());
        break;
      case calls::v1::Command::kAnswer:
        invalid = validateAnswer(command.answer());
        break;
      case calls::v1::Command::kPlay:
        invalid = validatePlay(command.play());
        break;
      case calls::v1::Command::kStopPlayback:
        invalid = validateStopPlayback(command.stop_playback());
        break;
      case calls::v1::Command::kCollectDigits:
        invalid = validateCollectDigits(command.collect_digits());
        break;
      case calls::v1::Command::kRecord:
        invalid = validateRecord(command.record());
        break;
      case calls::v1::Command::kHandOver:
        invalid = validateHandOver(command.hand_over());
        break;
      case calls::v1::Command::kNote:
        invalid = validateNote(command.note());
        break;
      case calls::v1::Command::KIND_NOT_SET:
        invalid = grpc_util::invalidArgument(
            "command", "needs dial, hangup, answer, play, stop_playback, collect_digits, record, hand_over or note");
        break;
    }
    if (!invalid.ok()) {
      answer(id, invalid);
      return;
    }
    {
      std::lock_guard lock(mutex_);
      if (outstanding_ >= kMaxOutstandingCommands) {
        answerLocked(id, grpc::Status(grpc::StatusCode::RESOURCE_EXHAUSTED,
                                      "too many commands awaiting their outcome"));
        return;
      }
      ++outstanding_;
    }
    auto done = [this, id](grpc::Status status) {
      answer(id, status);
      commandFinished();
    };
    switch (command.kind_case()) {
      case calls::v1::Command::kDial:
        return commands_.dial(command.dial(), std::move(done));
      case calls::v1::Command::kHangup:
        return commands_.hangup(command.hangup(), std::move(done));
      case calls::v1::Command::kAnswer:
        return commands_.answer(command.answer(), std::move(done));
      case calls::v1::Command::kPlay:
        return commands_.play(command.play(), std::move(done));
      case calls::v1::Command::kStopPlayback:
        return commands_.stopPlayback(command.stop_playback(), std::move(done));
      case calls::v1::Command::kCollectDigits:
        return commands_.collectDigits(command.collect_digits(), std::move(done));
      case calls::v1::Command::kRecord:
        return commands_.record(command.record(), std::move(done));
      case calls::v1::Command::kHandOver:
        return commands_.handOver(command.hand_over(), std::move(done));
      case calls::v1::Command::kNote:
        return commands_.note(command.note(), std::move(done));
      case calls::v1::Command::KIND_NOT_SET:
        break;  // refused above
    }
  }

  void answer(uint64_t id, const grpc::Status& status) {
    std::lock_guard lock(mutex_);
    answerLocked(id, status);
  }

  void answerLocked(uint64_t id, const grpc::Status& status) {
    if (closed_) return;
    ControlMessage message;
    auto* outcome = message.mutable_outcome();
    outcome->set_id(id);
    outcome->set_code(status.error_code());
    outcome->set_message(status.error_message());
    writeLocked(std::move(message));
  }

  void commandFinished() {
    bool last;
    {
      std::lock_guard lock(mutex_);
      --outstanding_;
      last = done_ && outstanding_ == 0;
    }
    if (last) delete this;
  }

  void writeLocked(ControlMessage message) {
    queue_.push_back(std::move(message));
    if (ready_ && !writing_) {
      writing_ = true;
      StartWrite(&queue_.front());
    }
  }

  void finishLocked(const grpc::Status& status) {
    if (closed_) return;
    closed_ = true;
    Finish(status);
  }

  ApplicationHub& hub_;
  CallCommands& commands_;
  ApplicationMessage incoming_;  // the read in flight (one at a time)
  std::mutex mutex_;
  uint64_t id_ = 0;  // the hub's id once attached
  bool decisions_only_ = false;
  std::deque<ControlMessage> queue_;  // front() is being written while writing_
  bool ready_ = false;                // initial metadata sent: writes may start
  bool writing_ = false;
  bool closed_ = false;
  bool done_ = false;    // gRPC is done with the stream
  int outstanding_ = 0;  // commands handed to the B2BUA, not yet answered
};

ApplicationHub::~ApplicationHub() { closeAll(); }

uint64_t ApplicationHub::add(ApplicationStream* stream, const calls::v1::AttachRequest& attach) {
  std::lock_guard lock(mutex_);
  streams_[next_id_] = Attached{stream, attach.application(), !attach.hand_overs_only()};
  return next_id_++;
}

void ApplicationHub::detach(uint64_t application) {
  {
    std::lock_guard lock(mutex_);
    if (streams_.erase(application) == 0) return;  // detached before (a stream detaches twice)
  }
  std::lock_guard lock(listener_mutex_);
  if (detach_listener_) detach_listener_(application);
}

void ApplicationHub::setDetachListener(std::function<void(uint64_t)> listener) {
  std::lock_guard lock(listener_mutex_);
  detach_listener_ = std::move(listener);
}

std::optional<uint64_t> ApplicationHub::offerLocked(const calls::v1::CallNotification& notification,
                                                    const std::string& cursor,
                                                    const std::function<bool(const Attached&)>& eligible) {
  uint64_t& last = next_offer_[cursor];
  auto it = streams_.upper_bound(last);
  for (size_t tries = 0; tries < streams_.size(); ++tries, ++it) {
    if (it == streams_.end()) it = streams_.begin();
    if (eligible(it->second) && it->second.stream->push(notification)) {
      last = it->first;
      return it->first;
    }
  }
  return std::nullopt;
}

std::optional<uint64_t> ApplicationHub::offer(const calls::v1::CallNotification& notification) {
  std::lock_guard lock(mutex_);
  return offerLocked(notification, "", [](const Attached& attached) { return attached.new_calls; });
}

std::optional<uint64_t> ApplicationHub::offerTo(const std::string& application,
                                                const calls::v1::CallNotification& notification) {
  std::lock_guard lock(mutex_);
  return offerLocked(notification, application,
                     [&](const Attached& attached) { return attached.name == application; });
}

std::string ApplicationHub::nameOf(uint64_t application) const {
  std::lock_guard lock(mutex_);
  auto it = streams_.find(application);
  return it == streams_.end() ? std::string() : it->second.name;
}

bool ApplicationHub::notify(uint64_t application, const calls::v1::CallNotification& notification) {
  std::lock_guard lock(mutex_);
  auto it = streams_.find(application);
  return it != streams_.end() && it->second.stream->push(notification);
}

size_t ApplicationHub::attached() const {
  std::lock_guard lock(mutex_);
  return streams_.size();
}

void ApplicationHub::closeAll() {
  std::lock_guard lock(mutex_);
  for (auto& [id, attached] : streams_)
    attached.stream->close(grpc::Status(grpc::StatusCode::UNAVAILABLE, "sip-edge is shutting down"));
}

namespace {

// A command's route steps become call events: bounded, so that no application can bloat a record.
grpc::Status validateRoute(const google::protobuf::RepeatedPtrField<calls::v1::RouteStep>& route) {
  if (route.size() > 32) return grpc_util::invalidArgument("route", "at most 32 steps");
  for (const auto& step : route) {
    for (const std::string* text : {&step.node(), &step.type(), &step.outcome(), &step.detail(), &step.account_id()}) {
      if (text->size() > 256) return grpc_util::invalidArgument("route", "each text at most 256 bytes");
    }
  }
  return grpc::Status::OK;
}

}  // namespace

namespace {

// A sip: URI sip-edge can put in a request line and a To header as it is.
bool isSipUri(const std::string& uri) {
  return uri.rfind("sip:", 0) == 0 && uri.size() > 4 && uri.size() <= 256 &&
         uri.find_first_of(" \r\n<>\"") == std::string::npos;
}

}  // namespace

grpc::Status validateProbe(const calls::v1::ProbeRequest& request) {
  if (!isSipUri(request.request_uri())) return grpc_util::invalidArgument("request_uri", "must be a sip: URI");
  if (request.timeout_ms() > 10000) return grpc_util::invalidArgument("timeout_ms", "0 (2000) or at most 10000");
  return grpc::Status::OK;
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
      if (!isSipUri(uri)) return grpc_util::invalidArgument("targets.external.request_uri", "must be a sip: URI");
      const uint32_t response_timeout = target.external().response_timeout_ms();
      if (response_timeout != 0 && (response_timeout < 500 || response_timeout > 30000)) {
        return grpc_util::invalidArgument("targets.external.response_timeout_ms", "0, or 500 to 30000");
      }
      if (target.external().carrier_id().size() > 64) {
        return grpc_util::invalidArgument("targets.external.carrier_id", "at most 64 bytes");
      }
    } else if (target.has_account()) {
      if (target.account().account_id().empty()) {
        return grpc_util::invalidArgument("targets.account.account_id", "required");
      }
    } else {
      return grpc_util::invalidArgument("targets", "each needs account or external");
    }
  }
  if (request.limits_size() > 4) return grpc_util::invalidArgument("limits", "at most 4");
  for (const auto& limit : request.limits()) {
    if (limit.key().empty() || limit.key().size() > 128 ||
        limit.key().find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789:._-") !=
            std::string::npos) {
      return grpc_util::invalidArgument("limits.key", "1 to 128 letters, digits, ':', '.', '_' or '-'");
    }
    if (limit.max() < 1 || limit.max() > 100000) return grpc_util::invalidArgument("limits.max", "1 to 100000");
  }
  return validateRoute(request.route());
}

grpc::Status validateHangup(const calls::v1::HangupRequest& request) {
  if (request.call_id().empty() || request.call_id().size() > 128) {
    return grpc_util::invalidArgument("call_id", "required, at most 128 bytes");
  }
  if (request.status_code() != 0 && (request.status_code() < 400 || request.status_code() > 699)) {
    return grpc_util::invalidArgument("status_code", "0 (480) or 400-699");
  }
  return validateRoute(request.route());
}

namespace {

grpc::Status validateCallId(const std::string& call_id) {
  if (call_id.empty() || call_id.size() > 128) {
    return grpc_util::invalidArgument("call_id", "required, at most 128 bytes");
  }
  return grpc::Status::OK;
}

}  // namespace

grpc::Status validateAnswer(const calls::v1::AnswerRequest& request) {
  if (auto invalid = validateCallId(request.call_id()); !invalid.ok()) return invalid;
  return validateRoute(request.route());
}

grpc::Status validatePlay(const calls::v1::PlayRequest& request) {
  if (auto invalid = validateCallId(request.call_id()); !invalid.ok()) return invalid;
  if (request.playback_id().empty() || request.playback_id().size() > 64) {
    return grpc_util::invalidArgument("playback_id", "required, at most 64 bytes");
  }
  if (request.prompts().empty() || request.prompts_size() > 16) {
    return grpc_util::invalidArgument("prompts", "1 to 16 prompt names");
  }
  for (const auto& prompt : request.prompts()) {
    // '@' names media-relay's own tones (@beep, @ringback) and the platform's spoken prompts,
    // which are outside every tenant's names.
    const std::string name = !prompt.empty() && prompt[0] == '@' ? prompt.substr(1) : prompt;
    if (name.empty() || name.size() > 64 ||
        name.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789-_") != std::string::npos) {
      return grpc_util::invalidArgument("prompts", "each 1 to 64 of a-z 0-9 - _, or @ and a platform prompt's name");
    }
  }
  return validateRoute(request.route());
}

grpc::Status validateStopPlayback(const calls::v1::StopPlaybackRequest& request) {
  return validateCallId(request.call_id());
}

namespace {

grpc::Status validateTerminators(const std::string& terminators) {
  if (terminators.size() > 16 || terminators.find_first_not_of("0123456789*#ABCD") != std::string::npos) {
    return grpc_util::invalidArgument("terminators", "keys among 0-9 * # A-D");
  }
  return grpc::Status::OK;
}

}  // namespace

grpc::Status validateRecord(const calls::v1::RecordRequest& request) {
  if (auto invalid = validateCallId(request.call_id()); !invalid.ok()) return invalid;
  if (request.max_seconds() > 3600) return grpc_util::invalidArgument("max_seconds", "0 (120) or 1 to 3600");
  if (request.silence_seconds() > 60) return grpc_util::invalidArgument("silence_seconds", "0 (none) or 1 to 60");
  if (auto invalid = validateTerminators(request.terminators()); !invalid.ok()) return invalid;
  return validateRoute(request.route());
}

grpc::Status validateHandOver(const calls::v1::HandOverRequest& request) {
  if (auto invalid = validateCallId(request.call_id()); !invalid.ok()) return invalid;
  if (request.application().empty() || request.application().size() > 64) {
    return grpc_util::invalidArgument("application", "required, at most 64 bytes");
  }
  if (request.context().size() > 16) return grpc_util::invalidArgument("context", "at most 16 entries");
  for (const auto& [key, value] : request.context()) {
    if (key.empty() || key.size() > 64 || value.size() > 256) {
      return grpc_util::invalidArgument("context", "keys of 1 to 64 bytes, values of at most 256");
    }
  }
  return validateRoute(request.route());
}

grpc::Status validateNote(const calls::v1::NoteRequest& request) {
  if (auto invalid = validateCallId(request.call_id()); !invalid.ok()) return invalid;
  if (request.route().empty()) return grpc_util::invalidArgument("route", "at least one step");
  return validateRoute(request.route());
}

grpc::Status validateCollectDigits(const calls::v1::CollectDigitsRequest& request) {
  if (auto invalid = validateCallId(request.call_id()); !invalid.ok()) return invalid;
  if (request.max_digits() < 1 || request.max_digits() > 32) {
    return grpc_util::invalidArgument("max_digits", "1 to 32");
  }
  if (request.first_digit_timeout_ms() > 120000) {
    return grpc_util::invalidArgument("first_digit_timeout_ms", "at most 120000");
  }
  if (request.inter_digit_timeout_ms() > 60000) {
    return grpc_util::invalidArgument("inter_digit_timeout_ms", "at most 60000");
  }
  if (auto invalid = validateTerminators(request.terminators()); !invalid.ok()) return invalid;
  return validateRoute(request.route());
}

grpc::ServerBidiReactor<calls::v1::ApplicationMessage, calls::v1::ControlMessage>*
CallControlService::Attach(grpc::CallbackServerContext*) {
  return new ApplicationStream(hub_, commands_);
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

grpc::ServerUnaryReactor* CallControlService::Probe(grpc::CallbackServerContext* context,
                                                    const calls::v1::ProbeRequest* request,
                                                    calls::v1::ProbeResult* reply) {
  auto* reactor = context->DefaultReactor();
  if (auto invalid = validateProbe(*request); !invalid.ok()) {
    reactor->Finish(invalid);
    return reactor;
  }
  commands_.probe(*request, [reactor, reply](grpc::Status status, calls::v1::ProbeResult result) {
    *reply = std::move(result);
    reactor->Finish(status);
  });
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
