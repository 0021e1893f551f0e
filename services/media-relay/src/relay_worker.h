#pragma once

#include <sys/socket.h>

#include <array>
#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "call_recorder.h"
#include "port_pool.h"
#include "prompt_library.h"
#include "telephone_event.h"
#include "tel/loop/wakeup_queue.h"
#include "relay_types.h"

namespace tel::media {

// Totals a worker accumulates on its own thread and publishes once a second.
struct WorkerTotals {
  std::atomic<uint64_t> packets_relayed{0};
  std::atomic<uint64_t> bytes_relayed{0};
  std::atomic<uint64_t> dropped_malformed{0};
  std::atomic<uint64_t> dropped_oversized{0};
  std::atomic<uint64_t> dropped_foreign_source{0};
  std::atomic<uint64_t> dropped_no_destination{0};
  std::atomic<uint64_t> packets_played{0};
  std::atomic<uint64_t> digits{0};
  std::atomic<uint64_t> dropped_events{0};
  std::atomic<uint64_t> playbacks{0};  // playing now
  std::atomic<uint64_t> recordings{0};  // recording now
  std::atomic<uint64_t> sessions{0};
  std::atomic<uint64_t> legs{0};
};

// One relay thread with its own epoll. It owns its sessions, their legs and their sockets
// outright: every field below is touched only on the worker's thread. Other threads hand it work
// with post(); results go back through the Done callbacks, which run on the worker's thread.
//
// The packet path: epoll says a leg socket is readable; recvmmsg takes up to kBatch packets; each
// is checked (size, RTP/RTCP structure, source against the latched peer) and counted; those with
// a destination leave in one sendmmsg from the linked leg's socket. No allocation, no lock, no
// system call per packet beyond the two batched ones.
//
// Endpoint work shares the loop: a timerfd ticks every 20 ms and each leg that plays is sent the
// frames that are due from its own socket (so the peer sees the audio come from the address in the
// SDP), and telephone-events arriving on unlinked legs are turned into digits. Both report through
// the MediaEventSink.
class RelayWorker {
 public:
  using SessionEnded = std::function<void(const std::string& session_id, const std::string& reason)>;

  RelayWorker(int index, const RelayOptions& options, PortPool& ports, SessionEnded on_ended,
              MediaEventSink on_event);
  ~RelayWorker();
  RelayWorker(const RelayWorker&) = delete;
  RelayWorker& operator=(const RelayWorker&) = delete;

  void start();
  void stop();
  // Runs `task` on the worker thread.
  void post(std::function<void()> task);

  // These run on the worker thread (call them from posted tasks).
  void createSessionOnWorker(const std::string& session_id, const std::string& tenant_id,
                             const std::string& call_id, const std::string& controller,
                             Done<v1::Session> done);
  void addLegOnWorker(const std::string& session_id, const std::string& leg_id,
                      std::optional<SocketAddress> remote, std::optional<LegMediaFormat> media,
                      Done<v1::Leg> done);
  // `media` absent: the leg keeps what it had.
  void updateLegOnWorker(const std::string& session_id, const std::string& leg_id,
                         std::optional<SocketAddress> remote, std::optional<LegMediaFormat> media,
                         Done<v1::Leg> done);
  // Replaces the leg's playback, if any, with `prompts` (loaded by the caller, off this thread).
  void playOnWorker(const std::string& session_id, const std::string& leg_id,
                    const std::string& playback_id,
                    std::vector<std::shared_ptr<const EncodedPrompt>> prompts, bool loop,
                    Done<v1::Playback> done);
  void stopPlaybackOnWorker(const std::string& session_id, const std::string& leg_id,
                            Done<v1::Playback> done);
  // leg_b empty: leg_a alone, in a mono file. `silence`: see StartRecordingRequest.silence_ms.
  void startRecordingOnWorker(const std::string& session_id, const std::string& leg_a,
                              const std::string& leg_b, std::chrono::milliseconds silence,
                              Done<v1::Recording> done);
  // Finishes the session's recording; the ended session still reports it.
  void stopRecordingOnWorker(const std::string& session_id, Done<v1::Recording> done);
  void linkOnWorker(const std::string& session_id, const std::string& leg_a,
                    const std::string& leg_b, Done<v1::Session> done);
  void getSessionOnWorker(const std::string& session_id, Done<v1::Session> done);
  void deleteSessionOnWorker(const std::string& session_id, Done<v1::Session> done);

