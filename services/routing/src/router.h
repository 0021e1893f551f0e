#pragma once

#include <absl/status/statusor.h>
#include <prometheus/counter.h>
#include <prometheus/registry.h>

#include <optional>
#include <string>

#include "tel/accounts/v1/accounts.grpc.pb.h"
#include "tel/calls/v1/call_control.grpc.pb.h"
#include "tel/log/log.h"

namespace tel::routing {

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

// sip-edge's call-control commands. A command returns once it is sent (or could not be); its
// outcome arrives later and is the commander's to report.
class CallCommander {
 public:
  virtual ~CallCommander() = default;
  virtual absl::Status dial(const calls::v1::DialRequest& request) = 0;
  virtual absl::Status hangup(const calls::v1::HangupRequest& request) = 0;
};

// What to do with a new call: ring these targets, or refuse it with a status.
struct Decision {
  std::optional<calls::v1::DialRequest> dial;
  std::optional<calls::v1::HangupRequest> hangup;
};

// The minimal dial plan. Inbound calls follow their number's route (one extension, extensions rung
// in parallel, or an external number/URI); calls from accounts reach another extension of the
// tenant, or leave through the tenant's carrier with its caller id. Thread-safe (no state of its
// own): notifications are handled on worker threads.
class Router {
 public:
  Router(RouteDirectory& directory, log::Logger logger, prometheus::Registry& registry);

  // Whether handle() does anything with the notification: the others (ringing, bridged, ended)
  // are dropped where they are read, without waking a worker for each.
  static bool actsOn(const calls::v1::CallNotification& notification);
  // Acts on a notification through `commander`, the call-control API of the sip-edge it came from.
  void handle(const calls::v1::CallNotification& notification, CallCommander& commander);
  Decision decide(const std::string& call_id, const calls::v1::CallOffered& offered);

 private:
  Decision routeInbound(const std::string& call_id, const calls::v1::CallOffered& offered);
  Decision routeFromAccount(const std::string& call_id, const calls::v1::CallOffered& offered);
  Decision external(const std::string& call_id, const calls::v1::CallOffered& offered,
                    const std::string& destination, bool keep_caller_id, uint32_t timeout_seconds);
  void count(const char* outcome);

  RouteDirectory& directory_;
  log::Logger log_;
  prometheus::Family<prometheus::Counter>& decisions_;
};

// "sip:+15551234567@carrier.example:5060" from the carrier's outbound URI and a number.
std::string outboundRequestUri(const std::string& carrier_uri, const std::string& number);
// The status a caller hears when the dial failed: what the legs said, but a cancelled or timed-out
// ring is "480 Temporarily Unavailable".
uint32_t callerStatusAfterFailedDial(uint32_t dial_status);

}  // namespace tel::routing
