#include "relay_worker.h"

#include <fcntl.h>
#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

#include "g711.h"
#include "rtp_packet.h"
#include "tel/crypto/crypto.h"

namespace tel::media {
namespace {

// Marks the wake-up eventfd and the playback timer in epoll data; leg sockets carry their
// LegSocket* (never 1 or 2).
constexpr uint64_t kWakeTag = 1;
constexpr uint64_t kTimerTag = 2;
// G.711 at 8 kHz in 20 ms packets.
constexpr auto kFrameInterval = std::chrono::milliseconds(20);
constexpr size_t kFrameSamples = 160;
// A worker that fell behind (a stall) catches up this many frames per leg and tick at most, then
// skips ahead: a burst of late audio is worse than a short gap.
constexpr int kMaxCatchUpFrames = 3;

absl::Status sessionNotFound(const std::string& id) {
  return absl::NotFoundError("session " + id + " not found");
}

}  // namespace

RelayWorker::RelayWorker(int index, const RelayOptions& options, PortPool& ports,
                         SessionEnded on_ended, MediaEventSink on_event)
    : index_(index),
      options_(options),
      ports_(ports),
      on_ended_(std::move(on_ended)),
      on_event_(std::move(on_event)) {
  epoll_fd_ = epoll_create1(EPOLL_CLOEXEC);
  if (epoll_fd_ < 0) throw std::runtime_error("media worker: epoll_create1 failed");
  timer_fd_ = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
  if (timer_fd_ < 0) throw std::runtime_error("media worker: timerfd_create failed");
  const itimerspec every_frame{{0, 20'000'000}, {0, 20'000'000}};
  if (timerfd_settime(timer_fd_, 0, &every_frame, nullptr) != 0) {
    throw std::runtime_error("media worker: timerfd_settime failed");
  }
  epoll_event event{};
  event.events = EPOLLIN;
  event.data.u64 = kWakeTag;
  epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, tasks_.fd(), &event);
  event.data.u64 = kTimerTag;
  epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, timer_fd_, &event);
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
    // Shutting down: recordings are finished, and nobody is told of anything (the engine that
    // would carry the events is being destroyed).
    if (session->recorder) session->recorder->finish();
    for (auto& [leg_id, leg] : session->legs) {
      leg->player.reset();
      closeLeg(*leg);
    }
  }
  close(timer_fd_);
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
    uint64_t frame_ticks = 0;
    for (int i = 0; i < ready; ++i) {
      if (events[i].data.u64 == kWakeTag) {
        woken = true;
      } else if (events[i].data.u64 == kTimerTag) {
        uint64_t expirations = 0;
        if (::read(timer_fd_, &expirations, sizeof expirations) > 0) frame_ticks = expirations;
      } else {
        handleReadable(*static_cast<LegSocket*>(events[i].data.ptr), now);
      }
    }
    // Tasks and timeouts may delete sessions, so they run after this round's socket events,
    // whose LegSocket pointers are then no longer in use.
    if (woken) tasks_.drain();
    if (frame_ticks > 0 && !playing_.empty()) playDueFrames(now);
    // A recording's timeline advances by the timer's expirations, so a late wake-up (a stall)
    // still yields the frames it missed and the file keeps the call's length.
    for (uint64_t tick = 0; tick < std::min<uint64_t>(frame_ticks, 50); ++tick) recordFrame();
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
  // A leg that plays hears the prompts (music on hold), not its linked leg; an unlinked leg with
  // a negotiated telephone-event type is an endpoint whose digits an application awaits.
  const bool detect_digits = !socket.rtcp && leg.linked == nullptr && leg.media &&
                             leg.media->event_payload_type != 0;
  if (leg.linked != nullptr && leg.linked->player == nullptr) {
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
      if (detect_digits) onDigitPacket(leg, data, size, now);
      if (leg.record_channel >= 0 && !socket.rtcp) {
        RtpView packet;
        if (viewRtp(data, size, packet)) {
          leg.session->recorder->onAudio(leg.record_channel, packet.payload_type, packet.payload, packet.payload_size);
        }
      }
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

void RelayWorker::onDigitPacket(Leg& leg, const uint8_t* data, size_t size, Clock::time_point now) {
  RtpView packet;
  if (!viewRtp(data, size, packet) || packet.payload_type != leg.media->event_payload_type) return;
  char digit = 0;
  switch (leg.digits.onPacket(packet, now, digit)) {
    case DigitDetector::Outcome::kRepeat:
      return;
    case DigitDetector::Outcome::kDropped:
      ++leg.counters.dropped_events;
      totals_.dropped_events.fetch_add(1, std::memory_order_relaxed);
      return;
    case DigitDetector::Outcome::kDigit:
      break;
  }
  ++leg.counters.digits;
  totals_.digits.fetch_add(1, std::memory_order_relaxed);
  v1::MediaEvent event;
  event.mutable_digit()->set_digit(std::string(1, digit));
  emit(*leg.session, leg, std::move(event));
}

void RelayWorker::emit(const Session& session, const Leg& leg, v1::MediaEvent event) {
  if (session.controller.empty()) return;
  event.set_session_id(session.id);
  event.set_call_id(session.call_id);
  event.set_leg_id(leg.id);
  on_event_(session.controller, std::move(event));
}

void RelayWorker::playDueFrames(Clock::time_point now) {
  // endPlayback() edits playing_: walk a copy of the few pointers.
  const std::vector<Leg*> legs = playing_;
  for (Leg* leg : legs) {
    Player& player = *leg->player;
    if (now - player.next_due > kMaxCatchUpFrames * kFrameInterval) {
      // Fell far behind: skip ahead in the RTP clock too, so the peer's jitter buffer sees a gap.
      const auto behind = (now - player.next_due) / kFrameInterval;
      player.timestamp += static_cast<uint32_t>(behind * kFrameSamples);
      player.next_due += behind * kFrameInterval;
    }
    bool finished = false;
    for (int frame = 0; frame < kMaxCatchUpFrames + 1 && player.next_due <= now; ++frame) {
      player.next_due += kFrameInterval;
      if (!sendFrame(*leg, player)) {
        finished = true;
        break;
      }
    }
    if (finished) endPlayback(*leg, "finished");
  }
}

bool RelayWorker::sendFrame(Leg& leg, Player& player) {
  if (player.item >= player.prompts.size()) {
    if (!player.loop) return false;
    player.item = 0;
    player.offset = 0;
  }
  const bool pcma = leg.media->audio_payload_type == g711::kPcmaPayloadType;
  uint8_t* payload = frame_.data() + 12;
  size_t filled = 0;
  // A frame may span the end of one prompt and the start of the next (or of the loop).
  while (filled < kFrameSamples && player.item < player.prompts.size()) {
    const auto& audio = pcma ? player.prompts[player.item]->pcma : player.prompts[player.item]->pcmu;
    const size_t take = std::min(kFrameSamples - filled, audio.size() - player.offset);
    std::memcpy(payload + filled, audio.data() + player.offset, take);
    filled += take;
    player.offset += take;
    if (player.offset >= audio.size()) {
      ++player.item;
      player.offset = 0;
      if (player.item == player.prompts.size() && player.loop) player.item = 0;
    }
  }
  std::memset(payload + filled, pcma ? g711::kPcmaSilence : g711::kPcmuSilence, kFrameSamples - filled);
  writeRtpHeader(frame_.data(), leg.media->audio_payload_type, player.first, player.sequence++,
                 player.timestamp, player.ssrc);
  player.timestamp += kFrameSamples;
  player.first = false;
  const SocketAddress* destination =
      leg.rtp.latched ? &leg.rtp.peer : (leg.sdp_remote ? &*leg.sdp_remote : nullptr);
  if (destination != nullptr &&
      ::sendto(leg.rtp.fd, frame_.data(), frame_.size(), MSG_DONTWAIT,
               reinterpret_cast<const sockaddr*>(&destination->storage), destination->length) > 0) {
    ++leg.counters.played;
    ++leg.counters.packets_out;
    leg.counters.bytes_out += frame_.size();
    totals_.packets_played.fetch_add(1, std::memory_order_relaxed);
  }
  return true;
}

void RelayWorker::endPlayback(Leg& leg, const char* reason) {
  if (!leg.player) return;
  v1::MediaEvent event;
  event.mutable_playback_ended()->set_playback_id(leg.player->playback_id);
  event.mutable_playback_ended()->set_reason(reason);
  leg.player.reset();
  std::erase(playing_, &leg);
  totals_.playbacks.store(playing_.size(), std::memory_order_relaxed);
  emit(*leg.session, leg, std::move(event));
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
  if (leg.player) endPlayback(leg, "session_ended");
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
  counters->set_packets_played(leg.counters.played);
  counters->set_digits(leg.counters.digits);
  counters->set_dropped_events(leg.counters.dropped_events);
}

void RelayWorker::describe(const Session& session, v1::Session* out) const {
  if (session.recorder) *out->mutable_recording() = session.recorder->describe();
  out->set_session_id(session.id);
  out->set_tenant_id(session.tenant_id);
  out->set_call_id(session.call_id);
  for (const auto& [id, leg] : session.legs) describe(*leg, out->add_legs());
}

void RelayWorker::createSessionOnWorker(const std::string& session_id, const std::string& tenant_id,
                                        const std::string& call_id, const std::string& controller,
                                        Done<v1::Session> done) {
  auto session = std::make_unique<Session>();
  session->id = session_id;
  session->controller = controller;
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
                                 std::optional<SocketAddress> remote,
                                 std::optional<LegMediaFormat> media, Done<v1::Leg> done) {
  auto it = sessions_.find(session_id);
  if (it == sessions_.end()) return done(sessionNotFound(session_id));
  Session& session = *it->second;
  if (session.legs.contains(leg_id)) return done(absl::AlreadyExistsError("leg " + leg_id + " exists"));
  auto leg = std::make_unique<Leg>();
  leg->id = leg_id;
  leg->session = &session;
  leg->sdp_remote = remote;
  leg->media = media;
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
                                    std::optional<SocketAddress> remote,
                                    std::optional<LegMediaFormat> media, Done<v1::Leg> done) {
  auto it = sessions_.find(session_id);
  if (it == sessions_.end()) return done(sessionNotFound(session_id));
  auto leg_it = it->second->legs.find(leg_id);
  if (leg_it == it->second->legs.end()) return done(absl::NotFoundError("leg " + leg_id + " not found"));
  Leg& leg = *leg_it->second;
  leg.sdp_remote = remote;
  if (media) leg.media = media;
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

void RelayWorker::playOnWorker(const std::string& session_id, const std::string& leg_id,
                               const std::string& playback_id,
                               std::vector<std::shared_ptr<const EncodedPrompt>> prompts, bool loop,
                               Done<v1::Playback> done) {
  auto it = sessions_.find(session_id);
  if (it == sessions_.end()) return done(sessionNotFound(session_id));
  auto leg_it = it->second->legs.find(leg_id);
  if (leg_it == it->second->legs.end()) return done(absl::NotFoundError("leg " + leg_id + " not found"));
  Leg& leg = *leg_it->second;
  if (!leg.media) {
    return done(absl::FailedPreconditionError("leg " + leg_id + " has no negotiated codec to play in"));
  }
  uint32_t duration_ms = 0;
  for (const auto& prompt : prompts) duration_ms += prompt->durationMs();
  if (duration_ms == 0) return done(absl::InvalidArgumentError("prompts: no audio to play"));
  auto player = std::make_unique<Player>();
  if (leg.player) {
    // The new playback continues the leg's RTP stream: same source, next sequence and timestamp.
    player->ssrc = leg.player->ssrc;
    player->sequence = leg.player->sequence;
    player->timestamp = leg.player->timestamp;
    endPlayback(leg, "replaced");
  } else {
    // RFC 3550: a random source, first sequence number and first timestamp.
    const std::string random = crypto::randomBytes(10);
    std::memcpy(&player->ssrc, random.data(), 4);
    std::memcpy(&player->sequence, random.data() + 4, 2);
    std::memcpy(&player->timestamp, random.data() + 6, 4);
  }
  player->playback_id = playback_id;
  player->prompts = std::move(prompts);
  player->loop = loop;
  player->next_due = Clock::now();
  leg.player = std::move(player);
  playing_.push_back(&leg);
  totals_.playbacks.store(playing_.size(), std::memory_order_relaxed);
  v1::Playback result;
  result.set_playback_id(playback_id);
  result.set_duration_ms(duration_ms);
  done(std::move(result));
}

void RelayWorker::stopPlaybackOnWorker(const std::string& session_id, const std::string& leg_id,
                                       Done<v1::Playback> done) {
  auto it = sessions_.find(session_id);
  if (it == sessions_.end()) return done(sessionNotFound(session_id));
  auto leg_it = it->second->legs.find(leg_id);
  if (leg_it == it->second->legs.end()) return done(absl::NotFoundError("leg " + leg_id + " not found"));
  Leg& leg = *leg_it->second;
  v1::Playback result;
  if (leg.player) {
    result.set_playback_id(leg.player->playback_id);
    endPlayback(leg, "stopped");
  }
  done(std::move(result));  // stopping nothing is fine: the playback may have just finished
}

void RelayWorker::startRecordingOnWorker(const std::string& session_id, const std::string& leg_a,
                                         const std::string& leg_b, std::chrono::milliseconds silence,
                                         Done<v1::Recording> done) {
  auto it = sessions_.find(session_id);
  if (it == sessions_.end()) return done(sessionNotFound(session_id));
  Session& session = *it->second;
  if (options_.recordings_dir.empty()) {
    return done(absl::FailedPreconditionError("no recordings directory is configured (recordings.dir)"));
  }
  if (session.recorder) {
    return done(absl::FailedPreconditionError(session.recorder->finished() ? "the session has been recorded already"
                                                                           : "the session is recording already"));
  }
  auto a = session.legs.find(leg_a);
  auto b = leg_b.empty() ? session.legs.end() : session.legs.find(leg_b);
  if (a == session.legs.end() || (!leg_b.empty() && b == session.legs.end())) {
    return done(absl::NotFoundError(leg_b.empty() ? "no such leg in the session" : "both legs must exist in the session"));
  }
  // The file's name comes from ids a controller chose: only names that stay in their folder.
  if (!isSafePathComponent(session.tenant_id) || !isSafePathComponent(session.call_id)) {
    return done(absl::InvalidArgumentError("the session's tenant and call ids cannot name a recording file"));
  }
  auto recorder = CallRecorder::open(options_.recordings_dir, session.tenant_id + "/" + session.call_id + ".wav",
                                     leg_b.empty() ? 1 : 2);
  if (!recorder.ok()) return done(recorder.status());
  session.recorder = std::move(*recorder);
  session.recorder->detectSilence(silence);
  a->second->record_channel = 0;
  if (!leg_b.empty()) b->second->record_channel = 1;
  recording_.push_back(&session);
  totals_.recordings.store(recording_.size(), std::memory_order_relaxed);
  done(session.recorder->describe());
}

void RelayWorker::stopRecordingOnWorker(const std::string& session_id, Done<v1::Recording> done) {
  auto it = sessions_.find(session_id);
  if (it == sessions_.end()) return done(sessionNotFound(session_id));
  Session& session = *it->second;
  if (!session.recorder) return done(absl::FailedPreconditionError("the session is not recording"));
  stopRecording(session);
  done(session.recorder->finish());
}

void RelayWorker::stopRecording(Session& session) {
  for (auto& [id, leg] : session.legs) leg->record_channel = -1;
  std::erase(recording_, &session);
  totals_.recordings.store(recording_.size(), std::memory_order_relaxed);
}

void RelayWorker::recordFrame() {
  for (Session* session : recording_) {
    if (!session->recorder->onFrame()) continue;
    for (const auto& [id, leg] : session->legs) {
      if (leg->record_channel != 0) continue;
      v1::MediaEvent event;
      event.mutable_silence()->set_recorded_ms(session->recorder->describe().duration_ms());
      emit(*session, *leg, std::move(event));
    }
  }
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
  if (session.recorder) {
    *result.mutable_recording() = session.recorder->finish();
    stopRecording(session);
  }
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
