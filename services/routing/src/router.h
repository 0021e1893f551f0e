#pragma once

#include <absl/status/statusor.h>
#include <absl/time/time.h>
#include <prometheus/counter.h>
#include <prometheus/registry.h>

#include <chrono>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

#include "tel/accounts/v1/accounts.grpc.pb.h"
#include "tel/call_control/application_link.h"
#include "tel/log/log.h"
#include "carrier_health.h"
#include "plan_store.h"

namespace tel::routing {

using call_control::CallCommander;

// What routing reads about a tenant (the accounts service). Blocking.
class RouteDirectory {
 public:
  virtual ~RouteDirectory() = default;
  virtual absl::StatusOr<accounts::v1::Number> number(const std::string& tenant_id,
                                                      const std::string& number_id) = 0;
  // nullopt: the tenant has no account with this extension.
  virtual absl::StatusOr<std::optional<accounts::v1::SipAccount>> extension(
      const std::string& tenant_id, const std::string& extension) = 0;
  // nullopt: the tenant has no carrier for outbound calls.
  virtual absl::StatusOr<std::optional<accounts::v1::OutboundRoute>> outboundRoute(
      const std::string& tenant_id) = 0;
};

// What to do with a call now: ring these targets, or end it with a status; or (a voice menu,
// voicemail) answer it if need be, play its prompts and collect the caller's keys or record their
// message. Sent in that order.
struct Decision {
  std::optional<calls::v1::DialRequest> dial;
  std::optional<calls::v1::HangupRequest> hangup;
  std::optional<calls::v1::AnswerRequest> answer{};
  std::optional<calls::v1::PlayRequest> play{};
  std::optional<calls::v1::CollectDigitsRequest> collect{};
  std::optional<calls::v1::RecordRequest> record{};
  std::optional<calls::v1::HandOverRequest> hand_over{};  // to another application (a queue)
};

// Sends the decision's commands through `commander`, answer first; the first that cannot be sent
// stops the rest.
absl::Status execute(const Decision& decision, CallCommander& commander);

// Decides where calls go. Inbound calls to a number the tenant's dial plan names follow the plan:
// schedules branch by the time, forwarding schemes ring their steps one after another (each step's
// targets in parallel), voice menus answer the caller, play the menu's prompt and follow the key
// pressed (through sip-edge's Answer, Play and CollectDigits), voicemail records the caller's
// message (Record), a hangup node ends the call. Other inbound calls follow their number's own
// route (extensions in parallel, or an external number/URI); calls from accounts reach another
// extension of the tenant, or leave through the tenant's carrier under the plan's outbound rules
// (premium-rate destinations blocked unless enabled, the caller id chosen by destination prefix,
// concurrency caps that sip-edge counts).
//
// A call ringing a scheme has a journey here (its plan version and the next step), and so does a
// call to a number with carriers to fail over to, so that its DialFailed rings the next step or
// the next carrier. sip-edge sends a call's notifications to the instance it offered
// the call to, so journeys need no sharing; decisions-only attachments are told of no call's end,
// so a journey expires once its step's ring time has passed without a DialFailed (the call was
// answered or hung up). Thread-safe: notifications are handled on worker threads; journeys_ is
// guarded by journeys_mutex_.
struct RouterOptions {
  // Carrier legs whose carrier sends no response at all (not even 100 Trying) within this fail at
  // once, so that the call moves on to the next carrier (ExternalTarget.response_timeout_ms).
  std::chrono::milliseconds carrier_response_timeout{3000};
};

class Router {
 public:
  using Clock = std::function<absl::Time()>;

  Router(RouteDirectory& directory, PlanSource& plans, CarrierHealth& health, log::Logger logger,
         prometheus::Registry& registry, Clock clock = [] { return absl::Now(); }, RouterOptions options = {});

  // Whether handle() does anything with the notification: the others (ringing, bridged, ended)
  // are dropped where they are read, without waking a worker for each.
  static bool actsOn(const calls::v1::CallNotification& notification);
  // Acts on a notification through `commander`, the call-control API of the sip-edge it came from.
  void handle(const calls::v1::CallNotification& notification, CallCommander& commander);
  Decision decide(const std::string& call_id, const calls::v1::CallOffered& offered);

  // Calls with a journey now (for tests).
  size_t journeys() const;

 private:
  // Where a call stands that has more to try: the scheme ringing and its next step, or the
  // carriers left.
  struct Journey {
    std::shared_ptr<const DialPlan> plan;  // the version the call started with
    std::string tenant_id;
    std::string company_number;  // the number called: the caller id FMC targets see
    const PlanNode* scheme = nullptr;
    std::string scheme_id;
    size_t next_step = 0;
    // A call to a number through the tenant's carriers: the carriers in the order they are tried
    // (those up first), the one the dial went through, and the dial to repeat through the next one
    // when a carrier fails it (5xx, 408, no response).
    struct Failover {
      calls::v1::DialRequest dial;
      std::string destination;
      bool keep_caller_id = false;
      std::string caller_id;  // the outbound rules' choice; empty: each carrier's own
      std::vector<accounts::v1::OutboundCarrier> carriers;
      size_t current = 0;
    };
    std::optional<Failover> failover;
    // A voice menu the caller is in (or an extension typed there ringing): the node, how many
    // times it has been offered, and whether the caller is answered already.
    const PlanNode* menu = nullptr;
    std::string menu_id;
    uint32_t menu_attempts = 0;
    bool answered = false;
    uint64_t playbacks = 0;
    // Voicemail taking the caller's message: the node (its box), until RecordingEnded.
    const PlanNode* voicemail = nullptr;
    std::string voicemail_id;
    std::chrono::steady_clock::time_point expires;
  };

