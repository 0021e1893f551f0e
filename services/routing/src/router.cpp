#include "router.h"

#include <algorithm>

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

Router::Router(RouteDirectory& directory, PlanSource& plans, CarrierHealth& health, log::Logger logger,
               prometheus::Registry& registry, Clock clock, RouterOptions options)
    : directory_(directory),
      plans_(plans),
      health_(health),
      log_(std::move(logger)),
      clock_(std::move(clock)),
      options_(options),
      decisions_(prometheus::BuildCounter()
                     .Name("tel_routing_decisions_total")
                     .Help("Routing decisions by outcome")
                     .Register(registry)) {
  // Every outcome exists from the start, so that rates over them are defined.
  for (const char* outcome :
       {"extensions", "external_number", "external_uri", "internal", "not_routed", "no_target",
        "no_carrier", "outbound_forbidden", "unknown_destination", "self", "error", "plan_scheme",
        "plan_hangup", "scheme_next_step", "scheme_exhausted", "outbound_blocked", "carrier_failover",
        "plan_menu", "menu_choice", "menu_retry", "menu_fallback", "menu_extension", "plan_voicemail",
        "voicemail_message"}) {
    decisions_.Add({{"outcome", outcome}});
  }
}

void Router::count(const char* outcome) { decisions_.Add({{"outcome", outcome}}).Increment(); }

absl::Status execute(const Decision& decision, CallCommander& commander) {
  if (decision.answer) {
    if (auto status = commander.answer(*decision.answer); !status.ok()) return status;
  }
  if (decision.play) {
    if (auto status = commander.play(*decision.play); !status.ok()) return status;
  }
  if (decision.collect) {
    if (auto status = commander.collectDigits(*decision.collect); !status.ok()) return status;
  }
  if (decision.record) {
    if (auto status = commander.record(*decision.record); !status.ok()) return status;
  }
  if (decision.dial) return commander.dial(*decision.dial);
  if (decision.hangup) return commander.hangup(*decision.hangup);
  if (decision.hand_over) return commander.handOver(*decision.hand_over);
  return absl::OkStatus();
}

bool Router::actsOn(const calls::v1::CallNotification& notification) {
  return notification.has_offered() || notification.has_dial_failed() || notification.has_digits_collected() ||
         notification.has_recording_ended() || notification.has_bridged();
}

void Router::handle(const calls::v1::CallNotification& notification, CallCommander& commander) {
  const std::string& call_id = notification.call_id();
  if (notification.has_bridged()) return onBridged(call_id);
  if (notification.has_digits_collected() || notification.has_recording_ended()) {
    auto next = notification.has_digits_collected() ? continueMenu(call_id, notification.digits_collected())
                                                    : endMessage(call_id, notification.recording_ended());
    if (next) {
      if (auto status = execute(*next, commander); !status.ok()) {
        log_.error("call-control command not sent", {{"call_id", call_id}, {"error", std::string(status.message())}});
      }
    }
    return;
  }
  if (notification.has_offered()) {
    const auto& offered = notification.offered();
    Decision decision = decide(call_id, offered);
    absl::Status status = execute(decision, commander);
    if (!status.ok()) {
      log_.error("call-control command not sent", {{"call_id", call_id},
                                                   {"tenant_id", offered.tenant_id()},
                                                   {"error", std::string(status.message())}});
    }
    return;
  }
  if (notification.has_dial_failed()) {
    const auto& failed = notification.dial_failed();
    if (auto next = continueJourney(call_id, failed)) {
      absl::Status status = execute(*next, commander);
      if (!status.ok()) {
        log_.error("call-control command not sent",
                   {{"call_id", call_id}, {"error", std::string(status.message())}});
      }
      return;
    }
    // A call routed without a scheme has nothing else to try: the caller hears why.
    auto status = commander.hangup(
        hangupWith(call_id, callerStatusAfterFailedDial(failed.status_code()), failed.reason()));
    if (!status.ok()) {
      log_.error("hangup not sent",
                 {{"call_id", call_id}, {"error", std::string(status.message())}});
    }
  }
}

