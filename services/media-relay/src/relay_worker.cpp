#include "relay_worker.h"

#include <fcntl.h>
#include <netinet/in.h>
#include <sys/epoll.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

#include "rtp_packet.h"

namespace tel::media {
namespace {

// Marks the wake-up eventfd in epoll data; leg sockets carry their LegSocket*.
constexpr uint64_t kWakeTag = 1;

absl::Status sessionNotFound(const std::string& id) {
  return absl::NotFoundError("session " + id + " not found");
}

}  // namespace

RelayWorker::RelayWorker(int index, const RelayOptions& options, PortPool& ports,
                         SessionEnded on_ended)
    : index_(index), options_(options), ports_(ports), on_ended_(std::move(on_ended)) {
  epoll_fd_ = epoll_create1(EPOLL_CLOEXEC);
  if (epoll_fd_ < 0) throw std::runtime_error("media worker: epoll_create1 failed");
  epoll_event event{};
  event.events = EPOLLIN;
  event.data.u64 = kWakeTag;
  epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, tasks_.fd(), &event);
  for (int i = 0; i < kBatch; ++i) {
    in_iovecs_[i] = {buffers_[i].data(), kBufferBytes};
    in_messages_[i].msg_hdr.msg_iov = &in_iovecs_[i];
    in_messages_[i].msg_hdr.msg_iovlen = 1;
    in_messages_[i].msg_hdr.msg_name = &sources_[i];
    out_messages_[i].msg_hdr.msg_iov = &out_iovecs_[i];
    out_messages_[i].msg_hdr.msg_iovlen = 1;
  }
}

RelayWorker::~RelayWorker() {
  stop();
  for (auto& [id, session] : sessions_) {
    for (auto& [leg_id, leg] : session->legs) closeLeg(*leg);
  }
  close(epoll_fd_);
}

void RelayWorker::start() {
  thread_ = std::thread([this] { run(); });
}

void RelayWorker::stop() {
  if (stopping_.exchange(true)) return;
  tasks_.post([] {});  // wakes the loop, which then sees stopping_
  if (thread_.joinable()) thread_.join();
}

void RelayWorker::post(std::function<void()> task) { tasks_.post(std::move(task)); }

void RelayWorker::run() {
  std::array<epoll_event, 64> events;
  auto last_sweep = Clock::now();
  while (!stopping_) {
    const int ready = epoll_wait(epoll_fd_, events.data(), static_cast<int>(events.size()), 200);
    const auto now = Clock::now();
    bool woken = false;
    for (int i = 0; i < ready; ++i) {
      if (events[i].data.u64 == kWakeTag) {
        woken = true;
      } else {
        handleReadable(*static_cast<LegSocket*>(events[i].data.ptr), now);
      }
    }
    // Tasks and timeouts may delete sessions, so they run after this round's socket events,
    // whose LegSocket pointers are then no longer in use.
    if (woken) tasks_.drain();
    if (now - last_sweep >= std::chrono::seconds(1)) {
      sweepTimeouts(now);
      last_sweep = now;
    }
  }
  tasks_.drain();
}

void RelayWorker::handleReadable(LegSocket& socket, Clock::time_point now) {
  Leg& leg = *socket.leg;
  // Where this socket's packets go: the linked leg's socket of the same kind, towards its peer
  // (latched, else the address from its SDP; RTCP goes to the SDP port + 1).
  LegSocket* out = nullptr;
  std::optional<SocketAddress> sdp_destination;
  if (leg.linked != nullptr) {
    out = socket.rtcp ? &leg.linked->rtcp : &leg.linked->rtp;
    if (!out->latched && leg.linked->sdp_remote) {
      sdp_destination = socket.rtcp ? leg.linked->sdp_remote->withPort(leg.linked->sdp_remote->port() + 1)
                                    : *leg.linked->sdp_remote;
    }
  }
  for (int round = 0; round < 4; ++round) {  // bounded, so one busy socket cannot starve others
    for (int i = 0; i < kBatch; ++i) in_messages_[i].msg_hdr.msg_namelen = sizeof(sockaddr_storage);
    const int received = recvmmsg(socket.fd, in_messages_.data(), kBatch, MSG_DONTWAIT, nullptr);
    if (received <= 0) return;
    const SocketAddress* destination = out ? (out->latched ? &out->peer : (sdp_destination ? &*sdp_destination : nullptr)) : nullptr;
    int to_send = 0;
    bool accepted_any = false;
    for (int i = 0; i < received; ++i) {
      const size_t size = in_messages_[i].msg_len;
      const uint8_t* data = buffers_[i].data();
      if ((in_messages_[i].msg_hdr.msg_flags & MSG_TRUNC) || size > options_.max_packet_bytes) {
        ++leg.counters.oversized;
        continue;
      }
      if (!(socket.rtcp ? isValidRtcp(data, size) : isValidOnRtpPort(data, size))) {
        ++leg.counters.malformed;
        continue;
      }
      SocketAddress source;
      std::memcpy(&source.storage, &sources_[i], in_messages_[i].msg_hdr.msg_namelen);
      source.length = in_messages_[i].msg_hdr.msg_namelen;
      if (!socket.latched || (!(source == socket.peer) && now - socket.last_from_peer > options_.relatch_after)) {
        socket.peer = source;  // symmetric latching (and re-latching after NAT rebinding)
        socket.latched = true;
      } else if (!(source == socket.peer)) {
        ++leg.counters.foreign;
        continue;
      }
      socket.last_from_peer = now;
      accepted_any = true;
      ++leg.counters.packets_in;
      leg.counters.bytes_in += size;
      if (destination == nullptr) {
        ++leg.counters.no_destination;
        continue;
      }
      out_iovecs_[to_send] = {buffers_[i].data(), size};
      out_messages_[to_send].msg_hdr.msg_name = const_cast<sockaddr_storage*>(&destination->storage);
      out_messages_[to_send].msg_hdr.msg_namelen = destination->length;
      ++to_send;
    }
    if (accepted_any) {  // garbage alone does not keep a session alive
      leg.session->last_media = now;
      leg.session->had_media = true;
    }
    if (to_send > 0) {
      // A full socket buffer may take fewer than offered; the rest are lost like any UDP drop.
      const int sent = sendmmsg(out->fd, out_messages_.data(), to_send, MSG_DONTWAIT);
      if (sent > 0) {
        uint64_t bytes = 0;
        for (int i = 0; i < sent; ++i) bytes += out_iovecs_[i].iov_len;
        out->leg->counters.packets_out += sent;
        out->leg->counters.bytes_out += bytes;
        totals_.packets_relayed.fetch_add(sent, std::memory_order_relaxed);
        totals_.bytes_relayed.fetch_add(bytes, std::memory_order_relaxed);
      }
    }
    if (received < kBatch) return;
  }
}

