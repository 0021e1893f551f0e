#include "kernel_source_filter.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <linux/filter.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <string>

namespace tel::sip {

KernelSourceFilter KernelSourceFilter::forListeningPort(int port) {
  KernelSourceFilter filter;
  DIR* dir = opendir("/proc/self/fd");
  if (dir == nullptr) return filter;
  while (const dirent* entry = readdir(dir)) {
    char* end = nullptr;
    const long fd = std::strtol(entry->d_name, &end, 10);
    if (end == entry->d_name || *end != '\0' || fd == dirfd(dir)) continue;
    sockaddr_in address{};
    socklen_t length = sizeof address;
    if (getsockname(static_cast<int>(fd), reinterpret_cast<sockaddr*>(&address), &length) != 0)
      continue;
    if (address.sin_family != AF_INET || ntohs(address.sin_port) != port) continue;
    int type = 0;
    socklen_t type_length = sizeof type;
    if (getsockopt(static_cast<int>(fd), SOL_SOCKET, SO_TYPE, &type, &type_length) != 0) continue;
    int listening = 0;
    socklen_t listening_length = sizeof listening;
    getsockopt(static_cast<int>(fd), SOL_SOCKET, SO_ACCEPTCONN, &listening, &listening_length);
    if (type == SOCK_DGRAM || (type == SOCK_STREAM && listening))
      filter.fds_.push_back(static_cast<int>(fd));
  }
  closedir(dir);
  return filter;
}

absl::Status KernelSourceFilter::install(const std::vector<uint32_t>& banned) {
  // ld [source address]; then per address: jeq address -> next (drop) else skip it; accept.
  std::vector<sock_filter> program;
  const size_t count = std::min(banned.size(), kMaxAddresses);
  program.reserve(2 * count + 2);
  program.push_back(BPF_STMT(BPF_LD | BPF_W | BPF_ABS, static_cast<uint32_t>(SKF_NET_OFF + 12)));
  for (size_t i = 0; i < count; ++i) {
    program.push_back(BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, ntohl(banned[i]), 0, 1));
    program.push_back(BPF_STMT(BPF_RET | BPF_K, 0));
  }
  program.push_back(BPF_STMT(BPF_RET | BPF_K, 0xFFFFFFFFu));
  sock_fprog fprog{static_cast<unsigned short>(program.size()), program.data()};
  const int unused = 0;  // the kernel wants an int-sized value even for SO_DETACH_FILTER
  for (const int fd : fds_) {
    const int result = count == 0
                           ? setsockopt(fd, SOL_SOCKET, SO_DETACH_FILTER, &unused, sizeof unused)
                           : setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &fprog, sizeof fprog);
    if (result != 0 && !(count == 0 && errno == ENOENT)) {
      return absl::InternalError(std::string("socket filter: ") + std::strerror(errno));
    }
  }
  return absl::OkStatus();
}

}  // namespace tel::sip
