#include "prompt_library.h"

#include <sys/stat.h>

#include <cctype>
#include <cmath>
#include <cstring>
#include <fstream>
#include <sstream>

#include "g711.h"

namespace tel::media {
namespace {

uint32_t readLe32(const std::string& bytes, size_t at) {
  return static_cast<uint32_t>(static_cast<uint8_t>(bytes[at])) |
         static_cast<uint32_t>(static_cast<uint8_t>(bytes[at + 1])) << 8 |
         static_cast<uint32_t>(static_cast<uint8_t>(bytes[at + 2])) << 16 |
         static_cast<uint32_t>(static_cast<uint8_t>(bytes[at + 3])) << 24;
}

uint16_t readLe16(const std::string& bytes, size_t at) {
  return static_cast<uint16_t>(static_cast<uint8_t>(bytes[at]) |
                               static_cast<uint8_t>(bytes[at + 1]) << 8);
}

bool validTenant(const std::string& tenant_id) {
  if (tenant_id.empty() || tenant_id.size() > 128) return false;
  for (const char c : tenant_id) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_') return false;
  }
  return true;
}

}  // namespace

absl::StatusOr<std::vector<int16_t>> decodePromptWav(const std::string& bytes) {
  if (bytes.size() < 12 || bytes.compare(0, 4, "RIFF") != 0 || bytes.compare(8, 4, "WAVE") != 0) {
    return absl::InvalidArgumentError("not a RIFF WAVE file");
  }
  bool have_format = false;
  // Chunks follow the 12-byte RIFF header, each an id, a length and the (even-padded) body.
  for (size_t at = 12; at + 8 <= bytes.size();) {
    const std::string id = bytes.substr(at, 4);
    const uint32_t length = readLe32(bytes, at + 4);
    const size_t body = at + 8;
    if (length > bytes.size() - body) return absl::InvalidArgumentError("chunk '" + id + "' runs past the end of the file");
    if (id == "fmt ") {
      if (length < 16) return absl::InvalidArgumentError("format chunk too short");
      const uint16_t format = readLe16(bytes, body);
      const uint16_t channels = readLe16(bytes, body + 2);
      const uint32_t rate = readLe32(bytes, body + 4);
      const uint16_t bits = readLe16(bytes, body + 14);
      if (format != 1 || channels != 1 || rate != 8000 || bits != 16) {
        return absl::InvalidArgumentError("not 8 kHz mono 16-bit PCM (format " + std::to_string(format) + ", " +
                                          std::to_string(channels) + " channels, " + std::to_string(rate) +
                                          " Hz, " + std::to_string(bits) + " bits)");
      }
      have_format = true;
    } else if (id == "data") {
      if (!have_format) return absl::InvalidArgumentError("data chunk before the format chunk");
      const size_t count = length / 2;
      if (count > PromptLibrary::kMaxPromptSamples) return absl::InvalidArgumentError("longer than ten minutes");
      std::vector<int16_t> samples(count);
      for (size_t i = 0; i < count; ++i) samples[i] = static_cast<int16_t>(readLe16(bytes, body + 2 * i));
      return samples;
    }
    at = body + length + (length & 1);
  }
  return absl::InvalidArgumentError("no data chunk");
}

bool PromptLibrary::validName(const std::string& name) {
  if (name.empty() || name.size() > 64 || name[0] == '-' || name[0] == '_') return false;
  for (const char c : name) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_')) return false;
  }
  return true;
}

std::shared_ptr<const EncodedPrompt> PromptLibrary::makeTone(std::vector<double> frequencies, int on_ms, int off_ms) {
  constexpr double kPi = 3.14159265358979323846;
  auto tone = std::make_shared<EncodedPrompt>();
  const double amplitude = 8192.0 / static_cast<double>(frequencies.size());  // a quarter of full scale
  for (int i = 0; i < 8 * (on_ms + off_ms); ++i) {
    double value = 0;
    if (i < 8 * on_ms) {
      for (const double frequency : frequencies) value += amplitude * std::sin(2 * kPi * frequency * i / 8000.0);
    }
    const auto sample = static_cast<int16_t>(value);
    tone->pcmu.push_back(g711::encodeMuLaw(sample));
    tone->pcma.push_back(g711::encodeALaw(sample));
  }
  return tone;
}

