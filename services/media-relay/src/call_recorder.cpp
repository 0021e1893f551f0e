#include "call_recorder.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>

#include "g711.h"

namespace tel::media {
namespace {

constexpr size_t kHeaderBytes = 44;
constexpr size_t kFlushBytes = 32 * 1024;

void putLe32(uint8_t* out, uint32_t value) {
  for (int i = 0; i < 4; ++i) out[i] = static_cast<uint8_t>(value >> (8 * i));
}

void putLe16(uint8_t* out, uint16_t value) {
  out[0] = static_cast<uint8_t>(value);
  out[1] = static_cast<uint8_t>(value >> 8);
}

// The 44-byte header of a PCM WAV file: 8 kHz, 16-bit, `channels`, `data_bytes` of samples.
std::array<uint8_t, kHeaderBytes> waveHeader(uint64_t data_bytes, int channels) {
  const auto frame_bytes = static_cast<uint16_t>(2 * channels);
  std::array<uint8_t, kHeaderBytes> header{};
  const auto data = static_cast<uint32_t>(std::min<uint64_t>(data_bytes, UINT32_MAX - kHeaderBytes));
  std::memcpy(header.data(), "RIFF", 4);
  putLe32(header.data() + 4, 36 + data);
  std::memcpy(header.data() + 8, "WAVEfmt ", 8);
  putLe32(header.data() + 16, 16);
  putLe16(header.data() + 20, 1);            // PCM
  putLe16(header.data() + 22, static_cast<uint16_t>(channels));
  putLe32(header.data() + 24, 8000);                // sample rate
  putLe32(header.data() + 28, 8000 * frame_bytes);  // bytes per second
  putLe16(header.data() + 32, frame_bytes);
  putLe16(header.data() + 34, 16);           // bits per sample
  std::memcpy(header.data() + 36, "data", 4);
  putLe32(header.data() + 40, data);
  return header;
}

}  // namespace

bool isSafePathComponent(const std::string& text) {
  if (text.empty() || text.size() > 128 || text[0] == '.') return false;
  for (const char c : text) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_' && c != '.') return false;
  }
  return true;
}

absl::StatusOr<std::unique_ptr<CallRecorder>> CallRecorder::open(const std::string& directory,
                                                                 const std::string& relative, int channels) {
  const std::filesystem::path path = std::filesystem::path(directory) / relative;
  std::error_code error;
  std::filesystem::create_directories(path.parent_path(), error);
  if (error) return absl::UnavailableError("recording folder " + path.parent_path().string() + ": " + error.message());
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
  if (fd < 0) return absl::UnavailableError("recording " + path.string() + ": " + strerror(errno));
  std::unique_ptr<CallRecorder> recorder(new CallRecorder(fd, relative, channels == 1 ? 1 : 2));
  recorder->buffer_.reserve(kFlushBytes + 4 * kFrameSamples);
  const auto header = waveHeader(0, recorder->channels_);
  recorder->buffer_.assign(header.begin(), header.end());
  return recorder;
}

CallRecorder::~CallRecorder() {
  if (fd_ >= 0) ::close(fd_);
}

void CallRecorder::onAudio(int channel, uint8_t payload_type, const uint8_t* payload, size_t size) {
  if (channel < 0 || channel >= channels_) return;
  if (payload_type != g711::kPcmuPayloadType && payload_type != g711::kPcmaPayloadType) return;
  auto& queue = queued_[channel];
  for (size_t i = 0; i < size; ++i) {
    queue.push_back(payload_type == g711::kPcmuPayloadType ? g711::decodeMuLaw(payload[i])
                                                           : g711::decodeALaw(payload[i]));
  }
  while (queue.size() > kMaxQueuedSamples) queue.pop_front();
}

void CallRecorder::detectSilence(std::chrono::milliseconds duration) {
  silence_frames_needed_ = static_cast<uint64_t>(duration.count() / 20);
  silent_frames_ = 0;
  silence_reported_ = false;
}

bool CallRecorder::onFrame() {
  if (finished_) return false;
  uint64_t level = 0;  // the sum of channel 0's absolute sample values in this frame
  for (size_t i = 0; i < kFrameSamples; ++i) {
    for (int channel = 0; channel < channels_; ++channel) {
      auto& queue = queued_[channel];
      int16_t sample = 0;
      if (!queue.empty()) {
        sample = queue.front();
        queue.pop_front();
      }
      if (channel == 0) level += static_cast<uint64_t>(std::abs(static_cast<int>(sample)));
      const auto bits = static_cast<uint16_t>(sample);
      buffer_.push_back(static_cast<uint8_t>(bits));
      buffer_.push_back(static_cast<uint8_t>(bits >> 8));
    }
  }
  data_bytes_ += 2 * kFrameSamples * static_cast<uint64_t>(channels_);
  ++frames_;
  if (buffer_.size() >= kFlushBytes) flush();
  silent_frames_ = level < kSilenceLevel * kFrameSamples ? silent_frames_ + 1 : 0;
  if (silence_frames_needed_ == 0 || silence_reported_ || silent_frames_ < silence_frames_needed_) return false;
  silence_reported_ = true;
  return true;
}

void CallRecorder::flush() {
  size_t written = 0;
  while (error_.empty() && written < buffer_.size()) {
    const ssize_t result = ::write(fd_, buffer_.data() + written, buffer_.size() - written);
    if (result < 0 && errno == EINTR) continue;
    if (result <= 0) {
      error_ = std::string("write failed: ") + strerror(errno);
      break;
    }
    written += static_cast<size_t>(result);
  }
  buffer_.clear();
}

v1::Recording CallRecorder::describe() const {
  v1::Recording recording;
  recording.set_file(relative_);
  recording.set_duration_ms(static_cast<uint32_t>(frames_ * 20));
  recording.set_bytes(kHeaderBytes + data_bytes_);
  recording.set_error(error_);
  recording.set_channels(static_cast<uint32_t>(channels_));
  return recording;
}

v1::Recording CallRecorder::finish() {
  if (!finished_) {
    finished_ = true;
    flush();
    const auto header = waveHeader(data_bytes_, channels_);
    if (error_.empty() && ::pwrite(fd_, header.data(), header.size(), 0) != static_cast<ssize_t>(header.size())) {
      error_ = std::string("header write failed: ") + strerror(errno);
    }
    ::close(fd_);
    fd_ = -1;
  }
  return describe();
}

}  // namespace tel::media
