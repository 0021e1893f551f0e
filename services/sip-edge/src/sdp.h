#pragma once

#include <absl/status/statusor.h>

#include <string>

// The only SDP work a B2BUA with a media relay does: find where a party wants its audio, and
// rewrite a description so that the other party sends its audio to the relay instead.
namespace tel::sip {

struct AudioEndpoint {
  std::string ip;  // "0.0.0.0" when the party put the call on hold the RFC 2543 way
  int port = 0;
  bool onHold() const { return ip == "0.0.0.0" || ip == "::"; }
};

// The first audio stream of `sdp` that is not rejected (port 0). InvalidArgument when the text is
// not SDP, or has no usable audio stream or connection address.
absl::StatusOr<AudioEndpoint> findAudioEndpoint(const std::string& sdp);

// `sdp` with the audio stream's connection and port (and the origin's address) replaced by the
// relay's; other streams (video...) are rejected with port 0, because only audio is relayed. The
// codecs, direction attributes and everything else pass through, so the parties negotiate with
// each other. A hold address (0.0.0.0) is kept as it is.
absl::StatusOr<std::string> rewriteAudioEndpoint(const std::string& sdp,
                                                 const AudioEndpoint& relay);

// When sip-edge answers a party itself (an application's Answer), it chooses the audio: G.711 as
// the party offers it, PCMU before PCMA, and RFC 4733 telephone-events at the party's payload type
// when offered.
struct ChosenAudio {
  int audio_payload_type = 0;  // 0 PCMU, 8 PCMA
  int event_payload_type = 0;  // 0: the party offered no telephone-event
};

// FAILED_PRECONDITION when the offer has no G.711 (nothing the relay can play), INVALID_ARGUMENT
// when it is not SDP.
absl::StatusOr<ChosenAudio> chooseAudio(const std::string& offer);

// sip-edge's own description of one audio stream at `relay` with `audio` (an answer to the party
// it was chosen from, or an offer to a callee whose audio must match it). `version` goes into the
// origin line, which must grow with each new description of the same session.
std::string describeAudio(const AudioEndpoint& relay, const ChosenAudio& audio, uint64_t session_id,
                          uint64_t version);

}  // namespace tel::sip
