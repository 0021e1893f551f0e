// WAV files in and out, G.711 expansion and the resampler: tones keep their pitch and level at
// 8 kHz, what 8 kHz cannot carry is filtered instead of aliased, and malformed files are refused
// with a message, never read past their end.
#include "wav.h"

#include <catch2/catch.hpp>
#include <cmath>
#include <numbers>
#include <random>

#include "prompt_render.h"
#include "resampler.h"

using namespace tel::routing;

namespace {

void appendU16(std::string& out, uint32_t value) {
  out.push_back(static_cast<char>(value & 0xFF));
  out.push_back(static_cast<char>((value >> 8) & 0xFF));
}
void appendU32(std::string& out, uint32_t value) {
  appendU16(out, value & 0xFFFF);
  appendU16(out, value >> 16);
}

std::string chunk(const std::string& id, const std::string& body, std::optional<uint32_t> claimed = {}) {
  std::string out = id;
  appendU32(out, claimed.value_or(static_cast<uint32_t>(body.size())));
  out += body;
  if (body.size() % 2 == 1) out.push_back('\0');
  return out;
}

std::string fmtBody(uint16_t code, uint16_t channels, uint32_t rate, uint16_t bits) {
  std::string body;
  appendU16(body, code);
  appendU16(body, channels);
  appendU32(body, rate);
  appendU32(body, rate * channels * bits / 8);
  appendU16(body, channels * bits / 8);
  appendU16(body, bits);
  return body;
}

std::string riff(const std::string& chunks, std::optional<uint32_t> claimed = {}) {
  std::string out = "RIFF";
  appendU32(out, claimed.value_or(static_cast<uint32_t>(4 + chunks.size())));
  return out + "WAVE" + chunks;
}

std::string pcmBytes(const std::vector<int16_t>& samples) {
  std::string out;
  for (int16_t sample : samples) appendU16(out, static_cast<uint16_t>(sample));
  return out;
}

// Interleaved frames of a sine per channel.
std::vector<int16_t> tone(double hz, uint32_t rate, double seconds, double amplitude, int channels = 1) {
  std::vector<int16_t> out;
  const size_t frames = static_cast<size_t>(seconds * rate);
  for (size_t i = 0; i < frames; ++i) {
    const double value = amplitude * std::sin(2 * std::numbers::pi * hz * static_cast<double>(i) / rate);
    for (int c = 0; c < channels; ++c) out.push_back(static_cast<int16_t>(std::lround(value)));
  }
  return out;
}

std::string pcmWav(const std::vector<int16_t>& interleaved, uint32_t rate, uint16_t channels) {
  return riff(chunk("fmt ", fmtBody(1, channels, rate, 16)) + chunk("data", pcmBytes(interleaved)));
}

// Goertzel: the power of one frequency in a block, normalised so that a full-scale sine at that
// frequency gives amplitude^2 / 2 (its mean square), comparable to meanSquare().
double powerAt(const std::vector<int16_t>& samples, size_t from, size_t to, double hz, uint32_t rate) {
  const double omega = 2 * std::numbers::pi * hz / rate;
  const double coefficient = 2 * std::cos(omega);
  double previous = 0, before = 0;
  for (size_t i = from; i < to; ++i) {
    const double current = samples[i] + coefficient * previous - before;
    before = previous;
    previous = current;
  }
  const double n = static_cast<double>(to - from);
  const double power = previous * previous + before * before - coefficient * previous * before;
  return 2 * power / (n * n);
}

double meanSquare(const std::vector<int16_t>& samples, size_t from, size_t to) {
  double sum = 0;
  for (size_t i = from; i < to; ++i) sum += static_cast<double>(samples[i]) * samples[i];
  return sum / static_cast<double>(to - from);
}

size_t zeroCrossings(const std::vector<int16_t>& samples, size_t from, size_t to) {
  size_t count = 0;
  for (size_t i = from + 1; i < to; ++i) {
    if ((samples[i - 1] < 0) != (samples[i] < 0)) ++count;
  }
  return count;
}

std::string refusal(const std::string& file, const WavReadOptions& options = {}) {
  auto decoded = decodeWav(file, options);
  REQUIRE_FALSE(decoded.ok());
  return std::string(decoded.status().message());
}

}  // namespace

