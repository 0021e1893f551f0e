#include "tel/media_link/control_client.h"

#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "tel/media_link/frames.h"

namespace tel::media_link {
namespace {

using Clock = std::chrono::steady_clock;

int millisecondsUntil(Clock::time_point deadline) {
  const auto left =
      std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
  return left <= 0 ? 0 : static_cast<int>(left);
}

absl::Status linkError(const std::string& what) {
  return absl::UnavailableError("media-relay control link: " + what);
}

absl::Status linkErrno(const std::string& what) { return linkError(what + ": " + strerror(errno)); }

// Waits until `fd` is ready for `events` or the deadline passes.
absl::Status waitFor(int fd, short events, Clock::time_point deadline) {
  pollfd entry{fd, events, 0};
  while (true) {
    const int ready = poll(&entry, 1, millisecondsUntil(deadline));
    if (ready > 0) return absl::OkStatus();
    if (ready == 0) return absl::DeadlineExceededError("media-relay: no reply in time");
    if (errno != EINTR) return linkErrno("poll");
  }
}

}  // namespace

// One TCP connection, non-blocking, used by one call at a time.
class ControlClient::Connection {
 public:
  explicit Connection(int fd) : fd_(fd) {}
  ~Connection() { ::close(fd_); }
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  static absl::StatusOr<std::unique_ptr<Connection>> open(const std::string& host, int port,
                                                          Clock::time_point deadline) {
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    addrinfo* found = nullptr;
    const std::string service = std::to_string(port);
    if (const int error = getaddrinfo(host.c_str(), service.c_str(), &hints, &found); error != 0)
      return linkError("cannot resolve " + host + ": " + gai_strerror(error));
    std::unique_ptr<addrinfo, decltype(&freeaddrinfo)> addresses(found, freeaddrinfo);
    const int fd = socket(found->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) return linkErrno("socket");
    auto connection = std::make_unique<Connection>(fd);
    const int one = 1;
    // Requests are small and each waits for its reply: Nagle's delay would be pure latency.
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (connect(fd, found->ai_addr, found->ai_addrlen) != 0) {
      if (errno != EINPROGRESS) return linkErrno("connect to " + host + ":" + service);
      if (auto ready = waitFor(fd, POLLOUT, deadline); !ready.ok()) return ready;
      int error = 0;
      socklen_t size = sizeof error;
      getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &size);
      if (error != 0) {
        errno = error;
        return linkErrno("connect to " + host + ":" + service);
      }
    }
    return connection;
  }

