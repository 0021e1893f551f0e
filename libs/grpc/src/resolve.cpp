#include "tel/grpc/resolve.h"

#include <netdb.h>
#include <sys/socket.h>

#include <set>

namespace tel::grpc_util {

std::vector<std::string> resolveAll(const std::string& host_port) {
  const auto colon = host_port.rfind(':');
  if (colon == std::string::npos) return {};
  std::string host = host_port.substr(0, colon);
  const std::string port = host_port.substr(colon + 1);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']')
    host = host.substr(1, host.size() - 2);
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  if (getaddrinfo(host.c_str(), port.c_str(), &hints, &found) != 0) return {};
  std::set<std::string> addresses;
  for (const addrinfo* entry = found; entry != nullptr; entry = entry->ai_next) {
    char text[NI_MAXHOST];
    if (getnameinfo(entry->ai_addr, entry->ai_addrlen, text, sizeof text, nullptr, 0,
                    NI_NUMERICHOST) != 0)
      continue;
    const std::string ip = text;
    addresses.insert((ip.find(':') != std::string::npos ? "[" + ip + "]" : ip) + ":" + port);
  }
  freeaddrinfo(found);
  return {addresses.begin(), addresses.end()};
}

}  // namespace tel::grpc_util
