#include "media_relay_pool.h"

#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <limits>

#include "tel/grpc/resolve.h"
#include "tel/grpc/status.h"
#include "tel/media/v1/media_relay.grpc.pb.h"

namespace tel::sip {

namespace {

// "10.0.0.7:17120" → "10.0.0.7", "[fd00::7]:17120" → "fd00::7".
std::string hostOf(const std::string& address) {
  std::string host = address.substr(0, address.rfind(':'));
  if (host.size() > 2 && host.front() == '[' && host.back() == ']')
    host = host.substr(1, host.size() - 2);
  return host;
}

}  // namespace

struct MediaRelayPool::Relay {
  std::string address;  // of its gRPC API, which the probes use
  std::shared_ptr<grpc::Channel> channel;
  std::shared_ptr<media::v1::MediaRelay::StubInterface> stub;
  // Guarded by the pool's mutex_:
  // The control link, on the API's host and the port the relay reports; null until a probe has
  // been answered. Replaced when a restarted relay reports another port.
  std::shared_ptr<RelayLinkControl> control;
  std::unique_ptr<media_link::EventSubscription> events;  // on control's port, once started
  bool up = true;  // until probes say otherwise
  int failed_probes = 0;
  uint64_t probed_sessions = 0;
  uint64_t created_since_probe = 0;
  uint64_t load() const { return probed_sessions + created_since_probe; }
};

MediaRelayPool::MediaRelayPool(MediaRelayPoolOptions options, log::Logger logger,
                               prometheus::Registry& registry)
    : options_(std::move(options)),
      log_(std::move(logger)),
      relays_up_(prometheus::BuildGauge()
                     .Name("tel_sip_media_relays_up")
                     .Help("media-relay instances answering this sip-edge's probes")
                     .Register(registry)
                     .Add({})) {
  resolveRelays();
  // A first probe now, so that calls can use the relays' control links from the start.
  for (Relay* relay : relaysSnapshot()) {
    std::vector<std::string> lost;
    probe(*relay, lost);
  }
}

void MediaRelayPool::resolveRelays() {
  for (const auto& name : options_.addresses) {
    for (const auto& address : grpc_util::resolveAll(name)) {
      std::lock_guard lock(mutex_);
      if (std::any_of(relays_.begin(), relays_.end(),
                      [&](const auto& relay) { return relay->address == address; }))
        continue;
      relays_.push_back(makeRelay(address));
      log_.info("media-relay added", {{"relay", address}});
    }
  }
}

std::unique_ptr<MediaRelayPool::Relay> MediaRelayPool::makeRelay(const std::string& address) {
  auto relay = std::make_unique<Relay>();
  relay->address = address;
  relay->channel = grpc::CreateChannel(address, grpc::InsecureChannelCredentials());
  relay->stub = media::v1::MediaRelay::NewStub(relay->channel);
  return relay;
}

std::shared_ptr<RelayLinkControl> MediaRelayPool::controlOf(const Relay& relay) const {
  std::lock_guard lock(mutex_);
  return relay.control;
}

void MediaRelayPool::probe(Relay& relay, std::vector<std::string>& lost) {
  media::v1::StatsRequest request;
  media::v1::Stats stats;
  const grpc::Status status =
      grpc_util::callUnary(*relay.stub, &media::v1::MediaRelay::StubInterface::GetStats, request,
                           &stats, options_.rpc_timeout);
  std::lock_guard guard(mutex_);
  if (status.ok()) {
    if (!relay.up) log_.info("media-relay back", {{"relay", relay.address}});
    relay.up = true;
    relay.failed_probes = 0;
    relay.probed_sessions = stats.sessions();
    relay.created_since_probe = 0;
    const int control_port = static_cast<int>(stats.control_port());
    if (control_port != 0 && (!relay.control || relay.control->port() != control_port)) {
      relay.control = std::make_shared<RelayLinkControl>(hostOf(relay.address), control_port,
                                                         options_.rpc_timeout, options_.controller);
      subscribeLocked(relay);
    }
  } else if (++relay.failed_probes >= options_.lost_after_failures && relay.up) {
    relay.up = false;
    for (auto it = owner_.begin(); it != owner_.end();) {
      if (it->second == &relay) {
        lost.push_back(it->first);
        it = owner_.erase(it);
      } else {
        ++it;
      }
    }
    log_.error("media-relay lost", {{"relay", relay.address},
                                    {"error", status.error_message()},
                                    {"sessions", std::to_string(lost.size())}});
  }
  relays_up_.Set(static_cast<double>(
      std::count_if(relays_.begin(), relays_.end(), [](const auto& r) { return r->up; })));
}

std::vector<MediaRelayPool::Relay*> MediaRelayPool::relaysSnapshot() const {
  std::lock_guard lock(mutex_);
  std::vector<Relay*> out;
  for (const auto& relay : relays_) out.push_back(relay.get());
  return out;
}

MediaRelayPool::~MediaRelayPool() { stop(); }

void MediaRelayPool::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (prober_.joinable()) prober_.join();
  std::lock_guard lock(mutex_);
  for (auto& relay : relays_) relay->events.reset();  // no event after stop() returns
}