Decision Router::decide(const std::string& call_id, const calls::v1::CallOffered& offered) {
  if (offered.handed_over_by() == kQueueApplication) return resumeFromQueue(call_id, offered);
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
  auto plan = plans_.plan(offered.tenant_id());
  if (!plan.ok()) {
    count("error");
    log_.error("dial plan lookup failed", {{"call_id", call_id},
                                           {"tenant_id", offered.tenant_id()},
                                           {"error", std::string(plan.status().message())}});
    return refuse(call_id, 503, "routing unavailable");
  }
  if (*plan) {
    if (auto entry = (*plan)->numbers.find(number->e164()); entry != (*plan)->numbers.end()) {
      Journey journey;
      journey.plan = *plan;
      journey.tenant_id = offered.tenant_id();
      journey.company_number = number->e164();
      return followPlan(call_id, std::move(journey), entry->second, {});
    }
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
  auto plan = plans_.plan(offered.tenant_id());
  if (!plan.ok()) {
    count("error");
    return refuse(call_id, 503, "routing unavailable");
  }
  // A tenant without a plan gets the defaults: premium-rate destinations blocked.
  const OutboundRules defaults;
  const OutboundRules& rules = *plan ? (*plan)->outbound : defaults;
  if (auto refusal = rules.refusal(*number)) {
    count("outbound_blocked");
    log_.warn("outbound call blocked", {{"call_id", call_id},
                                        {"tenant_id", offered.tenant_id()},
                                        {"caller", offered.caller()},
                                        {"reason", *refusal}});
    return refuse(call_id, 403, *refusal);
  }
  Decision decision =
      external(call_id, offered, *number, /*keep_caller_id=*/false, 60, rules.callerIdFor(*number, offered.caller()));
  if (decision.dial) {
    // sip-edge holds a slot of each while the call lasts; past either, the dial fails at once.
    auto* per_account = decision.dial->add_limits();
    per_account->set_key("outbound:account:" + offered.caller_account_id());
    per_account->set_max(rules.max_concurrent_per_account);
    auto* per_tenant = decision.dial->add_limits();
    per_tenant->set_key("outbound:tenant");
    per_tenant->set_max(rules.max_concurrent);
  }
  return decision;
}

Decision Router::external(const std::string& call_id, const calls::v1::CallOffered& offered,
                          const std::string& destination, bool keep_caller_id,
                          uint32_t timeout_seconds, const std::string& caller_id) {
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
  auto carriers = carriersInOrder(**route);
  aimAt(*target, carriers.front(), destination, keep_caller_id, caller_id);
  count("external_number");
  if (carriers.size() == 1) return Decision{dial, std::nullopt};
  // Other carriers can take the call should this one fail it.
  Journey journey;
  journey.tenant_id = offered.tenant_id();
  Route steps;
  for (const auto& carrier : carriers) {
    if (health_.down(carrier.carrier_id())) {
      addRouteStep(steps, journey, "outbound", "carrier_down", "tried last", carrier.outbound_uri());
    }
  }
  addRouteStep(steps, journey, "outbound", "carrier", "1", target->request_uri());
  journey.failover.emplace();
  journey.failover->dial = dial;
  journey.failover->destination = destination;
  journey.failover->keep_caller_id = keep_caller_id;
  journey.failover->caller_id = caller_id;
  journey.failover->carriers = std::move(carriers);
  keepJourney(call_id, std::move(journey), timeout_seconds);
  return withRoute(Decision{dial, std::nullopt}, std::move(steps));
}

std::vector<accounts::v1::OutboundCarrier> Router::carriersInOrder(const accounts::v1::OutboundRoute& route) const {
  std::vector<accounts::v1::OutboundCarrier> carriers;
  auto& primary = carriers.emplace_back();
  primary.set_carrier_id(route.carrier_id());
  primary.set_outbound_uri(route.outbound_uri());
  primary.set_caller_id(route.caller_id());
  carriers.insert(carriers.end(), route.fallbacks().begin(), route.fallbacks().end());
  std::stable_partition(carriers.begin(), carriers.end(),
                        [this](const auto& carrier) { return !health_.down(carrier.carrier_id()); });
  return carriers;
}

void Router::aimAt(calls::v1::ExternalTarget& target, const accounts::v1::OutboundCarrier& carrier,
                   const std::string& destination, bool keep_caller_id, const std::string& caller_id) const {
  target.set_request_uri(outboundRequestUri(carrier.outbound_uri(), destination));
  target.set_carrier_id(carrier.carrier_id());
  target.set_response_timeout_ms(static_cast<uint32_t>(options_.carrier_response_timeout.count()));
  // Forwarded inbound calls show the original caller (no caller id); calls from accounts show the
  // tenant's number its outbound rules chose, else the carrier's.
  if (keep_caller_id) {
    target.clear_caller_id();
  } else {
    target.set_caller_id(caller_id.empty() ? carrier.caller_id() : caller_id);
  }
}

void Router::keepJourney(const std::string& call_id, Journey journey, uint32_t ring_seconds) {
  const auto now = std::chrono::steady_clock::now();
  // A DialFailed comes within the ring time; a journey still here well after it was answered.
  journey.expires = now + std::chrono::seconds(ring_seconds) + std::chrono::seconds(60);
  std::lock_guard lock(journeys_mutex_);
  sweepJourneys(now);
  journeys_[call_id] = std::move(journey);
}

std::optional<Decision> Router::nextCarrier(const std::string& call_id, Journey journey,
                                            const calls::v1::DialFailed& failed) {
  auto& failover = *journey.failover;
  const uint32_t status = failed.status_code();
  // The carrier failed the call (a server error, a timeout, no response), not the callee (busy,
  // unknown number, declined): only then is it the carrier's health, and another carrier's turn.
  const bool carrier_failed = (status >= 500 && status <= 599) || status == 408;
  // Only a status the carrier's leg got counts for its health: sip-edge's own refusals (a limit, a
  // fault of its own) say nothing about the carrier.
  const auto& tried = failover.carriers[failover.current];
  if (failed.placed()) {
    if (carrier_failed) {
      health_.failed(tried.carrier_id(), tried.outbound_uri());
    } else {
      health_.worked(tried.carrier_id());
    }
  }
  if (!carrier_failed || failover.current + 1 >= failover.carriers.size()) {
    std::lock_guard lock(journeys_mutex_);
    journeys_.erase(call_id);
    return std::nullopt;
  }
  const auto& carrier = failover.carriers[++failover.current];
  Route route;
  addRouteStep(route, journey, "outbound", "carrier_failed", std::to_string(status),
               failover.dial.targets(0).external().request_uri());
  auto* target = failover.dial.mutable_targets(0)->mutable_external();
  aimAt(*target, carrier, failover.destination, failover.keep_caller_id, failover.caller_id);
  addRouteStep(route, journey, "outbound", "carrier", std::to_string(failover.current + 1), target->request_uri());
  count("carrier_failover");
  log_.warn("carrier failed the call: trying the next", {{"call_id", call_id},
                                                         {"tenant_id", journey.tenant_id},
                                                         {"status", std::to_string(status)},
                                                         {"carrier_id", carrier.carrier_id()}});
  Decision decision{failover.dial, std::nullopt};
  const uint32_t ring_seconds = failover.dial.timeout_seconds();
  keepJourney(call_id, std::move(journey), ring_seconds);
  return withRoute(std::move(decision), std::move(route));
}

void Router::onBridged(const std::string& call_id) {
  std::optional<Journey> journey;
  {
    std::lock_guard lock(journeys_mutex_);
    auto it = journeys_.find(call_id);
    if (it == journeys_.end()) return;
    journey = std::move(it->second);
    journeys_.erase(it);  // answered: nothing more to try
  }
  // The carrier carried the call to someone who answered: it works.
  if (journey->failover) health_.worked(journey->failover->carriers[journey->failover->current].carrier_id());
}

size_t Router::journeys() const {
  std::lock_guard lock(journeys_mutex_);
  return journeys_.size();
}

Decision Router::followPlan(const std::string& call_id, Journey journey, const std::string& node_id,
                            Route route) {
  std::vector<v1::PreviewStep> path;
  auto node = walkPlan(*journey.plan, node_id, clock_(), &path);
  std::string trail;
  for (const auto& step : path) {
    trail += (trail.empty() ? "" : " -> ") + step.node() + " (" + step.type() + ": " + step.outcome() + ")";
    addRouteStep(route, journey, step.node(), step.type(), step.outcome(), step.detail());
  }
  log_.info("dial plan", {{"call_id", call_id},
                          {"tenant_id", journey.tenant_id},
                          {"plan_version", std::to_string(journey.plan->version)},
                          {"path", trail}});
  if (!node.ok()) {
    count("error");
    log_.error("dial plan walk failed", {{"call_id", call_id}, {"error", std::string(node.status().message())}});
    return withRoute(refuse(call_id, 503, "routing unavailable"), std::move(route));
  }
  if ((*node)->type == PlanNode::Type::kMenu) {
    count("plan_menu");
    journey.menu = *node;
    journey.menu_id = path.back().node();
    journey.menu_attempts = 0;
    return offerMenu(call_id, std::move(journey), std::move(route), "");
  }
  if ((*node)->type == PlanNode::Type::kVoicemail) {
    count("plan_voicemail");
    journey.menu = nullptr;
    journey.voicemail = *node;
    journey.voicemail_id = path.back().node();
    return takeMessage(call_id, std::move(journey), std::move(route));
  }
  if ((*node)->type == PlanNode::Type::kQueue) {
    count("plan_queue");
    return enqueue(call_id, **node, std::move(route));
  }
  if ((*node)->type == PlanNode::Type::kHangup) {
    count("plan_hangup");
    return withRoute(refuse(call_id, (*node)->status, (*node)->reason.empty() ? "dial plan" : (*node)->reason),
                     std::move(route));
  }
  count("plan_scheme");
  journey.scheme = *node;
  journey.scheme_id = path.back().node();
  journey.next_step = 0;
  return ringNextStep(call_id, std::move(journey), 480, "no_targets", std::move(route));
}

Decision Router::enqueue(const std::string& call_id, const PlanNode& node, Route route) {
  calls::v1::HandOverRequest hand_over;
  hand_over.set_call_id(call_id);
  hand_over.set_application(kQueueApplication);
  auto& context = *hand_over.mutable_context();
  context[kQueueContextQueue] = node.queue;
  context[kQueueContextOverflow] = node.then;
  if (node.priority > 0) context[kQueueContextPriority] = std::to_string(node.priority);
  Decision decision;
  decision.hand_over = std::move(hand_over);
  return withRoute(std::move(decision), std::move(route));
}

Decision Router::resumeFromQueue(const std::string& call_id, const calls::v1::CallOffered& offered) {
  const auto node = offered.context().find(kQueueContextNode);
  auto plan = plans_.plan(offered.tenant_id());
  if (!plan.ok() || !*plan || node == offered.context().end() || !(*plan)->nodes.count(node->second)) {
    count("error");
    log_.error("call back from the queue with no node to follow",
               {{"call_id", call_id}, {"tenant_id", offered.tenant_id()}});
    return refuse(call_id, 480, "queue overflow");
  }
  Journey journey;
  journey.plan = *plan;
  journey.tenant_id = offered.tenant_id();
  journey.answered = offered.answered();
  if (auto number = directory_.number(offered.tenant_id(), offered.number_id()); number.ok()) {
    journey.company_number = number->e164();
  }
  return followPlan(call_id, std::move(journey), node->second, {});
}

void Router::addRouteStep(Route& route, const Journey& journey, const std::string& node, const std::string& type,
                          const std::string& outcome, const std::string& detail) {
  auto& step = route.emplace_back();
  step.set_node(node);
  step.set_type(type);
  step.set_outcome(outcome);
  step.set_detail(detail.substr(0, 256));
  step.set_plan_version(journey.plan ? journey.plan->version : 0);
}

Decision Router::withRoute(Decision decision, Route route) {
  // sip-edge takes at most 32 steps a command; a walk through a long chain of schedules keeps its
  // start and the node that acts.
  constexpr size_t kMaxSteps = 32;
  if (route.size() > kMaxSteps) route.erase(route.begin() + (kMaxSteps - 1), route.end() - 1);
  auto* steps = decision.dial     ? decision.dial->mutable_route()
                : decision.hangup ? decision.hangup->mutable_route()
                : decision.record ? decision.record->mutable_route()
                : decision.hand_over ? decision.hand_over->mutable_route()
                                  : decision.collect->mutable_route();
  for (auto& step : route) *steps->Add() = std::move(step);
  return decision;
}

bool Router::addTarget(const Journey& journey, const SchemeTarget& target, calls::v1::DialRequest& dial) {
  switch (target.kind) {
    case SchemeTarget::Kind::kExtension: {
      auto account = directory_.extension(journey.tenant_id, target.value);
      if (!account.ok() || !*account) return false;  // deleted since the plan was saved, or unknown now
      auto* ring = dial.add_targets()->mutable_account();
      ring->set_account_id((*account)->id());
      ring->set_extension((*account)->extension());
      return true;
    }
    case SchemeTarget::Kind::kNumber: {
      auto route = directory_.outboundRoute(journey.tenant_id);
      if (!route.ok() || !*route) return false;  // no carrier: the number cannot be rung
      // Through the first carrier that is up; a silent one fails the leg within the response
      // timeout, and the scheme goes on with its other targets and steps.
      // FMC: the employee's mobile shows the company number the client called.
      aimAt(*dial.add_targets()->mutable_external(), carriersInOrder(**route).front(), target.value,
            /*keep_caller_id=*/false, journey.company_number);
      return true;
    }
    case SchemeTarget::Kind::kUri:
      dial.add_targets()->mutable_external()->set_request_uri(target.value);
      return true;
  }
  return false;
}

Decision Router::ringNextStep(const std::string& call_id, Journey journey, uint32_t last_status,
                              const std::string& last_reason, Route route) {
  const auto& steps = journey.scheme->steps;
  while (journey.next_step < steps.size()) {
    const SchemeStep& step = steps[journey.next_step++];
    const std::string number = std::to_string(journey.next_step);
    calls::v1::DialRequest dial;
    dial.set_call_id(call_id);
    dial.set_timeout_seconds(step.ring_seconds);
    dial.set_record(journey.scheme->record);
    std::string ringing;
    for (const auto& target : step.targets) {
      if (!addTarget(journey, target, dial)) {
        log_.warn("scheme target skipped", {{"call_id", call_id},
                                            {"tenant_id", journey.tenant_id},
                                            {"target", target.describe()}});
        continue;
      }
      ringing += (ringing.empty() ? "" : ", ") + target.describe();
    }
    if (dial.targets().empty()) {  // nothing to ring in this step: the next one at once
      addRouteStep(route, journey, journey.scheme_id, "step", number, "skipped: nothing to ring");
      continue;
    }
    addRouteStep(route, journey, journey.scheme_id, "step", number,
                 ringing + " for " + std::to_string(step.ring_seconds) + " s");
    Decision decision{dial, std::nullopt};
    withRingback(decision, call_id, journey);
    keepJourney(call_id, std::move(journey), step.ring_seconds);
    return withRoute(std::move(decision), std::move(route));
  }
  {
    std::lock_guard lock(journeys_mutex_);
    journeys_.erase(call_id);
  }
  count("scheme_exhausted");
  const std::string then = journey.scheme->then;
  if (!then.empty()) return followPlan(call_id, std::move(journey), then, std::move(route));
  return withRoute(refuse(call_id, callerStatusAfterFailedDial(last_status), last_reason), std::move(route));
}

Decision Router::offerMenu(const std::string& call_id, Journey journey, Route route, const std::string& lead_prompt) {
  const PlanNode& menu = *journey.menu;
  Decision decision;
  auto& play = answerAndPlay(decision, call_id, journey, "menu");
  if (!lead_prompt.empty()) play.add_prompts(lead_prompt);
  play.add_prompts(menu.prompt);
  auto& collect = decision.collect.emplace();
  collect.set_call_id(call_id);
  collect.set_barge_in(true);  // a caller who knows the menu need not hear it out
  collect.set_first_digit_timeout_ms(menu.timeout_seconds * 1000);
  if (menu.dial_by_extension) {
    // An extension is typed key by key: it ends with #, a pause, or its 32nd key.
    collect.set_max_digits(32);
    collect.set_inter_digit_timeout_ms(2000);
    collect.set_terminators("#");
  } else {
    collect.set_max_digits(1);
  }
  addRouteStep(route, journey, journey.menu_id, "menu", "prompt",
               lead_prompt.empty() ? menu.prompt : lead_prompt + ", " + menu.prompt);
  // A menu waits for the caller: its journey lasts while the caller may still be choosing.
  keepJourney(call_id, std::move(journey), 600);
  return withRoute(std::move(decision), std::move(route));
}

calls::v1::PlayRequest& Router::answerAndPlay(Decision& decision, const std::string& call_id, Journey& journey,
                                              const char* purpose) {
  if (!journey.answered) {
    decision.answer.emplace().set_call_id(call_id);
    journey.answered = true;
  }
  auto& play = decision.play.emplace();
  play.set_call_id(call_id);
  play.set_playback_id(std::string(purpose) + "-" + std::to_string(++journey.playbacks));
  return play;
}

void Router::withRingback(Decision& decision, const std::string& call_id, Journey& journey) {
  // An answered caller hears no 180 from the phones being rung: media-relay plays the ringing tone
  // instead, until someone answers (sip-edge stops it at the bridge) or the dial fails.
  if (!journey.answered) return;
  auto& play = answerAndPlay(decision, call_id, journey, "ringback");
  play.add_prompts("@ringback");
  play.set_loop(true);
}

Decision Router::takeMessage(const std::string& call_id, Journey journey, Route route) {
  const PlanNode& box = *journey.voicemail;
  Decision decision;
  auto& play = answerAndPlay(decision, call_id, journey, "voicemail");
  if (!box.prompt.empty()) play.add_prompts(box.prompt);
  play.add_prompts("@beep");
  auto& record = decision.record.emplace();
  record.set_call_id(call_id);
  record.set_max_seconds(box.max_seconds);
  record.set_silence_seconds(box.silence_seconds);
  record.set_terminators("#");
  // The call record's voicemail box is this step's detail (cdr-ingest lists the message by it).
  addRouteStep(route, journey, journey.voicemail_id, "voicemail", "recording", box.box);
  // The greeting (up to ten minutes) and the message, with room to spare.
  keepJourney(call_id, std::move(journey), 600 + box.max_seconds);
  return withRoute(std::move(decision), std::move(route));
}

std::optional<Decision> Router::endMessage(const std::string& call_id, const calls::v1::RecordingEnded& ended) {
  Journey journey;
  {
    std::lock_guard lock(journeys_mutex_);
    auto it = journeys_.find(call_id);
    if (it == journeys_.end() || it->second.voicemail == nullptr) return std::nullopt;
    journey = std::move(it->second);
    journeys_.erase(it);
  }
  count("voicemail_message");
  Route route;
  addRouteStep(route, journey, journey.voicemail_id, "voicemail", ended.reason(),
               journey.voicemail->box + ": " + std::to_string(ended.duration_ms()) + " ms");
  return withRoute(refuse(call_id, 480, "voicemail: " + ended.reason()), std::move(route));
}

Decision Router::retryMenu(const std::string& call_id, Journey journey, Route route, const std::string& lead_prompt) {
  const PlanNode& menu = *journey.menu;
  if (++journey.menu_attempts <= menu.retries) {
    count("menu_retry");
    return offerMenu(call_id, std::move(journey), std::move(route), lead_prompt);
  }
  count("menu_fallback");
  addRouteStep(route, journey, journey.menu_id, "menu", "no_choice",
               menu.fallback.empty() ? "hung up" : "fallback: " + menu.fallback);
  {
    std::lock_guard lock(journeys_mutex_);
    journeys_.erase(call_id);
  }
  if (menu.fallback.empty()) return withRoute(refuse(call_id, 480, "no choice made in the menu"), std::move(route));
  journey.menu = nullptr;
  return followPlan(call_id, std::move(journey), menu.fallback, std::move(route));
}

std::optional<Decision> Router::continueMenu(const std::string& call_id, const calls::v1::DigitsCollected& collected) {
  Journey journey;
  {
    std::lock_guard lock(journeys_mutex_);
    auto it = journeys_.find(call_id);
    if (it == journeys_.end() || it->second.menu == nullptr) return std::nullopt;
    journey = it->second;
  }
  const PlanNode& menu = *journey.menu;
  const std::string& keys = collected.digits();
  Route route;
  if (keys.empty()) {
    addRouteStep(route, journey, journey.menu_id, "menu", "timeout", "no key");
    return retryMenu(call_id, std::move(journey), std::move(route), menu.timeout_prompt);
  }
  if (keys == menu.repeat_key) {
    addRouteStep(route, journey, journey.menu_id, "menu", "repeat", "key " + keys);
    return retryMenu(call_id, std::move(journey), std::move(route), "");
  }
  if (auto choice = menu.choices.find(keys); choice != menu.choices.end()) {
    count("menu_choice");
    addRouteStep(route, journey, journey.menu_id, "menu", "key " + keys, choice->second);
    journey.menu = nullptr;
    return followPlan(call_id, std::move(journey), choice->second, std::move(route));
  }
  if (menu.dial_by_extension) {
    auto account = directory_.extension(journey.tenant_id, keys);
    if (account.ok() && *account) {
      count("menu_extension");
      addRouteStep(route, journey, journey.menu_id, "menu", "extension", keys);
      calls::v1::DialRequest dial;
      dial.set_call_id(call_id);
      dial.set_timeout_seconds(30);
      auto* target = dial.add_targets()->mutable_account();
      target->set_account_id((*account)->id());
      target->set_extension((*account)->extension());
      // The menu stays the journey's: an extension that does not answer brings the caller back.
      Decision decision{dial, std::nullopt};
      withRingback(decision, call_id, journey);
      keepJourney(call_id, std::move(journey), 30);
      return withRoute(std::move(decision), std::move(route));
    }
  }
  addRouteStep(route, journey, journey.menu_id, "menu", "invalid", "keys " + keys.substr(0, 32));
  return retryMenu(call_id, std::move(journey), std::move(route), menu.invalid_prompt);
}

std::optional<Decision> Router::continueJourney(const std::string& call_id, const calls::v1::DialFailed& failed) {
  Journey journey;
  {
    std::lock_guard lock(journeys_mutex_);
    auto it = journeys_.find(call_id);
    if (it == journeys_.end()) return std::nullopt;
    journey = it->second;
  }
  if (journey.failover) return nextCarrier(call_id, std::move(journey), failed);
  if (journey.menu) {  // an extension typed in a menu did not answer: the menu again
    Route route;
    addRouteStep(route, journey, journey.menu_id, "menu", "extension_failed",
                 failed.reason() + ": SIP " + std::to_string(failed.status_code()));
    const std::string lead_prompt = journey.menu->invalid_prompt;
    return retryMenu(call_id, std::move(journey), std::move(route), lead_prompt);
  }
  count("scheme_next_step");
  Route route;
  addRouteStep(route, journey, journey.scheme_id, "step_failed", failed.reason(),
               "step " + std::to_string(journey.next_step) + ": SIP " + std::to_string(failed.status_code()));
  return ringNextStep(call_id, std::move(journey), failed.status_code(), failed.reason(), std::move(route));
}

// Called with journeys_mutex_ held; walks the map at most once a second.
void Router::sweepJourneys(std::chrono::steady_clock::time_point now) {
  if (now < next_sweep_) return;
  next_sweep_ = now + std::chrono::seconds(1);
  std::erase_if(journeys_, [now](const auto& entry) { return entry.second.expires <= now; });
}

}  // namespace tel::routing
