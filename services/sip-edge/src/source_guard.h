#pragma once

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/registry.h>

#include <chrono>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "tel/net/address_blocks.h"

namespace tel::sip {

struct SourceGuardOptions {
  // Flood limit in the spirit of Kamailio's pike: more than `flood_requests` requests from one
  // source within `flood_window` bans it.
  int flood_requests = 16;
  std::chrono::seconds flood_window{2};
  // fail2ban-like: `auth_failures` failed authentications within `auth_window` ban the source.
  int auth_failures = 3;
  std::chrono::seconds auth_window{600};
  std::chrono::seconds ban_time{600};
  // Sources never banned (carriers, load balancers, monitoring): IPv4/IPv6 addresses or CIDR
  // blocks.
  std::vector<std::string> allow;
  // User-Agent substrings (case-insensitive) of SIP scanners; their source is banned at once.
  std::vector<std::string> scanner_user_agents = {
      "friendly-scanner", "sipvicious", "sipcli", "sip-scan", "sundayddr", "iWar", "sipsak"};
  size_t max_tracked_sources = 100000;  // bounds memory under a spoofed-source flood
};

// Decides which sources may talk to sip-edge: counts requests and failed authentications per source
// address and bans the abusive ones for a while. Thread-safe (the SIP thread counts requests, the
// workers report failed authentications). The clock is injected for tests.
class SourceGuard {
 public:
  using Clock = std::chrono::steady_clock;
  enum class Verdict { kAllow, kBanned };

  SourceGuard(SourceGuardOptions options, prometheus::Registry& registry);

  // One request from `ip` (with its User-Agent, possibly empty).
  Verdict onRequest(const std::string& ip, const std::string& user_agent, Clock::time_point now);
  void onAuthenticationFailure(const std::string& ip, Clock::time_point now);
  bool banned(const std::string& ip, Clock::time_point now) const;

  // Lifts expired bans and forgets idle sources. True when the set of banned sources changed since
  // the last call (so the kernel filter must be rebuilt).
  bool sweep(Clock::time_point now);
  // The banned IPv4 addresses in network byte order, for the kernel filter.
  std::vector<uint32_t> bannedIpv4() const;

 private:
  struct Source {
    Clock::time_point window_start{};
    int requests = 0;
    std::vector<Clock::time_point> failures;
    Clock::time_point banned_until{};
    Clock::time_point last_seen{};
  };
  bool allowedLocked(const std::string& ip) const;
  void banLocked(const std::string& ip, Source& source, Clock::time_point now, const char* reason);
  Source* trackLocked(const std::string& ip, Clock::time_point now);

  SourceGuardOptions options_;
  net::AddressBlocks allow_;
  std::vector<std::string> scanners_lowercase_;
  mutable std::mutex mutex_;
  std::unordered_map<std::string, Source> sources_;  // guarded by mutex_
  bool changed_ = false;                             // guarded by mutex_
  prometheus::Family<prometheus::Counter>& bans_;
  prometheus::Gauge& banned_gauge_;
};

}  // namespace tel::sip
