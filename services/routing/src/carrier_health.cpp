#include "carrier_health.h"

namespace tel::routing {

bool probeAnswered(uint32_t status_code) {
  return status_code >= 200 && status_code < 500 && status_code != 408;
}

CarrierHealth::CarrierHealth(CarrierHealthOptions options, log::Logger logger, prometheus::Registry& registry,
                             Clock clock)
    : options_(options),
      log_(std::move(logger)),
      clock_(std::move(clock)),
      down_gauge_(prometheus::BuildGauge()
                      .Name("tel_routing_carriers_down")
                      .Help("Carriers this routing instance has taken out after repeated failures")
                      .Register(registry)
                      .Add({})),
      changes_(prometheus::BuildCounter()
                   .Name("tel_routing_carrier_state_changes_total")
                   .Help("Carriers taken out (to=down) and brought back by their probes (to=up)")
                   .Register(registry)),
      probes_(prometheus::BuildCounter()
                  .Name("tel_routing_carrier_probes_total")
                  .Help("SIP OPTIONS probes of down carriers, by result")
                  .Register(registry)) {
  for (const char* to : {"down", "up"}) changes_.Add({{"to", to}});
  for (const char* result : {"answered", "unanswered"}) probes_.Add({{"result", result}});
}

void CarrierHealth::failed(const std::string& carrier_id, const std::string& uri) {
  if (carrier_id.empty()) return;
  const auto now = clock_();
  std::lock_guard lock(mutex_);
  State& state = carriers_[carrier_id];
  state.uri = uri;
  state.wanted = now;
  if (state.down) return;
  state.failures.push_back(now);
  while (!state.failures.empty() && now - state.failures.front() > options_.window) state.failures.pop_front();
  if (static_cast<int>(state.failures.size()) >= options_.failures_to_trip) setDownLocked(state, carrier_id, true);
}

void CarrierHealth::worked(const std::string& carrier_id) {
  std::lock_guard lock(mutex_);
  auto found = carriers_.find(carrier_id);
  if (found == carriers_.end()) return;
  found->second.failures.clear();
  // A call that got through is as good as an answered probe.
  if (found->second.down) setDownLocked(found->second, carrier_id, false);
}

bool CarrierHealth::down(const std::string& carrier_id) const {
  std::lock_guard lock(mutex_);
  auto found = carriers_.find(carrier_id);
  if (found == carriers_.end()) return false;
  found->second.wanted = clock_();
  return found->second.down;
}

std::vector<CarrierHealth::ProbeTarget> CarrierHealth::dueProbes() {
  const auto now = clock_();
  std::vector<ProbeTarget> due;
  std::lock_guard lock(mutex_);
  for (auto it = carriers_.begin(); it != carriers_.end();) {
    State& state = it->second;
    if (state.down && !state.probing && now - state.wanted > options_.forget_after) {
      log_.info("down carrier forgotten: no call has wanted it for long", {{"carrier_id", it->first}});
      down_gauge_.Decrement();
      it = carriers_.erase(it);
      continue;
    }
    if (state.down && !state.probing && state.next_probe <= now) {
      state.probing = true;
      due.push_back({it->first, state.uri});
    }
    ++it;
  }
  return due;
}

void CarrierHealth::probed(const std::string& carrier_id, bool answered) {
  probes_.Add({{"result", answered ? "answered" : "unanswered"}}).Increment();
  const auto now = clock_();
  std::lock_guard lock(mutex_);
  auto found = carriers_.find(carrier_id);
  if (found == carriers_.end()) return;
  State& state = found->second;
  state.probing = false;
  state.next_probe = now + options_.probe_interval;
  if (!state.down) return;
  state.answered_probes = answered ? state.answered_probes + 1 : 0;
  if (state.answered_probes >= options_.probes_to_recover) setDownLocked(state, carrier_id, false);
}

void CarrierHealth::notProbed(const std::string& carrier_id) {
  const auto now = clock_();
  std::lock_guard lock(mutex_);
  auto found = carriers_.find(carrier_id);
  if (found == carriers_.end()) return;
  found->second.probing = false;
  found->second.next_probe = now + options_.probe_interval;
}

void CarrierHealth::setDownLocked(State& state, const std::string& carrier_id, bool down) {
  state.down = down;
  state.failures.clear();
  state.answered_probes = 0;
  state.next_probe = clock_() + options_.probe_interval;
  changes_.Add({{"to", down ? "down" : "up"}}).Increment();
  down_gauge_.Increment(down ? 1 : -1);
  if (down) {
    log_.warn("carrier down: calls use the other carriers first until it answers probes",
              {{"carrier_id", carrier_id}, {"uri", state.uri}});
  } else {
    log_.info("carrier up again", {{"carrier_id", carrier_id}, {"uri", state.uri}});
  }
}

void CarrierProbeLoop::start() {
  thread_ = std::thread([this] {
    std::unique_lock lock(mutex_);
    while (!stopping_) {
      lock.unlock();
      probeDue();
      lock.lock();
      wake_.wait_for(lock, std::chrono::seconds(1), [this] { return stopping_; });
    }
  });
}

void CarrierProbeLoop::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void CarrierProbeLoop::probeDue() {
  // Carriers of many tenants often share one address: it is probed once a round for all of them.
  // Probes run one after another (each up to its timeout); a stop is heard between them.
  std::map<std::string, std::optional<bool>> answers;  // by URI; nullopt: not sent
  for (const auto& target : health_.dueProbes()) {
    auto known = answers.find(target.uri);
    if (known == answers.end()) {
      {
        std::lock_guard lock(mutex_);
        if (stopping_) {
          health_.notProbed(target.carrier_id);
          continue;
        }
      }
      auto status = probe_(target.uri);
      if (!status.ok()) {
        log_.warn("carrier probe not sent", {{"carrier_id", target.carrier_id}, {"error", std::string(status.status().message())}});
      }
      known = answers.emplace(target.uri, status.ok() ? std::optional<bool>(probeAnswered(*status)) : std::nullopt).first;
    }
    if (known->second) {
      health_.probed(target.carrier_id, *known->second);
    } else {
      health_.notProbed(target.carrier_id);
    }
  }
}

}  // namespace tel::routing
