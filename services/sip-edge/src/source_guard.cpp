#include "source_guard.h"

#include <arpa/inet.h>

#include <algorithm>
#include <cstring>

namespace tel::sip {
namespace {

std::string lowercase(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(),
                 [](unsigned char c) { return std::tolower(c); });
  return text;
}

}  // namespace

SourceGuard::SourceGuard(SourceGuardOptions options, prometheus::Registry& registry)
    : options_(std::move(options)),
      allow_(options_.allow),
      bans_(prometheus::BuildCounter()
                .Name("tel_sip_source_bans_total")
                .Help("Sources banned, by reason (flood, auth_failures, scanner)")
                .Register(registry)),
      banned_gauge_(prometheus::BuildGauge()
                        .Name("tel_sip_banned_sources")
                        .Help("Sources banned right now")
                        .Register(registry)
                        .Add({})) {
  for (const auto& agent : options_.scanner_user_agents) {
    scanners_lowercase_.push_back(lowercase(agent));
  }
  // Every reason exists from the start, so that rates over them are defined.
  for (const char* reason : {"flood", "auth_failures", "scanner"}) bans_.Add({{"reason", reason}});
}

bool SourceGuard::allowedLocked(const std::string& ip) const { return allow_.contains(ip); }

SourceGuard::Source* SourceGuard::trackLocked(const std::string& ip, Clock::time_point now) {
  auto it = sources_.find(ip);
  if (it == sources_.end()) {
    if (sources_.size() >= options_.max_tracked_sources) return nullptr;
    it = sources_.emplace(ip, Source{}).first;
    it->second.window_start = now;
  }
  it->second.last_seen = now;
  return &it->second;
}

void SourceGuard::banLocked(const std::string& ip, Source& source, Clock::time_point now,
                            const char* reason) {
  if (source.banned_until <= now) {
    changed_ = true;
    banned_gauge_.Increment();
  }
  source.banned_until = now + options_.ban_time;
  bans_.Add({{"reason", reason}}).Increment();
  (void)ip;
}

SourceGuard::Verdict SourceGuard::onRequest(const std::string& ip, const std::string& user_agent,
                                            Clock::time_point now) {
  std::lock_guard lock(mutex_);
  if (allowedLocked(ip)) return Verdict::kAllow;
  Source* source = trackLocked(ip, now);
  if (source == nullptr) return Verdict::kAllow;
  if (source->banned_until > now) return Verdict::kBanned;
  if (!user_agent.empty()) {
    const std::string agent = lowercase(user_agent);
    for (const auto& scanner : scanners_lowercase_) {
      if (agent.find(scanner) != std::string::npos) {
        banLocked(ip, *source, now, "scanner");
        return Verdict::kBanned;
      }
    }
  }
  if (now - source->window_start >= options_.flood_window) {
    source->window_start = now;
    source->requests = 0;
  }
  if (++source->requests > options_.flood_requests) {
    banLocked(ip, *source, now, "flood");
    return Verdict::kBanned;
  }
  return Verdict::kAllow;
}

void SourceGuard::onAuthenticationFailure(const std::string& ip, Clock::time_point now) {
  std::lock_guard lock(mutex_);
  if (allowedLocked(ip)) return;
  Source* source = trackLocked(ip, now);
  if (source == nullptr) return;
  auto& failures = source->failures;
  failures.erase(
      std::remove_if(failures.begin(), failures.end(),
                     [&](Clock::time_point at) { return now - at >= options_.auth_window; }),
      failures.end());
  failures.push_back(now);
  if (static_cast<int>(failures.size()) >= options_.auth_failures) {
    failures.clear();
    banLocked(ip, *source, now, "auth_failures");
  }
}

bool SourceGuard::banned(const std::string& ip, Clock::time_point now) const {
  std::lock_guard lock(mutex_);
  auto it = sources_.find(ip);
  return it != sources_.end() && it->second.banned_until > now;
}

bool SourceGuard::sweep(Clock::time_point now) {
  std::lock_guard lock(mutex_);
  for (auto it = sources_.begin(); it != sources_.end();) {
    Source& source = it->second;
    const bool was_banned = source.banned_until != Clock::time_point{};
    if (was_banned && source.banned_until <= now) {
      source.banned_until = {};
      changed_ = true;
      banned_gauge_.Decrement();
    }
    const bool idle =
        now - source.last_seen > std::max(options_.auth_window, options_.flood_window);
    if (source.banned_until == Clock::time_point{} && idle) {
      it = sources_.erase(it);
    } else {
      ++it;
    }
  }
  const bool changed = changed_;
  changed_ = false;
  return changed;
}

std::vector<uint32_t> SourceGuard::bannedIpv4() const {
  std::lock_guard lock(mutex_);
  std::vector<uint32_t> addresses;
  for (const auto& [ip, source] : sources_) {
    if (source.banned_until == Clock::time_point{}) continue;
    in_addr address;
    if (inet_pton(AF_INET, ip.c_str(), &address) == 1) addresses.push_back(address.s_addr);
  }
  return addresses;
}

}  // namespace tel::sip
