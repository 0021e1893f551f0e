#include "dispatcher.h"

#include <set>

#include "announcement.h"
#include "queue_settings.h"

namespace tel::queue {
namespace {

// What routing and the queue hand each other (routing's dial_plan.h names the same keys).
constexpr const char* kContextQueue = "queue";
constexpr const char* kContextOverflow = "overflow";
constexpr const char* kContextNode = "node";
constexpr const char* kContextPriority = "priority";
constexpr const char* kRoutingApplication = "routing";

calls::v1::RouteStep step(const std::string& queue_id, const std::string& outcome, const std::string& detail) {
  calls::v1::RouteStep route;
  route.set_node(queue_id);
  route.set_type("queue");
  route.set_outcome(outcome);
  route.set_detail(detail.substr(0, 256));
  return route;
}

std::string contextOf(const calls::v1::CallOffered& offered, const char* key) {
  auto it = offered.context().find(key);
  return it == offered.context().end() ? std::string() : it->second;
}

}  // namespace

Dispatcher::Dispatcher(QueueStore& store, LiveQueues& live, DispatcherOptions options, log::Logger logger,
                       prometheus::Registry& registry, Clock clock)
    : store_(store),
      live_(live),
      options_(std::move(options)),
      log_(std::move(logger)),
      clock_(std::move(clock)),
      events_(prometheus::BuildCounter()
                  .Name("tel_queue_caller_events_total")
                  .Help("Queued callers' events: joined, rejoined, full, announced (position and wait), offered, "
                        "answered, missed, abandoned, overflowed, lost (Redis lost them and they were put back)")
                  .Register(registry)),
      answered_wait_(prometheus::BuildHistogram()
                         .Name("tel_queue_answered_wait_seconds")
                         .Help("How long answered callers waited in the queue")
                         .Register(registry)
                         .Add({}, prometheus::Histogram::BucketBoundaries{1, 5, 10, 20, 30, 60, 120, 300, 600})),
      abandoned_wait_(prometheus::BuildHistogram()
                          .Name("tel_queue_abandoned_wait_seconds")
                          .Help("How long callers who hung up waiting had waited in the queue")
                          .Register(registry)
                          .Add({}, prometheus::Histogram::BucketBoundaries{1, 5, 10, 20, 30, 60, 120, 300, 600})),
      tenant_answered_(prometheus::BuildCounter()
                           .Name("tel_queue_tenant_answered_total")
                           .Help("Queued callers answered by an agent, per tenant, and whether within the queue's "
                                 "service level (the service level is the share answered within it)")
                           .Register(registry)),
      tenant_abandoned_(prometheus::BuildCounter()
                            .Name("tel_queue_tenant_abandoned_total")
                            .Help("Queued callers who hung up before an agent answered, per tenant")
                            .Register(registry)),
      tenants_(options_.metrics_max_tenants) {
  for (const char* within : {"true", "false"})
    tenant_answered_.Add({{"tenant_id", metrics::TenantLabels::kOther}, {"within_service_level", within}});
  tenant_abandoned_.Add({{"tenant_id", metrics::TenantLabels::kOther}});
  for (const char* event :
       {"joined", "rejoined", "full", "announced", "offered", "answered", "missed", "abandoned", "overflowed", "lost"})
    events_.Add({{"event", event}});
}

Dispatcher::~Dispatcher() { stop(); }

void Dispatcher::start() {
  thread_ = std::thread([this] { run(); });
}

void Dispatcher::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  woken_.notify_all();
  if (thread_.joinable()) thread_.join();
}

size_t Dispatcher::calls() const {
  std::lock_guard lock(mutex_);
  return callers_.size();
}

void Dispatcher::count(const char* event) { events_.Add({{"event", event}}).Increment(); }

void Dispatcher::wake() {
  {
    std::lock_guard lock(mutex_);
    pending_ = true;
  }
  woken_.notify_all();
}

std::optional<Dispatcher::Caller> Dispatcher::find(const std::string& call_id) const {
  std::lock_guard lock(mutex_);
  auto it = callers_.find(call_id);
  if (it == callers_.end()) return std::nullopt;
  return it->second;
}

