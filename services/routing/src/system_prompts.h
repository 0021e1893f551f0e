#pragma once

#include <absl/status/status.h>

#include <string>
#include <vector>

#include "prompt_files.h"
#include "speech.h"
#include "tel/log/log.h"

namespace tel::routing {

// The platform's own spoken prompts, the same for every tenant: what the queue service says to
// waiting callers ("You are number" "3" "in line"). media-relay plays each as "@<name>" from
// <prompts dir>/_system/<name>.wav (see its PromptLibrary::systemName).
struct SystemPrompt {
  std::string name;
  std::string text;
};
std::vector<SystemPrompt> systemPrompts();

// Renders with espeak-ng every system prompt whose file is missing (at start: a new machine, or a
// release that added one). One that cannot be rendered is logged and the rest go on; the error
// names the first that failed.
absl::Status renderSystemPrompts(const PromptFiles& files, SpeechRenderer& speech, const log::Logger& log);

}  // namespace tel::routing
