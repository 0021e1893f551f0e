#include "prompt_render.h"

#include <absl/strings/str_cat.h>

#include "resampler.h"
#include "tel/grpc/status.h"

namespace tel::routing {
namespace {

using grpc_util::invalidArgument;

bool isLower(char c) { return c >= 'a' && c <= 'z'; }
bool isDigit(char c) { return c >= '0' && c <= '9'; }

void finish(MonoAudio audio, RenderedPrompt* out) {
  const MonoAudio stored = toPromptAudio(audio);
  out->duration_ms = static_cast<int64_t>(stored.samples.size()) * 1000 / kPromptSampleRate;
  out->wav = encodeWav(stored);
}

grpc::Status renderText(const v1::TextSource& source, SpeechRenderer& speech, RenderedPrompt* out) {
  const std::string& text = source.text();
  if (text.empty()) return invalidArgument("text", "must not be empty");
  if (text.size() > kMaxPromptTextBytes) {
    return invalidArgument("text", absl::StrCat("longer than ", kMaxPromptTextBytes, " bytes"));
  }
  if (!validUtf8(text)) return invalidArgument("text", "not valid UTF-8");
  if (text.find('\0') != std::string::npos) return invalidArgument("text", "contains a NUL character");
  if (text.find_first_not_of(" \t\r\n") == std::string::npos) return invalidArgument("text", "must not be blank");
  const std::string voice = source.voice().empty() ? kDefaultVoice : source.voice();
  if (!validVoice(voice)) {
    return invalidArgument("voice", "an espeak-ng voice such as \"en\", \"en-us\" or \"de\"");
  }
  auto rendered = speech.renderWav(text, voice);
  if (!rendered.ok()) {
    const auto& status = rendered.status();
    switch (status.code()) {
      case absl::StatusCode::kInvalidArgument:
        return invalidArgument("voice", std::string(status.message()));
      case absl::StatusCode::kResourceExhausted:
        return invalidArgument("text", "renders to more than 10 minutes of speech");
      case absl::StatusCode::kDeadlineExceeded:
        return grpc::Status(grpc::StatusCode::UNAVAILABLE, "speech took too long to render; try again");
      default:
        return grpc::Status(grpc::StatusCode::INTERNAL, std::string(status.message()));
    }
  }
  // espeak-ng writes a streaming header (its sizes are placeholders).
  auto audio = decodeWav(*rendered, {.length_may_be_unknown = true, .max_seconds = kMaxPromptSeconds});
  if (!audio.ok()) {
    if (audio.status().code() == absl::StatusCode::kOutOfRange) {
      return invalidArgument("text", "renders to more than 10 minutes of speech");
    }
    return grpc::Status(grpc::StatusCode::INTERNAL,
                        absl::StrCat("espeak-ng wrote audio we cannot read: ", audio.status().message()));
  }
  out->source = "text";
  out->text = text;
  out->voice = voice;
  finish(std::move(*audio), out);
  return grpc::Status::OK;
}

grpc::Status renderUpload(const std::string& wav, RenderedPrompt* out) {
  if (wav.size() > kMaxPromptUploadBytes) {
    return invalidArgument("wav", absl::StrCat("larger than ", kMaxPromptUploadBytes >> 20, " MiB"));
  }
  auto audio = decodeWav(wav, {.length_may_be_unknown = false, .max_seconds = kMaxPromptSeconds});
  if (!audio.ok()) return invalidArgument("wav", std::string(audio.status().message()));
  out->source = "audio";
  finish(std::move(*audio), out);
  return grpc::Status::OK;
}

}  // namespace

bool validPromptName(std::string_view name) {
  if (name.empty() || name.size() > 64) return false;
  if (!isLower(name[0]) && !isDigit(name[0])) return false;
  for (const char c : name) {
    if (!isLower(c) && !isDigit(c) && c != '_' && c != '-') return false;
  }
  return true;
}

bool validVoice(std::string_view voice) {
  const size_t dash = voice.find('-');
  const std::string_view language = voice.substr(0, dash);
  if (language.size() < 2 || language.size() > 3) return false;
  for (const char c : language) {
    if (!isLower(c)) return false;
  }
  if (dash == std::string_view::npos) return true;
  const std::string_view variant = voice.substr(dash + 1);
  if (variant.size() < 2 || variant.size() > 8) return false;
  for (const char c : variant) {
    if (!isLower(c) && !isDigit(c)) return false;
  }
  return true;
}

bool validUtf8(std::string_view text) {
  size_t i = 0;
  while (i < text.size()) {
    const auto lead = static_cast<uint8_t>(text[i]);
    size_t length = 0;
    uint32_t code = 0;
    uint32_t smallest = 0;  // the least code point that needs this many bytes (no overlong forms)
    if (lead < 0x80) {
      ++i;
      continue;
    } else if ((lead & 0xE0) == 0xC0) {
      length = 2, code = lead & 0x1F, smallest = 0x80;
    } else if ((lead & 0xF0) == 0xE0) {
      length = 3, code = lead & 0x0F, smallest = 0x800;
    } else if ((lead & 0xF8) == 0xF0) {
      length = 4, code = lead & 0x07, smallest = 0x10000;
    } else {
      return false;
    }
    if (i + length > text.size()) return false;
    for (size_t k = 1; k < length; ++k) {
      const auto next = static_cast<uint8_t>(text[i + k]);
      if ((next & 0xC0) != 0x80) return false;
      code = (code << 6) | (next & 0x3F);
    }
    if (code < smallest || code > 0x10FFFF || (code >= 0xD800 && code <= 0xDFFF)) return false;
    i += length;
  }
  return true;
}

MonoAudio toPromptAudio(const MonoAudio& audio) {
  MonoAudio out;
  out.sample_rate = kPromptSampleRate;
  out.samples = Resampler(audio.sample_rate, kPromptSampleRate).convert(audio.samples);
  return out;
}

grpc::Status renderPrompt(const v1::PutPromptRequest& request, SpeechRenderer& speech, RenderedPrompt* out) {
  switch (request.source_case()) {
    case v1::PutPromptRequest::kText:
      return renderText(request.text(), speech, out);
    case v1::PutPromptRequest::kWav:
      return renderUpload(request.wav(), out);
    default:
      return invalidArgument("source", "give either text (with an optional voice) or a WAV file");
  }
}

}  // namespace tel::routing
