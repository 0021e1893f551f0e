#include <catch2/catch.hpp>
#include <set>
#include <vector>

#include "port_pool.h"
#include "rtp_packet.h"

using namespace tel::media;

namespace {
std::vector<uint8_t> rtp(size_t payload, uint8_t first_byte = 0x80, uint8_t payload_type = 0) {
  std::vector<uint8_t> packet(12 + payload, 0);
  packet[0] = first_byte;
  packet[1] = payload_type;
  return packet;
}
}  // namespace

TEST_CASE("port pairs are even, distinct, and reused last") {
  PortPool pool(30001, 30010);  // pairs 30002, 30004, 30006, 30008
  CHECK(pool.pairsTotal() == 4);
  std::set<uint16_t> taken;
  for (int i = 0; i < 4; ++i) {
    auto port = pool.acquire();
    REQUIRE(port);
    CHECK(*port % 2 == 0);
    taken.insert(*port);
  }
  CHECK(taken.size() == 4);
  CHECK_FALSE(pool.acquire());
  CHECK(pool.pairsInUse() == 4);
  pool.release(30004);
  pool.release(30004);  // twice is harmless
  pool.release(31000);  // never handed out: ignored
  CHECK(pool.pairsInUse() == 3);
  CHECK(pool.acquire() == 30004);
}

TEST_CASE("RTP packets are checked structurally") {
  CHECK(isValidRtp(rtp(160).data(), 172));
  CHECK_FALSE(isValidRtp(rtp(160).data(), 11));
  CHECK_FALSE(isValidRtp(rtp(160, 0x40).data(), 172));  // version 1
  auto csrc = rtp(4, 0x8f);                              // 15 CSRCs claimed, 4 bytes there
  CHECK_FALSE(isValidRtp(csrc.data(), csrc.size()));
  auto extension = rtp(8, 0x90);  // extension header of length 0xffff words
  extension[14] = 0xff;
  extension[15] = 0xff;
  CHECK_FALSE(isValidRtp(extension.data(), extension.size()));
  auto padded = rtp(10, 0xa0);
  padded.back() = 200;  // more padding than payload
  CHECK_FALSE(isValidRtp(padded.data(), padded.size()));
  padded.back() = 4;
  CHECK(isValidRtp(padded.data(), padded.size()));
}

TEST_CASE("RTCP and rtcp-mux") {
  std::vector<uint8_t> report = {0x80, 200, 0x00, 0x06};
  report.resize(28, 0);
  CHECK(isValidRtcp(report.data(), report.size()));
  CHECK(isValidOnRtpPort(report.data(), report.size()));
  report[3] = 0x40;  // length beyond the packet
  CHECK_FALSE(isValidRtcp(report.data(), report.size()));
  std::vector<uint8_t> garbage(100, 0xff);
  CHECK_FALSE(isValidOnRtpPort(garbage.data(), garbage.size()));
  CHECK_FALSE(isValidRtcp(garbage.data(), garbage.size()));
}
