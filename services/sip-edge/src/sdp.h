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

}  // namespace tel::sip