void Dispatcher::handle(const calls::v1::CallNotification& notification,
                        std::shared_ptr<call_control::CallCommander> commander, uint64_t attachment) {
  const std::string& call_id = notification.call_id();
  switch (notification.kind_case()) {
    case calls::v1::CallNotification::kOffered:
      return onOffered(call_id, notification.offered(), std::move(commander), attachment);
    case calls::v1::CallNotification::kBridged:
      return onBridged(call_id, notification.bridged());
    case calls::v1::CallNotification::kDialFailed:
      return onDialFailed(call_id);
    case calls::v1::CallNotification::kEnded:
      return onEnded(call_id);
    case calls::v1::CallNotification::kPlaybackEnded:
      return onPlaybackEnded(call_id, notification.playback_ended());
    default:
      return;  // ringing, keys, playback ends: nothing to decide
  }
}

void Dispatcher::onOffered(const std::string& call_id, const calls::v1::CallOffered& offered,
                           std::shared_ptr<call_control::CallCommander> commander, uint64_t attachment) {
  Caller caller;
  caller.attachment = attachment;
  caller.tenant_id = offered.tenant_id();
  caller.queue_id = contextOf(offered, kContextQueue);
  caller.overflow = contextOf(offered, kContextOverflow);
  // 0..9 as routing sends it; anything else counts as no priority.
  if (const std::string priority = contextOf(offered, kContextPriority);
      priority.size() == 1 && priority[0] >= '0' && priority[0] <= '9') {
    caller.priority = static_cast<uint32_t>(priority[0] - '0');
  }
  caller.caller = offered.caller();
  caller.commander = std::move(commander);
  auto log = log_.withFields({{"call_id", call_id}, {"tenant_id", caller.tenant_id}, {"queue_id", caller.queue_id}});
  auto settings = store_.settingsFor(caller.tenant_id, caller.queue_id);
  if (!settings.ok()) {
    log.warn("queue not usable: overflow", {{"error", std::string(settings.status().message())}});
    return overflow(call_id, caller, absl::IsNotFound(settings.status()) ? "no_such_queue" : "unavailable");
  }
  const int64_t now = clock_();
  auto joined = live_.join(caller.tenant_id, caller.queue_id, call_id, caller.caller, options_.instance_id, now,
                           settings->max_callers(), std::nullopt, caller.priority);
  if (!joined.ok()) {
    log.error("queue state unreachable: overflow", {{"error", std::string(joined.status().message())}});
    return overflow(call_id, caller, "unavailable");
  }
  if (joined->kind == Joined::Kind::kFull) {
    count("full");
    log.info("queue full: overflow");
    return overflow(call_id, caller, "full");
  }
  caller.joined_ms = joined->joined_ms;
  caller.offered = joined->state == "offered";
  caller.connected = joined->state == "connected";
  const bool rejoined = joined->kind == Joined::Kind::kRejoined;
  {
    std::lock_guard lock(mutex_);
    callers_[call_id] = caller;
  }
  count(rejoined ? "rejoined" : "joined");
  log.info(rejoined ? "caller taken over from a lost instance" : "caller joined",
           {{"position", std::to_string(joined->position)}, {"state", joined->state}});
  if (rejoined && !offered.reoffered()) return;
  if (!rejoined) {
    // The caller hears the queue's music (or a ringing tone) from now until an agent answers. The
    // record's queue visit starts with the step of the first command sent.
    auto joined_step = step(caller.queue_id, "joined", "position " + std::to_string(joined->position));
    if (!offered.answered()) {
      calls::v1::AnswerRequest answer;
      answer.set_call_id(call_id);
      *answer.add_route() = std::move(joined_step);
      (void)caller.commander->answer(answer);
    }
    playMusic(call_id, caller, *settings, offered.answered() ? &joined_step : nullptr);
  }
  wake();
}

