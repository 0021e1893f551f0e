#include "speech.h"

#include <absl/strings/ascii.h>
#include <absl/strings/match.h>
#include <absl/strings/str_cat.h>
#include <absl/strings/strip.h>

namespace tel::routing {

absl::StatusOr<std::string> EspeakRenderer::renderWav(const std::string& text, const std::string& voice) {
  auto run = runSubprocess({program_, "--stdout", "-b", "1", "-v", voice, "--stdin"}, text, limits_);
  if (!run.ok()) {
    return absl::Status(run.status().code(), absl::StrCat("espeak-ng: ", run.status().message()));
  }
  if (run->exit_code != 0) {
    const std::string said(absl::StripAsciiWhitespace(run->err));
    // espeak-ng 1.51: "Error: The specified espeak-ng voice does not exist."
    if (absl::StrContains(absl::AsciiStrToLower(said), "voice")) {
      return absl::InvalidArgumentError(absl::StrCat("espeak-ng has no voice \"", voice, "\""));
    }
    return absl::InternalError(absl::StrCat("espeak-ng exited with ", run->exit_code, ": ", said));
  }
  return std::move(run->out);
}

}  // namespace tel::routing
