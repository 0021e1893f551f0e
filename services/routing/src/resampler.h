#pragma once

#include <cstdint>
#include <vector>

namespace tel::routing {

// Converts mono 16-bit audio from one sample rate to another with a windowed-sinc interpolator
// (band-limited interpolation): each output sample is the sum of the input samples around its
// position in time, weighted by a low-pass sinc kernel shaped by a Blackman window. When the rate
// goes down, the kernel's cutoff sits at 85% of the output's Nyquist frequency (3.4 kHz for 8 kHz,
// the telephone band), so what the output cannot carry is filtered out instead of folding back
// as aliases; the window's 16 zero crossings on each side give about 74 dB of stop-band
// attenuation. The kernel is tabulated once per call (256 steps per input sample, linearly
// interpolated between steps), so the cost is one multiply-add per tap.
//
// Not a streaming resampler: prompts are converted whole, once, when they are saved.
class Resampler {
 public:
  Resampler(uint32_t from_rate, uint32_t to_rate);

  // The whole signal at the new rate; floor(input.size() * to / from) samples. Edges are treated
  // as silence beyond the signal. Equal rates copy.
  std::vector<int16_t> convert(const std::vector<int16_t>& input) const;

 private:
  // The kernel at distance `d` input samples from the output position (d >= 0).
  double kernel(double d) const;

  uint32_t from_rate_;
  uint32_t to_rate_;
  double cutoff_;      // cycles per input sample
  double half_width_;  // kernel half-width in input samples
  std::vector<float> table_;
};

}  // namespace tel::routing
