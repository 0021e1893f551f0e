#include "port_pool.h"

namespace tel::media {

PortPool::PortPool(uint16_t first, uint16_t last) {
  for (uint32_t port = first + (first % 2); port + 1 <= last; port += 2) {
    free_.push_back(static_cast<uint16_t>(port));
  }
  total_ = free_.size();
}

std::optional<uint16_t> PortPool::acquire() {
  std::lock_guard lock(mutex_);
  if (free_.empty()) return std::nullopt;
  const uint16_t port = free_.front();
  free_.pop_front();
  in_use_.insert(port);
  return port;
}

void PortPool::release(uint16_t rtp_port) {
  std::lock_guard lock(mutex_);
  if (in_use_.erase(rtp_port) == 1) free_.push_back(rtp_port);
}

size_t PortPool::pairsInUse() const {
  std::lock_guard lock(mutex_);
  return in_use_.size();
}

}  // namespace tel::media