TEST_CASE("a 1 kHz tone at 44.1 kHz stereo becomes a 1 kHz tone at 8 kHz mono") {
  const auto stereo = tone(1000, 44100, 1.0, 12000, 2);
  auto decoded = decodeWav(pcmWav(stereo, 44100, 2));
  REQUIRE(decoded.ok());
  CHECK(decoded->sample_rate == 44100);
  CHECK(decoded->samples.size() == 44100);
  const MonoAudio stored = toPromptAudio(*decoded);
  CHECK(stored.sample_rate == 8000);
  REQUIRE(stored.samples.size() == 8000);
  // Away from the edges (where the kernel sees silence beyond the signal): the tone's power is all
  // of the power, at its level, and it crosses zero 2000 times a second.
  const size_t from = 400, to = 7600;
  const double total = meanSquare(stored.samples, from, to);
  const double at_tone = powerAt(stored.samples, from, to, 1000, 8000);
  CHECK(at_tone / total == Approx(1.0).margin(0.01));
  CHECK(std::sqrt(total) == Approx(12000 / std::sqrt(2.0)).epsilon(0.02));
  CHECK(zeroCrossings(stored.samples, from, to) == Approx(2 * 1000 * 0.9).margin(4));
}

TEST_CASE("tones keep their pitch from every accepted rate") {
  for (uint32_t rate : {8000u, 11025u, 16000u, 22050u, 32000u, 44100u, 48000u}) {
    INFO(rate);
    MonoAudio input{rate, tone(440, rate, 0.5, 8000)};
    const MonoAudio stored = toPromptAudio(input);
    REQUIRE(stored.samples.size() >= 3999);  // 0.5 s at 11025 Hz is 5512 whole samples
    CHECK(powerAt(stored.samples, 400, 3600, 440, 8000) / meanSquare(stored.samples, 400, 3600) ==
          Approx(1.0).margin(0.02));
  }
}

TEST_CASE("what 8 kHz cannot carry is filtered out, not folded back as an alias") {
  // 6 kHz would alias to 2 kHz at 8 kHz without the low-pass; 4.5 kHz to 3.5 kHz.
  for (double hz : {6000.0, 4500.0}) {
    INFO(hz);
    MonoAudio input{48000, tone(hz, 48000, 0.5, 16000)};
    const MonoAudio stored = toPromptAudio(input);
    const double level = meanSquare(input.samples, 0, input.samples.size());
    CHECK(meanSquare(stored.samples, 400, 3600) < level * 1e-4);  // at least 40 dB down
  }
}

TEST_CASE("a constant signal keeps its level through the resampler") {
  MonoAudio input{22050, std::vector<int16_t>(22050, 1000)};
  const auto out = Resampler(22050, 8000).convert(input.samples);
  REQUIRE(out.size() == 8000);
  for (size_t i = 200; i < 7800; i += 97) CHECK(std::abs(out[i] - 1000) <= 3);
}

TEST_CASE("G.711 codes expand to linear PCM as the standard says") {
  CHECK(ulawToLinear(0xFF) == 0);
  CHECK(ulawToLinear(0x7F) == 0);
  CHECK(ulawToLinear(0x80) == 32124);
  CHECK(ulawToLinear(0x00) == -32124);
  CHECK(ulawToLinear(0xFE) == 8);
  CHECK(ulawToLinear(0xEF) == 132);
  CHECK(ulawToLinear(0x6F) == -132);
  CHECK(alawToLinear(0xD5) == 8);
  CHECK(alawToLinear(0x55) == -8);
  CHECK(alawToLinear(0xAA) == 32256);
  CHECK(alawToLinear(0x2A) == -32256);
  // Monotonic within a sign: larger magnitude codes give larger values.
  for (int code = 0x80; code < 0xFF; ++code) {
    CHECK(ulawToLinear(static_cast<uint8_t>(code)) > ulawToLinear(static_cast<uint8_t>(code + 1)));
  }
}

TEST_CASE("mu-law and A-law files at 8 kHz decode, stereo averaged") {
  std::string codes = {static_cast<char>(0x80), static_cast<char>(0xFF), static_cast<char>(0x00)};
  auto ulaw = decodeWav(riff(chunk("fmt ", fmtBody(7, 1, 8000, 8)) + chunk("data", codes)));
  REQUIRE(ulaw.ok());
  CHECK(ulaw->samples == std::vector<int16_t>{32124, 0, -32124});
  std::string pairs = {static_cast<char>(0xD5), static_cast<char>(0xD5), static_cast<char>(0xAA), static_cast<char>(0x2A)};
  auto alaw = decodeWav(riff(chunk("fmt ", fmtBody(6, 2, 8000, 8)) + chunk("data", pairs)));
  REQUIRE(alaw.ok());
  CHECK(alaw->samples == std::vector<int16_t>{8, 0});
}

