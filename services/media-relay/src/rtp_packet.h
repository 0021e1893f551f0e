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

}  // namespace tel::media
