#pragma once

#include <chrono>
#include <cstdint>
#include <optional>

#include "rtp_packet.h"

namespace tel::media {

// RFC 4733 DTMF detection on one leg. A key press arrives as a run of telephone-event packets that
// share one RTP timestamp (the event's start), the last three flagged "end"; a new press has a new
// timestamp. The digit is reported on the first packet of its run, so a caller's choice acts at
// once and a lost end packet loses nothing; retransmitted packets of the same run are ignored.
//
// Bad input is counted, never acted on: a payload shorter than the 4 bytes of an event, an event
// code that is not a key (tones, flash), and digits beyond `max_per_second` (a flood of distinct
// events, which no finger makes). Owned by the leg's worker thread.
class DigitDetector {
 public:
  using Clock = std::chrono::steady_clock;
  static constexpr int kMaxPerSecond = 20;

  enum class Outcome { kDigit, kRepeat, kDropped };

  // The digit ('0'-'9', '*', '#', 'A'-'D') when this telephone-event packet starts a new event.
  Outcome onPacket(const RtpView& packet, Clock::time_point now, char& digit);

 private:
  std::optional<uint32_t> current_timestamp_;
  Clock::time_point window_start_{};
  int in_window_ = 0;
};

}  // namespace tel::media
