#pragma once

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include "cdr_store.h"
#include "tel/metrics/tenant_labels.h"

namespace tel::cdr {

// Telephony metrics per tenant, from the calls whose end was just recorded: calls by disposition
// (answer rate = answered / all) and time to answer, labelled by metrics::TenantLabels (beyond
// `max_tenants` distinct tenants, calls count under tenant_id="other").
class TenantCallMetrics {
 public:
  TenantCallMetrics(prometheus::Registry& registry, size_t max_tenants);
  void record(const CompletedCall& call);

 private:
  prometheus::Family<prometheus::Counter>& calls_;
  prometheus::Family<prometheus::Histogram>& time_to_answer_;
  metrics::TenantLabels tenants_;
};

}  // namespace tel::cdr
