#pragma once

#include <absl/status/status.h>

#include <cstdint>
#include <vector>

namespace tel::sip {

// Drops packets from banned IPv4 sources in the kernel, on this process's sockets listening on the
// SIP port (UDP, and the TCP listener, whose filter new connections inherit): a classic BPF socket
// filter, rebuilt whenever the banned set changes. A banned source gets no answer at all, the way a
// fail2ban firewall rule works, and its packets cost nothing in user space. The filter holds at
// most kMaxAddresses addresses (BPF programs are limited to 4096 instructions); beyond that, and
// for IPv6, sip-edge refuses banned sources with a cheap 403 instead.
class KernelSourceFilter {
 public:
  static constexpr size_t kMaxAddresses = 2000;

  // Finds the sockets of this process bound to `port` (IPv4 UDP sockets and TCP listeners).
  static KernelSourceFilter forListeningPort(int port);

  // Replaces the filter on every socket. `banned`: IPv4 addresses in network byte order.
  absl::Status install(const std::vector<uint32_t>& banned);
  size_t sockets() const { return fds_.size(); }

 private:
  std::vector<int> fds_;  // not owned: sofia's sockets
};

}  // namespace tel::sip
