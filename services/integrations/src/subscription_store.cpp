#include "subscription_store.h"

#include <google/protobuf/util/time_util.h>

#include <algorithm>
#include <regex>
#include <set>

#include "tel/events/call_events.h"
#include "tel/grpc/status.h"
#include "tel/pg/arrays.h"
#include "tel/pg/rpc_status.h"
#include "webhook_signature.h"

namespace tel::integrations {
namespace {

using google::protobuf::RepeatedPtrField;
using google::protobuf::util::TimeUtil;
using grpc_util::invalidArgument;
using grpc_util::notFound;
using pg::guardedDatabaseWork;

constexpr const char* kEventTypes[] = {"call.started",        "call.ringing",         "call.answered",
                                       "call.ended",          "call.missed",          "recording.ready",
                                       "voicemail.received",  "queue.caller_joined",  "queue.caller_abandoned",
                                       "webhook.disabled"};
constexpr uint32_t kDefaultOverlapSeconds = 24 * 3600;
constexpr uint32_t kMaxOverlapSeconds = 7 * 24 * 3600;
constexpr int kMaxReplayEvents = 10000;

// Timestamps travel as microseconds since the epoch (null stays null).
constexpr const char* kSubscriptionColumns =
    "id::text, url, event_types, numbers, extensions, description, enabled, disabled_reason,"
    " (extract(epoch FROM failing_since) * 1e6)::bigint,"
    " (extract(epoch FROM created_at) * 1e6)::bigint,"
    " CASE WHEN previous_secret_expires_at > now()"
    "      THEN (extract(epoch FROM previous_secret_expires_at) * 1e6)::bigint END";

void setTime(const pqxx::field& micros, google::protobuf::Timestamp* out) {
  *out = TimeUtil::MicrosecondsToTimestamp(micros.as<int64_t>());
}

void readArray(const pqxx::field& field, RepeatedPtrField<std::string>* out) {
  auto parser = field.as_array();
  for (auto item = parser.get_next(); item.first != pqxx::array_parser::juncture::done;
       item = parser.get_next()) {
    if (item.first == pqxx::array_parser::juncture::string_value) out->Add(std::string(item.second));
  }
}

void mapSubscription(const pqxx::row& row, v1::Subscription* out) {
  out->set_id(row[0].as<std::string>());
  out->set_url(row[1].as<std::string>());
  readArray(row[2], out->mutable_event_types());
  readArray(row[3], out->mutable_numbers());
  readArray(row[4], out->mutable_extensions());
  out->set_description(row[5].as<std::string>());
  out->set_enabled(row[6].as<bool>());
  out->set_disabled_reason(row[7].as<std::string>());
  if (!row[8].is_null()) setTime(row[8], out->mutable_failing_since());
  setTime(row[9], out->mutable_created_at());
  if (!row[10].is_null()) setTime(row[10], out->mutable_previous_secret_expires_at());
}

std::string textArray(const RepeatedPtrField<std::string>& items) {
  return pg::arrayLiteral(std::vector<std::string>(items.begin(), items.end()));
}

// NOT_FOUND for an id the tenant has no subscription with; FAILED_PRECONDITION for a disabled one,
// which sends nothing until enabled again (pings and replays would only wait).
grpc::Status sendableSubscription(pqxx::work& txn, const std::string& id) {
  const auto rows = txn.exec_params("SELECT enabled FROM webhook_subscriptions WHERE id = $1", id);
  if (rows.empty()) return notFound("webhook subscription");
  if (!rows[0][0].as<bool>()) {
    return grpc::Status(grpc::StatusCode::FAILED_PRECONDITION,
                        "the subscription is disabled: enable it (PATCH enabled: true) first");
  }
  return grpc::Status::OK;
}

bool printable(const std::string& text) {
  return std::none_of(text.begin(), text.end(), [](unsigned char c) { return c < 0x20 || c == 0x7f; });
}

}  // namespace

bool isSubscribableEventType(const std::string& type) {
  return std::find(std::begin(kEventTypes), std::end(kEventTypes), type) != std::end(kEventTypes);
}

grpc::Status checkSubscriptionFields(const std::string& url, const RepeatedPtrField<std::string>& event_types,
                                     const RepeatedPtrField<std::string>& numbers,
                                     const RepeatedPtrField<std::string>& extensions,
                                     const std::string& description, const TargetGuard& guard) {
  if (url.empty()) return invalidArgument("url", "required");
  if (auto refusal = guard.refusal(url)) return invalidArgument("url", *refusal);
  if (event_types.empty() || event_types.size() > 16) {
    return invalidArgument("event_types", "1 to 16 of call.started, call.ringing, call.answered, "
                                          "call.ended, call.missed, recording.ready, voicemail.received, "
                                          "queue.caller_joined, queue.caller_abandoned, webhook.disabled");
  }
  std::set<std::string> seen;
  for (const auto& type : event_types) {
    if (!isSubscribableEventType(type)) return invalidArgument("event_types", "unknown event type \"" + type + "\"");
    if (!seen.insert(type).second) return invalidArgument("event_types", "\"" + type + "\" twice");
  }
  static const std::regex kE164(R"(^\+[1-9][0-9]{6,14}$)");
  static const std::regex kExtension(R"(^[1-9][0-9]{1,5}$)");
  if (numbers.size() > 50) return invalidArgument("numbers", "at most 50");
  for (const auto& number : numbers) {
    if (!std::regex_match(number, kE164)) return invalidArgument("numbers", "\"" + number + "\" is not an E.164 number");
  }
  if (extensions.size() > 50) return invalidArgument("extensions", "at most 50");
  for (const auto& extension : extensions) {
    if (!std::regex_match(extension, kExtension)) {
      return invalidArgument("extensions", "\"" + extension + "\" is not an extension (2 to 6 digits)");
    }
  }
  if (description.size() > 200 || !printable(description)) {
    return invalidArgument("description", "at most 200 printable characters");
  }
  return grpc::Status::OK;
}

grpc::Status SubscriptionStore::create(const v1::CreateSubscriptionRequest& request, v1::Subscription* out) {
  if (auto status = checkSubscriptionFields(request.url(), request.event_types(), request.numbers(),
                                            request.extensions(), request.description(), guard_);
      !status.ok()) {
    return status;
  }
  const std::string secret = newSigningSecret();
  return guardedDatabaseWork([&] {
    grpc::Status status;
    pool_->inTenantTransaction(request.tenant_id(), [&](pqxx::work& txn) {
      // One at a time per tenant, so that the limit holds under concurrent creates.
      txn.exec_params("SELECT pg_advisory_xact_lock(hashtext('webhook_subscriptions:' || $1))",
                      request.tenant_id());
      if (txn.exec("SELECT count(*) FROM webhook_subscriptions")[0][0].as<int>() >= max_subscriptions_) {
        status = grpc::Status(grpc::StatusCode::FAILED_PRECONDITION,
                              "a tenant has at most " + std::to_string(max_subscriptions_) +
                                  " webhook subscriptions");
        return;
      }
      const pqxx::row row = txn.exec_params1(
          std::string("INSERT INTO webhook_subscriptions (tenant_id, url, event_types, numbers, extensions,"
                      " description, secret) VALUES ($1, $2, $3::text[], $4::text[], $5::text[], $6, $7)"
                      " RETURNING ") + kSubscriptionColumns,
          request.tenant_id(), request.url(), textArray(request.event_types()), textArray(request.numbers()),
          textArray(request.extensions()), request.description(), secret);
      mapSubscription(row, out);
      out->set_secret(secret);
    });
    return status;
  });
}

grpc::Status SubscriptionStore::list(const std::string& tenant_id, v1::ListSubscriptionsResponse* out) {
  return guardedDatabaseWork([&] {
    pool_->inTenantTransaction(tenant_id, [&](pqxx::work& txn) {
      for (const auto& row : txn.exec(std::string("SELECT ") + kSubscriptionColumns +
                                      " FROM webhook_subscriptions ORDER BY created_at, id")) {
        mapSubscription(row, out->add_subscriptions());
      }
    });
    return grpc::Status::OK;
  });
}

grpc::Status SubscriptionStore::get(const v1::SubscriptionRef& ref, v1::Subscription* out) {
  if (!events::isUuid(ref.id())) return notFound("webhook subscription");
  return guardedDatabaseWork([&] {
    grpc::Status status = notFound("webhook subscription");
    pool_->inTenantTransaction(ref.tenant_id(), [&](pqxx::work& txn) {
      const auto rows = txn.exec_params(
          std::string("SELECT ") + kSubscriptionColumns + " FROM webhook_subscriptions WHERE id = $1", ref.id());
      if (rows.empty()) return;
      mapSubscription(rows[0], out);
      status = grpc::Status::OK;
    });
    return status;
  });
}

grpc::Status SubscriptionStore::update(const v1::UpdateSubscriptionRequest& request, v1::Subscription* out) {
  if (!events::isUuid(request.id())) return notFound("webhook subscription");
  static const std::set<std::string> kMaskable = {"url",        "event_types", "numbers",
                                                  "extensions", "description", "enabled"};
  const std::set<std::string> mask(request.update_mask().begin(), request.update_mask().end());
  if (mask.empty()) return invalidArgument("update_mask", "name at least one field to change");
  for (const auto& field : mask) {
    if (!kMaskable.count(field)) return invalidArgument("update_mask", "\"" + field + "\" cannot be changed");
  }
  return guardedDatabaseWork([&] {
    grpc::Status status = notFound("webhook subscription");
    pool_->inTenantTransaction(request.tenant_id(), [&](pqxx::work& txn) {
      auto current = txn.exec_params(
          std::string("SELECT ") + kSubscriptionColumns + " FROM webhook_subscriptions WHERE id = $1 FOR UPDATE",
          request.id());
      if (current.empty()) return;
      v1::Subscription merged;
      mapSubscription(current[0], &merged);
      if (mask.count("url")) merged.set_url(request.url());
      if (mask.count("event_types")) *merged.mutable_event_types() = request.event_types();
      if (mask.count("numbers")) *merged.mutable_numbers() = request.numbers();
      if (mask.count("extensions")) *merged.mutable_extensions() = request.extensions();
      if (mask.count("description")) merged.set_description(request.description());
      status = checkSubscriptionFields(merged.url(), merged.event_types(), merged.numbers(),
                                       merged.extensions(), merged.description(), guard_);
      if (!status.ok()) return;
      // Enabling again forgets the failure that disabled it; disabling by hand says so.
      const bool enabled = mask.count("enabled") ? request.enabled() : merged.enabled();
      const pqxx::row row = txn.exec_params1(
          std::string("UPDATE webhook_subscriptions SET url = $2, event_types = $3::text[], numbers = $4::text[],"
                      " extensions = $5::text[], description = $6, enabled = $7,"
                      " disabled_reason = CASE WHEN $7 THEN '' WHEN enabled THEN 'by_tenant' ELSE disabled_reason END,"
                      " failing_since = CASE WHEN $7 AND NOT enabled THEN NULL ELSE failing_since END"
                      " WHERE id = $1 RETURNING ") + kSubscriptionColumns,
          request.id(), merged.url(), textArray(merged.event_types()), textArray(merged.numbers()),
          textArray(merged.extensions()), merged.description(), enabled);
      mapSubscription(row, out);
    });
    return status;
  });
}

grpc::Status SubscriptionStore::remove(const v1::SubscriptionRef& ref) {
  if (!events::isUuid(ref.id())) return notFound("webhook subscription");
  return guardedDatabaseWork([&] {
    grpc::Status status;
    pool_->inTenantTransaction(ref.tenant_id(), [&](pqxx::work& txn) {
      if (txn.exec_params("DELETE FROM webhook_subscriptions WHERE id = $1", ref.id()).affected_rows() == 0) {
        status = notFound("webhook subscription");
      }
    });
    return status;
  });
}

grpc::Status SubscriptionStore::rotateSecret(const v1::RotateSecretRequest& request, v1::RotatedSecret* out) {
  if (!events::isUuid(request.id())) return notFound("webhook subscription");
  if (request.overlap_seconds() > kMaxOverlapSeconds) {
    return invalidArgument("overlap_seconds", "at most 604800 (7 days)");
  }
  const uint32_t overlap = request.overlap_seconds() == 0 ? kDefaultOverlapSeconds : request.overlap_seconds();
  const std::string secret = newSigningSecret();
  return guardedDatabaseWork([&] {
    grpc::Status status = notFound("webhook subscription");
    pool_->inTenantTransaction(request.tenant_id(), [&](pqxx::work& txn) {
      const auto rows = txn.exec_params(
          "UPDATE webhook_subscriptions SET previous_secret = secret, secret = $2,"
          " previous_secret_expires_at = now() + make_interval(secs => $3)"
          " WHERE id = $1 RETURNING (extract(epoch FROM previous_secret_expires_at) * 1e6)::bigint",
          request.id(), secret, static_cast<int64_t>(overlap));
      if (rows.empty()) return;
      out->set_secret(secret);
      setTime(rows[0][0], out->mutable_previous_secret_expires_at());
      status = grpc::Status::OK;
    });
    return status;
  });
}

grpc::Status SubscriptionStore::ping(const v1::SubscriptionRef& ref, v1::QueuedEvents* out) {
  if (!events::isUuid(ref.id())) return notFound("webhook subscription");
  return guardedDatabaseWork([&] {
    grpc::Status status;
    pool_->inTenantTransaction(ref.tenant_id(), [&](pqxx::work& txn) {
      status = sendableSubscription(txn, ref.id());
      if (!status.ok()) return;
      const pqxx::row row = txn.exec_params1(
          "SELECT tel_add_webhook_tenant_event($1, 'webhook.ping',"
          " jsonb_build_object('subscription_id', $2::uuid, 'message', 'Webhook test from the dashboard or API'),"
          " $2::uuid)::text",
          ref.tenant_id(), ref.id());
      out->set_events(1);
      out->set_event_id(row[0].as<std::string>());
    });
    return status;
  });
}

grpc::Status SubscriptionStore::listAttempts(const v1::ListAttemptsRequest& request,
                                             v1::ListAttemptsResponse* out) {
  if (!events::isUuid(request.subscription_id())) return notFound("webhook subscription");
  if (!request.event_id().empty() && !events::isUuid(request.event_id())) {
    return invalidArgument("event_id", "not an event id");
  }
  if (request.limit() > 500) return invalidArgument("limit", "from 1 to 500");
  const int limit = request.limit() == 0 ? 100 : static_cast<int>(request.limit());
  return guardedDatabaseWork([&] {
    grpc::Status status = notFound("webhook subscription");
    pool_->inTenantTransaction(request.tenant_id(), [&](pqxx::work& txn) {
      if (txn.exec_params("SELECT 1 FROM webhook_subscriptions WHERE id = $1", request.subscription_id()).empty()) {
        return;
      }
      status = grpc::Status::OK;
      const auto rows = txn.exec_params(
          "SELECT a.event_id::text, e.type, coalesce(e.call_id::text, ''), e.sequence, a.attempt,"
          " (extract(epoch FROM a.attempted_at) * 1e6)::bigint, a.status_code, a.latency_ms, a.error,"
          " a.response_excerpt, a.outcome, (extract(epoch FROM a.next_attempt_at) * 1e6)::bigint"
          " FROM webhook_attempts a JOIN webhook_events e ON e.id = a.event_id"
          " WHERE a.subscription_id = $1 AND ($2 = '' OR a.event_id = nullif($2, '')::uuid)"
          " ORDER BY a.id DESC LIMIT $3",
          request.subscription_id(), request.event_id(), limit);
      for (const auto& row : rows) {
        auto* attempt = out->add_attempts();
        attempt->set_event_id(row[0].as<std::string>());
        attempt->set_event_type(row[1].as<std::string>());
        attempt->set_call_id(row[2].as<std::string>());
        attempt->set_sequence(row[3].as<uint64_t>());
        attempt->set_attempt(row[4].as<uint32_t>());
        setTime(row[5], attempt->mutable_attempted_at());
        attempt->set_status_code(row[6].as<uint32_t>());
        attempt->set_latency_ms(row[7].as<uint32_t>());
        attempt->set_error(row[8].as<std::string>());
        attempt->set_response_excerpt(row[9].as<std::string>());
        attempt->set_outcome(row[10].as<std::string>());
        if (!row[11].is_null()) setTime(row[11], attempt->mutable_next_attempt_at());
      }
    });
    return status;
  });
}

grpc::Status SubscriptionStore::replay(const v1::ReplayRequest& request, v1::QueuedEvents* out) {
  if (!events::isUuid(request.subscription_id())) return notFound("webhook subscription");
  const bool one = !request.event_id().empty();
  if (one == request.has_since()) return invalidArgument("event_id", "give either event_id or since");
  if (one && !events::isUuid(request.event_id())) return notFound("webhook event");
  return guardedDatabaseWork([&] {
    grpc::Status status;
    pool_->inTenantTransaction(request.tenant_id(), [&](pqxx::work& txn) {
      status = sendableSubscription(txn, request.subscription_id());
      if (!status.ok()) return;
      if (one) {
        const auto rows = txn.exec_params(
            "INSERT INTO webhook_deliveries (tenant_id, subscription_id, event_id, call_id, sequence)"
            " SELECT tenant_id, $1, id, call_id, sequence FROM webhook_events WHERE id = $2"
            " RETURNING event_id::text",
            request.subscription_id(), request.event_id());
        if (rows.empty()) {
          status = notFound("webhook event");
          return;
        }
        out->set_events(1);
        out->set_event_id(rows[0][0].as<std::string>());
        return;
      }
      // Every event since then that this subscription takes, as it would have received them.
      const std::string matching =
          " FROM webhook_events e JOIN webhook_subscriptions s ON s.id = $1"
          " LEFT JOIN webhook_calls c ON c.call_id = e.call_id"
          " WHERE e.created_at >= to_timestamp($2::double precision / 1e6) AND e.type = ANY (s.event_types)"
          " AND (cardinality(s.numbers) = 0 OR s.numbers && coalesce(c.numbers, '{}'))"
          " AND (cardinality(s.extensions) = 0 OR s.extensions && coalesce(c.extensions, '{}'))";
      const int64_t since = TimeUtil::TimestampToMicroseconds(request.since());
      if (txn.exec_params1("SELECT count(*)" + matching, request.subscription_id(), since)[0].as<int64_t>() >
          kMaxReplayEvents) {
        status = grpc::Status(grpc::StatusCode::FAILED_PRECONDITION,
                              "more than 10000 events since then: replay a shorter period");
        return;
      }
      const auto queued = txn.exec_params(
          "INSERT INTO webhook_deliveries (tenant_id, subscription_id, event_id, call_id, sequence)"
          " SELECT e.tenant_id, $1, e.id, e.call_id, e.sequence" + matching + " ORDER BY e.created_at, e.sequence",
          request.subscription_id(), since);
      out->set_events(static_cast<uint32_t>(queued.affected_rows()));
    });
    return status;
  });
}

}  // namespace tel::integrations
