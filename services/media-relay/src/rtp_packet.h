#pragma once

#include <cstddef>
#include <cstdint>

namespace tel::media {

// Structural checks of what arrives on relay ports. Cheap enough for the per-packet path: they
// read at most the fixed header and the extension length.

// RTP (RFC 3550 section 5.1): version 2, header with its CSRCs and extension inside the packet,
// padding not longer than the payload.
bool isValidRtp(const uint8_t* data, size_t size);

// An RTCP compound packet's first header (RFC 3550 section 6.4): version 2, packet type 192..223,
// the length field inside the packet.
bool isValidRtcp(const uint8_t* data, size_t size);

// On an RTP port both may arrive (RFC 5761 rtcp-mux): RTCP packet types 200..207 are RTCP.
bool isValidOnRtpPort(const uint8_t* data, size_t size);

// The fields of an RTP packet that endpoint work reads (digits, tests).
struct RtpView {
  uint8_t payload_type = 0;
  bool marker = false;
  uint16_t sequence = 0;
  uint32_t timestamp = 0;
  uint32_t ssrc = 0;
  const uint8_t* payload = nullptr;
  size_t payload_size = 0;
};

// The view of a packet that isValidRtp accepts; false for anything else (RTCP included).
bool viewRtp(const uint8_t* data, size_t size, RtpView& view);

// Writes a 12-byte RTP header (version 2, no CSRC, no extension) at `out`.
void writeRtpHeader(uint8_t* out, uint8_t payload_type, bool marker, uint16_t sequence,
                    uint32_t timestamp, uint32_t ssrc);

}  // namespace tel::media
