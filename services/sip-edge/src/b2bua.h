#pragma once

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <unordered_map>

#include "call_admission.h"
#include "tel/media/v1/media_relay.pb.h"
#include "call_control_service.h"
#include "call_ledger.h"
#include "sip_stack.h"
#include "target_prober.h"
#include "tel/grpc/blocking_executor.h"

struct nua_handle_s;

namespace tel::sip {

struct B2buaOptions {
  // How long a call may wait for its application to act (after the offer, after a failed dial)
  // before sip-edge refuses it itself.
  std::chrono::milliseconds decision_timeout{5000};
  // The host in the From of the legs sip-edge places (callers see "number@host").
  std::string edge_host = "127.0.0.1";
  // "sip:host:port;lr" of the SIP load balancer: the legs sip-edge places go through it (unless a
  // device's Path or NAT address says otherwise), so that every dialog of a call passes the load
  // balancer, which ends them should this instance be lost. Empty: legs go straight to their target.
  std::string outbound_proxy;
  // INVITEs being admitted at once (waiting for the number, the channel count and the media
  // session on the workers). Past it a new INVITE gets 503 at once: see onNewInviteOnSipThread.
  size_t max_admitting = 64;
  // A bridged call is ended (BYE to both sides) this long after it was answered: the toll-fraud
  // cap on a hijacked phone's call, and the bound the channel holds rely on (calls.max_duration).
  std::chrono::seconds max_call_duration{4 * 3600};
};

// The B2BUA: every call is an A leg (the caller's dialog, which sip-edge answers as a UAS) and B
// legs (dialogs sip-edge places as a UAC), with media through media-relay and the decisions taken
// by an application over the call-control API.
//
// Threading: the call table and every sofia handle belong to the SIP thread; functions named
// ...OnSipThread run there. Blocking work (admission, Redis, media-relay) runs on `workers` and its
// result is posted back to the SIP thread, where the call is looked up again by id: it may have
// ended meanwhile. Call-control commands arrive on gRPC threads and are posted the same way.
class B2bua final : public CallCommands, public CallHandler {
 public:
  B2bua(SipStack& stack, CallAdmission& admission, const RegisteredLines& lines,
        Bindings& bindings, MediaControl& media,
        EventSink& events, CallLedger& ledger, ApplicationHub& applications,
        grpc_util::BlockingExecutor& workers, B2buaOptions options, log::Logger logger,
        prometheus::Registry& registry);
  ~B2bua() override;

  // CallHandler (SIP thread).
  bool handleOnSipThread(const SipStack::Event& event) override;
  void tickOnSipThread() override;
  void shutdownOnSipThread() override;

  // CallCommands (any thread).
  void dial(const calls::v1::DialRequest& request, std::function<void(grpc::Status)> done) override;
  // The media sessions are gone (their relay was lost): their calls end. Any thread.
  void mediaLost(std::vector<std::string> session_ids);
  // Calls in progress (admitted and not yet gone). Any thread.
  size_t liveCalls() const { return static_cast<size_t>(active_calls_.Value()); }
  void hangup(const calls::v1::HangupRequest& request,
              std::function<void(grpc::Status)> done) override;
  void answer(const calls::v1::AnswerRequest& request,
              std::function<void(grpc::Status)> done) override;
  void play(const calls::v1::PlayRequest& request, std::function<void(grpc::Status)> done) override;
  void stopPlayback(const calls::v1::StopPlaybackRequest& request,
                    std::function<void(grpc::Status)> done) override;
  void collectDigits(const calls::v1::CollectDigitsRequest& request,
                     std::function<void(grpc::Status)> done) override;
  void record(const calls::v1::RecordRequest& request, std::function<void(grpc::Status)> done) override;
  void handOver(const calls::v1::HandOverRequest& request, std::function<void(grpc::Status)> done) override;
  void note(const calls::v1::NoteRequest& request, std::function<void(grpc::Status)> done) override;
  // A digit or playback end from the media relay, for the call's application. Any thread.
  void mediaEvent(media::v1::MediaEvent event);
  void listLiveCalls(std::function<void(calls::v1::ListLiveCallsResponse)> done) override;
  void probe(const calls::v1::ProbeRequest& request,
             std::function<void(grpc::Status, calls::v1::ProbeResult)> done) override;

  struct Call;
  struct Leg;
  struct PlannedLeg;

 private:
  using Handle = struct ::nua_handle_s*;
  using Clock = std::chrono::steady_clock;

  // Runs `work` on a worker, then `then(result)` on the SIP thread.
  template <typename Work, typename Then>
  void runBlocking(Work work, Then then);

