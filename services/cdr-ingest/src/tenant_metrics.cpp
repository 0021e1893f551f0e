#include "tenant_metrics.h"

#include <algorithm>
#include <cctype>

namespace tel::cdr {
namespace {

// DISPOSITION_NO_ANSWER -> "no_answer", as the REST API spells it.
std::string dispositionLabel(v1::Disposition disposition) {
  std::string name = v1::Disposition_Name(disposition);
  if (name.rfind("DISPOSITION_", 0) == 0) name.erase(0, 12);
  std::transform(name.begin(), name.end(), name.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return name;
}

}  // namespace

TenantCallMetrics::TenantCallMetrics(prometheus::Registry& registry, size_t max_tenants)
    : calls_(prometheus::BuildCounter()
                 .Name("tel_tenant_calls_total")
                 .Help("Calls that ended, per tenant and disposition")
                 .Register(registry)),
      time_to_answer_(prometheus::BuildHistogram()
                          .Name("tel_tenant_time_to_answer_seconds")
                          .Help("From the call's start to its answer, per tenant (answered calls)")
                          .Register(registry)),
      tenants_(max_tenants) {}

void TenantCallMetrics::record(const CompletedCall& call) {
  const std::string tenant = tenants_.of(call.tenant_id);
  calls_.Add({{"tenant_id", tenant}, {"disposition", dispositionLabel(call.disposition)}})
      .Increment();
  if (call.ring_seconds) {
    static const prometheus::Histogram::BucketBoundaries kBuckets{1,  2,  3,  5,  8, 10,
                                                                  15, 20, 30, 45, 60};
    time_to_answer_.Add({{"tenant_id", tenant}}, kBuckets)
        .Observe(std::max(0.0, *call.ring_seconds));
  }
}

}  // namespace tel::cdr
