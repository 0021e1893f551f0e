#include "tel/media_link/frames.h"

#include <catch2/catch.hpp>

#include "tel/media/v1/media_relay.pb.h"

using tel::media_link::appendFrame;
using tel::media_link::FrameReader;
using tel::media_link::kMaxFrameBytes;

namespace {

tel::media::v1::ControlRequest deleteRequest(uint64_t id, const std::string& session_id) {
  tel::media::v1::ControlRequest request;
  request.set_id(id);
  request.mutable_delete_session()->set_session_id(session_id);
  return request;
}

tel::media::v1::ControlRequest parse(std::string_view payload) {
  tel::media::v1::ControlRequest request;
  REQUIRE(request.ParseFromArray(payload.data(), static_cast<int>(payload.size())));
  return request;
}

}  // namespace

TEST_CASE("a frame read back byte by byte gives the message that was written") {
  std::string stream;
  appendFrame(deleteRequest(7, "s-1"), stream);
  FrameReader reader;
  std::string_view payload;
  for (size_t i = 0; i + 1 < stream.size(); ++i) {
    reader.append(stream.data() + i, 1);
    CHECK(reader.next(payload) == FrameReader::Next::kNeedMore);
  }
  reader.append(stream.data() + stream.size() - 1, 1);
  REQUIRE(reader.next(payload) == FrameReader::Next::kFrame);
  const auto request = parse(payload);
  CHECK(request.id() == 7);
  CHECK(request.delete_session().session_id() == "s-1");
  CHECK(reader.next(payload) == FrameReader::Next::kNeedMore);
  CHECK(reader.buffered() == 0);
}

TEST_CASE("several frames in one read come out one at a time and in order") {
  std::string stream;
  for (uint64_t id = 1; id <= 3; ++id) appendFrame(deleteRequest(id, "s"), stream);
  appendFrame(tel::media::v1::ControlRequest(), stream);  // an empty message is a 0-byte frame
  FrameReader reader;
  reader.append(stream.data(), stream.size());
  std::string_view payload;
  for (uint64_t id = 1; id <= 3; ++id) {
    REQUIRE(reader.next(payload) == FrameReader::Next::kFrame);
    CHECK(parse(payload).id() == id);
  }
  REQUIRE(reader.next(payload) == FrameReader::Next::kFrame);
  CHECK(payload.empty());
  CHECK(reader.next(payload) == FrameReader::Next::kNeedMore);
}

TEST_CASE("a length beyond the limit is refused before its bytes arrive") {
  FrameReader reader;
  const size_t too_long = kMaxFrameBytes + 1;
  const char header[4] = {static_cast<char>(too_long >> 24), static_cast<char>(too_long >> 16),
                          static_cast<char>(too_long >> 8), static_cast<char>(too_long)};
  reader.append(header, sizeof header);
  std::string_view payload;
  CHECK(reader.next(payload) == FrameReader::Next::kOversized);
}

TEST_CASE("a frame of exactly the limit is accepted") {
  tel::media::v1::ControlRequest request;
  // get_session's tag and 3-byte length, then the session id's tag and 3-byte length: 8 bytes
  // around the id.
  const std::string id(kMaxFrameBytes - 8, 'x');
  request.mutable_get_session()->set_session_id(id);
  REQUIRE(request.ByteSizeLong() == kMaxFrameBytes);
  std::string stream;
  appendFrame(request, stream);
  FrameReader reader;
  reader.append(stream.data(), stream.size());
  std::string_view payload;
  REQUIRE(reader.next(payload) == FrameReader::Next::kFrame);
  CHECK(parse(payload).get_session().session_id().size() == id.size());
}
