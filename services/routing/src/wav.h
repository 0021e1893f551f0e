#pragma once

#include <absl/status/statusor.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace tel::routing {

// Mono 16-bit PCM samples at a sample rate: what every accepted WAV file decodes to.
struct MonoAudio {
  uint32_t sample_rate = 0;
  std::vector<int16_t> samples;
};

struct WavReadOptions {
  // espeak-ng --stdout writes its header before it knows the length, with a RIFF and data size
  // near 2^31: when set, a data chunk that claims more than the file holds ends where the file
  // ends. Uploaded files are read strictly (false): a size that overruns the file is refused.
  bool length_may_be_unknown = false;
  // Longest audio taken, in seconds of the source (per channel).
  uint32_t max_seconds = 600;
};

// Reads a RIFF WAVE file (little-endian RIFF only) and decodes it to mono 16-bit samples at its
// own rate. Taken: PCM 16-bit (format 1, or WAVE_FORMAT_EXTENSIBLE with the PCM sub-format), mono
// or stereo, at 8000, 11025, 16000, 22050, 32000, 44100 or 48000 Hz; G.711 mu-law (7) and A-law
// (6), 8-bit mono or stereo at 8000 Hz. Stereo is averaged to mono.
//
// Every offset and size is checked against the buffer before it is read (sizes are 32-bit and
// summed in 64 bits), so any input, however malformed, gives INVALID_ARGUMENT with a message that
// says what is wrong ("data chunk claims 4294967295 bytes, only 12 follow"), never a read past
// the end. Audio longer than options.max_seconds is OUT_OF_RANGE. Chunks other than "fmt " and
// "data" (LIST, fact, cue...) are skipped.
absl::StatusOr<MonoAudio> decodeWav(std::string_view file, const WavReadOptions& options = {});

// The storage format of prompts: a canonical 44-byte RIFF header (PCM, 1 channel, 16 bits,
// `audio.sample_rate`) followed by the samples, little-endian.
std::string encodeWav(const MonoAudio& audio);

// G.711 (ITU-T) expansion of one 8-bit code to linear 16-bit PCM.
int16_t ulawToLinear(uint8_t code);
int16_t alawToLinear(uint8_t code);

}  // namespace tel::routing
