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

bool viewRtp(const uint8_t* data, size_t size, RtpView& view) {
  if (!isValidRtp(data, size) || (data[1] >= 200 && data[1] <= 207)) return false;
  size_t header = 12 + 4 * static_cast<size_t>(data[0] & 0x0f);
  if (data[0] & 0x10) header += 4 + 4 * ((static_cast<size_t>(data[header + 2]) << 8) | data[header + 3]);
  const size_t padding = (data[0] & 0x20) ? data[size - 1] : 0;
  view.payload_type = data[1] & 0x7f;
  view.marker = (data[1] & 0x80) != 0;
  view.sequence = static_cast<uint16_t>(data[2] << 8 | data[3]);
  view.timestamp = static_cast<uint32_t>(data[4]) << 24 | static_cast<uint32_t>(data[5]) << 16 |
                   static_cast<uint32_t>(data[6]) << 8 | data[7];
  view.ssrc = static_cast<uint32_t>(data[8]) << 24 | static_cast<uint32_t>(data[9]) << 16 |
              static_cast<uint32_t>(data[10]) << 8 | data[11];
  view.payload = data + header;
  view.payload_size = size - header - padding;
  return true;
}

void writeRtpHeader(uint8_t* out, uint8_t payload_type, bool marker, uint16_t sequence,
                    uint32_t timestamp, uint32_t ssrc) {
  out[0] = 0x80;
  out[1] = static_cast<uint8_t>((marker ? 0x80 : 0) | (payload_type & 0x7f));
  out[2] = static_cast<uint8_t>(sequence >> 8);
  out[3] = static_cast<uint8_t>(sequence);
  for (int i = 0; i < 4; ++i) {
    out[4 + i] = static_cast<uint8_t>(timestamp >> (24 - 8 * i));
    out[8 + i] = static_cast<uint8_t>(ssrc >> (24 - 8 * i));
  }
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
