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
};

template <typename T>
using Done = std::function<void(absl::StatusOr<T>)>;

}  // namespace tel::media
