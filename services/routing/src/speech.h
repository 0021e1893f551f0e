#pragma once

#include <absl/status/statusor.h>

#include <chrono>
#include <string>

#include "subprocess.h"

namespace tel::routing {

// Turns text into speech, as a WAV file (any rate decodeWav() takes; the length in its header may
// be a streaming placeholder). A port: the prompt store's tests use a fake. Blocking; thread-safe.
class SpeechRenderer {
 public:
  virtual ~SpeechRenderer() = default;
  // INVALID_ARGUMENT (field "voice") when there is no such voice; other errors are the renderer's.
  virtual absl::StatusOr<std::string> renderWav(const std::string& text, const std::string& voice) = 0;
};

// espeak-ng, run once per prompt as a subprocess without a shell:
//   espeak-ng --stdout -b 1 -v <voice> --stdin
// with the text on stdin (UTF-8; never on the command line, where text starting with '-' would be
// an option), a WAV at 22050 Hz on stdout. Killed after `limits.timeout`, or when it writes more
// than `limits.max_stdout` bytes.
class EspeakRenderer final : public SpeechRenderer {
 public:
  EspeakRenderer(std::string program, SubprocessLimits limits) : program_(std::move(program)), limits_(limits) {}

  absl::StatusOr<std::string> renderWav(const std::string& text, const std::string& voice) override;

 private:
  std::string program_;
  SubprocessLimits limits_;
};

}  // namespace tel::routing
