#include "resampler.h"

#include <algorithm>
#include <cmath>
#include <numbers>

namespace tel::routing {
namespace {

constexpr int kZeroCrossings = 16;      // of the sinc, on each side of the centre
constexpr int kStepsPerSample = 256;    // table resolution
constexpr double kPassFraction = 0.85;  // cutoff as a fraction of the lower Nyquist frequency

}  // namespace

Resampler::Resampler(uint32_t from_rate, uint32_t to_rate)
    : from_rate_(from_rate),
      to_rate_(to_rate),
      cutoff_(0.5 * std::min(1.0, static_cast<double>(to_rate) / from_rate) * kPassFraction),
      half_width_(kZeroCrossings / (2.0 * cutoff_)) {
  const size_t steps = static_cast<size_t>(std::ceil(half_width_ * kStepsPerSample)) + 2;
  table_.resize(steps);
  for (size_t i = 0; i < steps; ++i) {
    table_[i] = static_cast<float>(kernel(static_cast<double>(i) / kStepsPerSample));
  }
}

double Resampler::kernel(double d) const {
  if (d >= half_width_) return 0;
  // An ideal low-pass at `cutoff_` has the impulse response 2fc * sinc(2fc * d); scaled this way
  // the taps sum to about 1, so a constant signal keeps its level.
  const double x = 2 * cutoff_ * d;
  const double sinc = x == 0 ? 1.0 : std::sin(std::numbers::pi * x) / (std::numbers::pi * x);
  const double u = d / half_width_;  // 0 at the centre, 1 at the edge
  const double window = 0.42 + 0.5 * std::cos(std::numbers::pi * u) + 0.08 * std::cos(2 * std::numbers::pi * u);
  return 2 * cutoff_ * sinc * window;
}

std::vector<int16_t> Resampler::convert(const std::vector<int16_t>& input) const {
  if (from_rate_ == to_rate_) return input;
  const uint64_t out_size = static_cast<uint64_t>(input.size()) * to_rate_ / from_rate_;
  std::vector<int16_t> out(out_size);
  const int64_t in_size = static_cast<int64_t>(input.size());
  auto tap = [this](double d) {
    const double position = d * kStepsPerSample;
    const size_t index = static_cast<size_t>(position);
    const double fraction = position - static_cast<double>(index);
    return table_[index] + fraction * (table_[index + 1] - table_[index]);
  };
  for (uint64_t n = 0; n < out_size; ++n) {
    // Output sample n sits at input time n * from / to = centre + fraction; integer arithmetic
    // keeps the position exact however long the signal.
    const uint64_t numerator = n * from_rate_;
    const int64_t centre = static_cast<int64_t>(numerator / to_rate_);
    const double fraction = static_cast<double>(numerator % to_rate_) / to_rate_;
    double sum = 0;
    // Input samples at and before the position, then after it.
    for (int64_t j = 0;; ++j) {
      const double d = fraction + static_cast<double>(j);
      const int64_t k = centre - j;
      if (d >= half_width_ || k < 0) break;
      if (k < in_size) sum += input[static_cast<size_t>(k)] * tap(d);
    }
    for (int64_t j = 1;; ++j) {
      const double d = static_cast<double>(j) - fraction;
      const int64_t k = centre + j;
      if (d >= half_width_ || k >= in_size) break;
      sum += input[static_cast<size_t>(k)] * tap(d);
    }
    out[n] = static_cast<int16_t>(std::clamp<long>(std::lround(sum), -32768, 32767));
  }
  return out;
}

}  // namespace tel::routing
