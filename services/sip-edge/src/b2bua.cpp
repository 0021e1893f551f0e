#include "b2bua.h"

#include <sofia-sip/auth_digest.h>
#include <sofia-sip/sip_status.h>
#include <sofia-sip/url.h>

#include <strings.h>

#include <algorithm>
#include <cstring>
#include <set>
#include <utility>

#include "sofia_event.h"
#include "tel/events/call_events.h"

namespace tel::sip {
namespace {

using calls::v1::CallEvent;
using calls::v1::CallNotification;

std::string text(const char* value) { return value ? value : ""; }

std::string payloadOf(const sip_t* sip) {
  if (sip == nullptr || sip->sip_payload == nullptr || sip->sip_payload->pl_data == nullptr)
    return {};
  return std::string(sip->sip_payload->pl_data, sip->sip_payload->pl_len);
}

// Why a B leg's final response failed it, in the words of the call-control API.
std::string failureReason(int status) {
  switch (status) {
    case 486:
    case 600:
      return "busy";
    case 408:
    case 487:
      return "no_answer";
    case 403:
    case 603:
      return "rejected";
    default:
      return "unavailable";
  }
}

// Which failure tells the caller most when every leg failed: busy, then a refusal, then no answer.
int failureRank(int status) {
  const std::string reason = failureReason(status);
  if (reason == "busy") return 4;
  if (reason == "rejected") return 3;
  if (reason == "no_answer") return 2;
  return 1;
}

std::chrono::milliseconds firstDigitTimeout(const calls::v1::CollectDigitsRequest& request) {
  return std::chrono::milliseconds(request.first_digit_timeout_ms() == 0 ? 5000 : request.first_digit_timeout_ms());
}

calls::v1::Disposition dispositionAfterFailedDial(const std::string& reason) {
  if (reason == "busy") return calls::v1::DISPOSITION_BUSY;
  if (reason == "no_answer") return calls::v1::DISPOSITION_NO_ANSWER;
  return calls::v1::DISPOSITION_FAILED;
}

// nua_respond() keeps the phrase pointer, unread, until its stack takes the response off its queue:
// a phrase copied from a message or held in a std::string may be gone by then (and garbage went
// out on the wire). Only sofia's static table and literals are safe.
const char* phraseOf(int status) {
  if (const char* known = sip_status_phrase(status)) return known;
  return status < 500 ? "Request Failed" : "Server Error";
}

nua_callstate callStateOf(const SipStack::Event& event) {
  int state = nua_callstate_init;
  tl_gets(event.tags, NUTAG_CALLSTATE_REF(state), TAG_END());
  return static_cast<nua_callstate>(state);
}

std::string headerBlock(const std::vector<std::pair<std::string, std::string>>& headers) {
  std::string block;
  for (const auto& [name, value] : headers) block += name + ": " + value + "\r\n";
  if (!block.empty()) block.resize(block.size() - 2);
  return block;
}

}  // namespace

struct B2bua::Leg {
  enum class State { kCalling, kRinging, kAnswered, kEnded };
  std::string id;
  Handle handle = nullptr;  // null once sofia has destroyed the dialog
  State state = State::kCalling;
  int final_status = 0;
  std::string reason;
  calls::v1::LegTargetKind kind = calls::v1::LEG_TARGET_UNSPECIFIED;
  std::string target;
  std::string account_id;
  std::string extension;
  RelayEndpoint relay;  // where this leg's party sends audio
  std::chrono::milliseconds response_timeout{0};  // from the plan: see response_deadline
  std::string carrier_id;           // the carrier an external target is reached through
  bool answered_challenge = false;  // its digest challenge was answered (once per leg)
  // When a target that has not answered at all (not even 100 Trying) is given up as down.
  Clock::time_point response_deadline = Clock::time_point::max();

  bool live() const { return state != State::kEnded; }
};

struct B2bua::PlannedLeg {
  std::string id;
  calls::v1::LegTargetKind kind = calls::v1::LEG_TARGET_UNSPECIFIED;
  std::string request_uri;
  std::string next_hop;  // "sip:host:port;transport=x" when the device is behind NAT
  std::string route;     // the device's Path when it registered through a proxy
  std::string from_user;
  std::string account_id;
  std::string extension;
  RelayEndpoint relay;
  std::chrono::milliseconds response_timeout{0};  // 0: none (ExternalTarget.response_timeout_ms)
  std::string carrier_id;  // ExternalTarget.carrier_id
};

// What a dial's worker hands back to the SIP thread: the legs to place, the limit slots it took
// for the call, or why it rings nobody.
struct DialPreparation {
  std::vector<B2bua::PlannedLeg> legs;
  std::vector<std::string> held_limits;
  int failed_status = 0;
  std::string failed_reason;
};

namespace {

B2bua::PlannedLeg externalLeg(const calls::v1::ExternalTarget& target, const std::string& caller) {
  B2bua::PlannedLeg leg;
  leg.kind = calls::v1::LEG_TARGET_EXTERNAL;
  leg.request_uri = target.request_uri();
  leg.from_user = target.caller_id().empty() ? caller : target.caller_id();
  leg.response_timeout = std::chrono::milliseconds(target.response_timeout_ms());
  leg.carrier_id = target.carrier_id();
  return leg;
}

}  // namespace

struct B2bua::Call {
  // kAnswered: the application answered the caller itself (a voice menu) and has not dialled yet.
  enum class State {
    kAdmitting,
    kOffered,
    kDialing,
    kAnswering,
    kBridged,
    kDialFailed,
    kEnding,
    kAnswered
  };
  std::string id;
  std::string sip_call_id;
  std::string source_ip;
  State state = State::kAdmitting;
  Admission admission;
  uint64_t application = 0;
  // Set once an application handed the call over (HandOver): the name it went to and what it was
  // given, so that it can be offered again should that application go.
  std::string handed_to;
  std::string handed_over_by;
  std::map<std::string, std::string> hand_over_context;
  log::Logger log;

  explicit Call(log::Logger logger) : log(std::move(logger)) {}

  Handle caller = nullptr;
  bool caller_answered = false;
  bool caller_ringing = false;  // 180/183 sent
  bool caller_gone = false;     // the caller's dialog is over (CANCEL, BYE, error)
  std::string caller_sdp;
  // Set when the application answered the caller: the audio sip-edge chose, which every callee
  // is then offered alone (the caller will not renegotiate).
  std::optional<ChosenAudio> local_audio;
  // The answered caller's playback in progress (its id) and keys being collected, if any.
  std::string playing;
  struct DigitCollection {
    calls::v1::CollectDigitsRequest request;
    std::string digits;
    Clock::time_point deadline = Clock::time_point::max();  // max: waiting for the prompt's end
  };
  std::optional<DigitCollection> collect;
  // The caller's message being recorded (Record), from the greeting's end to its own.
  struct MessageRecording {
    calls::v1::RecordRequest request;
    bool started = false;
    Clock::time_point deadline = Clock::time_point::max();  // its maximum length, once started
  };
  std::optional<MessageRecording> message;
  bool took_message = false;  // a Record was accepted: the caller reached voicemail
  // The relay's StartRecording is in flight; a message that ends meanwhile is stopped after it.
  bool message_starting = false;
  const char* message_stop_reason = nullptr;
  bool playing_loops = false;  // the playback in progress is a loop (music on hold, ringback)
  // Keys sent as SIP INFO in the current second (a flood is cut at 20).
  Clock::time_point info_keys_window{};
  int info_keys = 0;

  std::map<std::string, Leg> legs;  // the B legs by id
  int dials = 0;
  std::string bridged_leg;
  std::string early_media_leg;
  std::string failed_reason;  // of the last failed dial
  std::vector<std::string> held_limits;  // DialRequest.limits keys this call holds a slot of
  bool record = false;                   // a dial asked for the call to be recorded

  // A re-INVITE being passed through: the leg that sent it and the one it was forwarded to.
  std::string reinvite_from;
  std::string reinvite_to;

  Clock::time_point deadline = Clock::time_point::max();  // the application's or the dial's
  Clock::time_point arrived = Clock::now();
  uint64_t next_sequence = 1;

