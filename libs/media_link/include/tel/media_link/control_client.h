#pragma once

#include <absl/status/statusor.h>

#include <atomic>
#include <chrono>
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

}  // namespace tel::media_link
