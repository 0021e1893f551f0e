#include "lost_instance_reaper.h"

#include <catch2/catch.hpp>

#include "fakes.h"

namespace tel::sip {
namespace {

using Clock = CallLedger::Clock;
using std::chrono::seconds;

// The cluster's shared state, seen by each instance through its own FakeLedger.
struct FakeCluster {
  std::map<std::string, Clock::time_point> heartbeats;
  std::map<std::string, std::map<std::string, LedgerEntry>> calls;  // instance -> call id -> entry
  std::map<std::string, std::string> closers;                       // instance -> claimed by
};

struct FakeLedger : CallLedger {
  FakeLedger(FakeCluster& cluster, std::string self) : cluster(cluster), name(std::move(self)) {}
  FakeCluster& cluster;
  std::string name;
  const std::string& self() const override { return name; }
  absl::Status record(const LedgerEntry& entry) override {
    cluster.calls[name][entry.call_id] = entry;
    return absl::OkStatus();
  }
  absl::Status update(const LedgerEntry& entry) override {
    auto& mine = cluster.calls[name];
    if (mine.count(entry.call_id)) mine[entry.call_id] = entry;
    return absl::OkStatus();
  }
  absl::Status erase(const std::string& call_id) override { return eraseOf(name, call_id); }
  absl::Status heartbeat(Clock::time_point until) override {
    cluster.heartbeats[name] = until;
    return absl::OkStatus();
  }
  absl::StatusOr<std::vector<std::string>> lapsed(Clock::time_point now) override {
    std::vector<std::string> out;
    for (const auto& [instance, until] : cluster.heartbeats)
      if (until < now && instance != name) out.push_back(instance);
    return out;
  }
  absl::StatusOr<bool> claim(const std::string& instance, std::chrono::milliseconds) override {
    return cluster.closers.emplace(instance, name).second;
  }
  absl::StatusOr<std::vector<LedgerEntry>> callsOf(const std::string& instance) override {
    std::vector<LedgerEntry> out;
    for (const auto& [id, entry] : cluster.calls[instance]) out.push_back(entry);
    return out;
  }
  absl::Status eraseOf(const std::string& instance, const std::string& call_id) override {
    cluster.calls[instance].erase(call_id);
    return absl::OkStatus();
  }
  absl::Status forget(const std::string& instance) override {
    cluster.calls.erase(instance);
    cluster.heartbeats.erase(instance);
    return absl::OkStatus();
  }
};

struct FakeRelays : OrphanedMedia {
  std::map<std::pair<std::string, std::string>, std::map<std::string, calls::v1::MediaCounters>>
      sessions;  // (relay, session) -> counters by leg
  absl::StatusOr<MediaTotals> deleteSessionAt(
      const std::string& relay, const std::string& session) override {
    auto found = sessions.find({relay, session});
    if (found == sessions.end()) return absl::NotFoundError("no such session");
    MediaTotals totals{found->second, std::nullopt};
    sessions.erase(found);
    return totals;
  }
};

struct PublishedEvent {
  std::string tenant_id;
  std::string call_id;
  uint64_t sequence;
  calls::v1::CallEvent event;
};

struct FakeEvents : EventSink {
  std::vector<PublishedEvent> published;
  void publish(const std::string& tenant, const std::string& call, uint64_t sequence,
               const calls::v1::CallEvent& event) override {
    published.push_back({tenant, call, sequence, event});
  }
};

calls::v1::MediaCounters packets(uint64_t count) {
  calls::v1::MediaCounters counters;
  counters.set_packets_in(count);
  return counters;
}

struct Fixture {
  FakeCluster cluster;
  FakeLedger lost{cluster, "edge-a"};
  FakeLedger survivor_ledger{cluster, "edge-b"};
  FakeRelays relays;
  testing::FakeChannels channels;
  FakeEvents events;
  prometheus::Registry registry;
  LostInstanceReaper survivor{{seconds(1), seconds(10)}, survivor_ledger, relays, channels, events,
                              log::Logger::create("test", log::Level::kError), registry};
  Clock::time_point start = Clock::now();

