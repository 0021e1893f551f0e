#include "tel/media_link/frames.h"

#include <cstdint>

namespace tel::media_link {

void appendFrame(const google::protobuf::MessageLite& message, std::string& out) {
  const size_t size = message.ByteSizeLong();
  const char header[kFrameHeaderBytes] = {
      static_cast<char>((size >> 24) & 0xff), static_cast<char>((size >> 16) & 0xff),
      static_cast<char>((size >> 8) & 0xff), static_cast<char>(size & 0xff)};
  out.append(header, kFrameHeaderBytes);
  const size_t start = out.size();
  out.resize(start + size);
  message.SerializeWithCachedSizesToArray(reinterpret_cast<uint8_t*>(out.data() + start));
}

void FrameReader::append(const char* data, size_t size) {
  if (consumed_ > 0) {
    buffer_.erase(0, consumed_);
    consumed_ = 0;
  }
  buffer_.append(data, size);
}

FrameReader::Next FrameReader::next(std::string_view& payload) {
  if (buffered() < kFrameHeaderBytes) return Next::kNeedMore;
  const auto* header = reinterpret_cast<const uint8_t*>(buffer_.data() + consumed_);
  const size_t size = (size_t{header[0]} << 24) | (size_t{header[1]} << 16) |
                      (size_t{header[2]} << 8) | size_t{header[3]};
  if (size > kMaxFrameBytes) return Next::kOversized;
  if (buffered() < kFrameHeaderBytes + size) return Next::kNeedMore;
  payload = std::string_view(buffer_.data() + consumed_ + kFrameHeaderBytes, size);
  consumed_ += kFrameHeaderBytes + size;
  return Next::kFrame;
}

}  // namespace tel::media_link
