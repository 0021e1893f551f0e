#pragma once

#include <cstdint>
#include <deque>
#include <mutex>
#include <optional>
#include <unordered_set>

namespace tel::media {

// RTP/RTCP port pairs from a configured range: an even port for RTP and the next one for RTCP.
// Released ports go to the back of the queue, so a port just freed is reused last and stray
// packets of an ended call do not reach the next call that gets it. Thread-safe.
class PortPool {
 public:
  // The range is inclusive; the first even port >= first starts it.
  PortPool(uint16_t first, uint16_t last);

  std::optional<uint16_t> acquire();
  void release(uint16_t rtp_port);

  size_t pairsInUse() const;
  size_t pairsTotal() const { return total_; }

 private:
  mutable std::mutex mutex_;
  std::deque<uint16_t> free_;
  std::unordered_set<uint16_t> in_use_;
  size_t total_ = 0;
};

}  // namespace tel::media
