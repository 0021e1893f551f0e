#pragma once

#include <grpcpp/grpcpp.h>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "speech.h"
#include "tel/routing/v1/prompts.pb.h"
#include "wav.h"

namespace tel::routing {

constexpr size_t kMaxPromptUploadBytes = 20 << 20;
constexpr size_t kMaxPromptTextBytes = 2000;
constexpr uint32_t kPromptSampleRate = 8000;
constexpr uint32_t kMaxPromptSeconds = 600;
constexpr const char* kDefaultVoice = "en";

// 1..64 of [a-z0-9_-], the first a letter or a digit: safe as a file name as it is.
bool validPromptName(std::string_view name);
// An espeak-ng voice name: [a-z]{2,3}(-[a-z0-9]{2,8})?, e.g. "en", "en-us", "de", "pt-br".
bool validVoice(std::string_view voice);
// Well-formed UTF-8: no overlong forms, surrogates or code points above U+10FFFF.
bool validUtf8(std::string_view text);

// A prompt ready to store: its audio in the storage format and what the catalog says about it.
struct RenderedPrompt {
  std::string source;  // "text" or "audio"
  std::optional<std::string> text;
  std::optional<std::string> voice;
  std::string wav;  // 8 kHz mono 16-bit PCM, see encodeWav()
  int64_t duration_ms = 0;
};

// Any accepted audio in the storage format: resampled to 8 kHz (see Resampler) and encoded.
MonoAudio toPromptAudio(const MonoAudio& audio);

// Checks the content of a PutPrompt request (text and voice, or the WAV file) and renders it.
// INVALID_ARGUMENT names the field ("text", "voice", "wav"); speech that cannot be rendered for
// other reasons is UNAVAILABLE (espeak-ng too slow) or INTERNAL. Does not look at the tenant or
// the name. Blocking (espeak-ng runs for up to its timeout); thread-safe if `speech` is.
grpc::Status renderPrompt(const v1::PutPromptRequest& request, SpeechRenderer& speech, RenderedPrompt* out);

}  // namespace tel::routing