TEST_CASE("WAVE_FORMAT_EXTENSIBLE with the PCM sub-format is PCM, and other chunks are skipped") {
  std::string body = fmtBody(0xFFFE, 1, 16000, 16);
  appendU16(body, 22);  // cbSize
  appendU16(body, 16);  // valid bits
  appendU32(body, 4);   // channel mask
  appendU16(body, 1);   // sub-format GUID: PCM, then the standard suffix
  body += std::string("\x00\x00\x00\x00\x10\x00\x80\x00\x00\xAA\x00\x38\x9B\x71", 14);
  const std::string file =
      riff(chunk("fmt ", body) + chunk("LIST", "odd") + chunk("fact", "1234") + chunk("data", pcmBytes({1, -2, 3})));
  auto decoded = decodeWav(file);
  REQUIRE(decoded.ok());
  CHECK(decoded->sample_rate == 16000);
  CHECK(decoded->samples == std::vector<int16_t>{1, -2, 3});
}

TEST_CASE("the storage format is a canonical 44-byte header and the samples") {
  const std::string wav = encodeWav({8000, {1, -1, 256}});
  REQUIRE(wav.size() == 44 + 6);
  CHECK(wav.substr(0, 4) == "RIFF");
  CHECK(wav.substr(8, 8) == "WAVEfmt ");
  CHECK(wav.substr(36, 4) == "data");
  auto again = decodeWav(wav);
  REQUIRE(again.ok());
  CHECK(again->sample_rate == 8000);
  CHECK(again->samples == std::vector<int16_t>{1, -1, 256});
  CHECK(static_cast<uint8_t>(wav[22]) == 1);    // mono
  CHECK(static_cast<uint8_t>(wav[34]) == 16);   // bits
  CHECK(static_cast<uint8_t>(wav[24]) == 0x40);  // 8000 = 0x1F40, little-endian
  CHECK(static_cast<uint8_t>(wav[25]) == 0x1F);
}

TEST_CASE("a streaming writer's placeholder sizes are taken only where allowed") {
  // What espeak-ng --stdout writes: RIFF and data sizes near 2^31, then the samples.
  const std::string samples = pcmBytes(tone(300, 22050, 0.1, 5000));
  const std::string file = riff(chunk("fmt ", fmtBody(1, 1, 22050, 16)) + chunk("data", samples, 0x7FFFF000),
                                0x7FFFF024);
  CHECK(refusal(file).find("truncated") != std::string::npos);
  auto lenient = decodeWav(file, {.length_may_be_unknown = true});
  REQUIRE(lenient.ok());
  CHECK(lenient->samples.size() == samples.size() / 2);
  // A size that is merely wrong (not a placeholder) is refused even then.
  const std::string wrong = riff(chunk("fmt ", fmtBody(1, 1, 22050, 16)) + chunk("data", samples, 100000), 100036);
  CHECK(refusal(wrong, {.length_may_be_unknown = true}).find("claims 100000 bytes") != std::string::npos);
}