void Dispatcher::playMusic(const std::string& call_id, const Caller& caller, const v1::QueueSettings& settings,
                           const calls::v1::RouteStep* route) {
  calls::v1::PlayRequest play;
  play.set_call_id(call_id);
  play.set_playback_id("queue-music");
  play.add_prompts(settings.music_prompt().empty() ? "@ringback" : settings.music_prompt());
  play.set_loop(true);
  if (route != nullptr) *play.add_route() = *route;
  (void)caller.commander->play(play);
}

void Dispatcher::note(const Caller& caller, const std::string& call_id, calls::v1::RouteStep route) {
  calls::v1::NoteRequest note;
  note.set_call_id(call_id);
  *note.add_route() = std::move(route);
  if (auto sent = caller.commander->note(note); !sent.ok()) {
    log_.warn("queue step not put on the record", {{"call_id", call_id}, {"error", std::string(sent.message())}});
  }
}

void Dispatcher::onPlaybackEnded(const std::string& call_id, const calls::v1::PlaybackEndedNotice& ended) {
  // Only an announcement heard to its end: one stopped by an agent's answer stays stopped.
  if (ended.reason() != "finished" || ended.playback_id().rfind("queue-announcement-", 0) != 0) return;
  auto caller = find(call_id);
  if (!caller || caller->connected) return;
  auto settings = store_.settingsFor(caller->tenant_id, caller->queue_id);
  if (settings.ok()) playMusic(call_id, *caller, *settings, nullptr);
}

void Dispatcher::announce(const std::vector<std::pair<std::string, Caller>>& waiting, int64_t now) {
  for (const auto& [call_id, caller] : waiting) {
    auto settings = store_.settingsFor(caller.tenant_id, caller.queue_id);
    if (!settings.ok() || settings->announce_every_seconds() == 0) continue;
    const int64_t every_ms = settings->announce_every_seconds() * 1000LL;
    const int64_t due = caller.next_announcement_ms != 0 ? caller.next_announcement_ms : caller.joined_ms + every_ms;
    if (now < due) continue;
    uint64_t number = 0;
    {
      std::lock_guard lock(mutex_);
      auto it = callers_.find(call_id);
      if (it == callers_.end()) continue;
      it->second.next_announcement_ms = now + every_ms;
      number = ++it->second.announcements;
    }
    auto estimate = live_.estimate(caller.tenant_id, caller.queue_id, call_id, *settings);
    if (!estimate.ok() || estimate->position == 0) continue;  // being offered: the agent is next
    calls::v1::PlayRequest play;
    play.set_call_id(call_id);
    play.set_playback_id("queue-announcement-" + std::to_string(number));
    for (auto& prompt : announcement(estimate->position, estimate->wait_ms)) play.add_prompts(std::move(prompt));
    std::string detail = "position " + std::to_string(estimate->position);
    if (estimate->wait_ms) {
      const int minutes = spokenMinutes(*estimate->wait_ms);
      detail += minutes == 0 ? "; wait under a minute"
                : minutes < 0 ? "; wait over an hour"
                              : "; wait about " + std::to_string(minutes) + " min";
    }
    *play.add_route() = step(caller.queue_id, "announced", detail);
    count("announced");
    (void)caller.commander->play(play);
  }
}

void Dispatcher::onBridged(const std::string& call_id, const calls::v1::BridgedNotice& bridged) {
  std::optional<Caller> caller;
  {
    std::lock_guard lock(mutex_);
    auto it = callers_.find(call_id);
    if (it == callers_.end()) return;
    it->second.connected = true;
    it->second.offered = false;
    it->second.agent = bridged.account_id();
    it->second.agents.clear();
    caller = it->second;
  }
  auto settings = store_.settingsFor(caller->tenant_id, caller->queue_id);
  const int64_t service_level_ms = settings.ok() ? settings->service_level_seconds() * 1000LL : 20000;
  auto waited = live_.answered(caller->tenant_id, caller->queue_id, call_id, bridged.account_id(), clock_(),
                               service_level_ms);
  count("answered");
  if (waited.ok() && *waited >= 0) {
    answered_wait_.Observe(static_cast<double>(*waited) / 1000.0);
    tenant_answered_
        .Add({{"tenant_id", tenants_.of(caller->tenant_id)},
              {"within_service_level", *waited <= service_level_ms ? "true" : "false"}})
        .Increment();
  }
  auto answered = step(caller->queue_id, "answered",
                       waited.ok() && *waited >= 0 ? "waited " + std::to_string(*waited / 1000) + " s" : "");
  answered.set_account_id(bridged.account_id());
  note(*caller, call_id, std::move(answered));
  log_.info("caller answered by an agent", {{"call_id", call_id},
                                            {"tenant_id", caller->tenant_id},
                                            {"queue_id", caller->queue_id},
                                            {"account_id", bridged.account_id()},
                                            {"waited_ms", waited.ok() ? std::to_string(*waited) : "?"}});
}