bool RelayWorker::openSocket(LegSocket& socket, uint16_t port) {
  auto address = SocketAddress::parse(options_.bind_ip, port);
  if (!address) return false;
  socket.fd = ::socket(address->storage.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (socket.fd < 0) return false;
  if (bind(socket.fd, reinterpret_cast<sockaddr*>(&address->storage), address->length) != 0) {
    close(socket.fd);
    socket.fd = -1;
    return false;
  }
  epoll_event event{};
  event.events = EPOLLIN;
  event.data.ptr = &socket;
  epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, socket.fd, &event);
  return true;
}

void RelayWorker::closeLeg(Leg& leg) {
  for (LegSocket* socket : {&leg.rtp, &leg.rtcp}) {
    if (socket->fd >= 0) {
      epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, socket->fd, nullptr);
      close(socket->fd);
      socket->fd = -1;
    }
  }
  if (leg.port != 0) ports_.release(leg.port);
  leg.port = 0;
}

void RelayWorker::describe(const Leg& leg, v1::Leg* out) const {
  out->set_leg_id(leg.id);
  out->mutable_local_rtp()->set_ip(options_.advertise_ip.empty() ? options_.bind_ip : options_.advertise_ip);
  out->mutable_local_rtp()->set_port(leg.port);
  if (leg.rtp.latched) {
    out->mutable_remote_rtp()->set_ip(leg.rtp.peer.ip());
    out->mutable_remote_rtp()->set_port(leg.rtp.peer.port());
  } else if (leg.sdp_remote) {
    out->mutable_remote_rtp()->set_ip(leg.sdp_remote->ip());
    out->mutable_remote_rtp()->set_port(leg.sdp_remote->port());
  }
  out->set_latched(leg.rtp.latched);
  if (leg.linked) out->set_linked_to(leg.linked->id);
  auto* counters = out->mutable_counters();
  counters->set_packets_in(leg.counters.packets_in);
  counters->set_bytes_in(leg.counters.bytes_in);
  counters->set_packets_out(leg.counters.packets_out);
  counters->set_bytes_out(leg.counters.bytes_out);
  counters->set_dropped_malformed(leg.counters.malformed);
  counters->set_dropped_oversized(leg.counters.oversized);
  counters->set_dropped_foreign_source(leg.counters.foreign);
  counters->set_dropped_no_destination(leg.counters.no_destination);
}

void RelayWorker::describe(const Session& session, v1::Session* out) const {
  out->set_session_id(session.id);
  out->set_tenant_id(session.tenant_id);
  out->set_call_id(session.call_id);
  for (const auto& [id, leg] : session.legs) describe(*leg, out->add_legs());
}

void RelayWorker::createSessionOnWorker(const std::string& session_id, const std::string& tenant_id,
                                        const std::string& call_id, Done<v1::Session> done) {
  auto session = std::make_unique<Session>();
  session->id = session_id;
  session->tenant_id = tenant_id;
  session->call_id = call_id;
  session->created = Clock::now();
  v1::Session result;
  describe(*session, &result);
  sessions_[session_id] = std::move(session);
  totals_.sessions.store(sessions_.size(), std::memory_order_relaxed);
  done(std::move(result));
}

