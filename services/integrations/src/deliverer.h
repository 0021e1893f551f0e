#pragma once

#include <curl/curl.h>
#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "integrations_config.h"
#include "target_guard.h"
#include "tel/log/log.h"
#include "tel/metrics/tenant_labels.h"
#include "tel/pg/connection_pool.h"

namespace tel::integrations {

// One delivery as leased from Postgres (tel_claim_webhook_deliveries).
struct LeasedDelivery {
  int64_t delivery_id = 0;
  std::string lease;  // the lease's end as Postgres wrote it: finishing must present it
  std::string tenant_id, subscription_id, url;
  std::vector<std::string> secrets;  // current first, then the previous one during an overlap
  std::string event_id, event_type, call_id;
  uint64_t sequence = 0;
  std::string created_at;  // RFC 3339, UTC, milliseconds
  int64_t created_micros = 0;
  std::string data;        // JSON
  int attempts = 0;        // made before this one
};

// The JSON body of a webhook: id, type, created_at, tenant_id, call_id (null for tenant events),
// sequence (per call, from 1), data. The same bytes on every attempt (keys in a fixed order).
std::string webhookBody(const LeasedDelivery& delivery);

// `raw` (an endpoint's answer, an error) as valid UTF-8 for the delivery log: invalid bytes and a
// character cut at the end become U+FFFD, control characters (but tab, newline) spaces.
std::string printableUtf8(const std::string& raw);

// Sends the webhooks that are due: leases deliveries from Postgres (any instance may run one; a
// lease keeps two from sending the same delivery, and one that crashed gives its deliveries back
// when the lease runs out), POSTs them signed through one libcurl multi handle, many at once and
// at most `per_subscription_in_flight` per subscription, so a slow endpoint never holds the others
// up, and records each attempt with its outcome. Every connection is checked by the TargetGuard
// after DNS resolution; redirects are not followed and proxies from the environment are ignored.
// Runs on the calling thread until `stop`; owns its curl handles.
class Deliverer {
 public:
  Deliverer(std::shared_ptr<pg::ConnectionPool> pool, const TargetGuard& guard, DeliveryOptions options,
            log::Logger logger, prometheus::Registry& registry);
  ~Deliverer();
  Deliverer(const Deliverer&) = delete;
  Deliverer& operator=(const Deliverer&) = delete;

  void run(const std::atomic<bool>& stop);

 private:
  struct Attempt;

  std::vector<LeasedDelivery> lease(int room);
  void start(LeasedDelivery delivery);
  void finish(CURL* easy, Attempt& attempt, CURLcode result);
  void record(const Attempt& attempt, int status, const std::string& error, bool delivered);

  static curl_socket_t openCheckedSocket(void* attempt, curlsocktype purpose, curl_sockaddr* address);
  static size_t keepExcerpt(char* data, size_t size, size_t count, void* attempt);

  std::shared_ptr<pg::ConnectionPool> pool_;
  const TargetGuard& guard_;
  DeliveryOptions options_;
  log::Logger log_;
  CURLM* multi_;
  std::map<CURL*, std::unique_ptr<Attempt>> in_flight_;
  prometheus::Family<prometheus::Counter>& attempts_;
  prometheus::Histogram& attempt_seconds_;
  prometheus::Histogram& event_to_delivery_seconds_;
  // Per tenant: from the event to its delivery, retries included (webhook delivery lag).
  prometheus::Family<prometheus::Histogram>& tenant_delivery_lag_;
  metrics::TenantLabels tenants_;
  prometheus::Gauge& in_flight_gauge_;
  prometheus::Counter& database_failures_;
};

}  // namespace tel::integrations
