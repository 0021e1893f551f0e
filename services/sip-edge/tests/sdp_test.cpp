// SDP inspection and rewriting for the relay.
#include "sdp.h"

#include <catch2/catch.hpp>

using namespace tel::sip;

namespace {

const std::string kOffer =
    "v=0\r\n"
    "o=alice 2890844526 2890844526 IN IP4 192.0.2.10\r\n"
    "s=-\r\n"
    "c=IN IP4 192.0.2.10\r\n"
    "t=0 0\r\n"
    "m=audio 49170 RTP/AVP 0 8 101\r\n"
    "a=rtpmap:0 PCMU/8000\r\n"
    "a=rtpmap:8 PCMA/8000\r\n"
    "a=rtpmap:101 telephone-event/8000\r\n"
    "a=sendrecv\r\n"
    "m=video 51372 RTP/AVP 31\r\n";

}  // namespace

TEST_CASE("the audio endpoint of an offer is found") {
  auto endpoint = findAudioEndpoint(kOffer);
  REQUIRE(endpoint.ok());
  CHECK(endpoint->ip == "192.0.2.10");
  CHECK(endpoint->port == 49170);
  CHECK_FALSE(endpoint->onHold());
}

TEST_CASE("a media-level connection wins over the session-level one") {
  const std::string sdp =
      "v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\n"
      "m=audio 4000 RTP/AVP 0\r\nc=IN IP4 198.51.100.7\r\n";
  auto endpoint = findAudioEndpoint(sdp);
  REQUIRE(endpoint.ok());
  CHECK(endpoint->ip == "198.51.100.7");
}

TEST_CASE("rewriting points audio at the relay and keeps codecs and direction") {
  auto rewritten = rewriteAudioEndpoint(kOffer, {"127.0.0.1", 30002});
  REQUIRE(rewritten.ok());
  auto endpoint = findAudioEndpoint(*rewritten);
  REQUIRE(endpoint.ok());
  CHECK(endpoint->ip == "127.0.0.1");
  CHECK(endpoint->port == 30002);
  CHECK(rewritten->find("192.0.2.10") == std::string::npos);  // no trace of the party's address
  CHECK(rewritten->find("PCMA/8000") != std::string::npos);
  CHECK(rewritten->find("telephone-event/8000") != std::string::npos);
  CHECK(rewritten->find("a=sendrecv") != std::string::npos);
  CHECK(rewritten->find("m=video 0 ") != std::string::npos);  // not relayed, so rejected
}

TEST_CASE("a hold offer keeps its hold address and direction") {
  std::string hold = kOffer;
  hold.replace(hold.find("c=IN IP4 192.0.2.10"), 19, "c=IN IP4 0.0.0.0");
  hold.replace(hold.find("a=sendrecv"), 10, "a=sendonly");
  auto endpoint = findAudioEndpoint(hold);
  REQUIRE(endpoint.ok());
  CHECK(endpoint->onHold());
  auto rewritten = rewriteAudioEndpoint(hold, {"127.0.0.1", 30002});
  REQUIRE(rewritten.ok());
  CHECK(rewritten->find("c=IN IP4 0.0.0.0") != std::string::npos);
  CHECK(rewritten->find("a=sendonly") != std::string::npos);
}

TEST_CASE("malformed SDP is refused with a reason") {
  for (const std::string& bad :
       {std::string(), std::string("hello"), std::string("v=0\r\nm=audio x RTP/AVP 0\r\n"),
        std::string("v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\ns=-\r\nt=0 0\r\nm=video 5000 RTP/AVP 31\r\n"
                    "c=IN IP4 1.2.3.4\r\n"),
        std::string(
            "v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\ns=-\r\nt=0 0\r\nm=audio 5000 RTP/AVP 0\r\n")}) {
    auto endpoint = findAudioEndpoint(bad);
    CHECK_FALSE(endpoint.ok());
    CHECK_FALSE(rewriteAudioEndpoint(bad, {"127.0.0.1", 30002}).ok());
  }
}

TEST_CASE("answering a caller itself picks G.711 as offered, PCMU first, and its telephone-event") {
  const std::string both =
      "v=0\r\no=x 1 1 IN IP4 10.0.0.5\r\ns=-\r\nc=IN IP4 10.0.0.5\r\nt=0 0\r\n"
      "m=audio 4000 RTP/AVP 8 0 96\r\na=rtpmap:8 PCMA/8000\r\na=rtpmap:0 PCMU/8000\r\n"
      "a=rtpmap:96 telephone-event/8000\r\na=fmtp:96 0-16\r\n";
  auto chosen = chooseAudio(both);
  REQUIRE(chosen.ok());
  CHECK(chosen->audio_payload_type == 0);
  CHECK(chosen->event_payload_type == 96);

  const std::string alaw_only =
      "v=0\r\no=x 1 1 IN IP4 10.0.0.5\r\ns=-\r\nc=IN IP4 10.0.0.5\r\nt=0 0\r\nm=audio 4000 RTP/AVP 8\r\n";
  chosen = chooseAudio(alaw_only);
  REQUIRE(chosen.ok());
  CHECK(chosen->audio_payload_type == 8);
  CHECK(chosen->event_payload_type == 0);

  const std::string opus_only =
      "v=0\r\no=x 1 1 IN IP4 10.0.0.5\r\ns=-\r\nc=IN IP4 10.0.0.5\r\nt=0 0\r\n"
      "m=audio 4000 RTP/AVP 111\r\na=rtpmap:111 opus/48000/2\r\n";
  CHECK(chooseAudio(opus_only).status().code() == absl::StatusCode::kFailedPrecondition);
  CHECK(chooseAudio("not sdp").status().code() == absl::StatusCode::kInvalidArgument);

  // sip-edge's own description parses back to the same choice, at the relay's address.
  const std::string described = describeAudio(AudioEndpoint{"127.0.0.1", 30002}, ChosenAudio{8, 101}, 7, 1);
  auto endpoint = findAudioEndpoint(described);
  REQUIRE(endpoint.ok());
  CHECK(endpoint->ip == "127.0.0.1");
  CHECK(endpoint->port == 30002);
  auto again = chooseAudio(described);
  REQUIRE(again.ok());
  CHECK(again->audio_payload_type == 8);
  CHECK(again->event_payload_type == 101);
  CHECK(described.find("a=sendrecv\r\n") != std::string::npos);
  CHECK(findAudioEndpoint(describeAudio(AudioEndpoint{"::1", 30004}, ChosenAudio{0, 0}, 7, 2)).ok());
}
