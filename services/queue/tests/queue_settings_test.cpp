#include <catch2/catch.hpp>

#include "queue_settings.h"

using tel::queue::normalizeSettings;
using tel::queue::settingsRefusal;
using tel::queue::v1::QueueSettings;

namespace {

QueueSettings valid() {
  QueueSettings settings;
  settings.set_name("Sales");
  auto* member = settings.add_members();
  member->set_account_id("3f2b8f9e-1d2c-4b5a-9e8f-7a6b5c4d3e2f");
  return settings;
}

std::string refusal(const QueueSettings& settings) {
  QueueSettings copy = settings;
  auto status = normalizeSettings(copy);
  if (status.ok()) return "";
  // The API's error names the same field as the message.
  const std::string message(status.message());
  CHECK(settingsRefusal(status).error_details() == message.substr(0, message.find(':')));
  CHECK(settingsRefusal(status).error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  return message;
}

}  // namespace

TEST_CASE("queue settings get their defaults") {
  QueueSettings settings = valid();
  REQUIRE(normalizeSettings(settings).ok());
  CHECK(settings.strategy() == "longest_idle");
  CHECK(settings.ring_timeout_seconds() == 15);
  CHECK(settings.ring_at_once() == 1);
  CHECK(settings.service_level_seconds() == 20);
  CHECK(settings.max_wait_seconds() == 0);
  CHECK(settings.retry_seconds() == 5);
  // A queue saved before retry_seconds existed rests its agents 5 s too.
  CHECK(tel::queue::retryMs(QueueSettings()) == 5000);
}

TEST_CASE("bad queue settings are refused naming the field") {
  auto settings = valid();
  settings.set_name("");
  CHECK(refusal(settings).rfind("name:", 0) == 0);
  settings = valid();
  settings.set_strategy("random");
  CHECK(refusal(settings).rfind("strategy:", 0) == 0);
  settings = valid();
  settings.mutable_members(0)->set_account_id("101");
  CHECK(refusal(settings).rfind("members[0].account_id:", 0) == 0);
  settings = valid();
  *settings.add_members() = settings.members(0);
  CHECK(refusal(settings).rfind("members[1].account_id:", 0) == 0);
  settings = valid();
  settings.mutable_members(0)->set_penalty(101);
  CHECK(refusal(settings).rfind("members[0].penalty:", 0) == 0);
  settings = valid();
  settings.set_ring_timeout_seconds(3);
  CHECK(refusal(settings).rfind("ring_timeout_seconds:", 0) == 0);
  settings = valid();
  settings.set_ring_at_once(21);
  CHECK(refusal(settings).rfind("ring_at_once:", 0) == 0);
  settings = valid();
  settings.set_retry_seconds(301);
  CHECK(refusal(settings).rfind("retry_seconds:", 0) == 0);
  settings = valid();
  settings.set_wrapup_seconds(3601);
  CHECK(refusal(settings).rfind("wrapup_seconds:", 0) == 0);
  settings = valid();
  settings.set_max_wait_seconds(5);
  CHECK(refusal(settings).rfind("max_wait_seconds:", 0) == 0);
  settings = valid();
  settings.set_max_callers(10001);
  CHECK(refusal(settings).rfind("max_callers:", 0) == 0);
  settings = valid();
  settings.set_music_prompt("../etc/passwd");
  CHECK(refusal(settings).rfind("music_prompt:", 0) == 0);
  settings = valid();
  settings.set_service_level_seconds(601);
  CHECK(refusal(settings).rfind("service_level_seconds:", 0) == 0);
}
