#pragma once

#include <absl/status/statusor.h>
#include <sys/socket.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "tel/media/v1/media_relay.pb.h"

namespace tel::media {

namespace v1 = ::tel::media::v1;
using Clock = std::chrono::steady_clock;

// A socket address of either family, comparable and printable.
struct SocketAddress {
  sockaddr_storage storage{};
  socklen_t length = 0;

  static std::optional<SocketAddress> parse(const std::string& ip, uint16_t port);
  bool operator==(const SocketAddress& other) const;
  std::string ip() const;
  uint16_t port() const;
  SocketAddress withPort(uint16_t port) const;
};

struct RelayOptions {
  std::string bind_ip = "127.0.0.1";
  std::string advertise_ip;  // in answers to the controller; defaults to bind_ip
  uint16_t port_min = 30000;
  uint16_t port_max = 39999;
  int workers = 1;
  size_t max_packet_bytes = 1500;
  std::chrono::milliseconds media_timeout{60000};   // silence after media flowed
  std::chrono::milliseconds setup_timeout{120000};  // no media at all since creation
  std::chrono::milliseconds relatch_after{2000};    // latched peer silent this long: re-latch
  std::string prompts_dir;  // <dir>/<tenant_id>/<name>.wav; empty: prompts cannot be played
  std::string recordings_dir;  // <dir>/<tenant_id>/<call_id>.wav; empty: calls cannot be recorded
};

// What the relay knows of a leg's negotiated media, for playing to it and hearing its digits.
struct LegMediaFormat {
  uint8_t audio_payload_type = 0;  // 0 PCMU or 8 PCMA
  uint8_t event_payload_type = 0;  // RFC 4733 telephone-event; 0: none
};

// Where a worker hands the MediaEvents of a session (digits, playback ends), with the session's
// controller. Runs on the worker's thread; must not block.
using MediaEventSink = std::function<void(const std::string& controller, v1::MediaEvent event)>;

template <typename T>
using Done = std::function<void(absl::StatusOr<T>)>;

}  // namespace tel::media