  void onNewInviteOnSipThread(const SipStack::Event& event);
  void onAdmittedOnSipThread(const std::string& call_id, Admission admission);
  // The offer of the call to an application: who calls whom.
  static calls::v1::CallNotification offerOf(const Call& call);
  // The application `application` has gone: the calls handed over to it are offered to another
  // application of the same name, or end when there is none.
  void reofferOnSipThread(uint64_t application);
  void onReinviteOnSipThread(Call& call, const std::string& leg_id, const SipStack::Event& event);
  void onInviteResponseOnSipThread(Call& call, const std::string& leg_id,
                                   const SipStack::Event& event);
  void onLegAnsweredOnSipThread(Call& call, Leg& leg, const SipStack::Event& event);
  // A 401/407 to a leg through a carrier the platform registers to: answered with those
  // credentials (once). False when there is nothing to answer with: the leg then fails.
  bool answerChallengeOnSipThread(Call& call, Leg& leg, const SipStack::Event& event);
  // `reason`: the leg's end reason when not the status's usual one (failureReason).
  void onLegFailedOnSipThread(Call& call, Leg& leg, int status, const char* phrase, const char* reason = nullptr);
  // Fails the legs whose target has not answered at all within their response timeout.
  void giveUpSilentLegsOnSipThread(Call& call, std::chrono::steady_clock::time_point now);
  void onByeOnSipThread(Call& call, const std::string& leg_id);
  // INFO within a call's dialog: a key of the answered caller (SIP INFO, the fallback to RFC
  // 4733), or passed on between bridged parties. `call` is null when the call has gone.
  void onInfoOnSipThread(Call* call, const std::string& leg_id, const SipStack::Event& event);
  void onTerminatedOnSipThread(Handle handle);
  void dialOnSipThread(const calls::v1::DialRequest& request,
                       std::function<void(grpc::Status)> done);
  void placeLegsOnSipThread(const std::string& call_id, std::vector<PlannedLeg> legs,
                            uint32_t timeout_seconds, std::function<void(grpc::Status)> done);
  // `placed`: a leg was sent, so the status is the targets' (DialFailed.placed).
  void dialFailedOnSipThread(Call& call, int status, const std::string& reason, bool placed);
  void endCallOnSipThread(Call& call, calls::v1::Disposition disposition, calls::v1::Side side,
                          int status, const std::string& cause);
  void finishEndedCallOnSipThread(const std::string& call_id,
                                  std::map<std::string, calls::v1::MediaCounters> counters);
  void publishOnSipThread(Call& call, const calls::v1::CallEvent& event);
  // One route_step event per step an application's command carried (the call record's route).
  void publishRouteOnSipThread(Call& call,
                               const google::protobuf::RepeatedPtrField<calls::v1::RouteStep>& route);
  void notifyOnSipThread(Call& call, calls::v1::CallNotification notification);
  // A key of the answered caller: into the collection in progress, else notified alone.
  void onDigitOnSipThread(Call& call, const std::string& digit);
  void finishCollectOnSipThread(Call& call, const char* reason);
  void onPlaybackEndedOnSipThread(Call& call, const std::string& playback_id);
  // The caller's message (Record): started once the greeting has been heard out, finished (the
  // file closed at the relay) on a terminator, silence or its maximum length, then notified.
  void startMessageOnSipThread(Call& call);
  void finishMessageOnSipThread(Call& call, const char* reason);
  // Closes the file at the relay, then notifies RecordingEnded.
  void stopMessageOnSipThread(Call& call, const char* reason);
  void notifyMessageEndOnSipThread(Call& call, const char* reason, uint32_t duration_ms);
  // The call when its caller was answered by the application and is not bridged (a voice menu);
  // otherwise null, and `done` has been told why.
  Call* answeredCallerOnSipThread(const std::string& call_id,
                                  const std::function<void(grpc::Status)>& done);
  // Runs a media request for the caller's leg on a worker; `done` gets its outcome.
  void mediaCommandOnSipThread(Call& call,
                               std::function<absl::Status(const std::string& session)> work,
                               std::function<void(grpc::Status)> done);
  Call* findCall(const std::string& call_id);
  // The call's line in this instance's ledger (workers only; a failure is logged: the call goes on,
  // it is only not closed by a survivor should this instance be lost).
  // `update_only`: only while the line is there (a late write never brings back an ended call).
  void recordInLedger(const std::string& call_id, const Admission& admission,
                      const std::string& answered_leg, const std::vector<std::string>& limits,
                      bool update_only);
  void eraseFromLedger(const std::string& call_id, const Admission& admission);

  SipStack& stack_;
  CallAdmission& admission_;
  Bindings& bindings_;
  const RegisteredLines& lines_;
  MediaControl& media_;
  EventSink& events_;
  CallLedger& ledger_;
  ApplicationHub& applications_;
  grpc_util::BlockingExecutor& workers_;
  B2buaOptions options_;
  log::Logger log_;

  TargetProber prober_;

  // SIP thread only.
  std::map<std::string, std::unique_ptr<Call>> calls_;
  struct LegRef {
    std::string call_id;
    std::string leg_id;  // "a" for the caller
  };
  std::unordered_map<Handle, LegRef> handles_;
  size_t admitting_ = 0;  // calls between arrival and onAdmittedOnSipThread

  prometheus::Gauge& active_calls_;
  prometheus::Histogram& routing_seconds_;
  prometheus::Family<prometheus::Counter>& ended_calls_;
  prometheus::Family<prometheus::Counter>& refused_calls_;
  prometheus::Counter& shed_calls_;
};

}  // namespace tel::sip