TEST_CASE("malformed and unsupported WAV files are refused with what is wrong") {
  const std::string fmt = chunk("fmt ", fmtBody(1, 1, 8000, 16));
  const std::string data = chunk("data", pcmBytes({1, 2, 3, 4}));
  CHECK(refusal("") == "not a WAV file: 0 bytes, shorter than a RIFF header");
  CHECK(refusal("RIFF") == "not a WAV file: 4 bytes, shorter than a RIFF header");
  CHECK(refusal(std::string("RIFF\x04\x00\x00\x00WAVX", 12)) == "not a WAV file: no RIFF WAVE header");
  CHECK(refusal(std::string(100, '\x7f')) == "not a WAV file: no RIFF WAVE header");
  CHECK(refusal("RIFX" + riff(fmt + data).substr(4)).find("RIFX") != std::string::npos);
  CHECK(refusal(riff("")) == "no fmt chunk");
  CHECK(refusal(riff(fmt)) == "no data chunk");
  CHECK(refusal(riff(data + fmt)) == "the data chunk comes before the fmt chunk");
  CHECK(refusal(riff(fmt + fmt + data)) == "more than one fmt chunk");
  CHECK(refusal(riff(chunk("fmt ", "short") + data)) == "fmt chunk is 5 bytes, at least 16 expected");
  CHECK(refusal(riff(fmt + chunk("data", ""))) == "the data chunk holds no audio");
  // Huge sizes: in the RIFF header, a chunk, the data; 32-bit sums must not wrap.
  CHECK(refusal(riff(fmt + data, 0xFFFFFFFF)).find("truncated") != std::string::npos);
  const std::string huge_fmt = riff(chunk("fmt ", fmtBody(1, 1, 8000, 16), 0xFFFFFFF8) + data);
  CHECK(refusal(huge_fmt) == "chunk \"fmt \" at byte 12 claims 4294967288 bytes, only 32 follow");
  // A RIFF size shorter than the file ends the chunks early; bytes after it are not read.
  CHECK(refusal(riff(chunk("fmt ", fmtBody(1, 1, 8000, 16), 0xFFFFFFF8) + data, 0x10)) ==
        "chunk \"fmt \" at byte 12 claims 4294967288 bytes, only 4 follow");
  CHECK(refusal(riff(fmt + chunk("data", pcmBytes({1, 2}), 0xFFFFFFFF))) ==
        "chunk \"data\" at byte 36 claims 4294967295 bytes, only 4 follow");
  CHECK(refusal(riff(fmt + chunk("LIST", "", 0x7FFFFFFF) + data)).find("claims 2147483647") != std::string::npos);
  // Formats not taken.
  CHECK(refusal(riff(chunk("fmt ", fmtBody(1, 1, 8000, 8)) + data)) ==
        "not supported: PCM with 8 bits per sample; 16 expected");
  CHECK(refusal(riff(chunk("fmt ", fmtBody(1, 1, 8000, 24)) + data)) ==
        "not supported: PCM with 24 bits per sample; 16 expected");
  CHECK(refusal(riff(chunk("fmt ", fmtBody(1, 3, 8000, 16)) + data)) ==
        "not supported: 3 channels; mono or stereo expected");
  CHECK(refusal(riff(chunk("fmt ", fmtBody(1, 0, 8000, 16)) + data)) ==
        "not supported: 0 channels; mono or stereo expected");
  CHECK(refusal(riff(chunk("fmt ", fmtBody(1, 1, 12345, 16)) + data)).find("sample rate 12345 Hz") != std::string::npos);
  CHECK(refusal(riff(chunk("fmt ", fmtBody(7, 1, 16000, 8)) + data)) == "not supported: G.711 at 16000 Hz; 8000 expected");
  CHECK(refusal(riff(chunk("fmt ", fmtBody(3, 1, 8000, 32)) + data)) ==
        "not supported: audio format code 3; PCM (1), A-law (6) or mu-law (7) expected");
  std::string bad_align = fmtBody(1, 2, 8000, 16);
  bad_align[12] = 3;
  CHECK(refusal(riff(chunk("fmt ", bad_align) + data)) ==
        "not supported: block align 3 does not match 2 channels of 16 bits");
  std::string extensible = fmtBody(0xFFFE, 1, 8000, 16);
  CHECK(refusal(riff(chunk("fmt ", extensible) + data)) == "fmt chunk of WAVE_FORMAT_EXTENSIBLE is shorter than 40 bytes");
  // Too long: OUT_OF_RANGE, so that a caller can tell.
  auto long_one = decodeWav(pcmWav(std::vector<int16_t>(3 * 8000), 8000, 1), {.max_seconds = 2});
  REQUIRE_FALSE(long_one.ok());
  CHECK(long_one.status().code() == absl::StatusCode::kOutOfRange);
}

TEST_CASE("every truncation and thousands of corruptions of a valid file are refused or read, never overread") {
  const std::string valid = pcmWav(tone(500, 16000, 0.01, 3000, 2), 16000, 2);
  for (size_t length = 0; length < valid.size(); ++length) {
    INFO(length);
    CHECK_FALSE(decodeWav(std::string_view(valid).substr(0, length)).ok());
    // Leniently read, a cut-off file never yields more than it holds.
    auto lenient = decodeWav(std::string_view(valid).substr(0, length), {.length_may_be_unknown = true});
    if (lenient.ok()) CHECK(lenient->samples.size() * 4 <= length);
  }
  std::mt19937 random(42);
  size_t read = 0;
  for (int round = 0; round < 5000; ++round) {
    std::string mutated = valid;
    for (int flips = 0; flips < 3; ++flips) {
      mutated[random() % 64] = static_cast<char>(random() & 0xFF);  // within the headers
    }
    auto decoded = decodeWav(mutated);
    if (decoded.ok()) {
      ++read;
      CHECK(decoded->samples.size() <= mutated.size() / 2);
    }
  }
  CHECK(read < 5000);
  for (int round = 0; round < 2000; ++round) {
    std::string garbage(random() % 256, '\0');
    for (auto& c : garbage) c = static_cast<char>(random() & 0xFF);
    if (round % 2 == 0 && garbage.size() >= 12) garbage.replace(0, 12, std::string("RIFF\xff\xff\xff\x7fWAVE", 12));
    CHECK_FALSE(decodeWav(garbage).ok());
  }
}
