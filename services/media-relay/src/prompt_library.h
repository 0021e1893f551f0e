#pragma once

#include <absl/status/statusor.h>

#include <chrono>
#include <cstdint>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

namespace tel::media {

// One prompt's audio in both G.711 laws, 8,000 samples a second: what a leg is sent, 160 bytes
// per 20 ms packet. Immutable once loaded, so playbacks on any worker share it.
struct EncodedPrompt {
  std::vector<uint8_t> pcmu;
  std::vector<uint8_t> pcma;
  uint32_t durationMs() const { return static_cast<uint32_t>(pcmu.size() / 8); }
};

// The 8 kHz mono 16-bit PCM samples of a WAV file, or INVALID_ARGUMENT saying what is wrong with
// it. Only that format is accepted: the prompt store converts every upload to it.
absl::StatusOr<std::vector<int16_t>> decodePromptWav(const std::string& bytes);

// The tenants' prompts, read from <directory>/<tenant_id>/<name>.wav (and the platform's, see
// systemName()) (the routing service's prompt
// store writes them there) and kept encoded. A prompt that changed on disk (another size or
// modification time) is read again on its next play; the least recently played are dropped past
// `max_cached_bytes`.
//
// Thread-safe. load() reads the file on the calling thread when the prompt is not cached (a few
// milliseconds for a minute of audio); a cached prompt costs a stat() and a lookup.
class PromptLibrary {
 public:
  static constexpr size_t kMaxPromptSamples = 10 * 60 * 8000;  // ten minutes

  PromptLibrary(std::string directory, size_t max_cached_bytes = 256u << 20)
      : directory_(std::move(directory)), max_cached_bytes_(max_cached_bytes),
        beep_(makeTone({1000}, 400, 0)),
        ringback_(makeTone({440, 480}, 2000, 4000)) {}

  // NOT_FOUND for a prompt the tenant does not have, INVALID_ARGUMENT for a bad name or file,
  // FAILED_PRECONDITION when no directory is configured.
  absl::StatusOr<std::shared_ptr<const EncodedPrompt>> load(const std::string& tenant_id,
                                                            const std::string& name);
  // A prompt name as the prompt store allows it: 1..64 of [a-z0-9_-], not starting with - or _.
  static bool validName(const std::string& name);
  // The relay's own tones, which every tenant may play: "@beep" (1 kHz for 400 ms, the tone that
  // tells a caller to speak after a voicemail greeting) and "@ringback" (440 + 480 Hz, 2 s on and 4 s
  // off: what a caller hears, looped, while the phones ring). '@' is not allowed in a tenant's names.
  static constexpr const char* kBeep = "@beep";
  static constexpr const char* kRingback = "@ringback";
  static bool builtIn(const std::string& name) { return name == kBeep || name == kRingback; }
  // The platform's own spoken prompts, the same for every tenant: "@<name>" plays
  // <directory>/_system/<name>.wav (routing renders them at start: the queue's announcements).
  // Tenant folders are UUIDs, so no tenant's prompts share that folder.
  static constexpr const char* kSystemFolder = "_system";
  static bool systemName(const std::string& name) {
    return name.size() > 1 && name[0] == '@' && !builtIn(name) && validName(name.substr(1));
  }

 private:
  struct Entry {
    std::shared_ptr<const EncodedPrompt> prompt;
    int64_t size = 0;
    int64_t modified_ns = 0;
    std::list<std::string>::iterator recency;
  };
  void evictLocked();
  // `frequencies` summed for `on_ms` at -12 dBFS in all, then `off_ms` of silence.
  static std::shared_ptr<const EncodedPrompt> makeTone(std::vector<double> frequencies, int on_ms, int off_ms);

  const std::string directory_;
  const size_t max_cached_bytes_;
  const std::shared_ptr<const EncodedPrompt> beep_;
  const std::shared_ptr<const EncodedPrompt> ringback_;
  std::mutex mutex_;
  std::unordered_map<std::string, Entry> entries_;  // by path; guarded by mutex_
  std::list<std::string> recency_;                  // most recently played first; guarded
  size_t cached_bytes_ = 0;                         // guarded by mutex_
};

}  // namespace tel::media