void Dispatcher::onDialFailed(const std::string& call_id, bool counted) {
  std::optional<Caller> caller;
  {
    std::lock_guard lock(mutex_);
    auto it = callers_.find(call_id);
    if (it == callers_.end()) return;
    it->second.offered = false;
    it->second.agents.clear();
    caller = it->second;
  }
  auto settings = store_.settingsFor(caller->tenant_id, caller->queue_id);
  auto misses = live_.missed(caller->tenant_id, caller->queue_id, call_id, clock_(),
                             settings.ok() ? settings->pause_after_misses() : 0,
                             settings.ok() ? retryMs(*settings) : retryMs({}), counted);
  if (!misses.ok()) {
    log_.error("queue state unreachable", {{"call_id", call_id}, {"error", std::string(misses.status().message())}});
    return wake();
  }
  for (const auto& miss : *misses) {
    if (!counted) continue;  // nobody was rung: freed, not missed
    count("missed");
    log_.info("agent missed the offer", {{"call_id", call_id},
                                         {"tenant_id", caller->tenant_id},
                                         {"account_id", miss.account_id},
                                         {"paused", miss.paused ? "true" : "false"}});
    // Paused for its misses: kept in Postgres too, so that it stays paused should Redis lose it.
    if (miss.paused) (void)store_.setAgentState(caller->tenant_id, miss.account_id, "paused", "missed offers");
    auto missed = step(caller->queue_id, "missed", miss.paused ? "paused after its misses" : "");
    missed.set_account_id(miss.account_id);
    note(*caller, call_id, std::move(missed));
  }
  wake();
}

void Dispatcher::onEnded(const std::string& call_id) {
  std::optional<Caller> caller;
  {
    std::lock_guard lock(mutex_);
    auto it = callers_.find(call_id);
    if (it == callers_.end()) return;
    caller = std::move(it->second);
    callers_.erase(it);
  }
  auto settings = store_.settingsFor(caller->tenant_id, caller->queue_id);
  const int64_t wrapup_ms = settings.ok() ? settings->wrapup_seconds() * 1000LL : 0;
  auto left = live_.left(caller->tenant_id, caller->queue_id, call_id, caller->connected ? "done" : "abandoned",
                         clock_(), wrapup_ms);
  if (!caller->connected) {
    count("abandoned");
    tenant_abandoned_.Add({{"tenant_id", tenants_.of(caller->tenant_id)}}).Increment();
    if (left.ok()) abandoned_wait_.Observe(static_cast<double>(left->waited_ms) / 1000.0);
  }
  log_.info(caller->connected ? "queued call ended" : "caller abandoned the queue",
            {{"call_id", call_id},
             {"tenant_id", caller->tenant_id},
             {"queue_id", caller->queue_id},
             {"waited_ms", left.ok() ? std::to_string(left->waited_ms) : "?"}});
  wake();
}

void Dispatcher::overflow(const std::string& call_id, const Caller& caller, const char* why) {
  count("overflowed");
  {
    std::lock_guard lock(mutex_);
    callers_.erase(call_id);
  }
  (void)live_.left(caller.tenant_id, caller.queue_id, call_id, "overflowed", clock_(), 0);
  if (!caller.overflow.empty()) {
    calls::v1::HandOverRequest hand_over;
    hand_over.set_call_id(call_id);
    hand_over.set_application(kRoutingApplication);
    (*hand_over.mutable_context())[kContextNode] = caller.overflow;
    *hand_over.add_route() = step(caller.queue_id, "overflow", why);
    if (caller.commander->handOver(hand_over).ok()) return;
  }
  calls::v1::HangupRequest hangup;
  hangup.set_call_id(call_id);
  hangup.set_status_code(480);
  hangup.set_reason("queue overflow");
  *hangup.add_route() = step(caller.queue_id, "overflow", why);
  (void)caller.commander->hangup(hangup);
}

