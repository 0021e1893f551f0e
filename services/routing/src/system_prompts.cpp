#include "system_prompts.h"

#include "prompt_render.h"

namespace tel::routing {
namespace {
// The folder media-relay reads "@" prompts from; no tenant id (a UUID) can be it.
constexpr const char* kSystemFolder = "_system";
}  // namespace

std::vector<SystemPrompt> systemPrompts() {
  std::vector<SystemPrompt> prompts = {
      {"queue-you-are-number", "You are number"},
      {"queue-in-line", "in line."},
      {"queue-many-ahead", "There are many callers ahead of you."},
      {"queue-wait-about", "Your estimated wait is about"},
      {"queue-minute", "minute."},
      {"queue-minutes", "minutes."},
      {"queue-wait-under-minute", "Your estimated wait is less than a minute."},
      {"queue-wait-over-hour", "Your estimated wait is more than an hour."},
  };
  for (int n = 1; n <= 30; ++n) prompts.push_back({"number-" + std::to_string(n), std::to_string(n)});
  for (int n : {40, 50, 60}) prompts.push_back({"number-" + std::to_string(n), std::to_string(n)});
  return prompts;
}

absl::Status renderSystemPrompts(const PromptFiles& files, SpeechRenderer& speech, const log::Logger& log) {
  absl::Status first_failure;
  int rendered = 0;
  for (const auto& prompt : systemPrompts()) {
    if (files.read(kSystemFolder, prompt.name).ok()) continue;
    v1::PutPromptRequest request;
    request.mutable_text()->set_text(prompt.text);
    RenderedPrompt audio;
    grpc::Status status = renderPrompt(request, speech, &audio);
    absl::Status written = status.ok() ? files.write(kSystemFolder, prompt.name, audio.wav)
                                       : absl::InternalError(status.error_message());
    if (!written.ok()) {
      log.error("system prompt not rendered", {{"prompt", prompt.name}, {"error", std::string(written.message())}});
      if (first_failure.ok()) first_failure = absl::InternalError("system prompt " + prompt.name + ": " +
                                                                   std::string(written.message()));
      continue;
    }
    ++rendered;
  }
  if (rendered > 0) log.info("system prompts rendered", {{"count", std::to_string(rendered)}});
  return first_failure;
}

}  // namespace tel::routing
