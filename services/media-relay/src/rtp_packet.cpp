#include "rtp_packet.h"

namespace tel::media {

bool isValidRtp(const uint8_t* data, size_t size) {
  if (size < 12 || (data[0] >> 6) != 2) return false;
  size_t header = 12 + 4 * static_cast<size_t>(data[0] & 0x0f);
  if (header > size) return false;
  if (data[0] & 0x10) {  // header extension: 4 bytes + length in 32-bit words
    if (header + 4 > size) return false;
    header += 4 + 4 * ((static_cast<size_t>(data[header + 2]) << 8) | data[header + 3]);
    if (header > size) return false;
  }
  if (data[0] & 0x20) {  // padding: the last byte counts it, itself included
    const size_t padding = data[size - 1];
    if (padding == 0 || header + padding > size) return false;
  }
  return true;
}

bool isValidRtcp(const uint8_t* data, size_t size) {
  if (size < 8 || (data[0] >> 6) != 2) return false;
  if (data[1] < 192 || data[1] > 223) return false;
  const size_t length = 4 * ((static_cast<size_t>(data[2]) << 8) + data[3] + 1);
  return length <= size;
}

bool isValidOnRtpPort(const uint8_t* data, size_t size) {
  if (size >= 2 && data[1] >= 200 && data[1] <= 207) return isValidRtcp(data, size);
  return isValidRtp(data, size);
}

}  // namespace tel::media
