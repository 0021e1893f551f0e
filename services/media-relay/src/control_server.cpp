#include "control_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <mutex>
#include <stdexcept>

#include "tel/media_link/frames.h"

namespace tel::media {

// One controller's connection. The reader is the control thread's alone; the socket and the
// replies not yet written are shared with the workers that finish requests, under mutex_.
class ControlServer::Connection {
 public:
  Connection(int fd, int epoll_fd, size_t max_pending, prometheus::Counter& backlog_cut_offs)
      : fd_(fd),
        epoll_fd_(epoll_fd),
        max_pending_(max_pending),
        backlog_cut_offs_(backlog_cut_offs) {}

  int fd() const { return fd_; }
  media_link::FrameReader& reader() { return reader_; }

  // Any thread. Writes what the socket takes now; the rest waits for EPOLLOUT on the control
  // thread. A controller that lets too much pile up is shut down (the control thread then sees
  // the hang-up and closes the connection). False when the connection can take nothing more.
  bool send(const v1::ControlReply& reply) {
    std::lock_guard lock(mutex_);
    if (closed_ || cut_off_) return false;
    const bool was_waiting = !pending_.empty();
    media_link::appendFrame(reply, pending_);
    if (!was_waiting) flushLocked();
    if (pending_.size() > max_pending_) {
      ::shutdown(fd_, SHUT_RDWR);
      cut_off_ = true;
      pending_.clear();
      backlog_cut_offs_.Increment();
      return false;
    }
    if (!was_waiting && !pending_.empty()) watch(EPOLLIN | EPOLLOUT);
    return true;
  }

  // Control thread, on EPOLLOUT.
  void flush() {
    std::lock_guard lock(mutex_);
    if (closed_) return;
    flushLocked();
    if (pending_.empty()) watch(EPOLLIN);
  }

  // Control thread. After this no worker touches the socket.
  void close() {
    std::lock_guard lock(mutex_);
    closed_ = true;
    ::close(fd_);
  }

 private:
  void flushLocked() {
    size_t sent = 0;
    while (sent < pending_.size()) {
      const ssize_t written =
          ::send(fd_, pending_.data() + sent, pending_.size() - sent, MSG_NOSIGNAL | MSG_DONTWAIT);
      if (written <= 0) break;  // EAGAIN waits for EPOLLOUT; an error shows as EPOLLERR/EPOLLHUP
      sent += static_cast<size_t>(written);
    }
    pending_.erase(0, sent);
  }
  void watch(uint32_t events) {
    epoll_event event{};
    event.events = events;
    event.data.fd = fd_;
    epoll_ctl(epoll_fd_, EPOLL_CTL_MOD, fd_, &event);
  }

