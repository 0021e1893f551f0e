#pragma once

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/registry.h>

#include <absl/status/statusor.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <optional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "tel/log/log.h"

namespace tel::routing {

struct CarrierHealthOptions {
  // A carrier that fails this many calls (5xx, 408, no response) within `window` is down: calls
  // use the tenant's other carriers first, and it is probed with SIP OPTIONS until it answers.
  int failures_to_trip = 3;
  std::chrono::seconds window{60};
  std::chrono::seconds probe_interval{5};
  int probes_to_recover = 2;  // answered probes in a row that bring it back
  // A down carrier no call has wanted for this long is forgotten (deleted, or its tenant gone):
  // no more probes; should calls fail through it again, it is taken out again.
  std::chrono::seconds forget_after{3600};
};

// What routing has seen of each carrier: up, or down after repeated failures and waiting for its
// probes to be answered (a circuit breaker with active recovery, like Kamailio's dispatcher).
// Kept per routing instance: each learns from the calls it routes, which every instance does.
//
// Thread-safe (one mutex): calls are routed on worker threads, probes run on the prober's thread.
class CarrierHealth {
 public:
  using Clock = std::function<std::chrono::steady_clock::time_point()>;
  struct ProbeTarget {
    std::string carrier_id;
    std::string uri;  // where its OPTIONS go: the carrier's outbound URI
  };

  CarrierHealth(CarrierHealthOptions options, log::Logger logger, prometheus::Registry& registry,
                Clock clock = [] { return std::chrono::steady_clock::now(); });

  // A call through the carrier failed on the carrier's side (5xx, 408, no response at all).
  void failed(const std::string& carrier_id, const std::string& uri);
  // The carrier passed on the callee's answer (busy, declined...): it is working.
  void worked(const std::string& carrier_id);
  bool down(const std::string& carrier_id) const;
  // The down carriers whose next probe is due; each is then in flight until probed() is called.
  std::vector<ProbeTarget> dueProbes();
  // A probe's outcome: answered (any final response but 408 and 5xx) or not.
  void probed(const std::string& carrier_id, bool answered);
  // A probe that could not be sent (no sip-edge to ask): it says nothing about the carrier, which
  // is probed again after the interval.
  void notProbed(const std::string& carrier_id);

 private:
  struct State {
    std::string uri;
    std::deque<std::chrono::steady_clock::time_point> failures;  // within the window
    bool down = false;
    bool probing = false;
    std::chrono::steady_clock::time_point wanted{};  // the last call that asked about it
    int answered_probes = 0;
    std::chrono::steady_clock::time_point next_probe{};
  };
  void setDownLocked(State& state, const std::string& carrier_id, bool down);

  const CarrierHealthOptions options_;
  log::Logger log_;
  Clock clock_;
  prometheus::Gauge& down_gauge_;
  prometheus::Family<prometheus::Counter>& changes_;
  prometheus::Family<prometheus::Counter>& probes_;
  mutable std::mutex mutex_;
  // By carrier id; guarded by mutex_. Mutable: asking whether a carrier is down marks it wanted.
  mutable std::map<std::string, State> carriers_;
};

// Probes the down carriers through sip-edge (call-control's Probe: SIP OPTIONS) once a second,
// each as often as CarrierHealthOptions.probe_interval, until stopped. Owns its thread.
class CarrierProbeLoop {
 public:
  // Sends OPTIONS to `uri` and returns the final status (0: none in time).
  using Probe = std::function<absl::StatusOr<uint32_t>(const std::string& uri)>;

  CarrierProbeLoop(CarrierHealth& health, Probe probe, log::Logger logger)
      : health_(health), probe_(std::move(probe)), log_(std::move(logger)) {}
  ~CarrierProbeLoop() { stop(); }
  void start();
  void stop();
  // One round: probes what is due now (for tests).
  void probeDue();

 private:
  CarrierHealth& health_;
  Probe probe_;
  log::Logger log_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;  // guarded by mutex_
  std::thread thread_;
};

// The probe answer that means a carrier is there: any final response but a timeout or a server
// error (401/404/405 are answers too).
bool probeAnswered(uint32_t status_code);

}  // namespace tel::routing
