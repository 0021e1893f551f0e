#pragma once

#include <cstdint>

// G.711 (ITU-T G.711) encoding of 16-bit linear samples, for prompts played to a leg: µ-law is
// RTP payload type 0 (PCMU), A-law payload type 8 (PCMA). Both are the segment-and-mantissa
// compressions of the standard, computed here rather than looked up: prompts are encoded once,
// when first played, and cached.
namespace tel::media::g711 {

inline constexpr uint8_t kPcmuPayloadType = 0;
inline constexpr uint8_t kPcmaPayloadType = 8;
// Silence in each law (linear 0), for padding a prompt's last frame.
inline constexpr uint8_t kPcmuSilence = 0xFF;
inline constexpr uint8_t kPcmaSilence = 0xD5;

uint8_t encodeMuLaw(int16_t sample);
uint8_t encodeALaw(int16_t sample);
// The inverse, for tests and tone checks.
int16_t decodeMuLaw(uint8_t code);
int16_t decodeALaw(uint8_t code);

}  // namespace tel::media::g711
