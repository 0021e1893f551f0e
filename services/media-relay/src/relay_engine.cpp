#include "relay_engine.h"

#include "tel/crypto/crypto.h"

namespace tel::media {

RelayEngine::RelayEngine(RelayOptions options, log::Logger logger, prometheus::Registry& registry)
    : options_(std::move(options)),
      log_(std::move(logger)),
      ports_(options_.port_min, options_.port_max),
      prompts_(options_.prompts_dir),
      sessions_gauge_(prometheus::BuildGauge()
                          .Name("tel_media_sessions")
                          .Help("Media sessions (calls) being relayed")
                          .Register(registry)
                          .Add({})),
      ports_gauge_(prometheus::BuildGauge()
                       .Name("tel_media_port_pairs_in_use")
                       .Help("RTP/RTCP port pairs allocated to legs")
                       .Register(registry)
                       .Add({})),
      ports_total_gauge_(prometheus::BuildGauge()
                             .Name("tel_media_port_pairs")
                             .Help("RTP/RTCP port pairs in the configured range")
                             .Register(registry)
                             .Add({})),
      packets_relayed_(prometheus::BuildCounter()
                           .Name("tel_media_relayed_packets_total")
                           .Help("Packets relayed between linked legs")
                           .Register(registry)
                           .Add({})),
      bytes_relayed_(prometheus::BuildCounter()
                         .Name("tel_media_relayed_bytes_total")
                         .Help("Bytes relayed between linked legs")
                         .Register(registry)
                         .Add({})),
      dropped_(prometheus::BuildCounter()
                   .Name("tel_media_dropped_packets_total")
                   .Help("Packets dropped by reason, counted when their session ends")
                   .Register(registry)),
      ended_(prometheus::BuildCounter()
                 .Name("tel_media_sessions_ended_total")
                 .Help("Sessions ended, by reason (deleted, media_timeout, setup_timeout)")
                 .Register(registry)),
      packets_played_(prometheus::BuildCounter()
                          .Name("tel_media_played_packets_total")
                          .Help("Prompt and music packets sent to legs")
                          .Register(registry)
                          .Add({})),
      digits_(prometheus::BuildCounter()
                  .Name("tel_media_digits_total")
                  .Help("DTMF digits detected (RFC 4733 telephone-events)")
                  .Register(registry)
                  .Add({})),
      dropped_events_(prometheus::BuildCounter()
                          .Name("tel_media_dropped_telephone_events_total")
                          .Help("Telephone-events ignored: malformed, not a key, or over the rate")
                          .Register(registry)
                          .Add({})),
      playbacks_gauge_(prometheus::BuildGauge()
                           .Name("tel_media_playbacks")
                           .Help("Legs being played prompts or music now")
                           .Register(registry)
                           .Add({})),
      recordings_gauge_(prometheus::BuildGauge()
                            .Name("tel_media_recordings")
                            .Help("Calls being recorded now")
                            .Register(registry)
                            .Add({})),
      events_undelivered_(prometheus::BuildCounter()
                              .Name("tel_media_events_undelivered_total")
                              .Help("Media events dropped: their controller had no subscription")
                              .Register(registry)
                              .Add({})) {
  if (options_.workers < 1) options_.workers = 1;
  ports_total_gauge_.Set(static_cast<double>(ports_.pairsTotal()));
  for (int i = 0; i < options_.workers; ++i) {
    workers_.push_back(std::make_unique<RelayWorker>(
        i, options_, ports_,
        [this](const std::string& id, const std::string& reason) { onSessionEnded(id, reason); },
        [this](const std::string& controller, v1::MediaEvent event) { deliver(controller, event); }));
  }
}

RelayEngine::~RelayEngine() { stop(); }

void RelayEngine::start() {
  for (auto& worker : workers_) worker->start();
  metrics_thread_ = std::thread([this] {
    std::unique_lock lock(stop_mutex_);
    while (!stop_signal_.wait_for(lock, std::chrono::seconds(1), [this] { return stopping_; })) {
      publishMetrics();
    }
  });
}

void RelayEngine::stop() {
  {
    std::lock_guard lock(stop_mutex_);
    if (stopping_) return;
    stopping_ = true;
  }
  stop_signal_.notify_all();
  if (metrics_thread_.joinable()) metrics_thread_.join();
  for (auto& worker : workers_) worker->stop();
}

RelayWorker* RelayEngine::workerFor(const std::string& session_id) {
  std::lock_guard lock(routes_mutex_);
  auto it = routes_.find(session_id);
  return it == routes_.end() ? nullptr : it->second.worker;
}

std::optional<RelayEngine::Route> RelayEngine::routeOf(const std::string& session_id) {
  std::lock_guard lock(routes_mutex_);
  auto it = routes_.find(session_id);
  if (it == routes_.end()) return std::nullopt;
  return it->second;
}

void RelayEngine::subscribe(const std::string& controller, EventSubscriber sink) {
  std::lock_guard lock(subscribers_mutex_);
  subscribers_[controller] = std::move(sink);
}

void RelayEngine::deliver(const std::string& controller, const v1::MediaEvent& event) {
  // The sink writes to a socket without blocking (what the socket cannot take waits in the
  // connection's buffer), so holding the lock across it costs no more than a send().
  std::lock_guard lock(subscribers_mutex_);
  auto found = subscribers_.find(controller);
  if (found != subscribers_.end() && found->second(event)) return;
  if (found != subscribers_.end()) subscribers_.erase(found);
  events_undelivered_.Increment();
}

void RelayEngine::onSessionEnded(const std::string& session_id, const std::string& reason) {
  {
    std::lock_guard lock(routes_mutex_);
    routes_.erase(session_id);
  }
  ended_.Add({{"reason", reason}}).Increment();
  if (reason != "deleted") log_.warn("media session timed out", {{"session_id", session_id}, {"reason", reason}});
}

void RelayEngine::createSession(const std::string& tenant_id, const std::string& call_id,
                                const std::string& controller, Done<v1::Session> done) {
  const std::string session_id = crypto::randomAlphanumeric(24);
  RelayWorker* worker;
  {
    std::lock_guard lock(routes_mutex_);
    worker = workers_[next_worker_++ % workers_.size()].get();
    routes_[session_id] = Route{worker, tenant_id};
  }
  worker->post([=, done = std::move(done)] {
    worker->createSessionOnWorker(session_id, tenant_id, call_id, controller, done);
  });
}

#define TEL_ON_OWNER(session_id, call)                                                      \
  RelayWorker* worker = workerFor(session_id);                                              \
  if (worker == nullptr) return done(absl::NotFoundError("session " + session_id + " not found")); \
  worker->post([=, done = std::move(done)] { worker->call; })

void RelayEngine::addLeg(const std::string& session_id, const std::string& leg_id,
                         std::optional<SocketAddress> remote, std::optional<LegMediaFormat> media,
                         Done<v1::Leg> done) {
  TEL_ON_OWNER(session_id, addLegOnWorker(session_id, leg_id, remote, media, done));
}

void RelayEngine::updateLeg(const std::string& session_id, const std::string& leg_id,
                            std::optional<SocketAddress> remote,
                            std::optional<LegMediaFormat> media, Done<v1::Leg> done) {
  TEL_ON_OWNER(session_id, updateLegOnWorker(session_id, leg_id, remote, media, done));
}

void RelayEngine::play(const std::string& session_id, const std::string& leg_id,
                       const std::string& playback_id, const std::vector<std::string>& prompts,
                       bool loop, Done<v1::Playback> done) {
  const auto route = routeOf(session_id);
  if (!route) return done(absl::NotFoundError("session " + session_id + " not found"));
  std::vector<std::shared_ptr<const EncodedPrompt>> loaded;
  for (const auto& name : prompts) {
    auto prompt = prompts_.load(route->tenant_id, name);
    if (!prompt.ok()) return done(prompt.status());
    loaded.push_back(std::move(*prompt));
  }
  RelayWorker* worker = route->worker;
  worker->post([=, loaded = std::move(loaded), done = std::move(done)]() mutable {
    worker->playOnWorker(session_id, leg_id, playback_id, std::move(loaded), loop, done);
  });
}

void RelayEngine::stopPlayback(const std::string& session_id, const std::string& leg_id,
                               Done<v1::Playback> done) {
  TEL_ON_OWNER(session_id, stopPlaybackOnWorker(session_id, leg_id, done));
}

void RelayEngine::startRecording(const std::string& session_id, const std::string& leg_a,
                                 const std::string& leg_b, std::chrono::milliseconds silence,
                                 Done<v1::Recording> done) {
  TEL_ON_OWNER(session_id, startRecordingOnWorker(session_id, leg_a, leg_b, silence, done));
}

void RelayEngine::stopRecording(const std::string& session_id, Done<v1::Recording> done) {
  TEL_ON_OWNER(session_id, stopRecordingOnWorker(session_id, done));
}

void RelayEngine::link(const std::string& session_id, const std::string& leg_a,
                       const std::string& leg_b, Done<v1::Session> done) {
  TEL_ON_OWNER(session_id, linkOnWorker(session_id, leg_a, leg_b, done));
}

void RelayEngine::getSession(const std::string& session_id, Done<v1::Session> done) {
  TEL_ON_OWNER(session_id, getSessionOnWorker(session_id, done));
}

void RelayEngine::deleteSession(const std::string& session_id, Done<v1::Session> done) {
  TEL_ON_OWNER(session_id, deleteSessionOnWorker(session_id, done));
}

v1::Stats RelayEngine::stats() const {
  v1::Stats stats;
  uint64_t sessions = 0, legs = 0;
  for (const auto& worker : workers_) {
    sessions += worker->totals().sessions.load(std::memory_order_relaxed);
    legs += worker->totals().legs.load(std::memory_order_relaxed);
  }
  stats.set_sessions(sessions);
  stats.set_legs(legs);
  stats.set_ports_in_use(ports_.pairsInUse() * 2);
  stats.set_ports_total(ports_.pairsTotal() * 2);
  return stats;
}

void RelayEngine::publishMetrics() {
  // Counters only grow: publish the difference since the last round.
  auto publish = [this](const std::string& name, uint64_t total, prometheus::Counter& counter) {
    uint64_t& last = published_[name];
    if (total > last) counter.Increment(static_cast<double>(total - last));
    last = total;
  };
  uint64_t relayed = 0, bytes = 0, malformed = 0, oversized = 0, foreign = 0, no_destination = 0;
  uint64_t played = 0, digits = 0, dropped_events = 0, playbacks = 0, recordings = 0;
  for (const auto& worker : workers_) {
    const auto& totals = worker->totals();
    played += totals.packets_played.load(std::memory_order_relaxed);
    digits += totals.digits.load(std::memory_order_relaxed);
    dropped_events += totals.dropped_events.load(std::memory_order_relaxed);
    playbacks += totals.playbacks.load(std::memory_order_relaxed);
    recordings += totals.recordings.load(std::memory_order_relaxed);
    relayed += totals.packets_relayed.load(std::memory_order_relaxed);
    bytes += totals.bytes_relayed.load(std::memory_order_relaxed);
    malformed += totals.dropped_malformed.load(std::memory_order_relaxed);
    oversized += totals.dropped_oversized.load(std::memory_order_relaxed);
    foreign += totals.dropped_foreign_source.load(std::memory_order_relaxed);
    no_destination += totals.dropped_no_destination.load(std::memory_order_relaxed);
  }
  publish("relayed", relayed, packets_relayed_);
  publish("bytes", bytes, bytes_relayed_);
  publish("malformed", malformed, dropped_.Add({{"reason", "malformed"}}));
  publish("oversized", oversized, dropped_.Add({{"reason", "oversized"}}));
  publish("foreign", foreign, dropped_.Add({{"reason", "foreign_source"}}));
  publish("no_destination", no_destination, dropped_.Add({{"reason", "no_destination"}}));
  publish("played", played, packets_played_);
  publish("digits", digits, digits_);
  publish("dropped_events", dropped_events, dropped_events_);
  playbacks_gauge_.Set(static_cast<double>(playbacks));
  recordings_gauge_.Set(static_cast<double>(recordings));
  const auto snapshot = stats();
  sessions_gauge_.Set(static_cast<double>(snapshot.sessions()));
  ports_gauge_.Set(static_cast<double>(snapshot.ports_in_use() / 2));
}

}  // namespace tel::media