  Handle handleOf(const std::string& leg_id) const {
    if (leg_id == "a") return caller_gone ? nullptr : caller;
    auto it = legs.find(leg_id);
    return it == legs.end() ? nullptr : it->second.handle;
  }
};

B2bua::B2bua(SipStack& stack, CallAdmission& admission, const RegisteredLines& lines,
             Bindings& bindings, MediaControl& media,
             EventSink& events, CallLedger& ledger, ApplicationHub& applications,
             grpc_util::BlockingExecutor& workers, B2buaOptions options, log::Logger logger,
             prometheus::Registry& registry)
    : stack_(stack),
      admission_(admission),
      bindings_(bindings),
      lines_(lines),
      media_(media),
      events_(events),
      ledger_(ledger),
      applications_(applications),
      workers_(workers),
      options_(std::move(options)),
      log_(std::move(logger)),
      prober_(stack, options_.edge_host, options_.outbound_proxy),
      active_calls_(prometheus::BuildGauge()
                        .Name("tel_sip_calls_active")
                        .Help("Calls in progress on this sip-edge")
                        .Register(registry)
                        .Add({})),
      routing_seconds_(
          prometheus::BuildHistogram()
              .Name("tel_sip_call_routing_seconds")
              .Help("From an INVITE's arrival to its first B leg being sent: admission "
                    "and the application's decision")
              .Register(registry)
              .Add({}, prometheus::Histogram::BucketBoundaries{0.005, 0.01, 0.025, 0.05, 0.1, 0.25,
                                                               0.5, 1, 2.5, 5})),
      ended_calls_(prometheus::BuildCounter()
                       .Name("tel_sip_calls_total")
                       .Help("Admitted calls that ended, by disposition")
                       .Register(registry)),
      refused_calls_(prometheus::BuildCounter()
                         .Name("tel_sip_calls_refused_total")
                         .Help("INVITEs refused before a call began, by SIP status")
                         .Register(registry)),
      shed_calls_(prometheus::BuildCounter()
                      .Name("tel_sip_calls_shed_total")
                      .Help("INVITEs refused with 503 because calls.max_admitting calls were "
                            "being admitted already (overload)")
                      .Register(registry)
                      .Add({})) {
  // The usual statuses and every disposition exist from the start, so that rates and ratios over
  // them are defined.
  for (const char* status : {"400", "403", "404", "407", "480", "486", "488", "503"}) {
    refused_calls_.Add({{"status", status}});
  }
  for (int value = calls::v1::Disposition_MIN + 1; value <= calls::v1::Disposition_MAX; ++value) {
    ended_calls_.Add({{"disposition", calls::v1::Disposition_Name(value)}});
  }
  applications_.setDetachListener([this](uint64_t application) {
    stack_.post([this, application] { reofferOnSipThread(application); });
  });
}

B2bua::~B2bua() { applications_.setDetachListener(nullptr); }

template <typename Work, typename Then>
void B2bua::runBlocking(Work work, Then then) {
  workers_.post([this, work = std::move(work), then = std::move(then)]() mutable {
    auto result = work();
    stack_.post([then = std::move(then), result = std::move(result)]() mutable {
      then(std::move(result));
    });
  });
}

B2bua::Call* B2bua::findCall(const std::string& call_id) {
  auto it = calls_.find(call_id);
  return it == calls_.end() ? nullptr : it->second.get();
}

namespace {
// Calls a survivor would have to close: admitted ones (refused calls end at once).
bool isLedgered(const Admission& admission) {
  return !admission.refusal && !admission.tenant_id.empty();
}
}  // namespace

void B2bua::recordInLedger(const std::string& call_id, const Admission& admission,
                           const std::string& answered_leg, const std::vector<std::string>& limits,
                           bool update_only) {
  if (!isLedgered(admission)) return;
  const LedgerEntry entry{call_id,
                          admission.tenant_id,
                          admission.holds_channel ? admission.number_id : "",
                          admission.media_relay,
                          admission.media_session,
                          answered_leg,
                          limits};
  const absl::Status written = update_only ? ledger_.update(entry) : ledger_.record(entry);
  if (!written.ok()) {
    log_.warn("call not written to the ledger",
              {{"call_id", call_id}, {"error", std::string(written.message())}});
  }
}

void B2bua::eraseFromLedger(const std::string& call_id, const Admission& admission) {
  if (!isLedgered(admission)) return;
  if (auto erased = ledger_.erase(call_id); !erased.ok()) {
    log_.warn("call not erased from the ledger",
              {{"call_id", call_id}, {"error", std::string(erased.message())}});
  }
}

bool B2bua::handleOnSipThread(const SipStack::Event& event) {
  if (prober_.handleOnSipThread(event)) return true;
  const auto known = handles_.find(event.handle);
  Call* call = known == handles_.end() ? nullptr : findCall(known->second.call_id);
  const std::string leg_id = known == handles_.end() ? std::string() : known->second.leg_id;
  switch (event.event) {
    case nua_i_invite:
      if (known == handles_.end()) {
        onNewInviteOnSipThread(event);
      } else if (call != nullptr) {
        onReinviteOnSipThread(*call, leg_id, event);
      } else {
        nua_respond(event.handle, 481, "Call/Transaction Does Not Exist", TAG_END());
      }
      return true;
    case nua_r_invite:
      if (call != nullptr) onInviteResponseOnSipThread(*call, leg_id, event);
      return true;
    case nua_i_cancel:
      if (call != nullptr && leg_id == "a") {
        call->caller_gone = true;  // nua has answered the INVITE with 487
        endCallOnSipThread(*call, calls::v1::DISPOSITION_CANCELLED, calls::v1::SIDE_CALLER, 487,
                           "cancelled by the caller");
      }
      return true;
    case nua_i_bye:
      if (call != nullptr) onByeOnSipThread(*call, leg_id);
      return true;
    case nua_i_options:  // within a dialog (SipStack answers the others)
      if (known == handles_.end()) return false;  // not a handle of ours: SipStack answers 481
      // Yes, the call is here, even while draining (the load balancer's dialog keep-alive); the
      // handle stays ours either way.
      if (call != nullptr && call->state != Call::State::kEnding)
        nua_respond(event.handle, 200, "OK", NUTAG_WITH_THIS(stack_.nuaOnSipThread()), TAG_END());
      else
        nua_respond(event.handle, 481, "Call/Transaction Does Not Exist",
                    NUTAG_WITH_THIS(stack_.nuaOnSipThread()), TAG_END());
      return true;
    case nua_i_info:
      if (known == handles_.end()) return false;  // not a dialog of ours: SipStack answers 481
      onInfoOnSipThread(call, leg_id, event);
      return true;
    case nua_i_state:
      if (callStateOf(event) == nua_callstate_terminated) onTerminatedOnSipThread(event.handle);
      return true;
    case nua_i_ack:
    case nua_r_bye:
    case nua_r_cancel:
    case nua_i_active:
    case nua_i_terminated:
    case nua_i_prack:
      return true;
    default:
      return false;
  }
}

void B2bua::onNewInviteOnSipThread(const SipStack::Event& event) {
  const sip_t* sip = event.sip;
  Handle handle = event.handle;
  // Known from here on, so that the handle is destroyed when sofia reports the dialog's end, even
  // for an INVITE refused below.
  handles_[handle] = LegRef{"", "a"};
  if (stack_.draining()) {
    // RFC 3261 21.5.4: the caller (or the load balancer in front) tries another instance.
    nua_respond(handle, 503, "Service Unavailable", SIPTAG_RETRY_AFTER_STR("60"), TAG_END());
    refused_calls_.Add({{"status", "503"}}).Increment();
    return;
  }
  if (admitting_ >= options_.max_admitting) {
    // Overload. Admissions share the workers with the calls in progress (dial, answer, end): past
    // this backlog every call would only get slower, until callers give up or the relay runs out of
    // ports. Refusing new calls keeps the others going; a load balancer tries another instance.
    nua_respond(handle, 503, "Service Unavailable", SIPTAG_RETRY_AFTER_STR("5"), TAG_END());
    refused_calls_.Add({{"status", "503"}}).Increment();
    shed_calls_.Increment();
    return;
  }
  if (sip == nullptr || sip->sip_request == nullptr || sip->sip_from == nullptr) {
    nua_respond(handle, 400, "Bad Request", TAG_END());
    refused_calls_.Add({{"status", "400"}}).Increment();
    return;
  }
  const std::string offer = payloadOf(sip);
  auto media = findAudioEndpoint(offer);
  if (!media.ok()) {
    // RFC 3261 13.3.1.3: an offer we cannot take gets 488, with the reason in a Warning header.
    const std::string warning =
        "399 tel-sip-edge \"" + std::string(media.status().message()) + "\"";
    nua_respond(handle, 488, "Not Acceptable Here", SIPTAG_WARNING_STR(warning.c_str()), TAG_END());
    refused_calls_.Add({{"status", "488"}}).Increment();
    return;
  }

  const std::string new_call_id = events::newEventId();
  auto call = std::make_unique<Call>(log_.withFields({{"call_id", new_call_id}}));
  call->id = new_call_id;
  call->sip_call_id = sip->sip_call_id ? text(sip->sip_call_id->i_id) : "";
  call->caller = handle;
  call->caller_sdp = offer;
  handles_[handle] = LegRef{call->id, "a"};

  InviteRequest invite;
  invite.call_id = call->id;
  invite.request_user = text(sip->sip_request->rq_url->url_user);
  invite.request_host = text(sip->sip_request->rq_url->url_host);
  for (auto& c : invite.request_host)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  invite.from_user = text(sip->sip_from->a_url->url_user);
  invite.to_user = text(sip->sip_to->a_url->url_user);
  invite.source_ip = stack_.sourceOf(sip).ip;
  if (sip->sip_proxy_authorization != nullptr) {
    auth_response_t parsed[1];
    std::memset(parsed, 0, sizeof parsed);
    parsed->ar_size = sizeof(auth_response_t);
    su_home_t home[1] = {SU_HOME_INIT(home)};
    if (auth_digest_response_get(home, parsed, sip->sip_proxy_authorization->au_params) >= 0) {
      invite.proxy_authorization = DigestResponse{
          text(parsed->ar_username), text(parsed->ar_realm),    text(parsed->ar_nonce),
          text(parsed->ar_uri),      text(parsed->ar_response), text(parsed->ar_algorithm),
          text(parsed->ar_qop),      text(parsed->ar_nc),       text(parsed->ar_cnonce)};
    }
    su_home_deinit(home);
  }
  invite.caller_media = *media;
  invite.caller_sdp = call->caller_sdp;
  call->source_ip = invite.source_ip;
  call->log.info("call arriving", {{"sip_call_id", call->sip_call_id},
                                   {"to", invite.request_user},
                                   {"from", invite.from_user},
                                   {"source", invite.source_ip}});
  nua_respond(handle, 100, "Trying", TAG_END());
  const std::string call_id = call->id;
  calls_[call_id] = std::move(call);
  active_calls_.Increment();

  ++admitting_;
  runBlocking(
      [this, invite] {
        Admission admission = admission_.admit(invite, std::chrono::system_clock::now());
        recordInLedger(invite.call_id, admission, "", {}, /*update_only=*/false);
        return admission;
      },
      [this, call_id](Admission admission) {
        onAdmittedOnSipThread(call_id, std::move(admission));
      });
}

void B2bua::onAdmittedOnSipThread(const std::string& call_id, Admission admission) {
  --admitting_;
  Call* call = findCall(call_id);
  if (call == nullptr || call->state == Call::State::kEnding) {
    // The caller gave up while the call was being admitted: give back what admission took.
    runBlocking(
        [this, call_id, admission = std::move(admission)] {
          if (!admission.media_session.empty()) (void)media_.deleteSession(admission.media_session);
          admission_.release(admission, call_id);
          eraseFromLedger(call_id, admission);
          return true;
        },
        [](bool) {});
    return;
  }
  call->admission = std::move(admission);
  const Admission& admitted = call->admission;
  if (!admitted.tenant_id.empty())
    call->log = call->log.withFields({{"tenant_id", admitted.tenant_id}});

  if (admitted.refusal && admitted.refusal->status != 486) {
    const SipResponse& refusal = *admitted.refusal;
    if (!call->caller_gone) {
      const std::string headers = headerBlock(refusal.headers);
      nua_respond(call->caller, refusal.status, refusal.phrase,
                  TAG_IF(!headers.empty(), SIPTAG_HEADER_STR(headers.c_str())), TAG_END());
    }
    refused_calls_.Add({{"status", std::to_string(refusal.status)}}).Increment();
    if (refusal.authentication_failed) stack_.reportAuthenticationFailure(call->source_ip);
    if (refusal.status != 407)
      call->log.info("call refused", {{"status", std::to_string(refusal.status)}});
    calls_.erase(call_id);
    active_calls_.Decrement();
    return;
  }

  CallEvent started;
  auto* details = started.mutable_call_started();
  details->set_direction(admitted.direction);
  details->set_caller(admitted.caller);
  details->set_called(admitted.called);
  details->set_number_id(admitted.number_id);
  details->set_caller_account_id(admitted.caller_account_id);
  publishOnSipThread(*call, started);

  if (admitted.refusal) {  // every channel of the number is busy: the tenant sees the missed call
    endCallOnSipThread(*call, calls::v1::DISPOSITION_BUSY, calls::v1::SIDE_SYSTEM, 486,
                       "all channels busy");
    return;
  }
  if (call->caller_gone) {  // cancelled while being admitted
    endCallOnSipThread(*call, calls::v1::DISPOSITION_CANCELLED, calls::v1::SIDE_CALLER, 487,
                       "cancelled by the caller");
    return;
  }

  auto application = applications_.offer(offerOf(*call));
  if (!application) {
    call->log.error("no application attached to take the call");
    endCallOnSipThread(*call, calls::v1::DISPOSITION_FAILED, calls::v1::SIDE_SYSTEM, 503,
                       "no application attached");
    return;
  }
  call->application = *application;
  call->state = Call::State::kOffered;
  call->deadline = Clock::now() + options_.decision_timeout;
}

CallNotification B2bua::offerOf(const Call& call) {
  const Admission& admitted = call.admission;
  CallNotification offer;
  offer.set_call_id(call.id);
  auto* offered = offer.mutable_offered();
  offered->set_tenant_id(admitted.tenant_id);
  offered->set_direction(admitted.direction);
  offered->set_caller(admitted.caller);
  offered->set_called(admitted.called);
  offered->set_number_id(admitted.number_id);
  offered->set_caller_account_id(admitted.caller_account_id);
  offered->set_caller_outbound_allowed(admitted.caller_outbound_allowed);
  offered->set_answered(call.caller_answered);
  offered->mutable_context()->insert(call.hand_over_context.begin(), call.hand_over_context.end());
  return offer;
}

void B2bua::note(const calls::v1::NoteRequest& request, std::function<void(grpc::Status)> done) {
  stack_.post([this, request, done = std::move(done)] {
    Call* call = findCall(request.call_id());
    if (call == nullptr || call->state == Call::State::kEnding) {
      done(grpc::Status(grpc::StatusCode::NOT_FOUND, "no such call"));
      return;
    }
    publishRouteOnSipThread(*call, request.route());
    done(grpc::Status::OK);
  });
}

void B2bua::handOver(const calls::v1::HandOverRequest& request, std::function<void(grpc::Status)> done) {
  stack_.post([this, request, done = std::move(done)] {
    Call* call = findCall(request.call_id());
    if (call == nullptr || call->state == Call::State::kEnding || call->caller_gone) {
      done(grpc::Status(grpc::StatusCode::NOT_FOUND, "no such call"));
      return;
    }
    if (call->state == Call::State::kDialing || call->state == Call::State::kAnswering ||
        call->state == Call::State::kBridged || call->state == Call::State::kAdmitting) {
      done(grpc::Status(grpc::StatusCode::FAILED_PRECONDITION, "legs are ringing or the call is bridged"));
      return;
    }
    const std::string from = applications_.nameOf(call->application);
    auto context = std::map<std::string, std::string>(request.context().begin(), request.context().end());
    std::swap(call->hand_over_context, context);
    CallNotification offer = offerOf(*call);
    offer.mutable_offered()->set_handed_over_by(from);
    auto application = applications_.offerTo(request.application(), offer);
    if (!application) {
      std::swap(call->hand_over_context, context);
      done(grpc::Status(grpc::StatusCode::UNAVAILABLE, "no application named " + request.application() + " is attached"));
      return;
    }
    publishRouteOnSipThread(*call, request.route());
    call->application = *application;
    call->handed_to = request.application();
    call->handed_over_by = from;
    // The new application decides as the first did: within the decision timeout, unless the
    // caller is answered (it then drives the call as long as the caller stays).
    if (call->caller_answered) {
      call->deadline = call->arrived + options_.max_call_duration;
    } else if (call->state == Call::State::kOffered || call->state == Call::State::kDialFailed) {
      call->deadline = Clock::now() + options_.decision_timeout;
    }
    call->log.info("call handed over", {{"from", from}, {"to", request.application()}});
    done(grpc::Status::OK);
  });
}

void B2bua::reofferOnSipThread(uint64_t application) {
  std::vector<std::string> orphans;
  for (const auto& [id, call] : calls_) {
    if (call->application == application && !call->handed_to.empty() && call->state != Call::State::kEnding)
      orphans.push_back(id);
  }
  for (const auto& id : orphans) {
    Call* call = findCall(id);
    if (call == nullptr) continue;
    CallNotification offer = offerOf(*call);
    offer.mutable_offered()->set_reoffered(true);
    offer.mutable_offered()->set_handed_over_by(call->handed_over_by);
    if (auto next = applications_.offerTo(call->handed_to, offer)) {
      call->application = *next;
      call->log.info("call offered again: its application has gone", {{"application", call->handed_to}});
      continue;
    }
    call->log.error("call ended: its application has gone and no other is attached",
                    {{"application", call->handed_to}});
    endCallOnSipThread(*call, call->bridged_leg.empty() ? calls::v1::DISPOSITION_FAILED : calls::v1::DISPOSITION_ANSWERED,
                       calls::v1::SIDE_SYSTEM, 503, "application gone");
  }
}

void B2bua::dial(const calls::v1::DialRequest& request, std::function<void(grpc::Status)> done) {
  stack_.post([this, request, done = std::move(done)]() mutable {
    dialOnSipThread(request, std::move(done));
  });
}

void B2bua::dialOnSipThread(const calls::v1::DialRequest& request,
                            std::function<void(grpc::Status)> done) {
  Call* call = findCall(request.call_id());
  if (call == nullptr || call->state == Call::State::kEnding) {
    done(grpc::Status(grpc::StatusCode::NOT_FOUND, "no such call"));
    return;
  }
  const bool waiting = call->state == Call::State::kOffered ||
                       call->state == Call::State::kDialFailed ||
                       call->state == Call::State::kAnswered;
  if (!waiting) {
    done(grpc::Status(grpc::StatusCode::FAILED_PRECONDITION, "the call is not waiting for a dial"));
    return;
  }
  publishRouteOnSipThread(*call, request.route());
  call->state = Call::State::kDialing;
  call->collect.reset();  // a menu's input ends with its choice
  call->record = call->record || request.record();
  call->deadline = Clock::time_point::max();  // set when the legs are placed
  const int dial_number = ++call->dials;
  const std::string call_id = call->id;
  const std::string tenant_id = call->admission.tenant_id;
  const std::string session = call->admission.media_session;
  const std::string caller = call->admission.caller;
  const uint32_t timeout = request.timeout_seconds() == 0 ? 30 : request.timeout_seconds();
  // The first leg of the first dial has had its ports since admission.
  std::optional<RelayEndpoint> prepared;
  if (dial_number == 1 && call->admission.first_callee_relay.port != 0)
    prepared = call->admission.first_callee_relay;
  // Limits the call does not hold yet (a later dial may repeat those of an earlier one).
  std::vector<std::pair<std::string, int>> limits;
  for (const auto& limit : request.limits()) {
    if (std::find(call->held_limits.begin(), call->held_limits.end(), limit.key()) == call->held_limits.end())
      limits.emplace_back(limit.key(), static_cast<int>(limit.max()));
  }
  if (prepared && limits.empty() && request.targets_size() == 1 && request.targets(0).has_external()) {
    // One SIP URI: nothing to look up and nothing to allocate, so no worker round trip.
    std::vector<PlannedLeg> legs{externalLeg(request.targets(0).external(), caller)};
    legs[0].id = calleeLegId(dial_number, 1);
    legs[0].relay = *prepared;
    placeLegsOnSipThread(call_id, std::move(legs), timeout, std::move(done));
    return;
  }
  runBlocking(
      [this, request, dial_number, tenant_id, session, caller, call_id, prepared, limits,
       admission = call->admission, already_held = call->held_limits] {
        DialPreparation result;
        if (!limits.empty()) {
          auto full = admission_.holdLimits(tenant_id, call_id, limits);
          if (!full.ok()) {
            log_.error("limit count failed", {{"call_id", call_id}, {"error", std::string(full.status().message())}});
            result.failed_status = 503;
            result.failed_reason = "unavailable";
            return result;
          }
          if (*full) {
            log_.info("dial refused: limit reached", {{"call_id", call_id}, {"tenant_id", tenant_id}, {"limit", **full}});
            result.failed_status = 486;
            result.failed_reason = "limit_reached";
            return result;
          }
          for (const auto& limit : limits) result.held_limits.push_back(limit.first);
          // A survivor gives the slots back should this instance be lost during the call.
          std::vector<std::string> all = already_held;
          all.insert(all.end(), result.held_limits.begin(), result.held_limits.end());
          recordInLedger(call_id, admission, "", all, /*update_only=*/true);
        }
        // Every registered device of an account target becomes a leg; then each leg gets its ports.
        std::vector<PlannedLeg> planned;
        const int64_t now = std::chrono::duration_cast<std::chrono::seconds>(
                                std::chrono::system_clock::now().time_since_epoch())
                                .count();
        for (const auto& target : request.targets()) {
          if (target.has_external()) {
            planned.push_back(externalLeg(target.external(), caller));
            continue;
          }
          auto devices = bindings_.list(tenant_id, target.account().account_id(), now);
          if (!devices.ok()) {
            log_.error("bindings lookup failed",
                       {{"call_id", call_id}, {"error", std::string(devices.status().message())}});
            continue;
          }
          for (const Binding& device : *devices) {
            PlannedLeg leg;
            leg.kind = calls::v1::LEG_TARGET_ACCOUNT;
            leg.request_uri = device.contact;
            leg.from_user = caller;
            leg.account_id = target.account().account_id();
            leg.extension = target.account().extension();
            // A device that registered through a proxy (the SIP load balancer) is reached through
            // it (its Path, which knows the way through the device's NAT); one behind NAT that
            // registered directly, where its REGISTER came from, not at its Contact.
            leg.route = device.path;
            if (leg.route.empty() && !device.source.empty() &&
                device.contact.find("@" + device.source) == std::string::npos) {
              const bool tcp = device.contact.find("transport=tcp") != std::string::npos;
              leg.next_hop = "sip:" + device.source + (tcp ? ";transport=tcp" : "");
            }
            planned.push_back(std::move(leg));
          }
        }
        std::vector<PlannedLeg> ready;
        for (size_t i = 0; i < planned.size(); ++i) {
          planned[i].id = calleeLegId(dial_number, i + 1);
          if (i == 0 && prepared) {
            planned[i].relay = *prepared;
            ready.push_back(std::move(planned[i]));
            continue;
          }
          auto relay = media_.addLeg(session, planned[i].id, std::nullopt);
          if (!relay.ok()) {
            log_.error("media leg failed",
                       {{"call_id", call_id}, {"error", std::string(relay.status().message())}});
            continue;
          }
          planned[i].relay = *relay;
          ready.push_back(std::move(planned[i]));
        }
        result.legs = std::move(ready);
        return result;
      },
      [this, call_id, tenant_id, timeout, done = std::move(done)](DialPreparation prepared) mutable {
        Call* current = findCall(call_id);
        if (current != nullptr && current->state == Call::State::kDialing) {
          current->held_limits.insert(current->held_limits.end(), prepared.held_limits.begin(),
                                      prepared.held_limits.end());
          if (prepared.failed_status != 0) {
            done(grpc::Status::OK);
            dialFailedOnSipThread(*current, prepared.failed_status, prepared.failed_reason, /*placed=*/false);
            return;
          }
        } else if (!prepared.held_limits.empty()) {
          // The call ended meanwhile, and its end gave back only what it knew it held.
          runBlocking(
              [this, tenant_id, call_id, held = std::move(prepared.held_limits)] {
                admission_.releaseLimits(tenant_id, call_id, held);
                return true;
              },
              [](bool) {});
        }
        placeLegsOnSipThread(call_id, std::move(prepared.legs), timeout, std::move(done));
      });
}

void B2bua::placeLegsOnSipThread(const std::string& call_id, std::vector<PlannedLeg> planned,
                                 uint32_t timeout_seconds, std::function<void(grpc::Status)> done) {
  Call* call = findCall(call_id);
  if (call == nullptr || call->state != Call::State::kDialing) {
    done(grpc::Status(grpc::StatusCode::NOT_FOUND, "the call ended while dialling"));
    return;
  }
  done(grpc::Status::OK);
  if (call->dials == 1 && !planned.empty()) {
    routing_seconds_.Observe(std::chrono::duration<double>(Clock::now() - call->arrived).count());
  }
  nua_t* nua = stack_.nuaOnSipThread();
  for (PlannedLeg& plan : planned) {
    // An answered caller's audio is settled: the callee is offered exactly that. Otherwise the
    // caller's own offer passes through, and the two parties negotiate with each other.
    const AudioEndpoint relay{plan.relay.ip, plan.relay.port};
    auto sdp = call->local_audio
                   ? absl::StatusOr<std::string>(describeAudio(relay, *call->local_audio, call->dials, 1))
                   : rewriteAudioEndpoint(call->caller_sdp, relay);
    if (!sdp.ok()) continue;  // the offer was checked on arrival; this cannot fail on a valid one
    const std::string from = "<sip:" + plan.from_user + "@" + options_.edge_host + ">";
    const std::string to = "<" + plan.request_uri + ">";
    if (plan.route.empty() && plan.next_hop.empty()) plan.route = options_.outbound_proxy;
    Handle handle = nua_handle(
        nua, nullptr, SIPTAG_TO_STR(to.c_str()), SIPTAG_FROM_STR(from.c_str()),
        TAG_IF(!plan.next_hop.empty(), NUTAG_PROXY(plan.next_hop.c_str())),
        TAG_IF(!plan.route.empty(), NUTAG_INITIAL_ROUTE_STR(plan.route.c_str())), TAG_END());
    if (handle == nullptr) continue;
    handles_[handle] = LegRef{call->id, plan.id};
    Leg leg;
    leg.id = plan.id;
    leg.handle = handle;
    leg.kind = plan.kind;
    leg.target = plan.request_uri;
    leg.account_id = plan.account_id;
    leg.extension = plan.extension;
    leg.relay = plan.relay;
    leg.carrier_id = plan.carrier_id;
    leg.response_timeout = plan.response_timeout;
    if (plan.response_timeout.count() > 0) leg.response_deadline = Clock::now() + plan.response_timeout;
    call->legs[plan.id] = leg;

    CallEvent created;
    auto* details = created.mutable_leg_created();
    details->set_leg_id(plan.id);
    details->set_target_kind(plan.kind);
    details->set_target(plan.kind == calls::v1::LEG_TARGET_ACCOUNT && !plan.extension.empty()
                            ? plan.extension
                            : plan.request_uri);
    details->set_account_id(plan.account_id);
    details->set_extension(plan.extension);
    publishOnSipThread(*call, created);

    nua_invite(handle, NUTAG_URL(plan.request_uri.c_str()),
               SIPTAG_CONTENT_TYPE_STR("application/sdp"), SIPTAG_PAYLOAD_STR(sdp->c_str()),
               TAG_END());
  }
  if (call->legs.empty() || std::none_of(call->legs.begin(), call->legs.end(),
                                         [](const auto& entry) { return entry.second.live(); })) {
    dialFailedOnSipThread(*call, 480, "unavailable", /*placed=*/false);
    return;
  }
  call->deadline = Clock::now() + std::chrono::seconds(timeout_seconds);
}

void B2bua::onInviteResponseOnSipThread(Call& call, const std::string& leg_id,
                                        const SipStack::Event& event) {
  if (!call.reinvite_to.empty() && leg_id == call.reinvite_to) {
    // The answer to a re-INVITE we passed through: hand it back to the side that sent it.
    if (event.status < 200) return;
    Handle from = call.handleOf(call.reinvite_from);
    const std::string from_leg = call.reinvite_from;
    call.reinvite_from.clear();
    call.reinvite_to.clear();
    if (from == nullptr) return;
    if (event.status >= 300) {
      nua_respond(from, event.status, phraseOf(event.status), TAG_END());
      return;
    }
    const std::string answer = payloadOf(event.sip);
    const RelayEndpoint relay =
        from_leg == "a" ? call.admission.caller_relay : call.legs[from_leg].relay;
    auto sdp = rewriteAudioEndpoint(answer, AudioEndpoint{relay.ip, relay.port});
    if (auto remote = findAudioEndpoint(answer); remote.ok() && !remote->onHold()) {
      const std::string session = call.admission.media_session;
      runBlocking(
          [this, session, leg_id, remote = *remote] {
            return media_.updateLeg(session, leg_id, RelayEndpoint{remote.ip, remote.port});
          },
          [](absl::Status) {});
    }
    if (!sdp.ok()) {
      nua_respond(from, 488, "Not Acceptable Here", TAG_END());
      return;
    }
    nua_respond(from, 200, "OK", SIPTAG_CONTENT_TYPE_STR("application/sdp"),
                SIPTAG_PAYLOAD_STR(sdp->c_str()), TAG_END());
    return;
  }
  auto found = call.legs.find(leg_id);
  if (found == call.legs.end()) return;
  Leg& leg = found->second;
  const int status = event.status;
  if (status >= 100) leg.response_deadline = Clock::time_point::max();  // the target is there
  if (status < 100 || status == 100) return;
  if (status < 200) {
    if (!leg.live() || call.state != Call::State::kDialing) return;
    const std::string early_sdp = payloadOf(event.sip);
    if (leg.state == Leg::State::kCalling) {
      leg.state = Leg::State::kRinging;
      CallEvent ringing;
      ringing.mutable_leg_ringing()->set_leg_id(leg.id);
      ringing.mutable_leg_ringing()->set_early_media(!early_sdp.empty());
      publishOnSipThread(call, ringing);
      CallNotification notice;
      notice.mutable_ringing()->set_leg_id(leg.id);
      notifyOnSipThread(call, notice);
    }
    // An answered caller hears what the application plays, not the callee's ringing.
    if (call.caller_gone || call.caller_answered) return;
    // Early media (183 with SDP): the first leg that offers it is heard by the caller.
    auto remote = findAudioEndpoint(early_sdp);
    if (remote.ok() && call.early_media_leg.empty()) {
      call.early_media_leg = leg.id;
      auto sdp = rewriteAudioEndpoint(early_sdp, AudioEndpoint{call.admission.caller_relay.ip,
                                                               call.admission.caller_relay.port});
      const std::string session = call.admission.media_session;
      const std::string call_id = call.id;
      const std::string leg_id_copy = leg.id;
      runBlocking(
          [this, session, leg_id_copy, remote = *remote] {
            return media_.link(session, "a", leg_id_copy, RelayEndpoint{remote.ip, remote.port});
          },
          [this, call_id, sdp](absl::Status linked) {
            Call* current = findCall(call_id);
            if (current == nullptr || current->caller_gone || current->caller_answered ||
                !sdp.ok() || !linked.ok()) {
              return;
            }
            nua_respond(current->caller, 183, "Session Progress",
                        SIPTAG_CONTENT_TYPE_STR("application/sdp"),
                        SIPTAG_PAYLOAD_STR(sdp->c_str()), TAG_END());
            current->caller_ringing = true;
          });
      return;
    }
    if (!call.caller_ringing) {
      nua_respond(call.caller, 180, "Ringing", TAG_END());
      call.caller_ringing = true;
    }
    return;
  }
  if (status < 300) {
    onLegAnsweredOnSipThread(call, leg, event);
    return;
  }
  if ((status == 401 || status == 407) && answerChallengeOnSipThread(call, leg, event)) return;
  onLegFailedOnSipThread(call, leg, status, event.phrase);
}

bool B2bua::answerChallengeOnSipThread(Call& call, Leg& leg, const SipStack::Event& event) {
  // Once: a second challenge means the carrier does not take the credentials.
  if (leg.carrier_id.empty() || leg.answered_challenge || !leg.live()) return false;
  auto credentials = lines_.credentialsFor(leg.carrier_id);
  // Only the call's own tenant's carrier (routing names no other; this keeps it so).
  if (!credentials || credentials->tenant_id != call.admission.tenant_id) return false;
  auto auth = digestAnswerFor(event, credentials->username, credentials->password);
  if (!auth) return false;
  leg.answered_challenge = true;
  // The carrier answered the challenge's INVITE; the one with credentials gets the same time.
  if (leg.response_timeout.count() > 0) leg.response_deadline = Clock::now() + leg.response_timeout;
  call.log.info("carrier challenged the call: answering",
                {{"leg_id", leg.id}, {"carrier_id", leg.carrier_id}});
  nua_authenticate(leg.handle, NUTAG_AUTH(auth->c_str()), TAG_END());
  return true;
}

void B2bua::onLegAnsweredOnSipThread(Call& call, Leg& leg, const SipStack::Event& event) {
  if (call.state != Call::State::kDialing || !leg.live()) {
    // Another leg won (or the call is ending): this late answer is hung up at once.
    if (leg.handle) nua_bye(leg.handle, TAG_END());
    if (leg.live()) {
      leg.state = Leg::State::kEnded;
      leg.final_status = 200;
      leg.reason = "answered_elsewhere";
    }
    return;
  }
  auto remote = findAudioEndpoint(payloadOf(event.sip));
  if (!remote.ok()) {
    call.log.warn("answer without usable SDP",
                  {{"leg_id", leg.id}, {"error", std::string(remote.status().message())}});
    nua_bye(leg.handle, TAG_END());
    onLegFailedOnSipThread(call, leg, 488, "Not Acceptable Here");
    return;
  }
  leg.state = Leg::State::kAnswered;
  leg.final_status = 200;
  leg.reason = "answered";
  call.state = Call::State::kAnswering;
  call.bridged_leg = leg.id;
  call.deadline = Clock::time_point::max();
  CallEvent answered;
  answered.mutable_leg_answered()->set_leg_id(leg.id);
  publishOnSipThread(call, answered);
  // First answer wins: the other legs are cancelled.
  for (auto& [id, other] : call.legs) {
    if (id == leg.id || !other.live()) continue;
    other.state = Leg::State::kEnded;
    other.final_status = 487;
    other.reason = "answered_elsewhere";
    if (other.handle) nua_cancel(other.handle, TAG_END());
  }
  const std::string answer = payloadOf(event.sip);
  const std::string call_id = call.id;
  const std::string leg_id = leg.id;
  runBlocking(
      [this, call_id, admission = call.admission, limits = call.held_limits, leg_id, remote = *remote,
       answered_caller = call.caller_answered, record = call.record] {
        std::optional<RelayEndpoint> address;
        if (!remote.onHold()) address = RelayEndpoint{remote.ip, remote.port};
        absl::Status linked = media_.link(admission.media_session, "a", leg_id, address);
        // A caller the application answered may be hearing a prompt or music: the callee now.
        if (linked.ok() && answered_caller) {
          if (auto stopped = media_.stopPlayback(admission.media_session, "a"); !stopped.ok()) {
            log_.warn("playback not stopped at bridge", {{"call_id", call_id}, {"error", std::string(stopped.message())}});
          }
        }
        // The call goes on unrecorded should the recording not start: losing the call for it
        // would be worse.
        if (linked.ok() && record) {
          if (auto recording = media_.startRecording(admission.media_session, "a", leg_id, {}); !recording.ok()) {
            log_.error("recording not started", {{"call_id", call_id}, {"error", std::string(recording.message())}});
          }
        }
        if (linked.ok()) recordInLedger(call_id, admission, leg_id, limits, /*update_only=*/true);
        return linked;
      },
      [this, call_id, leg_id, answer](absl::Status linked) {
        Call* current = findCall(call_id);
        if (current == nullptr || current->state != Call::State::kAnswering) return;
        if (!linked.ok()) {
          current->log.error("media link failed",
                             {{"leg_id", leg_id}, {"error", std::string(linked.message())}});
          endCallOnSipThread(*current, calls::v1::DISPOSITION_FAILED, calls::v1::SIDE_SYSTEM, 500,
                             "media failure");
          return;
        }
        if (current->caller_gone) return;  // the CANCEL handler has ended the call
        if (!current->caller_answered) {
          const RelayEndpoint& relay = current->admission.caller_relay;
          auto sdp = rewriteAudioEndpoint(answer, AudioEndpoint{relay.ip, relay.port});
          if (!sdp.ok()) {
            endCallOnSipThread(*current, calls::v1::DISPOSITION_FAILED, calls::v1::SIDE_SYSTEM,
                               488, "unusable answer");
            return;
          }
          nua_respond(current->caller, 200, "OK", SIPTAG_CONTENT_TYPE_STR("application/sdp"),
                      SIPTAG_PAYLOAD_STR(sdp->c_str()), TAG_END());
          current->caller_answered = true;
        }
        current->state = Call::State::kBridged;
        current->deadline = Clock::now() + options_.max_call_duration;
        CallEvent bridged;
        bridged.mutable_call_bridged()->set_leg_id(leg_id);
        publishOnSipThread(*current, bridged);
        CallNotification notice;
        notice.mutable_bridged()->set_leg_id(leg_id);
        if (auto answered = current->legs.find(leg_id); answered != current->legs.end())
          notice.mutable_bridged()->set_account_id(answered->second.account_id);
        notifyOnSipThread(*current, notice);
        current->log.info("call bridged", {{"leg_id", leg_id}});
      });
}

void B2bua::giveUpSilentLegsOnSipThread(Call& call, Clock::time_point now) {
  for (auto& [id, leg] : call.legs) {
    if (!leg.live() || leg.response_deadline > now) continue;
    leg.response_deadline = Clock::time_point::max();
    Handle handle = leg.handle;
    // As if it had answered 408: the application hears DialFailed at once and tries another way.
    onLegFailedOnSipThread(call, leg, 408, "no response", "no_response");
    // No CANCEL may go to a target that has answered nothing (RFC 3261 9.1): sofia keeps the
    // INVITE's transaction and sends it should the target answer after all, or lets Timer B end it.
    if (handle != nullptr) nua_cancel(handle, TAG_END());
    if (call.state != Call::State::kDialing) return;  // the dial failed: the legs are settled
  }
}

void B2bua::onLegFailedOnSipThread(Call& call, Leg& leg, int status, const char* phrase, const char* reason) {
  if (!leg.live()) return;  // ended by us (cancelled, timed out): its reason is already set
  leg.state = Leg::State::kEnded;
  leg.final_status = status;
  leg.reason = reason != nullptr ? reason : failureReason(status);
  call.log.info("leg failed",
                {{"leg_id", leg.id}, {"status", std::to_string(status)}, {"phrase", text(phrase)}});
  if (call.state != Call::State::kDialing) return;
  if (std::any_of(call.legs.begin(), call.legs.end(),
                  [](const auto& entry) { return entry.second.live(); }))
    return;
  const Leg* best = nullptr;
  for (const auto& [id, other] : call.legs) {
    if (other.final_status >= 300 &&
        (best == nullptr || failureRank(other.final_status) > failureRank(best->final_status))) {
      best = &other;
    }
  }
  if (best == nullptr) return dialFailedOnSipThread(call, 480, "unavailable", /*placed=*/true);
  dialFailedOnSipThread(call, best->final_status, best->reason, /*placed=*/true);
}

void B2bua::dialFailedOnSipThread(Call& call, int status, const std::string& reason, bool placed) {
  call.state = Call::State::kDialFailed;
  call.failed_reason = reason;
  call.early_media_leg.clear();
  CallNotification notice;
  notice.set_call_id(call.id);
  notice.mutable_dial_failed()->set_status_code(static_cast<uint32_t>(status));
  notice.mutable_dial_failed()->set_reason(reason);
  notice.mutable_dial_failed()->set_placed(placed);
  // A caller answered by the application (a menu, a queue) hears what it plays while it decides;
  // only the call's length bounds that.
  call.deadline = call.caller_answered ? call.arrived + options_.max_call_duration
                                       : Clock::now() + options_.decision_timeout;
  if (!applications_.notify(call.application, notice)) {
    // The application has gone: nobody will decide, so the caller hears the failure now.
    endCallOnSipThread(call, dispositionAfterFailedDial(reason), calls::v1::SIDE_SYSTEM,
                       status == 487 ? 480 : status, reason);
  }
}

namespace {

// The key in a SIP INFO body: "Signal=5" in application/dtmf-relay (the usual form), or the key
// alone in application/dtmf. Empty when the body holds no single key.
std::string infoKey(const std::string& content_type, const std::string& body) {
  std::string key;
  if (strcasecmp(content_type.c_str(), "application/dtmf-relay") == 0) {
    const auto at = body.find("Signal=");
    if (at == std::string::npos) return "";
    const auto start = body.find_first_not_of(" \t", at + 7);
    if (start == std::string::npos) return "";
    key = body.substr(start, 1);
    const auto after = body.find_first_not_of(" \t", start + 1);
    if (after != std::string::npos && body[after] != '\r' && body[after] != '\n') return "";
  } else if (strcasecmp(content_type.c_str(), "application/dtmf") == 0) {
    const auto start = body.find_first_not_of(" \t\r\n");
    const auto end = body.find_last_not_of(" \t\r\n");
    if (start == std::string::npos || start != end) return "";
    key = body.substr(start, 1);
  } else {
    return "";
  }
  if (key == "a" || key == "b" || key == "c" || key == "d") key[0] = static_cast<char>(std::toupper(key[0]));
  return std::string("0123456789*#ABCD").find(key) == std::string::npos ? "" : key;
}

}  // namespace

void B2bua::onInfoOnSipThread(Call* call, const std::string& leg_id, const SipStack::Event& event) {
  nua_t* nua = stack_.nuaOnSipThread();
  if (call == nullptr || call->state == Call::State::kEnding) {
    nua_respond(event.handle, 481, "Call/Transaction Does Not Exist", NUTAG_WITH_THIS(nua), TAG_END());
    return;
  }
  const std::string content_type =
      event.sip && event.sip->sip_content_type && event.sip->sip_content_type->c_type
          ? event.sip->sip_content_type->c_type
          : "";
  const std::string body = payloadOf(event.sip);
  if (call->state == Call::State::kBridged) {
    // Between the parties: passed on to the other side (a phone sending keys to a far-end system).
    const std::string other = leg_id == "a" ? call->bridged_leg : "a";
    if (Handle target = call->handleOf(other)) {
      nua_info(target, TAG_IF(!content_type.empty(), SIPTAG_CONTENT_TYPE_STR(content_type.c_str())),
               TAG_IF(!body.empty(), SIPTAG_PAYLOAD_STR(body.c_str())), TAG_END());
    }
    nua_respond(event.handle, 200, "OK", NUTAG_WITH_THIS(nua), TAG_END());
    return;
  }
  if (leg_id != "a" || !call->caller_answered) {
    nua_respond(event.handle, 200, "OK", NUTAG_WITH_THIS(nua), TAG_END());  // nothing listens yet
    return;
  }
  const std::string key = infoKey(content_type, body);
  if (key.empty()) {
    nua_respond(event.handle, content_type.empty() ? 400 : 415,
                content_type.empty() ? "Bad Request" : "Unsupported Media Type",
                SIPTAG_ACCEPT_STR("application/dtmf-relay, application/dtmf"), NUTAG_WITH_THIS(nua), TAG_END());
    return;
  }
  nua_respond(event.handle, 200, "OK", NUTAG_WITH_THIS(nua), TAG_END());
  // The same bound as for telephone-events: no finger presses more than 20 keys a second.
  const auto now = Clock::now();
  if (now - call->info_keys_window > std::chrono::seconds(1)) {
    call->info_keys_window = now;
    call->info_keys = 0;
  }
  if (++call->info_keys > 20) return;
  call->log.info("digit", {{"digit", key}, {"via", "SIP INFO"}});
  onDigitOnSipThread(*call, key);
}

void B2bua::onByeOnSipThread(Call& call, const std::string& leg_id) {
  if (leg_id == "a") {
    call.caller_gone = true;
    // A caller who leaves a voice menu before anyone answered is a missed call, not an answered one.
    endCallOnSipThread(
        call,
        call.bridged_leg.empty() ? calls::v1::DISPOSITION_CANCELLED : calls::v1::DISPOSITION_ANSWERED,
        calls::v1::SIDE_CALLER, 200, "normal clearing");
    return;
  }
  auto found = call.legs.find(leg_id);
  if (found == call.legs.end()) return;
  Leg& leg = found->second;
  const bool was_bridged = leg_id == call.bridged_leg;
  leg.state = Leg::State::kEnded;
  if (leg.reason.empty() || leg.reason == "answered") leg.reason = "bye";
  if (was_bridged) {
    endCallOnSipThread(call, calls::v1::DISPOSITION_ANSWERED, calls::v1::SIDE_CALLEE, 200,
                       "normal clearing");
  }
}

void B2bua::onReinviteOnSipThread(Call& call, const std::string& leg_id,
                                  const SipStack::Event& event) {
  const std::string other = leg_id == "a" ? call.bridged_leg : "a";
  Handle target =
      call.state == Call::State::kBridged && !other.empty() ? call.handleOf(other) : nullptr;
  if (target == nullptr || !call.reinvite_from.empty()) {
    // RFC 3261 14.2: a re-INVITE while another is in progress gets 491; before the call is
    // bridged there is nobody to pass it to.
    nua_respond(event.handle, call.reinvite_from.empty() ? 488 : 491,
                call.reinvite_from.empty() ? "Not Acceptable Here" : "Request Pending", TAG_END());
    return;
  }
  const std::string offer = payloadOf(event.sip);
  auto remote = findAudioEndpoint(offer);
  if (!remote.ok()) {
    nua_respond(event.handle, 488, "Not Acceptable Here", TAG_END());
    return;
  }
  const RelayEndpoint relay = other == "a" ? call.admission.caller_relay : call.legs[other].relay;
  auto sdp = rewriteAudioEndpoint(offer, AudioEndpoint{relay.ip, relay.port});
  if (!sdp.ok()) {
    nua_respond(event.handle, 488, "Not Acceptable Here", TAG_END());
    return;
  }
  if (!remote->onHold()) {
    const std::string session = call.admission.media_session;
    runBlocking(
        [this, session, leg_id, remote = *remote] {
          return media_.updateLeg(session, leg_id, RelayEndpoint{remote.ip, remote.port});
        },
        [](absl::Status) {});
  }
  call.reinvite_from = leg_id;
  call.reinvite_to = other;
  call.log.info("re-INVITE passed through", {{"from_leg", leg_id}, {"to_leg", other}});
  nua_invite(target, SIPTAG_CONTENT_TYPE_STR("application/sdp"), SIPTAG_PAYLOAD_STR(sdp->c_str()),
             TAG_END());
}

void B2bua::onTerminatedOnSipThread(Handle handle) {
  auto found = handles_.find(handle);
  if (found == handles_.end()) return;
  const LegRef ref = found->second;
  handles_.erase(found);
  nua_handle_destroy(handle);
  Call* call = findCall(ref.call_id);
  if (call == nullptr) return;
  if (ref.leg_id == "a") {
    call->caller = nullptr;
    const bool was_gone = call->caller_gone;
    call->caller_gone = true;
    if (!was_gone && call->state != Call::State::kEnding) {
      // The caller's dialog broke without BYE or CANCEL (no ACK, transport failure).
      endCallOnSipThread(
          *call,
          call->caller_answered ? calls::v1::DISPOSITION_ANSWERED : calls::v1::DISPOSITION_FAILED,
          calls::v1::SIDE_SYSTEM, 408, "caller dialog lost");
    }
    return;
  }
  auto leg = call->legs.find(ref.leg_id);
  if (leg == call->legs.end()) return;
  leg->second.handle = nullptr;
  if (leg->second.live()) {
    // Ended without a final response we saw (transport error, timeout inside sofia).
    onLegFailedOnSipThread(*call, leg->second, 408, "Request Timeout");
  }
  if (leg->second.id == call->bridged_leg && call->state == Call::State::kBridged) {
    endCallOnSipThread(*call, calls::v1::DISPOSITION_ANSWERED, calls::v1::SIDE_CALLEE, 200,
                       "callee dialog ended");
  }
}

void B2bua::hangup(const calls::v1::HangupRequest& request,
                   std::function<void(grpc::Status)> done) {
  stack_.post([this, request, done = std::move(done)] {
    Call* call = findCall(request.call_id());
    if (call == nullptr || call->state == Call::State::kEnding) {
      done(grpc::Status(grpc::StatusCode::NOT_FOUND, "no such call"));
      return;
    }
    publishRouteOnSipThread(*call, request.route());
    const uint32_t status = request.status_code() == 0 ? 480 : request.status_code();
    calls::v1::Disposition disposition = calls::v1::DISPOSITION_FAILED;
    if (!call->bridged_leg.empty()) {
      disposition = calls::v1::DISPOSITION_ANSWERED;
    } else if (!call->failed_reason.empty()) {
      disposition = dispositionAfterFailedDial(call->failed_reason);
    } else if (status == 486 || status == 600) {
      disposition = calls::v1::DISPOSITION_BUSY;
    }
    endCallOnSipThread(
        *call, disposition, calls::v1::SIDE_SYSTEM, static_cast<int>(status),
        request.reason().empty() ? phraseOf(static_cast<int>(status)) : request.reason());
    done(grpc::Status::OK);
  });
}

void B2bua::answer(const calls::v1::AnswerRequest& request, std::function<void(grpc::Status)> done) {
  stack_.post([this, request, done = std::move(done)] {
    Call* call = findCall(request.call_id());
    if (call == nullptr || call->state == Call::State::kEnding || call->caller_gone) {
      done(grpc::Status(grpc::StatusCode::NOT_FOUND, "no such call"));
      return;
    }
    if (call->caller_answered || call->state == Call::State::kAnswered) {
      done(grpc::Status(grpc::StatusCode::FAILED_PRECONDITION, "the caller is already answered"));
      return;
    }
    if (call->state != Call::State::kOffered && call->state != Call::State::kDialFailed) {
      done(grpc::Status(grpc::StatusCode::FAILED_PRECONDITION, "the call is not waiting for a decision"));
      return;
    }
    if (!call->admission.caller_audio) {
      done(grpc::Status(grpc::StatusCode::FAILED_PRECONDITION, "the caller offers no G.711 (PCMU or PCMA)"));
      return;
    }
    publishRouteOnSipThread(*call, request.route());
    // The relay has known the caller's codec since the session was made: nothing to ask it.
    const ChosenAudio& chosen = *call->admission.caller_audio;
    const RelayEndpoint& relay = call->admission.caller_relay;
    const std::string sdp = describeAudio(AudioEndpoint{relay.ip, relay.port}, chosen, 0, 1);
    nua_respond(call->caller, 200, "OK", SIPTAG_CONTENT_TYPE_STR("application/sdp"),
                SIPTAG_PAYLOAD_STR(sdp.c_str()), TAG_END());
    call->caller_answered = true;
    call->local_audio = chosen;
    call->state = Call::State::kAnswered;
    // The application drives the call from here (prompts, digits, a dial); the cap on a call's
    // length bounds a menu nobody leaves.
    call->deadline = Clock::now() + options_.max_call_duration;
    call->log.info("caller answered by the application",
                   {{"codec", chosen.audio_payload_type == 0 ? "PCMU" : "PCMA"},
                    {"telephone_event", std::to_string(chosen.event_payload_type)}});
    done(grpc::Status::OK);
  });
}

namespace {

// Why an application's media command cannot act on the call now, or OK.
grpc::Status callerEndpointReady(bool found, bool ending, bool answered, bool bridged) {
  if (!found || ending) return grpc::Status(grpc::StatusCode::NOT_FOUND, "no such call");
  if (!answered) return grpc::Status(grpc::StatusCode::FAILED_PRECONDITION, "the caller is not answered");
  if (bridged) return grpc::Status(grpc::StatusCode::FAILED_PRECONDITION, "the call is bridged");
  return grpc::Status::OK;
}

}  // namespace

B2bua::Call* B2bua::answeredCallerOnSipThread(const std::string& call_id,
                                              const std::function<void(grpc::Status)>& done) {
  Call* call = findCall(call_id);
  const grpc::Status ready = callerEndpointReady(
      call != nullptr, call != nullptr && call->state == Call::State::kEnding,
      call != nullptr && call->caller_answered,
      call != nullptr && (call->state == Call::State::kAnswering || call->state == Call::State::kBridged));
  if (!ready.ok()) {
    done(ready);
    return nullptr;
  }
  return call;
}

void B2bua::mediaCommandOnSipThread(Call& call,
                                    std::function<absl::Status(const std::string& session)> work,
                                    std::function<void(grpc::Status)> done) {
  runBlocking([work = std::move(work), session = call.admission.media_session] { return work(session); },
              [done = std::move(done)](absl::Status status) {
                done(grpc::Status(static_cast<grpc::StatusCode>(status.code()),
                                  std::string(status.message())));
              });
}

void B2bua::play(const calls::v1::PlayRequest& request, std::function<void(grpc::Status)> done) {
  stack_.post([this, request, done = std::move(done)] {
    Call* call = answeredCallerOnSipThread(request.call_id(), done);
    if (call == nullptr) return;
    publishRouteOnSipThread(*call, request.route());
    // Playing from now: a collection started next waits for this prompt's end.
    call->playing = request.playback_id();
    call->playing_loops = request.loop();
    std::vector<std::string> prompts(request.prompts().begin(), request.prompts().end());
    mediaCommandOnSipThread(
        *call,
        [this, request, prompts](const std::string& session) {
          return media_.play(session, "a", request.playback_id(), prompts, request.loop()).status();
        },
        [this, call_id = request.call_id(), playback_id = request.playback_id(),
         done = std::move(done)](grpc::Status status) {
          if (!status.ok()) {
            if (Call* current = findCall(call_id); current && current->playing == playback_id) {
              onPlaybackEndedOnSipThread(*current, playback_id);
            }
          }
          done(status);
        });
  });
}

void B2bua::stopPlayback(const calls::v1::StopPlaybackRequest& request,
                         std::function<void(grpc::Status)> done) {
  stack_.post([this, request, done = std::move(done)] {
    Call* call = answeredCallerOnSipThread(request.call_id(), done);
    if (call == nullptr) return;
    mediaCommandOnSipThread(
        *call, [this](const std::string& session) { return media_.stopPlayback(session, "a"); },
        std::move(done));
  });
}

void B2bua::collectDigits(const calls::v1::CollectDigitsRequest& request,
                          std::function<void(grpc::Status)> done) {
  stack_.post([this, request, done = std::move(done)] {
    Call* call = answeredCallerOnSipThread(request.call_id(), done);
    if (call == nullptr) return;
    publishRouteOnSipThread(*call, request.route());
    Call::DigitCollection collect;
    collect.request = request;
    if (call->playing.empty()) collect.deadline = Clock::now() + firstDigitTimeout(request);
    call->collect = std::move(collect);
    done(grpc::Status::OK);
  });
}

void B2bua::onPlaybackEndedOnSipThread(Call& call, const std::string& playback_id) {
  if (call.playing != playback_id) return;  // an older playback, replaced since
  call.playing.clear();
  // The menu's prompt has been heard out: the caller's time to choose starts now.
  if (call.collect && call.collect->digits.empty() && call.collect->deadline == Clock::time_point::max()) {
    call.collect->deadline = Clock::now() + firstDigitTimeout(call.collect->request);
  }
  if (call.message && !call.message->started) startMessageOnSipThread(call);
}

void B2bua::record(const calls::v1::RecordRequest& request, std::function<void(grpc::Status)> done) {
  stack_.post([this, request, done = std::move(done)] {
    Call* call = answeredCallerOnSipThread(request.call_id(), done);
    if (call == nullptr) return;
    if (call->took_message) {
      done(grpc::Status(grpc::StatusCode::FAILED_PRECONDITION, "the call has been recorded already"));
      return;
    }
    publishRouteOnSipThread(*call, request.route());
    call->collect.reset();  // the message's keys are its own: a terminator ends it
    call->message.emplace().request = request;
    call->took_message = true;
    // A greeting is heard out first; music on hold (a loop) would never end, so it stops now.
    if (!call->playing.empty() && call->playing_loops) {
      call->playing.clear();
      runBlocking([this, session = call->admission.media_session] { return media_.stopPlayback(session, "a"); },
                  [](absl::Status) {});
    }
    if (call->playing.empty()) startMessageOnSipThread(*call);
    done(grpc::Status::OK);
  });
}

void B2bua::startMessageOnSipThread(Call& call) {
  auto& message = *call.message;
  message.started = true;
  const uint32_t max_seconds = message.request.max_seconds() == 0 ? 120 : message.request.max_seconds();
  message.deadline = Clock::now() + std::chrono::seconds(max_seconds);
  const auto silence = std::chrono::milliseconds(1000 * message.request.silence_seconds());
  call.log.info("recording the caller's message", {{"max_seconds", std::to_string(max_seconds)}});
  call.message_starting = true;
  runBlocking(
      [this, session = call.admission.media_session, silence] {
        return media_.startRecording(session, "a", "", silence);
      },
      [this, call_id = call.id](absl::Status started) {
        Call* current = findCall(call_id);
        if (current == nullptr) return;
        current->message_starting = false;
        const char* stop_reason = std::exchange(current->message_stop_reason, nullptr);
        if (!started.ok()) {
          // There is no file: the message is over (whether or not it had ended meanwhile).
          current->log.error("message recording not started", {{"error", std::string(started.message())}});
          current->message.reset();
          notifyMessageEndOnSipThread(*current, "failed", 0);
          return;
        }
        // The message ended (a key, silence) before the relay had started it: it is stopped now,
        // after the start, which the workers might otherwise have reordered.
        if (stop_reason != nullptr) stopMessageOnSipThread(*current, stop_reason);
      });
}

void B2bua::finishMessageOnSipThread(Call& call, const char* reason) {
  call.message.reset();
  if (std::string_view(reason) == "failed") return notifyMessageEndOnSipThread(call, reason, 0);
  if (call.message_starting) {
    call.message_stop_reason = reason;
    return;
  }
  stopMessageOnSipThread(call, reason);
}

void B2bua::notifyMessageEndOnSipThread(Call& call, const char* reason, uint32_t duration_ms) {
  if (call.state == Call::State::kEnding) return;
  call.log.info("caller's message recorded", {{"reason", reason}, {"duration_ms", std::to_string(duration_ms)}});
  CallNotification notice;
  notice.mutable_recording_ended()->set_reason(reason);
  notice.mutable_recording_ended()->set_duration_ms(duration_ms);
  notifyOnSipThread(call, std::move(notice));
}

void B2bua::stopMessageOnSipThread(Call& call, const char* reason) {
  auto notify = [this, reason, call_id = call.id](uint32_t duration_ms) {
    if (Call* current = findCall(call_id)) notifyMessageEndOnSipThread(*current, reason, duration_ms);
  };
  // The file is closed now, so that what follows (a goodbye, the hang-up) is not part of it.
  runBlocking([this, session = call.admission.media_session] { return media_.stopRecording(session); },
              [this, notify, call_id = call.id](absl::StatusOr<calls::v1::CallRecording> stopped) {
                if (!stopped.ok()) {
                  if (Call* current = findCall(call_id)) {
                    current->log.warn("message recording not stopped", {{"error", std::string(stopped.status().message())}});
                  }
                  return notify(0);
                }
                notify(stopped->duration_ms());
              });
}

void B2bua::onDigitOnSipThread(Call& call, const std::string& digit) {
  if (call.message) {  // keys while a message is recorded end it, or are part of it
    if (call.message->started && call.message->request.terminators().find(digit) != std::string::npos) {
      finishMessageOnSipThread(call, "terminator");
    }
    return;
  }
  if (!call.collect) {
    CallNotification notice;
    notice.mutable_digit()->set_digit(digit);
    notifyOnSipThread(call, std::move(notice));
    return;
  }
  auto& collect = *call.collect;
  if (collect.request.barge_in() && collect.digits.empty() && !call.playing.empty()) {
    runBlocking([this, session = call.admission.media_session] { return media_.stopPlayback(session, "a"); },
                [](absl::Status) {});
  }
  if (collect.request.terminators().find(digit) != std::string::npos) {
    finishCollectOnSipThread(call, "terminator");
    return;
  }
  collect.digits += digit;
  if (collect.digits.size() >= collect.request.max_digits()) {
    finishCollectOnSipThread(call, "max_digits");
    return;
  }
  const uint32_t inter = collect.request.inter_digit_timeout_ms();
  collect.deadline = Clock::now() + std::chrono::milliseconds(inter == 0 ? 3000 : inter);
}

void B2bua::finishCollectOnSipThread(Call& call, const char* reason) {
  CallNotification notice;
  notice.mutable_digits_collected()->set_digits(call.collect->digits);
  notice.mutable_digits_collected()->set_reason(reason);
  call.collect.reset();
  call.log.info("digits collected", {{"digits", notice.digits_collected().digits()}, {"reason", reason}});
  notifyOnSipThread(call, std::move(notice));
}

void B2bua::mediaEvent(media::v1::MediaEvent event) {
  stack_.post([this, event = std::move(event)] {
    Call* call = findCall(event.call_id());
    // Only the caller's leg is an endpoint; a late event of an ended or bridged call is moot.
    if (call == nullptr || call->state == Call::State::kEnding || event.leg_id() != "a" ||
        event.session_id() != call->admission.media_session || !call->caller_answered) {
      return;
    }
    if (call->state == Call::State::kAnswering || call->state == Call::State::kBridged) return;
    if (event.has_digit()) {
      onDigitOnSipThread(*call, event.digit().digit());
    } else if (event.has_silence()) {
      if (call->message && call->message->started) finishMessageOnSipThread(*call, "silence");
    } else if (event.has_playback_ended()) {
      onPlaybackEndedOnSipThread(*call, event.playback_ended().playback_id());
      CallNotification notice;
      notice.mutable_playback_ended()->set_playback_id(event.playback_ended().playback_id());
      notice.mutable_playback_ended()->set_reason(event.playback_ended().reason());
      notifyOnSipThread(*call, std::move(notice));
    }
  });
}

void B2bua::probe(const calls::v1::ProbeRequest& request,
                  std::function<void(grpc::Status, calls::v1::ProbeResult)> done) {
  const auto timeout = std::chrono::milliseconds(request.timeout_ms() == 0 ? 2000 : request.timeout_ms());
  prober_.probe(request.request_uri(), timeout,
                [done = std::move(done)](int status, std::chrono::milliseconds round_trip) {
                  if (status < 0) {
                    return done(grpc::Status(grpc::StatusCode::RESOURCE_EXHAUSTED, "too many probes at once"), {});
                  }
                  calls::v1::ProbeResult result;
                  result.set_status_code(static_cast<uint32_t>(status));
                  result.set_rtt_ms(static_cast<uint32_t>(round_trip.count()));
                  done(grpc::Status::OK, std::move(result));
                });
}

void B2bua::listLiveCalls(std::function<void(calls::v1::ListLiveCallsResponse)> done) {
  stack_.post([this, done = std::move(done)] {
    static constexpr const char* kStates[] = {"admitting",   "offered", "dialing",  "answering",
                                              "bridged",     "dial_failed", "ending", "answered"};
    calls::v1::ListLiveCallsResponse response;
    for (const auto& [id, call] : calls_) {
      auto* live = response.add_calls();
      live->set_call_id(id);
      live->set_tenant_id(call->admission.tenant_id);
      live->set_state(kStates[static_cast<int>(call->state)]);
      live->set_legs(static_cast<uint32_t>(call->legs.size()));
    }
    done(std::move(response));
  });
}

void B2bua::tickOnSipThread() {
  prober_.tickOnSipThread();
  const auto now = Clock::now();
  std::vector<std::string> due;
  for (const auto& [id, call] : calls_) {
    if (call->collect && call->collect->deadline <= now) finishCollectOnSipThread(*call, "timeout");
    if (call->message && call->message->deadline <= now) finishMessageOnSipThread(*call, "max_length");
    if (call->state == Call::State::kDialing) giveUpSilentLegsOnSipThread(*call, now);
    if (call->deadline <= now) due.push_back(id);
  }
  for (const auto& id : due) {
    Call* call = findCall(id);
    if (call == nullptr) continue;
    call->deadline = Clock::time_point::max();
    if (call->state == Call::State::kDialing) {
      // Nobody answered in time: the ringing legs are cancelled and the application decides.
      for (auto& [leg_id, leg] : call->legs) {
        if (!leg.live()) continue;
        leg.state = Leg::State::kEnded;
        leg.final_status = 487;
        leg.reason = "no_answer";
        if (leg.handle) nua_cancel(leg.handle, TAG_END());
      }
      dialFailedOnSipThread(*call, 480, "no_answer", /*placed=*/true);
    } else if (call->state == Call::State::kOffered || call->state == Call::State::kDialFailed) {
      call->log.warn("the application did not act on the call in time");
      const auto disposition = call->failed_reason.empty()
                                   ? calls::v1::DISPOSITION_FAILED
                                   : dispositionAfterFailedDial(call->failed_reason);
      endCallOnSipThread(*call, disposition, calls::v1::SIDE_SYSTEM,
                         call->failed_reason == "busy" ? 486 : 480, "application did not act");
    } else if (call->state == Call::State::kBridged || call->state == Call::State::kAnswered) {
      call->log.warn("maximum call duration reached: ending the call",
                     {{"max_seconds", std::to_string(options_.max_call_duration.count())}});
      endCallOnSipThread(*call,
                         call->bridged_leg.empty() ? calls::v1::DISPOSITION_CANCELLED
                                                   : calls::v1::DISPOSITION_ANSWERED,
                         calls::v1::SIDE_SYSTEM, 200, "maximum call duration reached");
    }
  }
}

void B2bua::mediaLost(std::vector<std::string> session_ids) {
  stack_.post([this, lost = std::set<std::string>(session_ids.begin(), session_ids.end())] {
    std::vector<std::string> ids;
    for (const auto& [id, call] : calls_) {
      if (lost.contains(call->admission.media_session)) ids.push_back(id);
    }
    for (const auto& id : ids) {
      Call* call = findCall(id);
      if (call == nullptr || call->state == Call::State::kEnding) continue;
      call->log.error("media relay lost: ending the call");
      endCallOnSipThread(
          *call,
          call->caller_answered ? calls::v1::DISPOSITION_ANSWERED : calls::v1::DISPOSITION_FAILED,
          calls::v1::SIDE_SYSTEM, 503, "media relay lost");
    }
  });
}

void B2bua::shutdownOnSipThread() {
  prober_.shutdownOnSipThread();
  std::vector<std::string> ids;
  for (const auto& [id, call] : calls_) ids.push_back(id);
  for (const auto& id : ids) {
    if (Call* call = findCall(id); call != nullptr && call->state != Call::State::kEnding) {
      endCallOnSipThread(
          *call,
          call->caller_answered ? calls::v1::DISPOSITION_ANSWERED : calls::v1::DISPOSITION_FAILED,
          calls::v1::SIDE_SYSTEM, 503, "sip-edge shutting down");
    }
  }
}

void B2bua::endCallOnSipThread(Call& call, calls::v1::Disposition disposition, calls::v1::Side side,
                               int status, const std::string& cause) {
  if (call.state == Call::State::kEnding) return;
  call.state = Call::State::kEnding;
  call.deadline = Clock::time_point::max();
  // A caller sent to voicemail was answered by nobody: a missed call, whoever hung up (and whatever
  // the phones said before: busy, no answer).
  if (call.took_message && call.bridged_leg.empty()) disposition = calls::v1::DISPOSITION_NO_ANSWER;
  if (!call.caller_gone && call.caller != nullptr) {
    if (!call.caller_answered) {
      const int final_status = status >= 300 ? status : 480;
      nua_respond(call.caller, final_status, phraseOf(final_status), TAG_END());
    } else if (side != calls::v1::SIDE_CALLER) {
      nua_bye(call.caller, TAG_END());
    }
  }
  for (auto& [id, leg] : call.legs) {
    if (leg.state == Leg::State::kAnswered) {
      if (leg.handle && !(side == calls::v1::SIDE_CALLEE && id == call.bridged_leg))
        nua_bye(leg.handle, TAG_END());
      leg.state = Leg::State::kEnded;
      leg.reason = side == calls::v1::SIDE_CALLER
                       ? "caller_hangup"
                       : (side == calls::v1::SIDE_CALLEE ? "bye" : "system_hangup");
    } else if (leg.live()) {
      if (leg.handle) nua_cancel(leg.handle, TAG_END());
      leg.state = Leg::State::kEnded;
      leg.final_status = 487;
      leg.reason = side == calls::v1::SIDE_CALLER ? "cancelled" : "system_hangup";
    }
  }
  // The record's closing facts, kept until the media counters are in.
  CallEvent ended;
  auto* details = ended.mutable_call_ended();
  details->set_disposition(disposition);
  details->set_hangup_side(side);
  details->set_sip_status(static_cast<uint32_t>(status));
  details->set_cause(cause);
  const std::string call_id = call.id;
  const std::string session = call.admission.media_session;
  const Admission admission = call.admission;
  const std::vector<std::string> held_limits = call.held_limits;
  call.log.info("call ending", {{"disposition", calls::v1::Disposition_Name(disposition)},
                                {"side", calls::v1::Side_Name(side)},
                                {"status", std::to_string(status)}});
  ended_calls_.Add({{"disposition", calls::v1::Disposition_Name(disposition)}}).Increment();
  CallEvent* stored = new CallEvent(std::move(ended));
  runBlocking(
      [this, session, admission, call_id, held_limits] {
        MediaTotals totals;
        if (!session.empty()) {
          auto deleted = media_.deleteSession(session);
          if (deleted.ok()) {
            totals = std::move(*deleted);
          } else {
            // The relay frees the ports itself when the media stops (its media timeout).
            log_.error("media session delete failed",
                       {{"call_id", call_id}, {"error", std::string(deleted.status().message())}});
          }
        }
        admission_.release(admission, call_id);
        admission_.releaseLimits(admission.tenant_id, call_id, held_limits);
        eraseFromLedger(call_id, admission);
        return totals;
      },
      [this, call_id, stored](MediaTotals totals) {
        std::unique_ptr<CallEvent> ended(stored);
        Call* current = findCall(call_id);
        if (current == nullptr) return;
        if (auto a = totals.legs.find("a"); a != totals.legs.end()) {
          *ended->mutable_call_ended()->mutable_caller_media() = a->second;
        }
        if (totals.recording) {
          auto* recording = ended->mutable_call_ended()->mutable_recording();
          *recording = *totals.recording;
          recording->set_voicemail(current->took_message);
        }
        finishEndedCallOnSipThread(call_id, std::move(totals.legs));
        if (!current->admission.tenant_id.empty()) publishOnSipThread(*current, *ended);
        CallNotification notice;
        notice.mutable_ended()->set_disposition(ended->call_ended().disposition());
        notice.mutable_ended()->set_hangup_side(ended->call_ended().hangup_side());
        notifyOnSipThread(*current, notice);
        calls_.erase(call_id);
        active_calls_.Decrement();
      });
}

void B2bua::finishEndedCallOnSipThread(const std::string& call_id,
                                       std::map<std::string, calls::v1::MediaCounters> counters) {
  Call* call = findCall(call_id);
  if (call == nullptr || call->admission.tenant_id.empty()) return;
  for (const auto& [id, leg] : call->legs) {
    CallEvent ended;
    auto* details = ended.mutable_leg_ended();
    details->set_leg_id(id);
    details->set_sip_status(static_cast<uint32_t>(leg.final_status));
    details->set_reason(leg.reason);
    if (auto found = counters.find(id); found != counters.end())
      *details->mutable_media() = found->second;
    publishOnSipThread(*call, ended);
  }
}

void B2bua::publishRouteOnSipThread(Call& call,
                                    const google::protobuf::RepeatedPtrField<calls::v1::RouteStep>& route) {
  if (call.admission.tenant_id.empty()) return;  // not admitted: no record to carry the steps
  for (const auto& step : route) {
    CallEvent event;
    *event.mutable_route_step() = step;
    publishOnSipThread(call, event);
  }
}

void B2bua::publishOnSipThread(Call& call, const CallEvent& event) {
  events_.publish(call.admission.tenant_id, call.id, call.next_sequence++, event);
}

void B2bua::notifyOnSipThread(Call& call, CallNotification notification) {
  if (call.application == 0) return;
  notification.set_call_id(call.id);
  applications_.notify(call.application, notification);
}

}  // namespace tel::sip