void Dispatcher::run() {
  auto next_sweep = std::chrono::steady_clock::now();
  std::unique_lock lock(mutex_);
  while (!stopping_) {
    woken_.wait_for(lock, options_.dispatch_interval, [this] { return stopping_ || pending_; });
    if (stopping_) break;
    pending_ = false;
    lock.unlock();
    dispatch();
    if (std::chrono::steady_clock::now() >= next_sweep) {
      sweep();
      next_sweep = std::chrono::steady_clock::now() + std::chrono::seconds(1);
    }
    lock.lock();
  }
}

void Dispatcher::dispatch() {
  std::set<std::pair<std::string, std::string>> lines;  // (tenant, queue) with a caller of ours waiting
  {
    std::lock_guard lock(mutex_);
    for (const auto& [id, caller] : callers_) {
      if (!caller.offered && !caller.connected) lines.emplace(caller.tenant_id, caller.queue_id);
    }
  }
  for (const auto& [tenant_id, queue_id] : lines) {
    auto settings = store_.settingsFor(tenant_id, queue_id);
    if (!settings.ok()) continue;  // a deleted queue: the sweep sends its callers to overflow
    // Each claim takes one caller; the line is served until its head is not ours or no agent is free.
    for (int taken = 0; taken < 100; ++taken) {
      auto offer = live_.claim(tenant_id, queue_id, *settings, options_.instance_id, clock_(),
                               options_.stale_after.count());
      if (!offer.ok()) {
        log_.error("queue state unreachable", {{"tenant_id", tenant_id}, {"error", std::string(offer.status().message())}});
        break;
      }
      if (!*offer || !ring(tenant_id, queue_id, **offer)) break;
    }
  }
}

bool Dispatcher::ring(const std::string& tenant_id, const std::string& queue_id, const Offer& offer) {
  std::optional<Caller> caller;
  {
    std::lock_guard lock(mutex_);
    auto it = callers_.find(offer.call_id);
    if (it != callers_.end()) {
      it->second.offered = true;
      it->second.agents = offer.agents;
      caller = it->second;
    }
  }
  const int64_t now = clock_();
  if (!caller) {  // ended meanwhile: its agents are free again
    (void)live_.left(tenant_id, queue_id, offer.call_id, "abandoned", now, 0);
    return true;
  }
  auto settings = store_.settingsFor(caller->tenant_id, caller->queue_id);
  calls::v1::DialRequest dial;
  dial.set_call_id(offer.call_id);
  dial.set_timeout_seconds(settings.ok() ? settings->ring_timeout_seconds() : 15);
  std::string agents;
  for (const auto& account_id : offer.agents) {
    dial.add_targets()->mutable_account()->set_account_id(account_id);
    agents += (agents.empty() ? "" : ",") + account_id;
  }
  *dial.add_route() = step(caller->queue_id, "offered",
                           "waited " + std::to_string((now - caller->joined_ms) / 1000) + " s; agents " + agents);
  const absl::Status sent = caller->current() ? caller->commander->dial(dial)
                                              : absl::UnavailableError("the call's stream was attached again");
  if (!sent.ok()) {
    // Nobody was rung: the agents are freed without a miss, and the line waits for the next tick.
    log_.warn("offer not sent; the caller waits on", {{"call_id", offer.call_id}, {"error", std::string(sent.message())}});
    onDialFailed(offer.call_id, /*counted=*/false);
    return false;
  }
  count("offered");
  log_.info("caller offered to agents", {{"call_id", offer.call_id},
                                         {"tenant_id", caller->tenant_id},
                                         {"queue_id", caller->queue_id},
                                         {"agents", agents}});
  return true;
}

