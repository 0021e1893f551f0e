#pragma once

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/registry.h>

#include <memory>
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "port_pool.h"
#include "prompt_library.h"
#include "relay_worker.h"
#include "tel/log/log.h"

namespace tel::media {

// The relay: a port pool, N workers, and the map from session to the worker that owns it.
// Sessions are spread over workers round-robin at creation and stay there. Every operation is
// asynchronous: it is posted to the owning worker and `done` runs there. Thread-safe.
class RelayEngine {
 public:
  RelayEngine(RelayOptions options, log::Logger logger, prometheus::Registry& registry);
  ~RelayEngine();

  void start();
  void stop();

  // `controller`: who gets the session's MediaEvents (see subscribe()); empty for nobody.
  void createSession(const std::string& tenant_id, const std::string& call_id,
                     const std::string& controller, Done<v1::Session> done);
  void addLeg(const std::string& session_id, const std::string& leg_id,
              std::optional<SocketAddress> remote, std::optional<LegMediaFormat> media,
              Done<v1::Leg> done);
  void updateLeg(const std::string& session_id, const std::string& leg_id,
                 std::optional<SocketAddress> remote, std::optional<LegMediaFormat> media,
                 Done<v1::Leg> done);
  // Loads the prompts of the session's tenant on the calling thread (see PromptLibrary), then
  // starts the playback on the owning worker.
  void play(const std::string& session_id, const std::string& leg_id,
            const std::string& playback_id, const std::vector<std::string>& prompts, bool loop,
            Done<v1::Playback> done);
  void stopPlayback(const std::string& session_id, const std::string& leg_id,
                    Done<v1::Playback> done);
  void startRecording(const std::string& session_id, const std::string& leg_a,
                      const std::string& leg_b, std::chrono::milliseconds silence,
                      Done<v1::Recording> done);
  void stopRecording(const std::string& session_id, Done<v1::Recording> done);

  // Where the MediaEvents of `controller`'s sessions go from now on, replacing its previous
  // subscription. `sink` runs on worker threads and returns false once it can deliver no more
  // (its connection closed), which ends the subscription. Events with no subscriber are counted
  // and dropped: the controller's own timers cover them.
  using EventSubscriber = std::function<bool(const v1::MediaEvent& event)>;
  void subscribe(const std::string& controller, EventSubscriber sink);
  void link(const std::string& session_id, const std::string& leg_a, const std::string& leg_b,
            Done<v1::Session> done);
  void getSession(const std::string& session_id, Done<v1::Session> done);
  void deleteSession(const std::string& session_id, Done<v1::Session> done);

  v1::Stats stats() const;
  const RelayOptions& options() const { return options_; }

 private:
  struct Route {
    RelayWorker* worker = nullptr;
    std::string tenant_id;
  };
  RelayWorker* workerFor(const std::string& session_id);
  std::optional<Route> routeOf(const std::string& session_id);
  void onSessionEnded(const std::string& session_id, const std::string& reason);
  void deliver(const std::string& controller, const v1::MediaEvent& event);
  void publishMetrics();

  RelayOptions options_;
  log::Logger log_;
  PortPool ports_;
  PromptLibrary prompts_;
  std::vector<std::unique_ptr<RelayWorker>> workers_;

  mutable std::mutex routes_mutex_;
  std::unordered_map<std::string, Route> routes_;  // guarded by routes_mutex_
  size_t next_worker_ = 0;                                // guarded by routes_mutex_

  // Metrics: worker totals are published once a second by the metrics thread.
  prometheus::Gauge& sessions_gauge_;
  prometheus::Gauge& ports_gauge_;
  prometheus::Gauge& ports_total_gauge_;
  prometheus::Counter& packets_relayed_;
  prometheus::Counter& bytes_relayed_;
  prometheus::Family<prometheus::Counter>& dropped_;
  prometheus::Family<prometheus::Counter>& ended_;
  prometheus::Counter& packets_played_;
  prometheus::Counter& digits_;
  prometheus::Counter& dropped_events_;
  prometheus::Gauge& playbacks_gauge_;
  prometheus::Gauge& recordings_gauge_;
  prometheus::Counter& events_undelivered_;

  std::mutex subscribers_mutex_;
  std::unordered_map<std::string, EventSubscriber> subscribers_;  // guarded by subscribers_mutex_
  std::unordered_map<std::string, uint64_t> published_;
  std::thread metrics_thread_;
  std::mutex stop_mutex_;
  std::condition_variable stop_signal_;
  bool stopping_ = false;
};

}  // namespace tel::media
