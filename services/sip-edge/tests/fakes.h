#pragma once

// In-memory fakes of sip-edge's ports, shared by the unit tests.
#include <map>
#include <set>

#include "call_backends.h"
#include "registrar.h"

namespace tel::sip::testing {

struct FakeCredentials : CredentialsSource {
  std::map<std::pair<std::string, std::string>, SipAccountCredentials> accounts;
  bool down = false;
  absl::StatusOr<std::optional<SipAccountCredentials>> find(const std::string& domain,
                                                            const std::string& user) override {
    if (down) return absl::UnavailableError("down");
    auto it = accounts.find({domain, user});
    if (it == accounts.end()) return std::nullopt;
    return it->second;
  }
};

struct FakeBindings : Bindings {
  std::map<std::string, std::map<std::string, Binding>> by_account;
  std::map<std::string, uint64_t> nonce_counts;
  absl::StatusOr<std::vector<Binding>> list(const std::string& t, const std::string& a,
                                            int64_t now) override {
    std::vector<Binding> out;
    for (auto& [contact, binding] : by_account[t + a])
      if (binding.expires_at > now) out.push_back(binding);
    return out;
  }
  absl::Status upsert(const std::string& t, const std::string& a, const Binding& b) override {
    by_account[t + a][b.contact] = b;
    return absl::OkStatus();
  }
  absl::Status remove(const std::string& t, const std::string& a, const std::string& c) override {
    by_account[t + a].erase(c);
    return absl::OkStatus();
  }
  absl::Status removeAll(const std::string& t, const std::string& a) override {
    by_account.erase(t + a);
    return absl::OkStatus();
  }
  absl::StatusOr<bool> acceptNonceCount(const std::string& nonce, uint64_t count, int) override {
    uint64_t& last = nonce_counts[nonce];
    if (count <= last) return false;
    last = count;
    return true;
  }
};

struct FakeNumbers : NumberDirectory {
  std::map<std::string, accounts::v1::InboundNumber> numbers;  // by e164
  std::map<std::string, std::string> carrier_ips;              // source ip -> tenant
  std::set<std::pair<std::string, std::string>> extensions;    // tenant, extension
  absl::StatusOr<std::optional<accounts::v1::InboundNumber>> lookupInbound(
      const std::string& e164, const std::string& ip) override {
    auto it = numbers.find(e164);
    if (it == numbers.end()) return std::nullopt;
    auto found = it->second;
    auto carrier = carrier_ips.find(ip);
    if (carrier != carrier_ips.end() && carrier->second == found.tenant_id())
      found.set_carrier_id("carrier-1");
    return found;
  }
  absl::StatusOr<bool> isExtension(const std::string& tenant,
                                   const std::string& extension) override {
    return extensions.count({tenant, extension}) > 0;
  }
  std::map<std::pair<std::string, std::string>, CarrierDigest>
      carrier_credentials;  // tenant, username
  absl::StatusOr<std::optional<CarrierDigest>> carrierCredentials(
      const std::string& tenant, const std::string& username) override {
    auto it = carrier_credentials.find({tenant, username});
    if (it == carrier_credentials.end()) return std::nullopt;
    return it->second;
  }
};

struct FakeLines : RegisteredLines {
  std::map<std::string, RegisteredLine> by_contact;
  std::optional<RegisteredLine> lineForContact(const std::string& user) const override {
    auto it = by_contact.find(user);
    if (it == by_contact.end()) return std::nullopt;
    return it->second;
  }
  std::optional<Credentials> credentialsFor(const std::string&) const override { return std::nullopt; }
};

struct FakeChannels : ChannelLimiter {
  std::map<std::string, std::set<std::string>> held;  // number -> calls
  absl::StatusOr<bool> acquire(const std::string&, const std::string& number,
                               const std::string& call, int channels) override {
    auto& calls = held[number];
    if (static_cast<int>(calls.size()) >= channels) return false;
    calls.insert(call);
    return true;
  }
  absl::Status release(const std::string&, const std::string& number,
                       const std::string& call) override {
    held[number].erase(call);
    return absl::OkStatus();
  }
};

struct FakeMedia : MediaControl {
  int sessions = 0;
  int next_port = 30000;
  bool down = false;
  std::map<std::string, std::map<std::string, std::optional<RelayEndpoint>>>
      legs;  // session -> leg -> remote
  absl::StatusOr<CreatedSession> createSession(const std::string&, const std::string& call,
                                               const std::vector<NewLeg>& new_legs) override {
    if (down) return absl::UnavailableError("media-relay down");
    ++sessions;
    const std::string session = "s-" + call;
    CreatedSession created{session, {}, "relay:1"};
    for (const NewLeg& leg : new_legs) {
      legs[session][leg.id] = leg.remote;
      if (leg.audio) audio[session + "/" + leg.id] = *leg.audio;
      next_port += 2;
      created.legs.push_back(RelayEndpoint{"127.0.0.1", next_port});
    }
    return created;
  }
  absl::StatusOr<RelayEndpoint> addLeg(const std::string& session, const std::string& leg,
                                       const std::optional<RelayEndpoint>& remote) override {
    legs[session][leg] = remote;
    next_port += 2;
    return RelayEndpoint{"127.0.0.1", next_port};
  }
  absl::Status updateLeg(const std::string& session, const std::string& leg,
                         const RelayEndpoint& remote) override {
    legs[session][leg] = remote;
    return absl::OkStatus();
  }
  absl::Status link(const std::string& session, const std::string&, const std::string& leg_b,
                    const std::optional<RelayEndpoint>& leg_b_remote) override {
    if (leg_b_remote) legs[session][leg_b] = leg_b_remote;
    return absl::OkStatus();
  }
  std::map<std::string, LegAudio> audio;  // by session/leg
  std::vector<std::string> plays;         // "session/leg:playback_id:prompt,prompt"
  absl::StatusOr<uint32_t> play(const std::string& session, const std::string& leg,
                                const std::string& playback_id,
                                const std::vector<std::string>& prompts, bool) override {
    if (!audio.contains(session + "/" + leg)) return absl::FailedPreconditionError("no codec");
    std::string entry = session + "/" + leg + ":" + playback_id + ":";
    for (const auto& prompt : prompts) entry += prompt + ",";
    plays.push_back(entry);
    return 1000u;
  }
  std::vector<std::string> recordings;  // "session:leg_a+leg_b", "session:stop"
  absl::Status startRecording(const std::string& session, const std::string& leg_a,
                              const std::string& leg_b, std::chrono::milliseconds) override {
    recordings.push_back(session + ":" + leg_a + "+" + leg_b);
    return absl::OkStatus();
  }
  absl::StatusOr<calls::v1::CallRecording> stopRecording(const std::string& session) override {
    recordings.push_back(session + ":stop");
    return calls::v1::CallRecording{};
  }
  absl::Status stopPlayback(const std::string& session, const std::string& leg) override {
    plays.push_back(session + "/" + leg + ":stop");
    return absl::OkStatus();
  }
  absl::StatusOr<MediaTotals> deleteSession(
      const std::string& session) override {
    legs.erase(session);
    --sessions;
    return MediaTotals{};
  }
};

}  // namespace tel::sip::testing
