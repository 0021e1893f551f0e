#include "telephone_event.h"

namespace tel::media {

DigitDetector::Outcome DigitDetector::onPacket(const RtpView& packet, Clock::time_point now,
                                               char& digit) {
  if (packet.payload_size < 4) return Outcome::kDropped;
  const uint8_t event = packet.payload[0];
  static constexpr char kKeys[] = "0123456789*#ABCD";
  if (event > 15) return Outcome::kDropped;
  if (current_timestamp_ && *current_timestamp_ == packet.timestamp) return Outcome::kRepeat;
  current_timestamp_ = packet.timestamp;
  if (now - window_start_ >= std::chrono::seconds(1)) {
    window_start_ = now;
    in_window_ = 0;
  }
  if (++in_window_ > kMaxPerSecond) return Outcome::kDropped;
  digit = kKeys[event];
  return Outcome::kDigit;
}

}  // namespace tel::media
