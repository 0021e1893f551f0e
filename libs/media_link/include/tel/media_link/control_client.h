#pragma once

#include <absl/status/statusor.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <thread>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "tel/media/v1/media_relay.pb.h"

namespace tel::media_link {

// A blocking client of one media-relay's control link, for a controller whose media requests run
// on its worker threads (sip-edge). A call takes an idle connection (or opens one), writes the
// request and waits for the reply until the timeout, then returns the connection to the idle set.
// A connection that failed or timed out is closed instead: a late reply must not answer the next
// request. Concurrent calls use separate connections, so none waits behind another. Thread-safe.
class ControlClient {
 public:
  // `host` is an IP address or a name (resolved on every new connection).
  ControlClient(std::string host, int port, std::chrono::milliseconds timeout,
                size_t max_idle_connections = 32);
  ~ControlClient();
  ControlClient(const ControlClient&) = delete;
  ControlClient& operator=(const ControlClient&) = delete;

  // Sends `request` (its id is set here) and returns the relay's reply. A reply with a non-zero
  // code becomes that status ("media-relay: <message>"); a link that cannot be used is
  // UNAVAILABLE, no reply in time DEADLINE_EXCEEDED.
  absl::StatusOr<media::v1::ControlReply> call(media::v1::ControlRequest request);

  const std::string& host() const { return host_; }
  int port() const { return port_; }

 private:
  friend class EventSubscription;
  class Connection;
  using Deadline = std::chrono::steady_clock::time_point;
  absl::StatusOr<std::unique_ptr<Connection>> takeConnection(Deadline deadline);
  void giveBack(std::unique_ptr<Connection> connection);

  const std::string host_;
  const int port_;
  const std::chrono::milliseconds timeout_;
  const size_t max_idle_;
  std::atomic<uint64_t> next_id_{1};
  std::mutex mutex_;
  std::vector<std::unique_ptr<Connection>> idle_;  // guarded by mutex_
};

// The MediaEvents (digits, playback ends) of the sessions a controller created with
// CreateSessionRequest.controller = `controller`: one connection to the relay's control link,
// subscribed, read by a thread of its own that hands each event to `on_event`. A connection that
// fails is opened again a second later (`on_trouble` says why each time); events the relay sent
// meanwhile are lost, which the controller's own timers cover. Stops and joins on destruction.
class EventSubscription {
 public:
  using OnEvent = std::function<void(media::v1::MediaEvent event)>;
  using OnTrouble = std::function<void(const absl::Status& why)>;
  EventSubscription(std::string host, int port, std::string controller, OnEvent on_event,
                    OnTrouble on_trouble);
  ~EventSubscription();
  EventSubscription(const EventSubscription&) = delete;
  EventSubscription& operator=(const EventSubscription&) = delete;

 private:
  void run();
  bool stopping();

  const std::string host_;
  const int port_;
  const std::string controller_;
  OnEvent on_event_;
  OnTrouble on_trouble_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;  // guarded by mutex_
  std::thread thread_;     // last: starts once the rest is ready
};

}  // namespace tel::media_link
