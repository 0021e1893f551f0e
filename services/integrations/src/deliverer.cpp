#include "deliverer.h"

#include <arpa/inet.h>
#include <sys/socket.h>

#include <algorithm>
#include <nlohmann/json.hpp>
#include <pqxx/pqxx>
#include <thread>

#include "tel/metrics/admin_server.h"
#include "webhook_signature.h"

namespace tel::integrations {
namespace {

constexpr size_t kExcerptBytes = 256;
constexpr size_t kMaxResponseBytes = 1 << 20;  // a receiver that answers more is cut off

std::string addressText(const curl_sockaddr& address) {
  char text[INET6_ADDRSTRLEN] = {};
  if (address.family == AF_INET) {
    inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in*>(&address.addr)->sin_addr, text, sizeof text);
  } else if (address.family == AF_INET6) {
    inet_ntop(AF_INET6, &reinterpret_cast<const sockaddr_in6*>(&address.addr)->sin6_addr, text, sizeof text);
  }
  return text;
}

int64_t unixSeconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

std::string printableUtf8(const std::string& raw) {
  std::string out;
  out.reserve(raw.size());
  for (size_t i = 0; i < raw.size();) {
    const auto c = static_cast<unsigned char>(raw[i]);
    size_t length = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xe ? 3 : (c >> 3) == 0x1e ? 4 : 0;
    bool valid = length > 0 && i + length <= raw.size() && c != 0xc0 && c != 0xc1 && c < 0xf5;
    for (size_t k = 1; valid && k < length; ++k) valid = (static_cast<unsigned char>(raw[i + k]) >> 6) == 0x2;
    if (valid && length > 2) {  // no overlong forms, UTF-16 surrogates or code points past U+10FFFF
      const auto next = static_cast<unsigned char>(raw[i + 1]);
      valid = !(c == 0xe0 && next < 0xa0) && !(c == 0xed && next >= 0xa0) && !(c == 0xf0 && next < 0x90) &&
              !(c == 0xf4 && next > 0x8f);
    }
    if (!valid) {
      out += "\xEF\xBF\xBD";
      ++i;
      continue;
    }
    if (length == 1 && (c < 0x20 || c == 0x7f) && c != '\t' && c != '\n') {
      out += ' ';
    } else {
      out.append(raw, i, length);
    }
    i += length;
  }
  return out;
}

// One HTTP attempt in flight: what curl reads from and writes into lives here until it is done.
struct Deliverer::Attempt {
  Deliverer* owner = nullptr;
  LeasedDelivery delivery;
  std::string body;
  curl_slist* headers = nullptr;
  std::string excerpt;
  size_t received = 0;
  std::string refused_address;  // set when the guard refused the address curl was to connect to
  std::chrono::system_clock::time_point attempted_at;
  std::chrono::steady_clock::time_point started;
};

// Webhook lag, retries included: from a fraction of a second to the hours of the retry schedule.
const prometheus::Histogram::BucketBoundaries kLagBuckets{0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 1800, 3600, 18000};

std::string webhookBody(const LeasedDelivery& delivery) {
  nlohmann::ordered_json body;
  body["id"] = delivery.event_id;
  body["type"] = delivery.event_type;
  body["created_at"] = delivery.created_at;
  body["tenant_id"] = delivery.tenant_id;
  body["call_id"] = delivery.call_id.empty() ? nlohmann::ordered_json(nullptr) : nlohmann::ordered_json(delivery.call_id);
  body["sequence"] = delivery.sequence;
  body["data"] = nlohmann::ordered_json::parse(delivery.data);
  return body.dump();
}

Deliverer::Deliverer(std::shared_ptr<pg::ConnectionPool> pool, const TargetGuard& guard, DeliveryOptions options,
                     log::Logger logger, prometheus::Registry& registry)
    : pool_(std::move(pool)),
      guard_(guard),
      options_(std::move(options)),
      log_(std::move(logger)),
      multi_(curl_multi_init()),
      attempts_(prometheus::BuildCounter()
                    .Name("tel_webhooks_attempts_total")
                    .Help("Webhook HTTP attempts, by outcome (delivered, retrying, given_up, superseded)")
                    .Register(registry)),
      attempt_seconds_(prometheus::BuildHistogram()
                           .Name("tel_webhooks_attempt_duration_seconds")
                           .Help("From sending a webhook to its answer (or failure)")
                           .Register(registry)
                           .Add({}, metrics::latencyBuckets())),
      event_to_delivery_seconds_(prometheus::BuildHistogram()
                                     .Name("tel_webhooks_event_to_delivery_seconds")
                                     .Help("From an event occurring to its webhook being accepted by the endpoint")
                                     .Register(registry)
                                     .Add({}, metrics::latencyBuckets())),
      tenant_delivery_lag_(prometheus::BuildHistogram()
                               .Name("tel_webhooks_tenant_delivery_lag_seconds")
                               .Help("From an event occurring to its webhook being delivered, retries included, per "
                                     "tenant")
                               .Register(registry)),
      tenants_(options_.metrics_max_tenants),
      in_flight_gauge_(prometheus::BuildGauge()
                           .Name("tel_webhooks_in_flight")
                           .Help("Webhook requests open now")
                           .Register(registry)
                           .Add({})),
      database_failures_(prometheus::BuildCounter()
                             .Name("tel_webhooks_delivery_database_failures_total")
                             .Help("Leasing or recording deliveries failed (retried)")
                             .Register(registry)
                             .Add({})) {
  if (multi_ == nullptr) throw std::runtime_error("curl_multi_init failed");
  for (const char* outcome : {"delivered", "retrying", "given_up", "superseded"}) attempts_.Add({{"outcome", outcome}});
  tenant_delivery_lag_.Add({{"tenant_id", metrics::TenantLabels::kOther}}, kLagBuckets);
}

Deliverer::~Deliverer() {
  for (auto& [easy, attempt] : in_flight_) {
    curl_multi_remove_handle(multi_, easy);
    curl_easy_cleanup(easy);
    curl_slist_free_all(attempt->headers);
  }
  curl_multi_cleanup(multi_);
}

std::vector<LeasedDelivery> Deliverer::lease(int room) {
  std::vector<LeasedDelivery> leased;
  // Long enough for the attempt and recording it; a crashed instance's deliveries are due again soon after.
  const int64_t lease_ms = (options_.timeout + std::chrono::seconds(5)).count();
  pool_->inTransaction([&](pqxx::work& txn) {
    leased.clear();
    const auto rows = txn.exec_params(
        "SELECT delivery_id, leased_until::text, tenant_id::text, subscription_id::text, url, secret,"
        " previous_secret, event_id::text, event_type, coalesce(call_id::text, ''), sequence,"
        " to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"'), data::text, attempts,"
        " (extract(epoch FROM created_at) * 1e6)::bigint"
        " FROM tel_claim_webhook_deliveries($1, $2, make_interval(secs => $3::double precision / 1000))",
        room, options_.per_subscription_in_flight, lease_ms);
    for (const auto& row : rows) {
      LeasedDelivery delivery;
      delivery.delivery_id = row[0].as<int64_t>();
      delivery.lease = row[1].as<std::string>();
      delivery.tenant_id = row[2].as<std::string>();
      delivery.subscription_id = row[3].as<std::string>();
      delivery.url = row[4].as<std::string>();
      delivery.secrets.push_back(row[5].as<std::string>());
      if (!row[6].is_null()) delivery.secrets.push_back(row[6].as<std::string>());
      delivery.event_id = row[7].as<std::string>();
      delivery.event_type = row[8].as<std::string>();
      delivery.call_id = row[9].as<std::string>();
      delivery.sequence = row[10].as<uint64_t>();
      delivery.created_at = row[11].as<std::string>();
      delivery.data = row[12].as<std::string>();
      delivery.attempts = row[13].as<int>();
      delivery.created_micros = row[14].as<int64_t>();
      leased.push_back(std::move(delivery));
    }
  });
  return leased;
}

curl_socket_t Deliverer::openCheckedSocket(void* context, curlsocktype purpose, curl_sockaddr* address) {
  auto* attempt = static_cast<Attempt*>(context);
  const std::string ip = addressText(*address);
  if (purpose != CURLSOCKTYPE_IPCXN || !attempt->owner->guard_.allowsAddress(ip)) {
    attempt->refused_address = ip.empty() ? "an unknown address" : ip;
    return CURL_SOCKET_BAD;
  }
  return socket(address->family, address->socktype, address->protocol);
}

size_t Deliverer::keepExcerpt(char* data, size_t size, size_t count, void* context) {
  auto* attempt = static_cast<Attempt*>(context);
  const size_t bytes = size * count;
  attempt->received += bytes;
  if (attempt->received > kMaxResponseBytes) return 0;  // curl stops with a write error
  if (attempt->excerpt.size() < kExcerptBytes) {
    attempt->excerpt.append(data, std::min(bytes, kExcerptBytes - attempt->excerpt.size()));
  }
  return bytes;
}

void Deliverer::start(LeasedDelivery delivery) {
  auto attempt = std::make_unique<Attempt>();
  attempt->owner = this;
  attempt->delivery = std::move(delivery);
  const LeasedDelivery& d = attempt->delivery;
  attempt->attempted_at = std::chrono::system_clock::now();
  attempt->started = std::chrono::steady_clock::now();
  try {
    attempt->body = webhookBody(d);
  } catch (const std::exception& e) {
    // Stored data that is not JSON cannot be sent, now or later.
    log_.error("webhook event data unusable", {{"event_id", d.event_id}, {"tenant_id", d.tenant_id},
                                                {"error", e.what()}});
    record(*attempt, 0, "event data is not JSON", false);
    return;
  }
  const int64_t timestamp = unixSeconds();
  const auto signature = signatureHeader(d.secrets, d.event_id, timestamp, attempt->body);
  if (!signature) {
    record(*attempt, 0, "the subscription's secret is unusable", false);
    return;
  }
  for (const std::string& header :
       {std::string("Content-Type: application/json"), "webhook-id: " + d.event_id,
        "webhook-timestamp: " + std::to_string(timestamp), "webhook-signature: " + *signature,
        std::string("Expect:")}) {
    attempt->headers = curl_slist_append(attempt->headers, header.c_str());
  }
  CURL* easy = curl_easy_init();
  if (easy == nullptr) throw std::runtime_error("curl_easy_init failed");
  curl_easy_setopt(easy, CURLOPT_URL, d.url.c_str());
  curl_easy_setopt(easy, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(easy, CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(easy, CURLOPT_PROXY, "");  // no proxy from the environment: it would bypass the guard
  curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, static_cast<long>(options_.timeout.count()));
  curl_easy_setopt(easy, CURLOPT_USERAGENT, "tel-webhooks/1");
  curl_easy_setopt(easy, CURLOPT_HTTPHEADER, attempt->headers);
  curl_easy_setopt(easy, CURLOPT_POSTFIELDS, attempt->body.data());
  curl_easy_setopt(easy, CURLOPT_POSTFIELDSIZE, static_cast<long>(attempt->body.size()));
  curl_easy_setopt(easy, CURLOPT_OPENSOCKETFUNCTION, &Deliverer::openCheckedSocket);
  curl_easy_setopt(easy, CURLOPT_OPENSOCKETDATA, attempt.get());
  curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, &Deliverer::keepExcerpt);
  curl_easy_setopt(easy, CURLOPT_WRITEDATA, attempt.get());
  curl_multi_add_handle(multi_, easy);
  in_flight_.emplace(easy, std::move(attempt));
}

void Deliverer::finish(CURL* easy, Attempt& attempt, CURLcode result) {
  long status = 0;
  curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &status);
  std::string error;
  if (result != CURLE_OK && !attempt.refused_address.empty()) {
    // (curl may have tried a refused address before connecting to an allowed one: then it is fine.)
    error = "refused: " + attempt.refused_address + " is not a public address";
  } else if (result == CURLE_OPERATION_TIMEDOUT) {
    error = "timeout after " + std::to_string(options_.timeout.count()) + " ms";
  } else if (result != CURLE_OK) {
    error = curl_easy_strerror(result);
  } else if (status < 200 || status > 299) {
    error = "HTTP " + std::to_string(status);
  }
  const bool delivered = error.empty();
  attempt_seconds_.Observe(
      std::chrono::duration<double>(std::chrono::steady_clock::now() - attempt.started).count());
  record(attempt, static_cast<int>(status), error, delivered);
}

