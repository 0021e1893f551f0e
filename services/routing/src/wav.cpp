#include "wav.h"

#include <absl/strings/escaping.h>
#include <absl/strings/str_cat.h>

#include <algorithm>
#include <array>
#include <optional>

namespace tel::routing {
namespace {

constexpr uint16_t kFormatPcm = 1;
constexpr uint16_t kFormatAlaw = 6;
constexpr uint16_t kFormatUlaw = 7;
constexpr uint16_t kFormatExtensible = 0xFFFE;
constexpr std::array<uint32_t, 7> kPcmRates = {8000, 11025, 16000, 22050, 32000, 44100, 48000};
// espeak-ng (and other streaming writers) put a size of about 2^31 into a header they cannot
// seek back to; anything at or above this is "unknown" rather than a claim to be checked.
constexpr uint64_t kStreamedSizeFloor = 0x7FFF0000;

uint16_t readU16(std::string_view bytes, size_t at) {
  return static_cast<uint16_t>(static_cast<uint8_t>(bytes[at]) | (static_cast<uint8_t>(bytes[at + 1]) << 8));
}

uint32_t readU32(std::string_view bytes, size_t at) {
  return static_cast<uint32_t>(readU16(bytes, at)) | (static_cast<uint32_t>(readU16(bytes, at + 2)) << 16);
}

void appendU16(std::string& out, uint16_t value) {
  out.push_back(static_cast<char>(value & 0xFF));
  out.push_back(static_cast<char>(value >> 8));
}

void appendU32(std::string& out, uint32_t value) {
  appendU16(out, static_cast<uint16_t>(value & 0xFFFF));
  appendU16(out, static_cast<uint16_t>(value >> 16));
}

absl::Status refused(const std::string& why) { return absl::InvalidArgumentError(why); }

struct Format {
  uint16_t code = 0;
  uint16_t channels = 0;
  uint32_t sample_rate = 0;
  uint16_t block_align = 0;
  uint16_t bits_per_sample = 0;
};

// The "fmt " chunk's body; `body` is exactly the chunk's declared size (checked by the caller).
absl::StatusOr<Format> readFormat(std::string_view body) {
  if (body.size() < 16) return refused(absl::StrCat("fmt chunk is ", body.size(), " bytes, at least 16 expected"));
  Format format;
  format.code = readU16(body, 0);
  format.channels = readU16(body, 2);
  format.sample_rate = readU32(body, 4);
  format.block_align = readU16(body, 12);
  format.bits_per_sample = readU16(body, 14);
  if (format.code == kFormatExtensible) {
    // WAVEFORMATEXTENSIBLE: cbSize (2), valid bits (2), channel mask (4), then the sub-format GUID
    // whose first two bytes are the actual format code.
    if (body.size() < 40) return refused("fmt chunk of WAVE_FORMAT_EXTENSIBLE is shorter than 40 bytes");
    format.code = readU16(body, 24);
  }
  return format;
}

// Why `format` is not taken, or nullopt when it is.
std::optional<std::string> unsupported(const Format& format) {
  if (format.channels != 1 && format.channels != 2) {
    return absl::StrCat(format.channels, " channels; mono or stereo expected");
  }
  if (format.code == kFormatPcm) {
    if (format.bits_per_sample != 16) {
      return absl::StrCat("PCM with ", format.bits_per_sample, " bits per sample; 16 expected");
    }
    if (std::find(kPcmRates.begin(), kPcmRates.end(), format.sample_rate) == kPcmRates.end()) {
      return absl::StrCat("sample rate ", format.sample_rate,
                          " Hz; 8000, 11025, 16000, 22050, 32000, 44100 or 48000 expected");
    }
  } else if (format.code == kFormatUlaw || format.code == kFormatAlaw) {
    if (format.bits_per_sample != 8) {
      return absl::StrCat("G.711 with ", format.bits_per_sample, " bits per sample; 8 expected");
    }
    if (format.sample_rate != 8000) return absl::StrCat("G.711 at ", format.sample_rate, " Hz; 8000 expected");
  } else {
    return absl::StrCat("audio format code ", format.code,
                        "; PCM (1), A-law (6) or mu-law (7) expected");
  }
  if (format.block_align != format.channels * (format.bits_per_sample / 8)) {
    return absl::StrCat("block align ", format.block_align, " does not match ", format.channels, " channels of ",
                        format.bits_per_sample, " bits");
  }
  return std::nullopt;
}

int16_t sampleAt(const Format& format, std::string_view data, size_t index) {
  switch (format.code) {
    case kFormatUlaw:
      return ulawToLinear(static_cast<uint8_t>(data[index]));
    case kFormatAlaw:
      return alawToLinear(static_cast<uint8_t>(data[index]));
    default:
      return static_cast<int16_t>(readU16(data, index * 2));
  }
}

}  // namespace

int16_t ulawToLinear(uint8_t code) {
  // The code is sent inverted; sign, a 3-bit segment and a 4-bit step within it. Each segment
  // doubles the step size; 0x84 (132) is the bias that makes the segments line up at zero.
  const uint8_t inverted = static_cast<uint8_t>(~code);
  const int exponent = (inverted >> 4) & 0x07;
  const int mantissa = inverted & 0x0F;
  const int magnitude = (((mantissa << 3) + 0x84) << exponent) - 0x84;
  return static_cast<int16_t>((inverted & 0x80) ? -magnitude : magnitude);
}

int16_t alawToLinear(uint8_t code) {
  // Even bits are sent inverted (xor 0x55); a set sign bit means positive. Segment 0 is linear.
  const uint8_t value = static_cast<uint8_t>(code ^ 0x55);
  const int exponent = (value >> 4) & 0x07;
  const int mantissa = value & 0x0F;
  const int magnitude = exponent == 0 ? (mantissa << 4) + 8 : ((mantissa << 4) + 0x108) << (exponent - 1);
  return static_cast<int16_t>((value & 0x80) ? magnitude : -magnitude);
}

absl::StatusOr<MonoAudio> decodeWav(std::string_view file, const WavReadOptions& options) {
  if (file.size() < 12) {
    return refused(absl::StrCat("not a WAV file: ", file.size(), " bytes, shorter than a RIFF header"));
  }
  const std::string magic(file.substr(0, 4));
  if (magic == "RIFX" || magic == "RF64") {
    return refused(absl::StrCat("not supported: ", magic, " (only little-endian RIFF WAVE files are taken)"));
  }
  if (magic != "RIFF" || file.substr(8, 4) != "WAVE") return refused("not a WAV file: no RIFF WAVE header");
  // Chunks end where the RIFF size says, or at the end of the file if that is earlier and the size
  // may be a streaming writer's placeholder; bytes after the RIFF chunk are ignored.
  const uint64_t riff_end = 8 + static_cast<uint64_t>(readU32(file, 4));
  uint64_t end = riff_end;
  if (riff_end > file.size()) {
    if (!options.length_may_be_unknown) {
      return refused(
          absl::StrCat("truncated: the RIFF header claims ", riff_end, " bytes, the file has ", file.size()));
    }
    end = file.size();
  }

  std::optional<Format> format;
  std::string_view data;
  bool have_data = false;
  uint64_t at = 12;
  while (!have_data) {
    if (at + 8 > end) {
      return refused(format ? "no data chunk" : "no fmt chunk");
    }
    const std::string id(file.substr(at, 4));
    const uint64_t size = readU32(file, at + 4);
    const uint64_t body_at = at + 8;
    uint64_t body_size = size;
    if (body_at + size > end) {
      const bool streamed = options.length_may_be_unknown && id == "data" && size >= kStreamedSizeFloor;
      if (!streamed) {
        return refused(absl::StrCat("chunk \"", absl::CHexEscape(id), "\" at byte ", at, " claims ", size,
                                    " bytes, only ", end - body_at, " follow"));
      }
      body_size = end - body_at;
    }
    const std::string_view body = file.substr(body_at, body_size);
    if (id == "fmt ") {
      if (format) return refused("more than one fmt chunk");
      auto read = readFormat(body);
      if (!read.ok()) return read.status();
      if (auto why = unsupported(*read)) return refused(absl::StrCat("not supported: ", *why));
      format = *read;
    } else if (id == "data") {
      if (!format) return refused("the data chunk comes before the fmt chunk");
      data = body;
      have_data = true;
    }
    // Chunks are padded to an even size; a missing pad byte at the very end is tolerated.
    at = body_at + body_size + (body_size & 1);
  }

  const size_t frames = data.size() / format->block_align;  // a trailing partial frame is dropped
  if (frames == 0) return refused("the data chunk holds no audio");
  if (frames > static_cast<uint64_t>(options.max_seconds) * format->sample_rate) {
    return absl::OutOfRangeError(absl::StrCat("longer than ", options.max_seconds / 60, " minutes (",
                                frames / format->sample_rate, " s)"));
  }
  MonoAudio audio;
  audio.sample_rate = format->sample_rate;
  audio.samples.resize(frames);
  if (format->channels == 1) {
    for (size_t i = 0; i < frames; ++i) audio.samples[i] = sampleAt(*format, data, i);
  } else {
    for (size_t i = 0; i < frames; ++i) {
      const int sum = sampleAt(*format, data, 2 * i) + sampleAt(*format, data, 2 * i + 1);
      audio.samples[i] = static_cast<int16_t>(sum / 2);
    }
  }
  return audio;
}

std::string encodeWav(const MonoAudio& audio) {
  const uint32_t data_bytes = static_cast<uint32_t>(audio.samples.size() * 2);
  std::string out;
  out.reserve(44 + data_bytes);
  out.append("RIFF");
  appendU32(out, 36 + data_bytes);
  out.append("WAVE");
  out.append("fmt ");
  appendU32(out, 16);
  appendU16(out, kFormatPcm);
  appendU16(out, 1);  // channels
  appendU32(out, audio.sample_rate);
  appendU32(out, audio.sample_rate * 2);  // byte rate
  appendU16(out, 2);                      // block align
  appendU16(out, 16);                     // bits per sample
  out.append("data");
  appendU32(out, data_bytes);
  for (const int16_t sample : audio.samples) appendU16(out, static_cast<uint16_t>(sample));
  return out;
}

}  // namespace tel::routing
