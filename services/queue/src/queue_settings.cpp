#include "queue_settings.h"

#include <regex>
#include <set>
#include <string>

namespace tel::queue {
namespace {

constexpr const char* kFieldPayload = "tel.field";
constexpr uint32_t kDefaultRetrySeconds = 5;

absl::Status invalid(const std::string& field, const std::string& why) {
  absl::Status status = absl::InvalidArgumentError(field + ": " + why);
  status.SetPayload(kFieldPayload, absl::Cord(field));
  return status;
}

// 0 takes the default; otherwise the value must lie within [low, high].
absl::Status bounded(uint32_t& value, const char* field, uint32_t fallback, uint32_t low, uint32_t high) {
  if (value == 0) value = fallback;
  if (value < low || value > high) {
    return invalid(field, "must be " + std::to_string(low) + " to " + std::to_string(high));
  }
  return absl::OkStatus();
}

bool isUuid(const std::string& text) {
  static const std::regex kUuid("[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}");
  return std::regex_match(text, kUuid);
}

}  // namespace

absl::Status normalizeSettings(v1::QueueSettings& settings) {
  if (settings.name().empty() || settings.name().size() > 100) return invalid("name", "1 to 100 characters required");
  if (settings.name().find_first_of("\r\n\t") != std::string::npos) return invalid("name", "no control characters");
  if (settings.strategy().empty()) settings.set_strategy("longest_idle");
  static const std::set<std::string> kStrategies{"ring_all", "longest_idle", "round_robin", "fewest_calls", "linear"};
  if (!kStrategies.count(settings.strategy())) {
    return invalid("strategy", "one of ring_all, longest_idle, round_robin, fewest_calls, linear");
  }
  if (settings.members_size() > 200) return invalid("members", "at most 200");
  std::set<std::string> seen;
  for (int i = 0; i < settings.members_size(); ++i) {
    const std::string where = "members[" + std::to_string(i) + "]";
    const auto& member = settings.members(i);
    if (!isUuid(member.account_id())) return invalid(where + ".account_id", "a SIP account id required");
    if (!seen.insert(member.account_id()).second) return invalid(where + ".account_id", "listed twice");
    if (member.penalty() > 100) return invalid(where + ".penalty", "must be 0 to 100");
  }
  uint32_t value = settings.ring_timeout_seconds();
  if (auto status = bounded(value, "ring_timeout_seconds", 15, 5, 120); !status.ok()) return status;
  settings.set_ring_timeout_seconds(value);
  value = settings.ring_at_once();
  if (auto status = bounded(value, "ring_at_once", 1, 1, 20); !status.ok()) return status;
  settings.set_ring_at_once(value);
  if (settings.wrapup_seconds() > 3600) return invalid("wrapup_seconds", "must be 0 to 3600");
  if (settings.max_wait_seconds() != 0 && (settings.max_wait_seconds() < 10 || settings.max_wait_seconds() > 86400)) {
    return invalid("max_wait_seconds", "0 (no limit) or 10 to 86400");
  }
  if (settings.max_callers() > 10000) return invalid("max_callers", "0 (no limit) or 1 to 10000");
  static const std::regex kPrompt("[a-z0-9_-]{1,64}");
  if (!settings.music_prompt().empty() && !std::regex_match(settings.music_prompt(), kPrompt)) {
    return invalid("music_prompt", "a prompt name (1 to 64 of a-z 0-9 - _)");
  }
  if (settings.pause_after_misses() > 100) return invalid("pause_after_misses", "0 (never) or 1 to 100");
  if (settings.announce_every_seconds() != 0 &&
      (settings.announce_every_seconds() < 5 || settings.announce_every_seconds() > 600)) {
    return invalid("announce_every_seconds", "0 (never) or 5 to 600");
  }
  value = settings.retry_seconds();
  if (auto status = bounded(value, "retry_seconds", kDefaultRetrySeconds, 1, 300); !status.ok()) return status;
  settings.set_retry_seconds(value);
  value = settings.service_level_seconds();
  if (auto status = bounded(value, "service_level_seconds", 20, 5, 600); !status.ok()) return status;
  settings.set_service_level_seconds(value);
  return absl::OkStatus();
}

int64_t retryMs(const v1::QueueSettings& settings) {
  return (settings.retry_seconds() == 0 ? kDefaultRetrySeconds : settings.retry_seconds()) * 1000LL;
}

grpc::Status settingsRefusal(const absl::Status& refusal) {
  const auto field = refusal.GetPayload(kFieldPayload);
  return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, std::string(refusal.message()),
                      field ? std::string(*field) : std::string());
}

}  // namespace tel::queue
