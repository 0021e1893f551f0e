#pragma once

#include <prometheus/counter.h>
#include <prometheus/registry.h>

#include <condition_variable>
#include <mutex>
#include <thread>

#include "call_backends.h"
#include "call_ledger.h"
#include "tel/log/log.h"

namespace tel::sip {

struct ReaperOptions {
  std::chrono::milliseconds heartbeat_interval{1000};
  // An instance whose heartbeat is this old is lost (several missed heartbeats, so that a slow
  // Redis round trip or a stalled process is not mistaken for a death). Heartbeats carry each
  // instance's wall clock: the hosts' clocks must agree to well within this (NTP).
  std::chrono::milliseconds lost_after{10000};
};

// Keeps this instance's heartbeat in the ledger and closes the calls of instances that stopped
// beating: deletes their media sessions (the relays free the ports and say how much media
// flowed), gives their number channels back, and publishes the call's end ("sip-edge lost",
// hung up by the system) so that every record is complete. The SIP dialogs themselves are ended
// by the load balancer in front (Kamailio's dialog keep-alives); see README "Scaling out".
//
// Several survivors may see the same lapse: one claims the lost instance and closes its calls; a
// claim lapses, so a survivor that dies mid-way leaves the rest to the next one.
//
// Threading: one thread of its own; every port it uses blocks.
class LostInstanceReaper {
 public:
  LostInstanceReaper(ReaperOptions options, CallLedger& ledger, OrphanedMedia& media,
                     ChannelLimiter& channels, EventSink& events, log::Logger logger,
                     prometheus::Registry& registry);
  ~LostInstanceReaper();
  LostInstanceReaper(const LostInstanceReaper&) = delete;
  LostInstanceReaper& operator=(const LostInstanceReaper&) = delete;

  void start();
  // Stops the thread. With `leave`, this instance also leaves the cluster (a clean exit: its own
  // calls are closed already), so nobody mistakes it for a lost one.
  void stop(bool leave);

  // One round: heartbeat, then close the calls of every lapsed instance. Public for tests.
  void runOnce(CallLedger::Clock::time_point now);

  // The sequence of the events published for a lost instance's calls: above any the instance can
  // have used, so that they sort after its own.
  static constexpr uint64_t kSequenceBase = uint64_t{1} << 40;

 private:
  void closeCallsOf(const std::string& instance);
  void closeCall(const LedgerEntry& entry);

  ReaperOptions options_;
  CallLedger& ledger_;
  OrphanedMedia& media_;
  ChannelLimiter& channels_;
  EventSink& events_;
  log::Logger log_;
  prometheus::Counter& lost_instances_;
  prometheus::Counter& closed_calls_;

  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace tel::sip