void Dispatcher::dropStale() {
  std::vector<std::string> dropped;
  {
    std::lock_guard lock(mutex_);
    for (auto it = callers_.begin(); it != callers_.end();) {
      if (it->second.current()) {
        ++it;
        continue;
      }
      dropped.push_back(it->first);
      it = callers_.erase(it);
    }
  }
  // Left in Redis as they are: sip-edge has offered them anew, and whoever takes them owns them.
  for (const auto& call_id : dropped) {
    log_.info("call-control stream attached again: the call is offered anew", {{"call_id", call_id}});
  }
}

void Dispatcher::rebuild(const std::string& tenant_id, const std::vector<std::string>& lost, int64_t now) {
  std::vector<std::array<std::string, 3>> agents;
  if (store_.agentStates(tenant_id, &agents).ok()) {
    for (const auto& [account_id, state, reason] : agents)
      (void)live_.setAgentState(tenant_id, account_id, state, reason, now);
  }
  for (const auto& call_id : lost) {
    auto caller = find(call_id);
    if (!caller) continue;
    count("lost");
    Restored restored;
    restored.caller = caller->caller;
    restored.owner = options_.instance_id;
    restored.joined_ms = caller->joined_ms;
    restored.priority = caller->priority;
    restored.state = caller->connected ? "connected" : caller->offered ? "offered" : "waiting";
    restored.agent = caller->agent;
    restored.offered = caller->agents;
    if (auto status = live_.restore(tenant_id, caller->queue_id, call_id, restored, now); !status.ok()) {
      log_.error("caller not put back", {{"call_id", call_id}, {"error", std::string(status.message())}});
    }
  }
  log_.warn("queue state lost by Redis put back", {{"tenant_id", tenant_id}, {"callers", std::to_string(lost.size())}});
}

void Dispatcher::sweep() {
  dropStale();
  std::map<std::string, std::vector<std::string>> by_tenant;
  std::vector<std::pair<std::string, Caller>> waited_out;
  const int64_t now = clock_();
  {
    std::lock_guard lock(mutex_);
    for (const auto& [id, caller] : callers_) by_tenant[caller.tenant_id].push_back(id);
  }
  for (const auto& [tenant_id, ids] : by_tenant) {
    auto touched = live_.touch(tenant_id, ids, now);
    if (!touched.ok()) continue;
    // Another epoch than the one seen before means Redis lost the tenant's state; a caller missing
    // at first sight is taken for lost the same way.
    std::string& known = epochs_[tenant_id];
    const bool reset = known.empty() ? !touched->lost.empty() : known != touched->epoch;
    known = touched->epoch;
    if (reset) {
      rebuild(tenant_id, touched->lost, now);
    } else if (!touched->lost.empty()) {
      // Taken out by another instance (its stale cleanup, or a caller it was offered anew): the
      // call is no longer this instance's.
      std::lock_guard lock(mutex_);
      for (const auto& call_id : touched->lost) callers_.erase(call_id);
    }
  }
  std::vector<std::pair<std::string, Caller>> waiting;
  {
    std::lock_guard lock(mutex_);
    for (const auto& [id, caller] : callers_) {
      if (!caller.offered && !caller.connected) waiting.emplace_back(id, caller);
    }
  }
  for (const auto& [id, caller] : waiting) {
    auto settings = store_.settingsFor(caller.tenant_id, caller.queue_id);
    const bool gone = !settings.ok() && absl::IsNotFound(settings.status());
    if (gone || (settings.ok() && settings->max_wait_seconds() > 0 &&
                 now - caller.joined_ms >= settings->max_wait_seconds() * 1000LL)) {
      waited_out.emplace_back(id, caller);
    }
  }
  announce(waiting, now);
  for (const auto& [call_id, caller] : waited_out) {
    log_.info("caller waited the maximum: overflow",
              {{"call_id", call_id}, {"tenant_id", caller.tenant_id}, {"queue_id", caller.queue_id}});
    overflow(call_id, caller, "max_wait");
  }
  if (!waited_out.empty()) wake();
}

}  // namespace tel::queue
