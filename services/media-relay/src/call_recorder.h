#pragma once

#include <absl/status/statusor.h>

#include <chrono>
#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <vector>

#include "tel/media/v1/media_relay.pb.h"

namespace tel::media {

// One call's recording: what each party sends, decoded to 8 kHz samples, laid on the worker's
// 20 ms timeline (one frame per tick, silence where a party sent nothing) and written as a WAV
// file: stereo for a conversation (channel 0 on the left), mono for one party (a voicemail
// message). Each side's samples wait in a queue between their packets'
// arrival and their frame, so jitter moves nothing; a queue holding more than a second (a party
// whose clock runs fast) loses its oldest samples, so the two sides stay in step.
//
// Owned by its session's worker thread. Frames go to the file 32 KiB at a time (about a second of
// call): a write to the page cache, never an fsync, on the worker.
class CallRecorder {
 public:
  static constexpr size_t kFrameSamples = 160;
  static constexpr size_t kMaxQueuedSamples = 8000;

  // Below this mean absolute sample value (about -40 dBFS) a frame counts as silent: line noise and
  // comfort noise stay under it, speech does not.
  static constexpr int kSilenceLevel = 330;

  // Creates <directory>/<relative>, with the folders it needs, and reserves its header.
  // `channels`: 2 or 1.
  static absl::StatusOr<std::unique_ptr<CallRecorder>> open(const std::string& directory,
                                                            const std::string& relative, int channels);
  ~CallRecorder();
  CallRecorder(const CallRecorder&) = delete;
  CallRecorder& operator=(const CallRecorder&) = delete;

  // A packet's payload from a party: PCMU (0) and PCMA (8) are decoded; others are not audio.
  void onAudio(int channel, uint8_t payload_type, const uint8_t* payload, size_t size);
  // Makes onFrame report, once, when channel 0 has been silent for `duration` (0: never).
  void detectSilence(std::chrono::milliseconds duration);
  // The next 20 ms of the timeline. True once: when channel 0's silence reaches detectSilence's
  // duration.
  bool onFrame();
  bool finished() const { return finished_; }
  // Writes what is left and the header's sizes, and closes the file.
  v1::Recording finish();
  v1::Recording describe() const;

 private:
  CallRecorder(int fd, std::string relative, int channels)
      : fd_(fd), relative_(std::move(relative)), channels_(channels) {}
  void flush();

  int fd_;
  const std::string relative_;
  const int channels_;
  uint64_t silence_frames_needed_ = 0;  // 0: no detection
  uint64_t silent_frames_ = 0;          // in a row, on channel 0
  bool silence_reported_ = false;
  std::deque<int16_t> queued_[2];
  std::vector<uint8_t> buffer_;
  uint64_t data_bytes_ = 0;  // written and buffered
  uint64_t frames_ = 0;
  std::string error_;
  bool finished_ = false;
};

// A path component that cannot climb out of a directory: 1..128 of letters, digits, '-', '_', '.',
// not starting with '.'.
bool isSafePathComponent(const std::string& text);

}  // namespace tel::media