void MediaRelayPool::start(LostSessions on_lost, MediaEvents on_event) {
  on_lost_ = std::move(on_lost);
  {
    std::lock_guard lock(mutex_);
    on_event_ = std::move(on_event);
    for (auto& relay : relays_) subscribeLocked(*relay);
  }
  prober_ = std::thread([this] { probeLoop(); });
}

void MediaRelayPool::subscribeLocked(Relay& relay) {
  if (!on_event_ || !relay.control) return;
  relay.events.reset();  // the old port's subscription goes first
  relay.events = std::make_unique<media_link::EventSubscription>(
      hostOf(relay.address), relay.control->port(), options_.controller, on_event_,
      [log = log_, address = relay.address](const absl::Status& why) {
        log.warn("media-relay event subscription interrupted",
                 {{"relay", address}, {"error", std::string(why.message())}});
      });
}

size_t MediaRelayPool::relaysUp() const {
  std::lock_guard lock(mutex_);
  return static_cast<size_t>(
      std::count_if(relays_.begin(), relays_.end(), [](const auto& relay) { return relay->up; }));
}

absl::StatusOr<CreatedSession> MediaRelayPool::createSession(const std::string& tenant_id,
                                                             const std::string& call_id,
                                                             const std::vector<NewLeg>& legs) {
  // Candidates by load, least loaded first; relays believed down are tried last (a relay that came
  // back is usable before the next probe notices).
  std::vector<Relay*> order = relaysSnapshot();
  {
    std::lock_guard lock(mutex_);
    std::stable_sort(order.begin(), order.end(), [](const Relay* a, const Relay* b) {
      if (a->up != b->up) return a->up;
      return a->load() < b->load();
    });
  }
  absl::Status last = absl::UnavailableError("media-relay: no relay address resolved");
  for (Relay* relay : order) {
    {
      // Counted before the call, so that a burst of concurrent calls spreads before any answer.
      std::lock_guard lock(mutex_);
      ++relay->created_since_probe;
    }
    const auto control = controlOf(*relay);
    auto session = control ? control->createSession(tenant_id, call_id, legs)
                           : absl::StatusOr<CreatedSession>(absl::UnavailableError(
                                 "media-relay " + relay->address + ": no probe answered yet"));
    std::lock_guard lock(mutex_);
    if (session.ok()) {
      owner_[session->session_id] = relay;
      session->relay = relay->address;
      return session;
    }
    if (relay->created_since_probe > 0) --relay->created_since_probe;
    last = session.status();
    if (last.code() != absl::StatusCode::kUnavailable &&
        last.code() != absl::StatusCode::kResourceExhausted &&
        last.code() != absl::StatusCode::kDeadlineExceeded) {
      return last;  // a refusal of the request itself: another relay would refuse it too
    }
  }
  return last;
}

std::shared_ptr<RelayLinkControl> MediaRelayPool::controlHolding(const std::string& session_id) {
  std::lock_guard lock(mutex_);
  const auto found = owner_.find(session_id);
  return found == owner_.end() ? nullptr : found->second->control;
}

