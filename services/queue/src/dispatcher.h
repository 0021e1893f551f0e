#pragma once

#include <prometheus/counter.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>

#include "live_queues.h"
#include "queue_store.h"
#include "tel/call_control/application_link.h"
#include "tel/log/log.h"
#include "tel/metrics/tenant_labels.h"

namespace tel::queue {

struct DispatcherOptions {
  // Names this instance in Redis: the callers it drives carry it (they are offered to agents by it).
  std::string instance_id;
  // How often the queues this instance has callers in are matched with free agents (and at once
  // on every change seen here or published by another instance on kWakeChannel).
  std::chrono::milliseconds dispatch_interval{50};
  // A caller whose instance has given no sign of life for this long is dropped from the line: its
  // call ended while no instance had it. Instances mark their callers every second.
  std::chrono::milliseconds stale_after{10000};
  // Tenants with their own series in the per-tenant metrics; later ones count as "other".
  size_t metrics_max_tenants = 1000;
};

// Drives the calls handed over to the queue: answers the caller (if the dial plan has not), plays
// the queue's music in a loop, and puts them in line (LiveQueues); matches the head of each line
// with the agents its strategy picks and rings them (Dial: the first to answer is bridged to the
// caller); tells waiting callers their position and estimated wait every announce_every_seconds;
// puts a caller whose agents missed back at their place; sends a caller that waited the
// queue's maximum, or found it full, back to the dial plan's overflow node (HandOver to routing).
// The line and the agents' states live in Redis, shared with every other instance; this instance
// keeps only the calls sip-edge sent it (and, should Redis lose its data, puts them back in line
// at their places).
//
// Threading: handle() runs on worker threads, the matching and the once-a-second sweep on the
// dispatcher's own thread; callers_ is guarded by mutex_, and Redis and sip-edge are called
// without it held.
class Dispatcher {
 public:
  using Clock = std::function<int64_t()>;  // Unix time in ms
  Dispatcher(QueueStore& store, LiveQueues& live, DispatcherOptions options, log::Logger logger,
             prometheus::Registry& registry, Clock clock);
  ~Dispatcher();

  void start();
  void stop();
  // `attachment`: the commander's attachment when the notification arrived on it. A call's
  // notifications must be handled in the order they came (one call, one thread at a time).
  void handle(const calls::v1::CallNotification& notification, std::shared_ptr<call_control::CallCommander> commander,
              uint64_t attachment);
  // Calls this instance drives now.
  size_t calls() const;
  // Matches the lines at once: an agent may be free (a change seen here, or published by another
  // instance). Any thread.
  void wake();

 private:
  struct Caller {
    std::string tenant_id;
    std::string queue_id;
    std::string overflow;  // the plan node taking overflow; empty: the caller hears 480
    std::string caller;
    int64_t joined_ms = 0;
    uint32_t priority = 0;  // 0..9: goes before the callers of lower priorities
    bool offered = false;    // agents ringing
    bool connected = false;  // an agent answered
    int64_t next_announcement_ms = 0;  // when the position is said next (0: not yet planned)
    uint64_t announcements = 0;
    std::vector<std::string> agents;  // offered: the agents ringing
    std::string agent;                // connected: the agent on the call
    std::shared_ptr<call_control::CallCommander> commander;
    // The stream attachment the call came on: once the stream has been attached again, sip-edge
    // has offered the call anew (to this instance or another) and this entry is stale.
    uint64_t attachment = 0;
    bool current() const { return commander->attachment() == attachment; }
  };

  void onOffered(const std::string& call_id, const calls::v1::CallOffered& offered,
                 std::shared_ptr<call_control::CallCommander> commander, uint64_t attachment);
  void onBridged(const std::string& call_id, const calls::v1::BridgedNotice& bridged);
  // The agents offered missed the call (`counted`), or the offer could not be sent (not counted):
  // the caller is back at its place.
  void onDialFailed(const std::string& call_id, bool counted = true);
  void onEnded(const std::string& call_id);
  // An announcement heard out: the music again.
  void onPlaybackEnded(const std::string& call_id, const calls::v1::PlaybackEndedNotice& ended);
  // `route`: the step to put on the record with it, if any.
  void playMusic(const std::string& call_id, const Caller& caller, const v1::QueueSettings& settings,
                 const calls::v1::RouteStep* route);
  // Puts a step on the call's record (an agent answering or missing: no other command says it).
  void note(const Caller& caller, const std::string& call_id, calls::v1::RouteStep route);
  // Tells the callers due for it their position and estimated wait (sweep).
  void announce(const std::vector<std::pair<std::string, Caller>>& waiting, int64_t now);
  void run();
  // Offers the head of every line this instance has a caller in to free agents.
  void dispatch();
  // Dials the offer's agents; false when the offer could not be sent (the line waits a tick).
  bool ring(const std::string& tenant_id, const std::string& queue_id, const Offer& offer);
  // Forgets the callers whose stream has been attached again since they came (sweep).
  void dropStale();
  // Puts back what Redis lost of a tenant's state: the agents' own states from Postgres and this
  // instance's callers as it knows them.
  void rebuild(const std::string& tenant_id, const std::vector<std::string>& lost, int64_t now);
  // Once a second: marks this instance's callers alive, puts back those Redis lost, overflows
  // those that waited the maximum.
  void sweep();
  // The caller leaves the queue for the dial plan's overflow node (or hears 480 without one).
  void overflow(const std::string& call_id, const Caller& caller, const char* why);
  std::optional<Caller> find(const std::string& call_id) const;
  void count(const char* event);

  QueueStore& store_;
  LiveQueues& live_;
  const DispatcherOptions options_;
  log::Logger log_;
  Clock clock_;
  prometheus::Family<prometheus::Counter>& events_;
  prometheus::Histogram& answered_wait_;
  prometheus::Histogram& abandoned_wait_;
  // Per tenant: the service level (answered within it over answered) and abandons.
  prometheus::Family<prometheus::Counter>& tenant_answered_;
  prometheus::Family<prometheus::Counter>& tenant_abandoned_;
  metrics::TenantLabels tenants_;
  mutable std::mutex mutex_;
  std::condition_variable woken_;
  bool pending_ = false;   // guarded by mutex_: a change to act on at once
  bool stopping_ = false;  // guarded by mutex_
  std::unordered_map<std::string, Caller> callers_;  // guarded by mutex_; by call id
  std::unordered_map<std::string, std::string> epochs_;  // by tenant; the dispatcher thread's only
  std::thread thread_;
};

}  // namespace tel::queue