  absl::Status write(const std::string& bytes, Clock::time_point deadline) {
    size_t sent = 0;
    while (sent < bytes.size()) {
      const ssize_t written = ::send(fd_, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
      if (written > 0) {
        sent += static_cast<size_t>(written);
      } else if (written < 0 && (errno == EAGAIN || errno == EINTR)) {
        if (auto ready = waitFor(fd_, POLLOUT, deadline); !ready.ok()) return ready;
      } else {
        return linkErrno("send");
      }
    }
    return absl::OkStatus();
  }

  absl::StatusOr<media::v1::ControlReply> readReply(uint64_t id, Clock::time_point deadline) {
    auto reply = readFrame(deadline);
    // One request at a time per connection, and a connection that timed out is closed: a reply
    // for another id means the stream is out of step.
    if (reply.ok() && reply->id() != id) return linkError("reply for another request");
    return reply;
  }

  // The next frame, whatever its id. A deadline that passes mid-frame keeps what was read.
  absl::StatusOr<media::v1::ControlReply> readFrame(Clock::time_point deadline) {
    char chunk[16384];
    while (true) {
      std::string_view payload;
      switch (reader_.next(payload)) {
        case FrameReader::Next::kOversized:
          return linkError("the relay sent an oversized frame");
        case FrameReader::Next::kFrame: {
          media::v1::ControlReply reply;
          if (!reply.ParseFromArray(payload.data(), static_cast<int>(payload.size())))
            return linkError("the relay sent a reply that does not parse");
          return reply;
        }
        case FrameReader::Next::kNeedMore:
          break;
      }
      const ssize_t received = ::recv(fd_, chunk, sizeof chunk, 0);
      if (received > 0) {
        reader_.append(chunk, static_cast<size_t>(received));
      } else if (received == 0) {
        return linkError("the relay closed the connection");
      } else if (errno == EAGAIN || errno == EINTR) {
        if (auto ready = waitFor(fd_, POLLIN, deadline); !ready.ok()) return ready;
      } else {
        return linkErrno("recv");
      }
    }
  }

  // An idle connection the relay closed (restart) reads as end of stream: not worth reusing.
  bool closedByPeer() const {
    char byte;
    const ssize_t peeked = ::recv(fd_, &byte, 1, MSG_PEEK | MSG_DONTWAIT);
    return peeked == 0 || (peeked < 0 && errno != EAGAIN);
  }

 private:
  int fd_;
  FrameReader reader_;
};

ControlClient::ControlClient(std::string host, int port, std::chrono::milliseconds timeout,
                             size_t max_idle_connections)
    : host_(std::move(host)), port_(port), timeout_(timeout), max_idle_(max_idle_connections) {}

ControlClient::~ControlClient() = default;

absl::StatusOr<std::unique_ptr<ControlClient::Connection>> ControlClient::takeConnection(
    Deadline deadline) {
  {
    std::lock_guard lock(mutex_);
    while (!idle_.empty()) {
      auto connection = std::move(idle_.back());
      idle_.pop_back();
      if (!connection->closedByPeer()) return connection;
    }
  }
  return Connection::open(host_, port_, deadline);
}

void ControlClient::giveBack(std::unique_ptr<Connection> connection) {
  std::lock_guard lock(mutex_);
  if (idle_.size() < max_idle_) idle_.push_back(std::move(connection));
}

absl::StatusOr<media::v1::ControlReply> ControlClient::call(media::v1::ControlRequest request) {
  const Deadline deadline = Clock::now() + timeout_;
  auto connection = takeConnection(deadline);
  if (!connection.ok()) return connection.status();
  request.set_id(next_id_.fetch_add(1, std::memory_order_relaxed));
  std::string frame;
  appendFrame(request, frame);
  if (auto sent = (*connection)->write(frame, deadline); !sent.ok()) return sent;
  auto reply = (*connection)->readReply(request.id(), deadline);
  if (!reply.ok()) return reply.status();
  giveBack(std::move(*connection));
  if (reply->code() != 0) {
    return absl::Status(static_cast<absl::StatusCode>(reply->code()),
                        "media-relay: " + reply->message());
  }
  return reply;
}

EventSubscription::EventSubscription(std::string host, int port, std::string controller,
                                     OnEvent on_event, OnTrouble on_trouble)
    : host_(std::move(host)),
      port_(port),
      controller_(std::move(controller)),
      on_event_(std::move(on_event)),
      on_trouble_(std::move(on_trouble)),
      thread_([this] { run(); }) {}

EventSubscription::~EventSubscription() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  thread_.join();
}

bool EventSubscription::stopping() {
  std::lock_guard lock(mutex_);
  return stopping_;
}

void EventSubscription::run() {
  constexpr auto kRetry = std::chrono::seconds(1);
  // Reads wake up this often to notice stop(); the relay's events are not delayed by it.
  constexpr auto kStopCheck = std::chrono::milliseconds(200);
  while (!stopping()) {
    auto connection = ControlClient::Connection::open(host_, port_, Clock::now() + std::chrono::seconds(2));
    absl::Status trouble;
    if (connection.ok()) {
      media::v1::ControlRequest request;
      request.set_id(1);
      request.mutable_subscribe()->set_controller(controller_);
      std::string frame;
      appendFrame(request, frame);
      trouble = (*connection)->write(frame, Clock::now() + std::chrono::seconds(2));
      while (trouble.ok() && !stopping()) {
        auto reply = (*connection)->readFrame(Clock::now() + kStopCheck);
        if (!reply.ok()) {
          if (reply.status().code() != absl::StatusCode::kDeadlineExceeded) trouble = reply.status();
          continue;
        }
        if (reply->has_event()) {
          on_event_(std::move(*reply->mutable_event()));
        } else if (reply->code() != 0) {
          trouble = absl::Status(static_cast<absl::StatusCode>(reply->code()),
                                 "subscription refused: " + reply->message());
        }
      }
    } else {
      trouble = connection.status();
    }
    if (stopping()) return;
    if (on_trouble_) on_trouble_(trouble);
    std::unique_lock lock(mutex_);
    wake_.wait_for(lock, kRetry, [this] { return stopping_; });
  }
}

}  // namespace tel::media_link