absl::StatusOr<RelayEndpoint> MediaRelayPool::addLeg(const std::string& session_id,
                                                     const std::string& leg_id,
                                                     const std::optional<RelayEndpoint>& remote) {
  const auto control = controlHolding(session_id);
  if (!control) return absl::NotFoundError("media-relay: no such session (relay lost?)");
  return control->addLeg(session_id, leg_id, remote);
}

absl::Status MediaRelayPool::updateLeg(const std::string& session_id, const std::string& leg_id,
                                       const RelayEndpoint& remote) {
  const auto control = controlHolding(session_id);
  if (!control) return absl::NotFoundError("media-relay: no such session (relay lost?)");
  return control->updateLeg(session_id, leg_id, remote);
}

absl::Status MediaRelayPool::link(const std::string& session_id, const std::string& leg_a,
                                  const std::string& leg_b,
                                  const std::optional<RelayEndpoint>& leg_b_remote) {
  const auto control = controlHolding(session_id);
  if (!control) return absl::NotFoundError("media-relay: no such session (relay lost?)");
  return control->link(session_id, leg_a, leg_b, leg_b_remote);
}

absl::StatusOr<uint32_t> MediaRelayPool::play(const std::string& session_id,
                                              const std::string& leg_id,
                                              const std::string& playback_id,
                                              const std::vector<std::string>& prompts, bool loop) {
  const auto control = controlHolding(session_id);
  if (!control) return absl::NotFoundError("media-relay: no such session (relay lost?)");
  return control->play(session_id, leg_id, playback_id, prompts, loop);
}

absl::Status MediaRelayPool::stopPlayback(const std::string& session_id,
                                          const std::string& leg_id) {
  const auto control = controlHolding(session_id);
  if (!control) return absl::NotFoundError("media-relay: no such session (relay lost?)");
  return control->stopPlayback(session_id, leg_id);
}

absl::Status MediaRelayPool::startRecording(const std::string& session_id, const std::string& leg_a,
                                            const std::string& leg_b, std::chrono::milliseconds silence) {
  const auto control = controlHolding(session_id);
  if (!control) return absl::NotFoundError("media-relay: no such session (relay lost?)");
  return control->startRecording(session_id, leg_a, leg_b, silence);
}

absl::StatusOr<calls::v1::CallRecording> MediaRelayPool::stopRecording(const std::string& session_id) {
  const auto control = controlHolding(session_id);
  if (!control) return absl::NotFoundError("media-relay: no such session (relay lost?)");
  return control->stopRecording(session_id);
}

absl::StatusOr<MediaTotals> MediaRelayPool::deleteSession(
    const std::string& session_id) {
  std::shared_ptr<RelayLinkControl> control;
  {
    std::lock_guard lock(mutex_);
    const auto found = owner_.find(session_id);
    if (found == owner_.end())
      return absl::NotFoundError("media-relay: no such session (relay lost?)");
    control = found->second->control;
    owner_.erase(found);
  }
  return control->deleteSession(session_id);
}

absl::StatusOr<MediaTotals> MediaRelayPool::deleteSessionAt(
    const std::string& relay_address, const std::string& session_id) {
  std::shared_ptr<RelayLinkControl> control;
  for (Relay* relay : relaysSnapshot()) {
    if (relay->address == relay_address) control = controlOf(*relay);
  }
  if (!control) {
    // A relay this instance does not use (configured differently, or gone from DNS): probed once
    // for its control port.
    auto relay = makeRelay(relay_address);
    std::vector<std::string> lost;
    probe(*relay, lost);
    control = controlOf(*relay);
    if (!control) return absl::UnavailableError("media-relay " + relay_address + ": no answer");
  }
  return control->deleteSession(session_id);
}

void MediaRelayPool::probeLoop() {
  std::unique_lock lock(mutex_);
  while (!stopping_) {
    lock.unlock();
    resolveRelays();
    for (Relay* relay : relaysSnapshot()) {
      std::vector<std::string> lost;
      probe(*relay, lost);
      if (!lost.empty() && on_lost_) on_lost_(std::move(lost));
    }
    lock.lock();
    wake_.wait_for(lock, options_.probe_interval, [this] { return stopping_; });
  }
}

}  // namespace tel::sip