  // The steps a command carries to sip-edge, which records them on the call (its route).
  using Route = std::vector<calls::v1::RouteStep>;

  Decision routeInbound(const std::string& call_id, const calls::v1::CallOffered& offered);
  // Follows the plan from `node_id` to the node that acts, and acts (rings a scheme, hangs up).
  Decision followPlan(const std::string& call_id, Journey journey, const std::string& node_id, Route route);
  // Rings the journey's next step that has a target to ring; without one, the scheme's `then`.
  Decision ringNextStep(const std::string& call_id, Journey journey, uint32_t last_status,
                        const std::string& last_reason, Route route);
  static void addRouteStep(Route& route, const Journey& journey, const std::string& node, const std::string& type,
                           const std::string& outcome, const std::string& detail);
  // The decision with `route` in its command (at most 32 steps, as sip-edge takes them).
  static Decision withRoute(Decision decision, Route route);
  // Answers the caller if need be, plays `lead_prompt` (if any) and the menu's prompt, and
  // collects a key.
  Decision offerMenu(const std::string& call_id, Journey journey, Route route, const std::string& lead_prompt);
  // The menu again after a timeout or a wrong key, or its fallback once the retries are spent.
  Decision retryMenu(const std::string& call_id, Journey journey, Route route, const std::string& lead_prompt);
  // Answers the caller unless the journey has, and starts the decision's playback ("<purpose>-N").
  static calls::v1::PlayRequest& answerAndPlay(Decision& decision, const std::string& call_id, Journey& journey,
                                               const char* purpose);
  // Adds a looping ringing tone to a dial for a caller already answered (by a menu).
  static void withRingback(Decision& decision, const std::string& call_id, Journey& journey);
  // Hands the call to the queue service, which sends it back to the node that takes overflow.
  Decision enqueue(const std::string& call_id, const PlanNode& node, Route route);
  // A call the queue service handed back (overflow): the plan from the node it names.
  Decision resumeFromQueue(const std::string& call_id, const calls::v1::CallOffered& offered);
  // Answers the caller if need be, plays the greeting and the beep, and records the message.
  Decision takeMessage(const std::string& call_id, Journey journey, Route route);
  // The message is over: the call ends; nullopt when the call is not in voicemail here.
  std::optional<Decision> endMessage(const std::string& call_id, const calls::v1::RecordingEnded& ended);
  // The caller's keys in a menu: the choice, an extension, or a retry; nullopt without a menu.
  std::optional<Decision> continueMenu(const std::string& call_id, const calls::v1::DigitsCollected& collected);
  // The call was answered: its journey ends (and the carrier that carried it works).
  void onBridged(const std::string& call_id);
  // DialFailed of a call with a journey: its next step; nullopt when the call has none.
  std::optional<Decision> continueJourney(const std::string& call_id, const calls::v1::DialFailed& failed);
  // DialFailed of a call to a number: the next carrier when this one failed the call, else nullopt.
  std::optional<Decision> nextCarrier(const std::string& call_id, Journey journey, const calls::v1::DialFailed& failed);
  // Stores the journey until its DialFailed, or until `ring_seconds` + 60 s have passed without one.
  void keepJourney(const std::string& call_id, Journey journey, uint32_t ring_seconds);
  bool addTarget(const Journey& journey, const SchemeTarget& target, calls::v1::DialRequest& dial);
  // The route's carriers, the tenant's order kept except that those down go last.
  std::vector<accounts::v1::OutboundCarrier> carriersInOrder(const accounts::v1::OutboundRoute& route) const;
  // Points `target` at `destination` through `carrier`, showing `caller_id` (empty: the carrier's),
  // or with `keep_caller_id` the caller as received.
  void aimAt(calls::v1::ExternalTarget& target, const accounts::v1::OutboundCarrier& carrier,
             const std::string& destination, bool keep_caller_id, const std::string& caller_id) const;
  void sweepJourneys(std::chrono::steady_clock::time_point now);
  Decision routeFromAccount(const std::string& call_id, const calls::v1::CallOffered& offered);
  Decision external(const std::string& call_id, const calls::v1::CallOffered& offered,
                    const std::string& destination, bool keep_caller_id, uint32_t timeout_seconds,
                    const std::string& caller_id = "");
  void count(const char* outcome);

  RouteDirectory& directory_;
  PlanSource& plans_;
  CarrierHealth& health_;
  log::Logger log_;
  Clock clock_;
  const RouterOptions options_;
  prometheus::Family<prometheus::Counter>& decisions_;
  mutable std::mutex journeys_mutex_;
  std::unordered_map<std::string, Journey> journeys_;  // by call id
  std::chrono::steady_clock::time_point next_sweep_;
};

// "sip:+15551234567@carrier.example:5060" from the carrier's outbound URI and a number.
std::string outboundRequestUri(const std::string& carrier_uri, const std::string& number);
// The status a caller hears when the dial failed: what the legs said, but a cancelled or timed-out
// ring is "480 Temporarily Unavailable".
uint32_t callerStatusAfterFailedDial(uint32_t dial_status);

}  // namespace tel::routing
