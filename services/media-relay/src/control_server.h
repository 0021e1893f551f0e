#pragma once

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/registry.h>

#include <memory>
#include <string>
#include <thread>
#include <unordered_map>

#include "relay_requests.h"
#include "tel/log/log.h"

namespace tel::media {

struct ControlServerOptions {
  size_t max_connections = 1024;
  // A controller that stops reading its replies is cut off once this much waits for it.
  size_t max_pending_reply_bytes = 4 << 20;
};

// The control link's server (ControlRequest in tel/media/v1/media_relay.proto): one thread with
// its own epoll accepts connections and cuts their bytes into requests, which go to RelayRequests.
// A reply is written by the thread that finishes the request (the owning relay worker) straight
// to the socket, under the connection's lock; only what the socket cannot take at once waits for
// this thread to flush it. So a request costs one hop (to the worker) and no thread of its own.
//
// Bad input never reaches the engine: a frame that is too long or does not parse closes its
// connection (counted by reason), a request without an operation gets INVALID_ARGUMENT.
class ControlServer {
 public:
  ControlServer(RelayRequests& requests, ControlServerOptions options, log::Logger logger,
                prometheus::Registry& registry);
  ~ControlServer();
  ControlServer(const ControlServer&) = delete;
  ControlServer& operator=(const ControlServer&) = delete;

  // Listens on host:port (port 0: any free port) and starts the thread; returns the port.
  // Throws std::runtime_error when it cannot listen (startup only).
  int start(const std::string& host, int port);
  // Closes every connection and joins the thread; replies finished later are dropped.
  void stop();

 private:
  class Connection;
  void runOnControlThread();
  void acceptOnControlThread();
  void readOnControlThread(const std::shared_ptr<Connection>& connection);
  void dispatchOnControlThread(const std::shared_ptr<Connection>& connection,
                               const v1::ControlRequest& request);
  void closeOnControlThread(int fd, const char* reason);

  RelayRequests& requests_;
  const ControlServerOptions options_;
  log::Logger log_;
  int listen_fd_ = -1;
  int epoll_fd_ = -1;
  int stop_fd_ = -1;  // eventfd: stop() wakes the thread
  std::thread thread_;
  // Owned by the control thread; workers hold their own references until they have replied.
  std::unordered_map<int, std::shared_ptr<Connection>> connections_;

  prometheus::Counter& requests_total_;
  prometheus::Family<prometheus::Counter>& rejected_;
  prometheus::Gauge& connections_gauge_;
};

}  // namespace tel::media