void Deliverer::record(const Attempt& attempt, int status, const std::string& error, bool delivered) {
  const LeasedDelivery& d = attempt.delivery;
  std::optional<std::string> next_attempt;
  if (!delivered) {
    if (auto delay = options_.schedule.delayAfter(d.attempts + 1)) {
      next_attempt = std::to_string(
          std::chrono::duration_cast<std::chrono::microseconds>(
              (attempt.attempted_at + *delay).time_since_epoch()).count());
    }
  }
  const int latency_ms = static_cast<int>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                              std::chrono::steady_clock::now() - attempt.started)
                                              .count());
  const int64_t attempted_micros =
      std::chrono::duration_cast<std::chrono::microseconds>(attempt.attempted_at.time_since_epoch()).count();
  const std::string excerpt = printableUtf8(attempt.excerpt);
  std::string outcome = "superseded";
  // Retried while the database is unreachable: an attempt nobody hears of is sent again after
  // its lease, which is what a crash costs too, but recording it is better.
  for (auto backoff = std::chrono::milliseconds(100);; backoff = std::min(backoff * 2, std::chrono::milliseconds(5000))) {
    try {
      pool_->inTransaction([&](pqxx::work& txn) {
        outcome = txn.exec_params1(
                         "SELECT tel_finish_webhook_delivery($1, $2::timestamptz,"
                         " to_timestamp($3::double precision / 1e6), $4, $5, $6, $7, $8,"
                         " to_timestamp($9::double precision / 1e6),"
                         " make_interval(secs => $10::double precision / 1000))",
                         d.delivery_id, d.lease, attempted_micros, status, latency_ms, printableUtf8(error),
                         excerpt, delivered, next_attempt,
                         static_cast<int64_t>(options_.disable_after.count()))[0]
                      .as<std::string>();
      });
      break;
    } catch (const pqxx::sql_error& e) {
      // A bug, not an outage: retrying would stop every delivery behind it. The lease runs out
      // and the delivery goes out again.
      database_failures_.Increment();
      log_.error("recording a webhook attempt failed", {{"event_id", d.event_id}, {"error", e.what()}});
      break;
    } catch (const std::exception& e) {
      database_failures_.Increment();
      log_.error("recording a webhook attempt failed; retrying", {{"event_id", d.event_id}, {"error", e.what()}});
      std::this_thread::sleep_for(backoff);
    }
  }
  attempts_.Add({{"outcome", outcome}}).Increment();
  const auto log = log_.withFields({{"tenant_id", d.tenant_id}, {"call_id", d.call_id}, {"event_id", d.event_id},
                                    {"type", d.event_type}, {"subscription_id", d.subscription_id},
                                    {"attempt", std::to_string(d.attempts + 1)}, {"outcome", outcome},
                                    {"status", std::to_string(status)}});
  if (delivered) {
    const int64_t now_micros = std::chrono::duration_cast<std::chrono::microseconds>(
                                   std::chrono::system_clock::now().time_since_epoch()).count();
    const double lag_seconds = std::max<int64_t>(0, now_micros - d.created_micros) / 1e6;
    event_to_delivery_seconds_.Observe(lag_seconds);
    tenant_delivery_lag_.Add({{"tenant_id", tenants_.of(d.tenant_id)}}, kLagBuckets).Observe(lag_seconds);
    log.info("webhook delivered");
  } else {
    log.warn("webhook attempt failed", {{"error", error}});
  }
}

