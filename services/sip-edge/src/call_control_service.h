#pragma once

#include <grpcpp/grpcpp.h>

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <mutex>
#include <optional>

#include "tel/calls/v1/call_control.grpc.pb.h"

namespace tel::sip {

// What the call-control API asks of the B2BUA. Implementations may run the work on another thread;
// `done` is called exactly once, from any thread.
class CallCommands {
 public:
  virtual ~CallCommands() = default;
  virtual void dial(const calls::v1::DialRequest& request,
                    std::function<void(grpc::Status)> done) = 0;
  virtual void hangup(const calls::v1::HangupRequest& request,
                      std::function<void(grpc::Status)> done) = 0;
  virtual void answer(const calls::v1::AnswerRequest& request,
                      std::function<void(grpc::Status)> done) = 0;
  virtual void play(const calls::v1::PlayRequest& request,
                    std::function<void(grpc::Status)> done) = 0;
  virtual void stopPlayback(const calls::v1::StopPlaybackRequest& request,
                            std::function<void(grpc::Status)> done) = 0;
  virtual void collectDigits(const calls::v1::CollectDigitsRequest& request,
                             std::function<void(grpc::Status)> done) = 0;
  virtual void record(const calls::v1::RecordRequest& request, std::function<void(grpc::Status)> done) = 0;
  virtual void handOver(const calls::v1::HandOverRequest& request, std::function<void(grpc::Status)> done) = 0;
  virtual void note(const calls::v1::NoteRequest& request, std::function<void(grpc::Status)> done) = 0;
  virtual void probe(const calls::v1::ProbeRequest& request,
                     std::function<void(grpc::Status, calls::v1::ProbeResult)> done) = 0;
  virtual void listLiveCalls(std::function<void(calls::v1::ListLiveCallsResponse)> done) = 0;
};

class ApplicationStream;

// The applications attached to this sip-edge (routing instances, later queue and IVR) and their
// streams. Thread-safe: the SIP thread offers and notifies, gRPC threads attach and detach.
class ApplicationHub {
 public:
  ApplicationHub() = default;
  ~ApplicationHub();
  ApplicationHub(const ApplicationHub&) = delete;
  ApplicationHub& operator=(const ApplicationHub&) = delete;

  // Offers a new call to one attached application that takes new calls (round robin) and returns
  // its id; nullopt when none is attached.
  std::optional<uint64_t> offer(const calls::v1::CallNotification& notification);
  // Offers a handed-over call to one attached application named `application` (round robin).
  std::optional<uint64_t> offerTo(const std::string& application, const calls::v1::CallNotification& notification);
  // The name the application attached with ("" when it has gone).
  std::string nameOf(uint64_t application) const;
  // Called with an application's id once its stream has detached (any thread, never with the
  // hub's lock held), so that the calls handed over to it can be offered to another. Set before
  // streams attach and cleared before the listener dies.
  void setDetachListener(std::function<void(uint64_t)> listener);
  // Queues a notification for the application; false when it has gone.
  bool notify(uint64_t application, const calls::v1::CallNotification& notification);
  size_t attached() const;
  // Ends every stream (at shutdown), so that applications reconnect elsewhere.
  void closeAll();

  // A stream that has read its application's `attach` starts being offered calls; its id.
  uint64_t add(ApplicationStream* stream, const calls::v1::AttachRequest& attach);
  void detach(uint64_t application);

 private:
  struct Attached {
    ApplicationStream* stream;
    std::string name;
    bool new_calls;  // offered new calls (not hand_overs_only)
  };
  std::optional<uint64_t> offerLocked(const calls::v1::CallNotification& notification, const std::string& cursor,
                                      const std::function<bool(const Attached&)>& eligible);

  mutable std::mutex mutex_;
  std::map<uint64_t, Attached> streams_;  // guarded by mutex_; streams detach before they die
  uint64_t next_id_ = 1;
  // Round robin, one cursor per application name ("" for new calls): the id offered last.
  std::map<std::string, uint64_t> next_offer_;
  std::mutex listener_mutex_;  // held while the listener runs, so that clearing it waits for it
  std::function<void(uint64_t)> detach_listener_;  // guarded by listener_mutex_
};

// Request checks made before a command reaches the B2BUA: INVALID_ARGUMENT naming the field.
grpc::Status validateDial(const calls::v1::DialRequest& request);
grpc::Status validateHangup(const calls::v1::HangupRequest& request);
grpc::Status validateAnswer(const calls::v1::AnswerRequest& request);
grpc::Status validatePlay(const calls::v1::PlayRequest& request);
grpc::Status validateStopPlayback(const calls::v1::StopPlaybackRequest& request);
grpc::Status validateCollectDigits(const calls::v1::CollectDigitsRequest& request);
grpc::Status validateRecord(const calls::v1::RecordRequest& request);
grpc::Status validateHandOver(const calls::v1::HandOverRequest& request);
grpc::Status validateNote(const calls::v1::NoteRequest& request);
grpc::Status validateProbe(const calls::v1::ProbeRequest& request);

class CallControlService final : public calls::v1::CallControl::CallbackService {
 public:
  CallControlService(ApplicationHub& hub, CallCommands& commands)
      : hub_(hub), commands_(commands) {}

  grpc::ServerBidiReactor<calls::v1::ApplicationMessage, calls::v1::ControlMessage>* Attach(
      grpc::CallbackServerContext* context) override;
  grpc::ServerUnaryReactor* Dial(grpc::CallbackServerContext* context,
                                 const calls::v1::DialRequest* request,
                                 calls::v1::CommandResult* reply) override;
  grpc::ServerUnaryReactor* Hangup(grpc::CallbackServerContext* context,
                                   const calls::v1::HangupRequest* request,
                                   calls::v1::CommandResult* reply) override;
  grpc::ServerUnaryReactor* Probe(grpc::CallbackServerContext* context, const calls::v1::ProbeRequest* request,
                                  calls::v1::ProbeResult* reply) override;
  grpc::ServerUnaryReactor* ListLiveCalls(grpc::CallbackServerContext* context,
                                          const calls::v1::ListLiveCallsRequest* request,
                                          calls::v1::ListLiveCallsResponse* reply) override;

 private:
  ApplicationHub& hub_;
  CallCommands& commands_;
};

}  // namespace tel::sip