absl::StatusOr<std::shared_ptr<const EncodedPrompt>> PromptLibrary::load(const std::string& tenant_id,
                                                                         const std::string& name) {
  if (name == kBeep) return beep_;
  if (name == kRingback) return ringback_;
  if (directory_.empty()) return absl::FailedPreconditionError("no prompt directory is configured (prompts.dir)");
  std::string path;
  if (systemName(name)) {
    path = directory_ + "/" + kSystemFolder + "/" + name.substr(1) + ".wav";
  } else {
    if (!validName(name)) return absl::InvalidArgumentError("prompt name '" + name + "': 1..64 of a-z 0-9 - _");
    // The tenant id is part of a path: only ids that cannot climb out of the directory.
    if (!validTenant(tenant_id)) return absl::InvalidArgumentError("the session's tenant id cannot name a prompt folder");
    path = directory_ + "/" + tenant_id + "/" + name + ".wav";
  }
  struct stat info {};
  if (::stat(path.c_str(), &info) != 0 || !S_ISREG(info.st_mode)) {
    return absl::NotFoundError("prompt '" + name + "' not found");
  }
  const int64_t modified_ns = static_cast<int64_t>(info.st_mtim.tv_sec) * 1000000000 + info.st_mtim.tv_nsec;
  {
    std::lock_guard lock(mutex_);
    auto found = entries_.find(path);
    if (found != entries_.end() && found->second.size == info.st_size &&
        found->second.modified_ns == modified_ns) {
      recency_.splice(recency_.begin(), recency_, found->second.recency);
      return found->second.prompt;
    }
  }
  // Read and encode outside the lock: other prompts keep playing meanwhile.
  constexpr int64_t kMaxFileBytes = 44 + 2 * static_cast<int64_t>(kMaxPromptSamples) + 4096;
  if (info.st_size > kMaxFileBytes) return absl::InvalidArgumentError("prompt '" + name + "': longer than ten minutes");
  std::ifstream file(path, std::ios::binary);
  std::ostringstream contents;
  contents << file.rdbuf();
  if (!file.good() && !file.eof()) return absl::NotFoundError("prompt '" + name + "' cannot be read");
  auto samples = decodePromptWav(contents.str());
  if (!samples.ok()) return absl::InvalidArgumentError("prompt '" + name + "': " + std::string(samples.status().message()));
  auto prompt = std::make_shared<EncodedPrompt>();
  prompt->pcmu.reserve(samples->size());
  prompt->pcma.reserve(samples->size());
  for (const int16_t sample : *samples) {
    prompt->pcmu.push_back(g711::encodeMuLaw(sample));
    prompt->pcma.push_back(g711::encodeALaw(sample));
  }
  std::lock_guard lock(mutex_);
  auto found = entries_.find(path);
  if (found != entries_.end()) {
    cached_bytes_ -= found->second.prompt->pcmu.size() * 2;
    recency_.erase(found->second.recency);
    entries_.erase(found);
  }
  recency_.push_front(path);
  entries_[path] = Entry{prompt, info.st_size, modified_ns, recency_.begin()};
  cached_bytes_ += prompt->pcmu.size() * 2;
  evictLocked();
  return prompt;
}

void PromptLibrary::evictLocked() {
  // Playbacks hold their own reference: dropping an entry never cuts a prompt being played.
  while (cached_bytes_ > max_cached_bytes_ && recency_.size() > 1) {
    auto found = entries_.find(recency_.back());
    cached_bytes_ -= found->second.prompt->pcmu.size() * 2;
    entries_.erase(found);
    recency_.pop_back();
  }
}

}  // namespace tel::media