  const int fd_;
  const int epoll_fd_;
  const size_t max_pending_;
  prometheus::Counter& backlog_cut_offs_;
  media_link::FrameReader reader_;  // control thread only
  std::mutex mutex_;
  bool closed_ = false;   // guarded by mutex_
  bool cut_off_ = false;  // guarded by mutex_: shut down for not reading its replies
  std::string pending_;   // guarded by mutex_
};

ControlServer::ControlServer(RelayRequests& requests, ControlServerOptions options,
                             log::Logger logger, prometheus::Registry& registry)
    : requests_(requests),
      options_(options),
      log_(std::move(logger)),
      requests_total_(prometheus::BuildCounter()
                          .Name("tel_media_control_requests_total")
                          .Help("Requests received on the control link")
                          .Register(registry)
                          .Add({})),
      rejected_(
          prometheus::BuildCounter()
              .Name("tel_media_control_rejected_total")
              .Help("Control link input refused, by reason (oversized_frame, malformed_frame, "
                    "no_operation, too_many_connections, reply_backlog)")
              .Register(registry)),
      connections_gauge_(prometheus::BuildGauge()
                             .Name("tel_media_control_connections")
                             .Help("Open control link connections")
                             .Register(registry)
                             .Add({})) {
  // Every reason exported from the start, at 0, so that rates and alerts see the first refusal.
  for (const char* reason : {"oversized_frame", "malformed_frame", "no_operation",
                             "too_many_connections", "reply_backlog"}) {
    rejected_.Add({{"reason", reason}});
  }
}

ControlServer::~ControlServer() { stop(); }

int ControlServer::start(const std::string& host, int port) {
  sockaddr_storage address{};
  socklen_t address_size = 0;
  auto* v4 = reinterpret_cast<sockaddr_in*>(&address);
  auto* v6 = reinterpret_cast<sockaddr_in6*>(&address);
  if (inet_pton(AF_INET, host.c_str(), &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    v4->sin_port = htons(static_cast<uint16_t>(port));
    address_size = sizeof *v4;
  } else if (inet_pton(AF_INET6, host.c_str(), &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(static_cast<uint16_t>(port));
    address_size = sizeof *v6;
  } else {
    throw std::runtime_error("control.listen: '" + host + "' is not an IP address");
  }
  listen_fd_ = socket(address.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  const int one = 1;
  setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (listen_fd_ < 0 ||
      bind(listen_fd_, reinterpret_cast<sockaddr*>(&address), address_size) != 0 ||
      listen(listen_fd_, 128) != 0) {
    throw std::runtime_error("control.listen: cannot listen on " + host + ":" +
                             std::to_string(port) + ": " + strerror(errno));
  }
  getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&address), &address_size);
  const int bound = ntohs(address.ss_family == AF_INET ? v4->sin_port : v6->sin6_port);
  epoll_fd_ = epoll_create1(EPOLL_CLOEXEC);
  stop_fd_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (epoll_fd_ < 0 || stop_fd_ < 0) throw std::runtime_error("control link: epoll/eventfd failed");
  for (const int fd : {listen_fd_, stop_fd_}) {
    epoll_event event{};
    event.events = EPOLLIN;
    event.data.fd = fd;
    epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &event);
  }
  thread_ = std::thread([this] { runOnControlThread(); });
  return bound;
}

void ControlServer::stop() {
  if (!thread_.joinable()) return;
  const uint64_t one = 1;
  if (::write(stop_fd_, &one, sizeof one) < 0) log_.error("control link: cannot wake to stop", {});
  thread_.join();
  for (auto& [fd, connection] : connections_) connection->close();
  connections_.clear();
  connections_gauge_.Set(0);
  for (const int fd : {listen_fd_, epoll_fd_, stop_fd_}) ::close(fd);
}

void ControlServer::runOnControlThread() {
  epoll_event events[64];
  while (true) {
    const int ready = epoll_wait(epoll_fd_, events, 64, -1);
    if (ready < 0) {
      if (errno == EINTR) continue;
      log_.error("control link: epoll_wait failed", {{"error", strerror(errno)}});
      return;
    }
    for (int i = 0; i < ready; ++i) {
      const int fd = events[i].data.fd;
      if (fd == stop_fd_) return;
      if (fd == listen_fd_) {
        acceptOnControlThread();
        continue;
      }
      const auto found = connections_.find(fd);
      if (found == connections_.end()) continue;
      const std::shared_ptr<Connection> connection = found->second;
      if (events[i].events & EPOLLOUT) connection->flush();
      if (events[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR)) readOnControlThread(connection);
    }
  }
}

void ControlServer::acceptOnControlThread() {
  while (true) {
    const int fd = accept4(listen_fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED)
        log_.error("control link: accept failed", {{"error", strerror(errno)}});
      return;
    }
    if (connections_.size() >= options_.max_connections) {
      rejected_.Add({{"reason", "too_many_connections"}}).Increment();
      ::close(fd);
      continue;
    }
    const int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    epoll_event event{};
    event.events = EPOLLIN;
    event.data.fd = fd;
    epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &event);
    connections_[fd] = std::make_shared<Connection>(fd, epoll_fd_, options_.max_pending_reply_bytes,
                                                    rejected_.Add({{"reason", "reply_backlog"}}));
    connections_gauge_.Set(static_cast<double>(connections_.size()));
  }
}

void ControlServer::readOnControlThread(const std::shared_ptr<Connection>& connection) {
  // One read per wake-up: epoll is level-triggered, so a connection with more to read comes back
  // in the next round, after the others have had theirs (one busy controller cannot starve them).
  char chunk[16384];
  const ssize_t received = ::recv(connection->fd(), chunk, sizeof chunk, MSG_DONTWAIT);
  if (received < 0 && (errno == EAGAIN || errno == EINTR)) return;
  if (received <= 0) {
    closeOnControlThread(connection->fd(), nullptr);
    return;
  }
  connection->reader().append(chunk, static_cast<size_t>(received));
  std::string_view payload;
  while (true) {
    const auto next = connection->reader().next(payload);
    if (next == media_link::FrameReader::Next::kNeedMore) return;
    if (next == media_link::FrameReader::Next::kOversized) {
      closeOnControlThread(connection->fd(), "oversized_frame");
      return;
    }
    v1::ControlRequest request;
    if (!request.ParseFromArray(payload.data(), static_cast<int>(payload.size()))) {
      closeOnControlThread(connection->fd(), "malformed_frame");
      return;
    }
    dispatchOnControlThread(connection, request);
  }
}

