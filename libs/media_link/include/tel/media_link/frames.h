#pragma once

#include <google/protobuf/message_lite.h>

#include <cstddef>
#include <string>
#include <string_view>

// Framing of media-relay's control link (see ControlRequest in tel/media/v1/media_relay.proto):
// a 4-byte big-endian length, then that many bytes of a serialized message.
namespace tel::media_link {

inline constexpr size_t kFrameHeaderBytes = 4;
inline constexpr size_t kMaxFrameBytes = 65536;

// Appends `message` to `out` as one frame.
void appendFrame(const google::protobuf::MessageLite& message, std::string& out);

// Cuts a byte stream into frames. Not thread-safe: one reader per connection, used by one thread.
class FrameReader {
 public:
  enum class Next { kFrame, kNeedMore, kOversized };

  void append(const char* data, size_t size);
  // On kFrame, `payload` views the next frame's bytes; the view stays valid until the next
  // append(). kOversized: the stream announces a frame longer than kMaxFrameBytes, and nothing
  // after it can be trusted (the connection must be closed).
  Next next(std::string_view& payload);
  size_t buffered() const { return buffer_.size() - consumed_; }

 private:
  std::string buffer_;
  size_t consumed_ = 0;  // bytes of buffer_ already returned as frames
};

}  // namespace tel::media_link
