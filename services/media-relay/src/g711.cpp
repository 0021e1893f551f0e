#include "g711.h"

namespace tel::media::g711 {
namespace {

// The segment (exponent) of a magnitude: the position of its highest set bit above `base_bits`,
// at most 7.
int segmentOf(int magnitude, int base_bits) {
  int segment = 0;
  for (int value = magnitude >> base_bits; value > 1 && segment < 7; value >>= 1) ++segment;
  return segment;
}

}  // namespace

uint8_t encodeMuLaw(int16_t sample) {
  // µ-law works on 14-bit magnitudes biased by 33 (132 in 16-bit scale) so that every segment
  // starts at a power of two.
  constexpr int kBias = 0x84;
  constexpr int kClip = 32635;
  int value = sample;
  const uint8_t sign = value < 0 ? 0x80 : 0x00;
  if (value < 0) value = -value;
  if (value > kClip) value = kClip;
  value += kBias;
  const int segment = segmentOf(value, 7);
  const int mantissa = (value >> (segment + 3)) & 0x0F;
  return static_cast<uint8_t>(~(sign | (segment << 4) | mantissa));
}

int16_t decodeMuLaw(uint8_t code) {
  code = static_cast<uint8_t>(~code);
  const int segment = (code >> 4) & 0x07;
  const int mantissa = code & 0x0F;
  const int magnitude = (((mantissa << 3) + 0x84) << segment) - 0x84;
  return static_cast<int16_t>((code & 0x80) ? -magnitude : magnitude);
}

uint8_t encodeALaw(int16_t sample) {
  // A-law works on 13-bit magnitudes; the first two segments share one step size. Every other
  // bit of the result is inverted (0x55), as the standard transmits it.
  int value = sample >> 3;
  const uint8_t sign = value >= 0 ? 0x80 : 0x00;
  if (value < 0) value = -value - 1;
  if (value > 0x0FFF) value = 0x0FFF;
  uint8_t code;
  if (value < 32) {
    code = static_cast<uint8_t>(value >> 1);
  } else {
    const int segment = segmentOf(value, 4);  // value >= 32: segment 1..7
    code = static_cast<uint8_t>((segment << 4) | ((value >> segment) & 0x0F));
  }
  return static_cast<uint8_t>((sign | code) ^ 0x55);
}

int16_t decodeALaw(uint8_t code) {
  code ^= 0x55;
  const int segment = (code >> 4) & 0x07;
  const int mantissa = code & 0x0F;
  int magnitude = segment == 0 ? (mantissa << 4) + 8 : ((mantissa << 4) + 0x108) << (segment - 1);
  return static_cast<int16_t>((code & 0x80) ? magnitude : -magnitude);
}

}  // namespace tel::media::g711
