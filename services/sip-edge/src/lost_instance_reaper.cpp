#include "lost_instance_reaper.h"

namespace tel::sip {

LostInstanceReaper::LostInstanceReaper(ReaperOptions options, CallLedger& ledger,
                                       OrphanedMedia& media, ChannelLimiter& channels,
                                       EventSink& events, log::Logger logger,
                                       prometheus::Registry& registry)
    : options_(options),
      ledger_(ledger),
      media_(media),
      channels_(channels),
      events_(events),
      log_(logger.withFields({{"instance", ledger.self()}})),
      lost_instances_(prometheus::BuildCounter()
                          .Name("tel_sip_edge_instances_lost_total")
                          .Help("Other sip-edge instances this one found lost and closed")
                          .Register(registry)
                          .Add({})),
      closed_calls_(prometheus::BuildCounter()
                        .Name("tel_sip_edge_orphaned_calls_closed_total")
                        .Help("Calls of lost sip-edge instances that this one closed")
                        .Register(registry)
                        .Add({})) {}

LostInstanceReaper::~LostInstanceReaper() { stop(false); }

void LostInstanceReaper::start() {
  thread_ = std::thread([this] {
    std::unique_lock lock(mutex_);
    while (!stopping_) {
      lock.unlock();
      runOnce(CallLedger::Clock::now());
      lock.lock();
      wake_.wait_for(lock, options_.heartbeat_interval, [this] { return stopping_; });
    }
  });
}

void LostInstanceReaper::stop(bool leave) {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
  if (leave) {
    if (auto left = ledger_.forget(ledger_.self()); !left.ok())
      log_.error("cannot leave the cluster", {{"error", std::string(left.message())}});
  }
}

void LostInstanceReaper::runOnce(CallLedger::Clock::time_point now) {
  if (auto beat = ledger_.heartbeat(now + options_.lost_after); !beat.ok()) {
    log_.warn("heartbeat failed", {{"error", std::string(beat.message())}});
    return;  // without a heartbeat of our own, we may be the one the others see as lost
  }
  auto lapsed = ledger_.lapsed(now);
  if (!lapsed.ok()) {
    log_.warn("cannot list lost instances", {{"error", std::string(lapsed.status().message())}});
    return;
  }
  for (const auto& instance : *lapsed) {
    // Held long enough to close thousands of calls; a closer that dies lets it lapse.
    auto claimed = ledger_.claim(instance, std::chrono::seconds(60));
    if (!claimed.ok() || !*claimed) continue;
    closeCallsOf(instance);
  }
}

void LostInstanceReaper::closeCallsOf(const std::string& instance) {
  auto calls = ledger_.callsOf(instance);
  if (!calls.ok()) {
    log_.error("cannot read a lost instance's calls",
               {{"lost_instance", instance}, {"error", std::string(calls.status().message())}});
    return;
  }
  log_.warn("sip-edge instance lost: closing its calls",
            {{"lost_instance", instance}, {"calls", std::to_string(calls->size())}});
  lost_instances_.Increment();
  for (const auto& entry : *calls) {
    closeCall(entry);
    if (auto erased = ledger_.eraseOf(instance, entry.call_id); !erased.ok()) {
      log_.error("cannot erase a closed call", {{"call_id", entry.call_id},
                                                {"error", std::string(erased.message())}});
      return;  // the claim lapses and a later one closes the rest (this call again: its record
               // then ends at the later time)
    }
  }
  if (auto forgotten = ledger_.forget(instance); !forgotten.ok()) {
    log_.error("cannot forget a lost instance",
               {{"lost_instance", instance}, {"error", std::string(forgotten.message())}});
  }
}

void LostInstanceReaper::closeCall(const LedgerEntry& entry) {
  auto call_log = log_.withFields({{"call_id", entry.call_id}, {"tenant_id", entry.tenant_id}});
  std::map<std::string, calls::v1::MediaCounters> counters;
  std::optional<calls::v1::CallRecording> recording;
  if (!entry.media_session.empty()) {
    auto deleted = media_.deleteSessionAt(entry.media_relay, entry.media_session);
    if (deleted.ok()) {
      counters = std::move(deleted->legs);
      recording = std::move(deleted->recording);
    } else {
      // Gone already (the relay's media timeout, or the relay was lost too): nothing to free.
      call_log.warn("lost call's media session not deleted",
                    {{"error", std::string(deleted.status().message())}});
    }
  }
  if (!entry.number_id.empty()) {
    if (auto released = channels_.release(entry.tenant_id, entry.number_id, entry.call_id);
        !released.ok()) {
      call_log.warn("lost call's channel not released (its hold lapses by itself)",
                    {{"error", std::string(released.message())}});
    }
  }
  for (const auto& key : entry.limits) {
    if (auto released = channels_.release(entry.tenant_id, limitCounterName(key), entry.call_id); !released.ok()) {
      call_log.warn("lost call's limit slot not released (its hold lapses by itself)",
                    {{"limit", key}, {"error", std::string(released.message())}});
    }
  }
  uint64_t sequence = kSequenceBase;
  const bool answered = !entry.answered_leg.empty();
  if (answered) {
    calls::v1::CallEvent leg_ended;
    auto* leg = leg_ended.mutable_leg_ended();
    leg->set_leg_id(entry.answered_leg);
    leg->set_sip_status(200);
    leg->set_reason("system_hangup");
    if (auto found = counters.find(entry.answered_leg); found != counters.end())
      *leg->mutable_media() = found->second;
    events_.publish(entry.tenant_id, entry.call_id, sequence++, leg_ended);
  }
  calls::v1::CallEvent ended;
  auto* details = ended.mutable_call_ended();
  details->set_disposition(answered ? calls::v1::DISPOSITION_ANSWERED
                                    : calls::v1::DISPOSITION_FAILED);
  details->set_hangup_side(calls::v1::SIDE_SYSTEM);
  details->set_sip_status(503);
  details->set_cause("sip-edge lost");
  if (auto caller = counters.find("a"); caller != counters.end())
    *details->mutable_caller_media() = caller->second;
  if (recording) *details->mutable_recording() = *recording;  // the survivor finished the file
  events_.publish(entry.tenant_id, entry.call_id, sequence, ended);
  closed_calls_.Increment();
  call_log.info("lost call closed", {{"answered", answered ? "true" : "false"}});
}

}  // namespace tel::sip