void Deliverer::run(const std::atomic<bool>& stop) {
  auto next_lease = std::chrono::steady_clock::now();
  while (!stop) {
    const int room = options_.max_in_flight - static_cast<int>(in_flight_.size());
    if (room > 0 && std::chrono::steady_clock::now() >= next_lease) {
      try {
        auto leased = lease(room);
        // Nothing due: look again after the idle interval; something due: again at once.
        if (leased.empty()) next_lease = std::chrono::steady_clock::now() + options_.idle_poll;
        for (auto& delivery : leased) start(std::move(delivery));
      } catch (const std::exception& e) {
        database_failures_.Increment();
        log_.error("leasing webhook deliveries failed", {{"error", e.what()}});
        next_lease = std::chrono::steady_clock::now() + std::chrono::seconds(1);
      }
    }
    in_flight_gauge_.Set(static_cast<double>(in_flight_.size()));
    int running = 0;
    curl_multi_perform(multi_, &running);
    int queued = 0;
    while (CURLMsg* message = curl_multi_info_read(multi_, &queued)) {
      if (message->msg != CURLMSG_DONE) continue;
      CURL* easy = message->easy_handle;
      const CURLcode result = message->data.result;
      auto found = in_flight_.find(easy);
      if (found == in_flight_.end()) continue;
      finish(easy, *found->second, result);
      curl_multi_remove_handle(multi_, easy);
      curl_easy_cleanup(easy);
      curl_slist_free_all(found->second->headers);
      in_flight_.erase(found);
      // A finished delivery may be what the next event of its call waited for: look at once.
      next_lease = std::chrono::steady_clock::now();
    }
    // Wakes on socket activity, or when it is time to lease again (at once after a delivery
    // finished: the next event of its call may be waiting for it).
    const auto until_lease = std::chrono::duration_cast<std::chrono::milliseconds>(
        next_lease - std::chrono::steady_clock::now());
    const auto wait = std::clamp(until_lease, std::chrono::milliseconds(0),
                                 in_flight_.empty() ? options_.idle_poll : std::chrono::milliseconds(50));
    curl_multi_poll(multi_, nullptr, 0, static_cast<int>(wait.count()), nullptr);
  }
}

}  // namespace tel::integrations
