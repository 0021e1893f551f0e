#pragma once

#include <prometheus/gauge.h>
#include <prometheus/registry.h>

#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <unordered_map>
#include <vector>

#include "call_backends.h"
#include "tel/log/log.h"

namespace tel::sip {

struct MediaRelayPoolOptions {
  // host:port of media-relay gRPC APIs; a name that resolves to several addresses (a headless
  // Kubernetes Service) stands for all of them, resolved again before every probe round.
  std::vector<std::string> addresses;
  std::chrono::milliseconds rpc_timeout{2000};
  std::chrono::milliseconds probe_interval{1000};
  int lost_after_failures = 3;  // consecutive failed probes before a relay is declared lost
  // This instance's name: the relays send the events of the sessions it creates (digits, playback
  // ends) to its subscription under this name.
  std::string controller;
};

// Several media-relay instances behind one MediaControl. A new session goes to the least loaded
// relay that is up (its session count as last probed, plus the sessions created here since), and
// to the next one if that relay refuses (draining, full, unreachable); every later request for
// the session goes to the relay that holds it, on that relay's control link (RelayLinkControl),
// whose port the relay reports in its stats. A prober thread asks every relay for its stats over
// gRPC each probe_interval; a relay that fails lost_after_failures probes in a row is declared
// lost, and the sessions this sip-edge had on it are handed to the on_lost callback (their calls
// have no media any more and must end). A relay that answers again is used again.
class MediaRelayPool final : public MediaControl, public OrphanedMedia {
 public:
  using LostSessions = std::function<void(std::vector<std::string> session_ids)>;
  using MediaEvents = std::function<void(media::v1::MediaEvent event)>;
  MediaRelayPool(MediaRelayPoolOptions options, log::Logger logger, prometheus::Registry& registry);
  ~MediaRelayPool() override;
  MediaRelayPool(const MediaRelayPool&) = delete;
  MediaRelayPool& operator=(const MediaRelayPool&) = delete;

  // Starts probing, and listening to every relay's events; on_lost runs on the prober thread,
  // on_event on each relay's subscription thread.
  void start(LostSessions on_lost, MediaEvents on_event);
  // Stops probing (joins the prober): call it before whatever on_lost uses goes away.
  void stop();
  // Relays currently up (for the health check). Any thread.
  size_t relaysUp() const;

  absl::StatusOr<CreatedSession> createSession(const std::string& tenant_id,
                                               const std::string& call_id,
                                               const std::vector<NewLeg>& legs) override;
  absl::StatusOr<RelayEndpoint> addLeg(const std::string& session_id, const std::string& leg_id,
                                       const std::optional<RelayEndpoint>& remote) override;
  absl::Status updateLeg(const std::string& session_id, const std::string& leg_id,
                         const RelayEndpoint& remote) override;
  absl::Status link(const std::string& session_id, const std::string& leg_a,
                    const std::string& leg_b,
                    const std::optional<RelayEndpoint>& leg_b_remote) override;
  absl::StatusOr<uint32_t> play(const std::string& session_id, const std::string& leg_id,
                                const std::string& playback_id,
                                const std::vector<std::string>& prompts, bool loop) override;
  absl::Status stopPlayback(const std::string& session_id, const std::string& leg_id) override;
  absl::Status startRecording(const std::string& session_id, const std::string& leg_a,
                              const std::string& leg_b, std::chrono::milliseconds silence) override;
  absl::StatusOr<calls::v1::CallRecording> stopRecording(const std::string& session_id) override;
  absl::StatusOr<MediaTotals> deleteSession(
      const std::string& session_id) override;
  // OrphanedMedia: a session another instance created on `relay_address`.
  absl::StatusOr<MediaTotals> deleteSessionAt(
      const std::string& relay_address, const std::string& session_id) override;

 private:
  struct Relay;
  std::unique_ptr<Relay> makeRelay(const std::string& address);
  // Asks the relay for its stats: on an answer it is up and its control link follows the port it
  // reports; after lost_after_failures failures in a row it is lost, and the sessions this
  // instance had on it are added to `lost`.
  void probe(Relay& relay, std::vector<std::string>& lost);
  std::shared_ptr<RelayLinkControl> controlOf(const Relay& relay) const;
  std::shared_ptr<RelayLinkControl> controlHolding(const std::string& session_id);
  // Subscribes to the relay's events on its control port (again when the port changed).
  void subscribeLocked(Relay& relay);
  // Adds the relays the configured names resolve to now (relays are never removed: one that has
  // gone stops answering probes and is declared lost).
  void resolveRelays();
  std::vector<Relay*> relaysSnapshot() const;
  void probeLoop();

  MediaRelayPoolOptions options_;
  log::Logger log_;
  prometheus::Gauge& relays_up_;
  mutable std::mutex
      mutex_;  // guards relays_ (added to, never shrunk), their load and state, owner_
  std::vector<std::unique_ptr<Relay>> relays_;
  std::unordered_map<std::string, Relay*> owner_;
  LostSessions on_lost_;
  MediaEvents on_event_;  // set by start(), before the prober runs
  bool stopping_ = false;
  std::condition_variable wake_;
  std::thread prober_;
};

}  // namespace tel::sip
