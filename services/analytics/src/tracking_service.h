#pragma once

#include <prometheus/counter.h>
#include <prometheus/registry.h>

#include "tel/analytics/v1/tracking.grpc.pb.h"
#include "tel/grpc/blocking_executor.h"
#include "tel/log/log.h"
#include "tracking_store.h"
#include "visit_batcher.h"

namespace tel::analytics {

// tel.analytics.v1.Tracking for the gateway. Database work runs on a BlockingExecutor, visits on
// the VisitBatcher's writers; visits are
// counted by what the visitor was shown (tel_analytics_tracking_visits_total{outcome}: tracked,
// default_number when the pool had no free number, refused).
class TrackingService final : public v1::Tracking::CallbackService {
 public:
  TrackingService(TrackingStore& store, VisitBatcher& visits, int workers, log::Logger log,
                  prometheus::Registry& registry);

  grpc::ServerUnaryReactor* CreateSite(grpc::CallbackServerContext* context,
                                       const v1::CreateSiteRequest* request, v1::Site* response) override;
  grpc::ServerUnaryReactor* ListSites(grpc::CallbackServerContext* context,
                                      const v1::ListSitesRequest* request,
                                      v1::ListSitesResponse* response) override;
  grpc::ServerUnaryReactor* GetSite(grpc::CallbackServerContext* context, const v1::SiteRef* request,
                                    v1::Site* response) override;
  grpc::ServerUnaryReactor* DeleteSite(grpc::CallbackServerContext* context, const v1::SiteRef* request,
                                       v1::TrackingEmpty* response) override;
  grpc::ServerUnaryReactor* AddNumber(grpc::CallbackServerContext* context,
                                      const v1::AddNumberRequest* request,
                                      v1::TrackingNumber* response) override;
  grpc::ServerUnaryReactor* RemoveNumber(grpc::CallbackServerContext* context,
                                         const v1::RemoveNumberRequest* request,
                                         v1::TrackingEmpty* response) override;
  grpc::ServerUnaryReactor* GetPoolUsage(grpc::CallbackServerContext* context,
                                         const v1::PoolUsageRequest* request,
                                         v1::PoolUsage* response) override;
  grpc::ServerUnaryReactor* Visit(grpc::CallbackServerContext* context, const v1::VisitRequest* request,
                                  v1::VisitResponse* response) override;

 private:
  // Runs `work` on the executor; an exception is logged and answered as INTERNAL.
  grpc::ServerUnaryReactor* run(grpc::CallbackServerContext* context, const char* method,
                                std::function<grpc::Status()> work);

  TrackingStore& store_;
  VisitBatcher& batcher_;
  log::Logger log_;
  prometheus::Family<prometheus::Counter>& visits_;
  grpc_util::BlockingExecutor executor_;
};

}  // namespace tel::analytics