  Fixture() {
    // edge-a has an answered call holding a channel, and a call still ringing.
    REQUIRE(lost.heartbeat(start + seconds(10)).ok());
    // call-2 is an outbound call ringing: it holds its account's and tenant's outbound slots.
    REQUIRE(lost.record({"call-1", "tenant-1", "number-1", "relay:1", "s-1", "b1", {}}).ok());
    REQUIRE(lost.record({"call-2", "tenant-1", "", "relay:2", "s-2", "", {"outbound:account:a1", "outbound:tenant"}})
                .ok());
    REQUIRE(channels.acquire("tenant-1", "number-1", "call-1", 5).value());
    REQUIRE(channels.acquire("tenant-1", limitCounterName("outbound:account:a1"), "call-2", 2).value());
    REQUIRE(channels.acquire("tenant-1", limitCounterName("outbound:tenant"), "call-2", 20).value());
    relays.sessions[{"relay:1", "s-1"}] = {{"a", packets(150)}, {"b1", packets(149)}};
    relays.sessions[{"relay:2", "s-2"}] = {{"a", packets(3)}};
  }
};

const PublishedEvent* endOf(const std::vector<PublishedEvent>& events, const std::string& call) {
  for (const auto& published : events)
    if (published.call_id == call && published.event.has_call_ended()) return &published;
  return nullptr;
}

TEST_CASE("a live instance's calls are left alone", "[reaper]") {
  Fixture f;
  f.survivor.runOnce(f.start + seconds(5));
  CHECK(f.events.published.empty());
  CHECK(f.relays.sessions.size() == 2);
  CHECK(f.cluster.calls["edge-a"].size() == 2);
  CHECK(f.cluster.heartbeats.count("edge-b") == 1);  // the survivor beats too
}

TEST_CASE("a lapsed instance's calls are closed: media deleted, channel and limit slots released", "[reaper]") {
  Fixture f;
  f.survivor.runOnce(f.start + seconds(11));
  CHECK(f.relays.sessions.empty());
  CHECK(f.channels.held["number-1"].empty());
  CHECK(f.channels.held[limitCounterName("outbound:account:a1")].empty());
  CHECK(f.channels.held[limitCounterName("outbound:tenant")].empty());
  CHECK(f.cluster.calls.count("edge-a") == 0);
  CHECK(f.cluster.heartbeats.count("edge-a") == 0);

  const auto* answered = endOf(f.events.published, "call-1");
  REQUIRE(answered != nullptr);
  CHECK(answered->tenant_id == "tenant-1");
  CHECK(answered->sequence > LostInstanceReaper::kSequenceBase);
  CHECK(answered->event.call_ended().disposition() == calls::v1::DISPOSITION_ANSWERED);
  CHECK(answered->event.call_ended().hangup_side() == calls::v1::SIDE_SYSTEM);
  CHECK(answered->event.call_ended().cause() == "sip-edge lost");
  CHECK(answered->event.call_ended().caller_media().packets_in() == 150);

  const auto* ringing = endOf(f.events.published, "call-2");
  REQUIRE(ringing != nullptr);
  CHECK(ringing->event.call_ended().disposition() == calls::v1::DISPOSITION_FAILED);
}

TEST_CASE("the answered leg's end comes before the call's end with its counters", "[reaper]") {
  Fixture f;
  f.survivor.runOnce(f.start + seconds(11));
  std::vector<const PublishedEvent*> of_call;
  for (const auto& published : f.events.published)
    if (published.call_id == "call-1") of_call.push_back(&published);
  REQUIRE(of_call.size() == 2);
  REQUIRE(of_call[0]->event.has_leg_ended());
  CHECK(of_call[0]->event.leg_ended().leg_id() == "b1");
  CHECK(of_call[0]->event.leg_ended().media().packets_in() == 149);
  CHECK(of_call[0]->sequence < of_call[1]->sequence);
  CHECK(of_call[1]->event.has_call_ended());
}

TEST_CASE("a call whose media session is already gone is still closed", "[reaper]") {
  Fixture f;
  f.relays.sessions.clear();  // the relay timed the sessions out
  f.survivor.runOnce(f.start + seconds(11));
  CHECK(endOf(f.events.published, "call-1") != nullptr);
  CHECK(endOf(f.events.published, "call-2") != nullptr);
  CHECK(f.channels.held["number-1"].empty());
}

TEST_CASE("a lost instance is closed by one survivor only", "[reaper]") {
  Fixture f;
  FakeLedger other_ledger{f.cluster, "edge-c"};
  FakeEvents other_events;
  prometheus::Registry registry;
  LostInstanceReaper other{{seconds(1), seconds(10)}, other_ledger, f.relays, f.channels,
                           other_events, log::Logger::create("test", log::Level::kError),
                           registry};
  // edge-c claims edge-a first and dies before closing anything.
  REQUIRE(other_ledger.claim("edge-a", seconds(60)).value());
  f.survivor.runOnce(f.start + seconds(11));
  CHECK(f.events.published.empty());
  CHECK(f.cluster.calls["edge-a"].size() == 2);
}

TEST_CASE("an update never brings back a call the instance has closed", "[reaper]") {
  FakeCluster cluster;
  FakeLedger ledger{cluster, "edge-a"};
  REQUIRE(ledger.record({"call-1", "tenant-1", "", "relay:1", "s-1", "", {}}).ok());
  REQUIRE(ledger.erase("call-1").ok());
  REQUIRE(ledger.update({"call-1", "tenant-1", "", "relay:1", "s-1", "b1", {}}).ok());
  CHECK(cluster.calls["edge-a"].empty());
}

TEST_CASE("ledger entries survive encoding and garbage is refused", "[reaper]") {
  const LedgerEntry entry{"call-1", "tenant-1", "number-1", "10.0.0.5:17120", "s-1", "b2",
                          {"outbound:account:a1", "outbound:tenant"}};
  auto decoded = LedgerEntry::decode("call-1", entry.encode());
  REQUIRE(decoded);
  CHECK(decoded->tenant_id == "tenant-1");
  CHECK(decoded->number_id == "number-1");
  CHECK(decoded->media_relay == "10.0.0.5:17120");
  CHECK(decoded->media_session == "s-1");
  CHECK(decoded->answered_leg == "b2");
  CHECK(decoded->limits == std::vector<std::string>{"outbound:account:a1", "outbound:tenant"});
  const LedgerEntry unanswered{"call-2", "tenant-1", "", "r:1", "s-2", "", {}};
  auto round_trip = LedgerEntry::decode("call-2", unanswered.encode());
  REQUIRE(round_trip);
  CHECK(round_trip->answered_leg.empty());
  CHECK(round_trip->limits.empty());
  // A line written before the limits field existed.
  auto older = LedgerEntry::decode("call-4", "tenant-1\tnumber-1\tr:1\ts-4\tb1");
  REQUIRE(older);
  CHECK(older->answered_leg == "b1");
  CHECK(older->limits.empty());
  CHECK_FALSE(LedgerEntry::decode("call-3", "garbage"));
  CHECK_FALSE(LedgerEntry::decode("call-3", "\tnumber\trelay\ts\tb"));  // no tenant
}

}  // namespace
}  // namespace tel::sip