void RelayWorker::addLegOnWorker(const std::string& session_id, const std::string& leg_id,
                                 std::optional<SocketAddress> remote, Done<v1::Leg> done) {
  auto it = sessions_.find(session_id);
  if (it == sessions_.end()) return done(sessionNotFound(session_id));
  Session& session = *it->second;
  if (session.legs.contains(leg_id)) return done(absl::AlreadyExistsError("leg " + leg_id + " exists"));
  auto leg = std::make_unique<Leg>();
  leg->id = leg_id;
  leg->session = &session;
  leg->sdp_remote = remote;
  leg->rtp.leg = leg.get();
  leg->rtcp.leg = leg.get();
  leg->rtcp.rtcp = true;
  // A port of the range may be taken by another program: try a few pairs before giving up.
  for (int attempt = 0; attempt < 8 && leg->port == 0; ++attempt) {
    auto port = ports_.acquire();
    if (!port) break;
    if (openSocket(leg->rtp, *port) && openSocket(leg->rtcp, *port + 1)) {
      leg->port = *port;
    } else {
      closeLeg(*leg);
      ports_.release(*port);
    }
  }
  if (leg->port == 0) return done(absl::ResourceExhaustedError("no free RTP port pair"));
  v1::Leg result;
  describe(*leg, &result);
  session.legs[leg_id] = std::move(leg);
  totals_.legs.fetch_add(1, std::memory_order_relaxed);
  done(std::move(result));
}

void RelayWorker::updateLegOnWorker(const std::string& session_id, const std::string& leg_id,
                                    std::optional<SocketAddress> remote, Done<v1::Leg> done) {
  auto it = sessions_.find(session_id);
  if (it == sessions_.end()) return done(sessionNotFound(session_id));
  auto leg_it = it->second->legs.find(leg_id);
  if (leg_it == it->second->legs.end()) return done(absl::NotFoundError("leg " + leg_id + " not found"));
  Leg& leg = *leg_it->second;
  leg.sdp_remote = remote;
  // A new SDP address means the peer moved: latch afresh.
  leg.rtp.latched = false;
  leg.rtcp.latched = false;
  v1::Leg result;
  describe(leg, &result);
  done(std::move(result));
}

void RelayWorker::linkOnWorker(const std::string& session_id, const std::string& leg_a,
                               const std::string& leg_b, Done<v1::Session> done) {
  auto it = sessions_.find(session_id);
  if (it == sessions_.end()) return done(sessionNotFound(session_id));
  Session& session = *it->second;
  auto a = session.legs.find(leg_a);
  auto b = session.legs.find(leg_b);
  if (a == session.legs.end() || b == session.legs.end()) {
    return done(absl::NotFoundError("both legs must exist in the session"));
  }
  // Re-linking (a fork answered by another B leg) first detaches the previous partners.
  for (Leg* leg : {a->second.get(), b->second.get()}) {
    if (leg->linked) leg->linked->linked = nullptr;
  }
  a->second->linked = b->second.get();
  b->second->linked = a->second.get();
  v1::Session result;
  describe(session, &result);
  done(std::move(result));
}

void RelayWorker::getSessionOnWorker(const std::string& session_id, Done<v1::Session> done) {
  auto it = sessions_.find(session_id);
  if (it == sessions_.end()) return done(sessionNotFound(session_id));
  v1::Session result;
  describe(*it->second, &result);
  done(std::move(result));
}

v1::Session RelayWorker::endSession(Session& session, const std::string& reason) {
  v1::Session result;
  describe(session, &result);
  result.set_end_reason(reason);
  for (auto& [id, leg] : session.legs) {
    const auto& c = leg->counters;
    totals_.dropped_malformed.fetch_add(c.malformed, std::memory_order_relaxed);
    totals_.dropped_oversized.fetch_add(c.oversized, std::memory_order_relaxed);
    totals_.dropped_foreign_source.fetch_add(c.foreign, std::memory_order_relaxed);
    totals_.dropped_no_destination.fetch_add(c.no_destination, std::memory_order_relaxed);
    closeLeg(*leg);
  }
  totals_.legs.fetch_sub(session.legs.size(), std::memory_order_relaxed);
  const std::string id = session.id;
  sessions_.erase(id);
  totals_.sessions.store(sessions_.size(), std::memory_order_relaxed);
  on_ended_(id, reason);
  return result;
}

void RelayWorker::deleteSessionOnWorker(const std::string& session_id, Done<v1::Session> done) {
  auto it = sessions_.find(session_id);
  if (it == sessions_.end()) return done(sessionNotFound(session_id));
  done(endSession(*it->second, "deleted"));
}

void RelayWorker::sweepTimeouts(Clock::time_point now) {
  std::vector<std::pair<Session*, const char*>> expired;
  for (auto& [id, session] : sessions_) {
    if (session->had_media && now - session->last_media > options_.media_timeout) {
      expired.emplace_back(session.get(), "media_timeout");
    } else if (!session->had_media && now - session->created > options_.setup_timeout) {
      expired.emplace_back(session.get(), "setup_timeout");
    }
  }
  for (auto& [session, reason] : expired) endSession(*session, reason);
}

}  // namespace tel::media