namespace {

// The reply to request `id`, sent by whichever thread finishes the request: the result goes into
// the field `mutable_result` names.
template <typename T, typename Connection>
Done<T> replyTo(std::shared_ptr<Connection> connection, uint64_t id,
                T* (v1::ControlReply::*mutable_result)()) {
  return [connection = std::move(connection), id, mutable_result](absl::StatusOr<T> result) {
    v1::ControlReply reply;
    reply.set_id(id);
    if (result.ok()) {
      *(reply.*mutable_result)() = std::move(*result);
    } else {
      reply.set_code(static_cast<int32_t>(result.status().code()));
      reply.set_message(std::string(result.status().message()));
    }
    connection->send(reply);
  };
}

}  // namespace

void ControlServer::dispatchOnControlThread(const std::shared_ptr<Connection>& connection,
                                            const v1::ControlRequest& request) {
  requests_total_.Increment();
  const auto session = [&] {
    return replyTo(connection, request.id(), &v1::ControlReply::mutable_session);
  };
  const auto leg = [&] {
    return replyTo(connection, request.id(), &v1::ControlReply::mutable_leg);
  };
  switch (request.operation_case()) {
    case v1::ControlRequest::kCreateSession:
      return requests_.createSession(request.create_session(), session());
    case v1::ControlRequest::kAddLeg:
      return requests_.addLeg(request.add_leg(), leg());
    case v1::ControlRequest::kUpdateLeg:
      return requests_.updateLeg(request.update_leg(), leg());
    case v1::ControlRequest::kLink:
      return requests_.link(request.link(), session());
    case v1::ControlRequest::kGetSession:
      return requests_.getSession(request.get_session(), session());
    case v1::ControlRequest::kDeleteSession:
      return requests_.deleteSession(request.delete_session(), session());
    case v1::ControlRequest::kPlay:
      return requests_.play(request.play(), replyTo(connection, request.id(),
                                                    &v1::ControlReply::mutable_playback));
    case v1::ControlRequest::kStopPlayback:
      return requests_.stopPlayback(
          request.stop_playback(),
          replyTo(connection, request.id(), &v1::ControlReply::mutable_playback));
    case v1::ControlRequest::kStartRecording:
      return requests_.startRecording(
          request.start_recording(),
          replyTo(connection, request.id(), &v1::ControlReply::mutable_recording));
    case v1::ControlRequest::kStopRecording:
      return requests_.stopRecording(
          request.stop_recording(),
          replyTo(connection, request.id(), &v1::ControlReply::mutable_recording));
    case v1::ControlRequest::kSubscribe: {
      // The engine keeps a weak reference: a closed connection ends the subscription.
      std::weak_ptr<Connection> subscriber = connection;
      return requests_.subscribe(
          request.subscribe(),
          [subscriber](const v1::MediaEvent& event) {
            const auto live = subscriber.lock();
            if (!live) return false;
            v1::ControlReply reply;
            *reply.mutable_event() = event;
            return live->send(reply);
          },
          session());
    }
    case v1::ControlRequest::OPERATION_NOT_SET:
      break;
  }
  // No operation, or one this relay does not know (a newer controller).
  rejected_.Add({{"reason", "no_operation"}}).Increment();
  session()(invalidField("operation", "required: one of the session operations"));
}

void ControlServer::closeOnControlThread(int fd, const char* reason) {
  const auto found = connections_.find(fd);
  if (found == connections_.end()) return;
  if (reason != nullptr) {
    rejected_.Add({{"reason", reason}}).Increment();
    log_.warn("control link: connection closed on bad input", {{"reason", reason}});
  }
  epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, fd, nullptr);
  found->second->close();
  connections_.erase(found);
  connections_gauge_.Set(static_cast<double>(connections_.size()));
}

}  // namespace tel::media
