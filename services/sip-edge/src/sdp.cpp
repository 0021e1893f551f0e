#include "sdp.h"

#include <sofia-sip/sdp.h>
#include <sofia-sip/su_alloc.h>

#include <strings.h>

#include <cstring>
#include <memory>

namespace tel::sip {
namespace {

// Parse and print flags: keep the direction attributes exactly as the party wrote them.
constexpr int kFlags = sdp_f_mode_manual;

// A sofia memory home that frees everything allocated in it when it goes out of scope.
class Home {
 public:
  Home() { su_home_init(home_); }
  ~Home() { su_home_deinit(home_); }
  su_home_t* get() { return home_; }

 private:
  su_home_t home_[1] = {SU_HOME_INIT(home_)};
};

sdp_media_t* audioStream(sdp_session_t* session) {
  for (sdp_media_t* media = session->sdp_media; media; media = media->m_next) {
    if (media->m_type == sdp_media_audio && media->m_port != 0 && !media->m_rejected) return media;
  }
  return nullptr;
}

const sdp_connection_t* connectionOf(const sdp_session_t* session, const sdp_media_t* media) {
  return media->m_connections ? media->m_connections : session->sdp_connection;
}

absl::StatusOr<sdp_session_t*> parse(su_home_t* home, const std::string& text) {
  if (text.empty()) return absl::InvalidArgumentError("no SDP body");
  sdp_parser_t* parser = sdp_parse(home, text.data(), static_cast<issize_t>(text.size()), kFlags);
  sdp_session_t* session = sdp_session(parser);
  if (session == nullptr) {
    const char* error = sdp_parsing_error(parser);
    return absl::InvalidArgumentError(std::string("malformed SDP: ") +
                                      (error ? error : "unknown error"));
  }
  return session;
}

}  // namespace

absl::StatusOr<AudioEndpoint> findAudioEndpoint(const std::string& sdp) {
  Home home;
  auto session = parse(home.get(), sdp);
  if (!session.ok()) return session.status();
  const sdp_media_t* audio = audioStream(*session);
  if (audio == nullptr) return absl::InvalidArgumentError("SDP offers no audio stream");
  const sdp_connection_t* connection = connectionOf(*session, audio);
  if (connection == nullptr || connection->c_address == nullptr) {
    return absl::InvalidArgumentError("SDP audio stream has no connection address");
  }
  if (connection->c_addrtype != sdp_addr_ip4 && connection->c_addrtype != sdp_addr_ip6) {
    return absl::InvalidArgumentError("SDP connection is not IPv4 or IPv6");
  }
  if (audio->m_port > 65535) return absl::InvalidArgumentError("SDP audio port out of range");
  return AudioEndpoint{connection->c_address, static_cast<int>(audio->m_port)};
}

absl::StatusOr<std::string> rewriteAudioEndpoint(const std::string& sdp,
                                                 const AudioEndpoint& relay) {
  Home home;
  auto parsed = parse(home.get(), sdp);
  if (!parsed.ok()) return parsed.status();
  sdp_session_t* session = *parsed;
  sdp_media_t* audio = audioStream(session);
  if (audio == nullptr) return absl::InvalidArgumentError("SDP offers no audio stream");
  const sdp_connection_t* original = connectionOf(session, audio);
  if (original == nullptr || original->c_address == nullptr) {
    return absl::InvalidArgumentError("SDP audio stream has no connection address");
  }
  const bool hold = AudioEndpoint{original->c_address, 0}.onHold();
  const bool ipv6 = relay.ip.find(':') != std::string::npos;

  auto* connection =
      static_cast<sdp_connection_t*>(su_zalloc(home.get(), sizeof(sdp_connection_t)));
  connection->c_size = sizeof(sdp_connection_t);
  connection->c_nettype = sdp_net_in;
  connection->c_addrtype = ipv6 ? sdp_addr_ip6 : sdp_addr_ip4;
  connection->c_address = su_strdup(home.get(), hold ? original->c_address : relay.ip.c_str());

  session->sdp_connection = connection;
  if (session->sdp_origin && session->sdp_origin->o_address) {
    session->sdp_origin->o_address = connection;
  }
  for (sdp_media_t* media = session->sdp_media; media; media = media->m_next) {
    media->m_connections = nullptr;  // the session-level address applies
    if (media != audio) media->m_port = 0;
  }
  audio->m_port = static_cast<unsigned long>(relay.port);

  sdp_printer_t* printer = sdp_print(home.get(), session, nullptr, 0, kFlags);
  const char* message = sdp_message(printer);
  if (message == nullptr) {
    const char* error = sdp_printing_error(printer);
    return absl::InternalError(std::string("cannot print SDP: ") +
                               (error ? error : "unknown error"));
  }
  std::string result(message, sdp_message_size(printer));
  sdp_printer_free(printer);
  return result;
}

absl::StatusOr<ChosenAudio> chooseAudio(const std::string& offer) {
  Home home;
  auto session = parse(home.get(), offer);
  if (!session.ok()) return session.status();
  const sdp_media_t* audio = audioStream(*session);
  if (audio == nullptr) return absl::InvalidArgumentError("SDP offers no audio stream");
  bool pcmu = false, pcma = false;
  ChosenAudio chosen;
  for (const sdp_rtpmap_t* map = audio->m_rtpmaps; map; map = map->rm_next) {
    const std::string encoding = map->rm_encoding ? map->rm_encoding : "";
    if (map->rm_pt == 0) pcmu = true;
    if (map->rm_pt == 8) pcma = true;
    if (strcasecmp(encoding.c_str(), "telephone-event") == 0 && map->rm_rate == 8000 &&
        map->rm_pt >= 96 && map->rm_pt <= 127 && chosen.event_payload_type == 0) {
      chosen.event_payload_type = static_cast<int>(map->rm_pt);
    }
  }
  if (!pcmu && !pcma) return absl::FailedPreconditionError("the caller offers no G.711 (PCMU or PCMA)");
  chosen.audio_payload_type = pcmu ? 0 : 8;
  return chosen;
}

std::string describeAudio(const AudioEndpoint& relay, const ChosenAudio& audio, uint64_t session_id,
                          uint64_t version) {
  const char* family = relay.ip.find(':') != std::string::npos ? "IP6" : "IP4";
  const std::string address = std::string(family) + " " + relay.ip;
  const std::string formats = std::to_string(audio.audio_payload_type) +
                              (audio.event_payload_type ? " " + std::to_string(audio.event_payload_type) : "");
  std::string sdp = "v=0\r\no=tel " + std::to_string(session_id) + " " + std::to_string(version) +
                    " IN " + address + "\r\ns=tel\r\nc=IN " + address + "\r\nt=0 0\r\nm=audio " +
                    std::to_string(relay.port) + " RTP/AVP " + formats + "\r\n";
  sdp += audio.audio_payload_type == 0 ? "a=rtpmap:0 PCMU/8000\r\n" : "a=rtpmap:8 PCMA/8000\r\n";
  if (audio.event_payload_type) {
    const std::string pt = std::to_string(audio.event_payload_type);
    sdp += "a=rtpmap:" + pt + " telephone-event/8000\r\na=fmtp:" + pt + " 0-15\r\n";
  }
  sdp += "a=ptime:20\r\na=sendrecv\r\n";
  return sdp;
}

}  // namespace tel::sip
