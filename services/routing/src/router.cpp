#include "router.h"

#include "tel/phone/e164.h"

namespace tel::routing {
namespace {

calls::v1::HangupRequest hangupWith(const std::string& call_id, uint32_t status,
                                    const std::string& reason) {
  calls::v1::HangupRequest request;
  request.set_call_id(call_id);
  request.set_status_code(status);
  request.set_reason(reason);
  return request;
}

Decision refuse(const std::string& call_id, uint32_t status, const std::string& reason) {
  return Decision{std::nullopt, hangupWith(call_id, status, reason)};
}

}  // namespace

std::string outboundRequestUri(const std::string& carrier_uri, const std::string& number) {
  std::string host = carrier_uri.rfind("sip:", 0) == 0 ? carrier_uri.substr(4) : carrier_uri;
  if (auto at = host.find('@'); at != std::string::npos) host = host.substr(at + 1);
  return "sip:" + number + "@" + host;
}

uint32_t callerStatusAfterFailedDial(uint32_t dial_status) {
  if (dial_status == 0 || dial_status == 408 || dial_status == 487) return 480;
  return dial_status;
}

Router::Router(RouteDirectory& directory, log::Logger logger, prometheus::Registry& registry)
    : directory_(directory),
      log_(std::move(logger)),
      decisions_(prometheus::BuildCounter()
                     .Name("tel_routing_decisions_total")
                     .Help("Routing decisions by outcome")
                     .Register(registry)) {
  // Every outcome exists from the start, so that rates over them are defined.
  for (const char* outcome :
       {"extensions", "external_number", "external_uri", "internal", "not_routed", "no_target",
        "no_carrier", "outbound_forbidden", "unknown_destination", "self", "error"}) {
    decisions_.Add({{"outcome", outcome}});
  }
}

void Router::count(const char* outcome) { decisions_.Add({{"outcome", outcome}}).Increment(); }

bool Router::actsOn(const calls::v1::CallNotification& notification) {
  return notification.has_offered() || notification.has_dial_failed();
}

void Router::handle(const calls::v1::CallNotification& notification, CallCommander& commander) {
  const std::string& call_id = notification.call_id();
  if (notification.has_offered()) {
    const auto& offered = notification.offered();
    Decision decision = decide(call_id, offered);
    absl::Status status =
        decision.dial ? commander.dial(*decision.dial) : commander.hangup(*decision.hangup);
    if (!status.ok()) {
      log_.error("call-control command not sent", {{"call_id", call_id},
                                                   {"tenant_id", offered.tenant_id()},
                                                   {"error", std::string(status.message())}});
    }
    return;
  }
  if (notification.has_dial_failed()) {
    // Nothing else to try in this minimal plan: the caller hears why.
    const auto& failed = notification.dial_failed();
    auto status = commander.hangup(
        hangupWith(call_id, callerStatusAfterFailedDial(failed.status_code()), failed.reason()));
    if (!status.ok()) {
      log_.error("hangup not sent",
                 {{"call_id", call_id}, {"error", std::string(status.message())}});
    }
  }
}

Decision Router::decide(const std::string& call_id, const calls::v1::CallOffered& offered) {
  if (offered.direction() == calls::v1::DIRECTION_INBOUND) return routeInbound(call_id, offered);
  return routeFromAccount(call_id, offered);
}

Decision Router::routeInbound(const std::string& call_id, const calls::v1::CallOffered& offered) {
  auto number = directory_.number(offered.tenant_id(), offered.number_id());
  if (!number.ok()) {
    count("error");
    log_.error("number lookup failed", {{"call_id", call_id},
                                        {"tenant_id", offered.tenant_id()},
                                        {"error", std::string(number.status().message())}});
    return refuse(call_id, 503, "routing unavailable");
  }
  const auto& route = number->route();
  const uint32_t timeout =
      route.ring_timeout_seconds() > 0 ? static_cast<uint32_t>(route.ring_timeout_seconds()) : 30;
  switch (route.kind()) {
    case accounts::v1::NumberRoute::KIND_EXTENSIONS: {
      calls::v1::DialRequest dial;
      dial.set_call_id(call_id);
      dial.set_timeout_seconds(timeout);
      for (const auto& extension : route.extensions()) {
        auto account = directory_.extension(offered.tenant_id(), extension);
        if (!account.ok()) {
          count("error");
          return refuse(call_id, 503, "routing unavailable");
        }
        if (!*account) continue;  // a deleted extension: the others still ring
        auto* target = dial.add_targets()->mutable_account();
        target->set_account_id((*account)->id());
        target->set_extension((*account)->extension());
      }
      if (dial.targets().empty()) {
        count("no_target");
        return refuse(call_id, 480, "no extension to ring");
      }
      count("extensions");
      return Decision{dial, std::nullopt};
    }
    case accounts::v1::NumberRoute::KIND_EXTERNAL:
      return external(call_id, offered, route.external(), /*keep_caller_id=*/true, timeout);
    default:
      count("not_routed");
      return refuse(call_id, 480, "number not routed");
  }
}

Decision Router::routeFromAccount(const std::string& call_id,
                                  const calls::v1::CallOffered& offered) {
  auto account = directory_.extension(offered.tenant_id(), offered.called());
  if (!account.ok()) {
    count("error");
    return refuse(call_id, 503, "routing unavailable");
  }
  if (*account) {
    if ((*account)->id() == offered.caller_account_id()) {
      count("self");
      return refuse(call_id, 486, "calling yourself");
    }
    calls::v1::DialRequest dial;
    dial.set_call_id(call_id);
    dial.set_timeout_seconds(30);
    auto* target = dial.add_targets()->mutable_account();
    target->set_account_id((*account)->id());
    target->set_extension((*account)->extension());
    count("internal");
    return Decision{dial, std::nullopt};
  }
  const auto number = phone::toE164(offered.called());
  if (!number) {
    count("unknown_destination");
    return refuse(call_id, 404, "no such extension or number");
  }
  if (!offered.caller_outbound_allowed()) {
    count("outbound_forbidden");
    return refuse(call_id, 403, "outbound calls not allowed for this account");
  }
  return external(call_id, offered, *number, /*keep_caller_id=*/false, 60);
}

Decision Router::external(const std::string& call_id, const calls::v1::CallOffered& offered,
                          const std::string& destination, bool keep_caller_id,
                          uint32_t timeout_seconds) {
  calls::v1::DialRequest dial;
  dial.set_call_id(call_id);
  dial.set_timeout_seconds(timeout_seconds);
  auto* target = dial.add_targets()->mutable_external();
  if (destination.rfind("sip:", 0) == 0) {
    target->set_request_uri(destination);
    count("external_uri");
    return Decision{dial, std::nullopt};
  }
  auto route = directory_.outboundRoute(offered.tenant_id());
  if (!route.ok()) {
    count("error");
    return refuse(call_id, 503, "routing unavailable");
  }
  if (!*route) {
    count("no_carrier");
    log_.warn("no outbound carrier", {{"call_id", call_id}, {"tenant_id", offered.tenant_id()}});
    return refuse(call_id, 503, "no outbound carrier");
  }
  target->set_request_uri(outboundRequestUri((*route)->outbound_uri(), destination));
  // Forwarded inbound calls show the original caller; calls from accounts show the tenant's number.
  if (!keep_caller_id) target->set_caller_id((*route)->caller_id());
  count("external_number");
  return Decision{dial, std::nullopt};
}

}  // namespace tel::routing