  const WorkerTotals& totals() const { return totals_; }

 private:
  struct Leg;
  struct Session;
  // One UDP socket of a leg (RTP or RTCP) and what it latched.
  struct LegSocket {
    int fd = -1;
    Leg* leg = nullptr;
    bool rtcp = false;
    bool latched = false;
    SocketAddress peer;
    Clock::time_point last_from_peer{};
  };
  struct Counters {
    uint64_t packets_in = 0, bytes_in = 0, packets_out = 0, bytes_out = 0;
    uint64_t malformed = 0, oversized = 0, foreign = 0, no_destination = 0;
    uint64_t played = 0, digits = 0, dropped_events = 0;
  };
  // A leg's prompts being sent: where in them it is, and its own RTP stream (SSRC, sequence,
  // timestamp), which the peer sees as one continuous source across prompts and loops.
  struct Player {
    std::string playback_id;
    std::vector<std::shared_ptr<const EncodedPrompt>> prompts;
    bool loop = false;
    size_t item = 0;
    size_t offset = 0;
    uint32_t ssrc = 0;
    uint16_t sequence = 0;
    uint32_t timestamp = 0;
    bool first = true;
    Clock::time_point next_due{};
  };
  struct Leg {
    std::string id;
    uint16_t port = 0;
    LegSocket rtp;
    LegSocket rtcp;
    std::optional<SocketAddress> sdp_remote;
    Leg* linked = nullptr;
    Session* session = nullptr;
    Counters counters;
    std::optional<LegMediaFormat> media;
    std::unique_ptr<Player> player;
    DigitDetector digits;
    int record_channel = -1;  // the channel of its session's recording this leg's party is on
  };
  struct Session {
    std::string id, tenant_id, call_id, controller;
    std::map<std::string, std::unique_ptr<Leg>> legs;
    Clock::time_point created{};
    Clock::time_point last_media{};
    bool had_media = false;
    std::unique_ptr<CallRecorder> recorder;
  };

  static constexpr int kBatch = 32;
  static constexpr size_t kBufferBytes = 2048;

  void run();
  void handleReadable(LegSocket& socket, Clock::time_point now);
  void onDigitPacket(Leg& leg, const uint8_t* data, size_t size, Clock::time_point now);
  // Sends every playing leg its due frames (timerfd tick).
  void playDueFrames(Clock::time_point now);
  // False when the playback has finished (and was not looping).
  bool sendFrame(Leg& leg, Player& player);
  void endPlayback(Leg& leg, const char* reason);
  // Advances every recording by one frame; tells the controllers of silences detected.
  void recordFrame();
  // Removes the session from recording_ (its file finished, or the session ending).
  void stopRecording(Session& session);
  void emit(const Session& session, const Leg& leg, v1::MediaEvent event);
  bool openSocket(LegSocket& socket, uint16_t port);
  void closeLeg(Leg& leg);
  v1::Session endSession(Session& session, const std::string& reason);
  void sweepTimeouts(Clock::time_point now);
  void describe(const Session& session, v1::Session* out) const;
  void describe(const Leg& leg, v1::Leg* out) const;

  const int index_;
  const RelayOptions options_;
  PortPool& ports_;
  SessionEnded on_ended_;
  MediaEventSink on_event_;
  int epoll_fd_ = -1;
  int timer_fd_ = -1;
  loop::WakeupQueue tasks_;
  std::thread thread_;
  std::atomic<bool> stopping_{false};

  // Worker-thread state.
  std::unordered_map<std::string, std::unique_ptr<Session>> sessions_;
  std::vector<Leg*> playing_;      // legs with a player
  std::vector<Session*> recording_;  // sessions with a recorder
  std::array<uint8_t, 12 + 160> frame_{};
  std::array<std::array<uint8_t, kBufferBytes>, kBatch> buffers_{};
  std::array<mmsghdr, kBatch> in_messages_{};
  std::array<iovec, kBatch> in_iovecs_{};
  std::array<sockaddr_storage, kBatch> sources_{};
  std::array<mmsghdr, kBatch> out_messages_{};
  std::array<iovec, kBatch> out_iovecs_{};
  WorkerTotals totals_;
};

}  // namespace tel::media
