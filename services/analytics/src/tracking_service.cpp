#include "tracking_service.h"

#include "tel/grpc/run_logged.h"
#include "tracking_validation.h"

namespace tel::analytics {

TrackingService::TrackingService(TrackingStore& store, VisitBatcher& visits, int workers,
                                 log::Logger log, prometheus::Registry& registry)
    : store_(store),
      batcher_(visits),
      log_(std::move(log)),
      visits_(prometheus::BuildCounter()
                  .Name("tel_analytics_tracking_visits_total")
                  .Help("Visits of tracked sites, by what the visitor was shown: tracked (a pool "
                        "number of its own), default_number (the pool had none free), refused")
                  .Register(registry)),
      executor_(workers) {
  for (const char* outcome : {"tracked", "default_number", "refused"}) visits_.Add({{"outcome", outcome}});
}

grpc::ServerUnaryReactor* TrackingService::run(grpc::CallbackServerContext* context, const char* method,
                                               std::function<grpc::Status()> work) {
  return grpc_util::runLogged(executor_, log_, context, method, std::move(work));
}

grpc::ServerUnaryReactor* TrackingService::CreateSite(grpc::CallbackServerContext* context,
                                                      const v1::CreateSiteRequest* request,
                                                      v1::Site* response) {
  return run(context, "CreateSite", [=, this] { return store_.createSite(*request, response); });
}

grpc::ServerUnaryReactor* TrackingService::ListSites(grpc::CallbackServerContext* context,
                                                     const v1::ListSitesRequest* request,
                                                     v1::ListSitesResponse* response) {
  return run(context, "ListSites", [=, this] { return store_.listSites(request->tenant_id(), response); });
}

grpc::ServerUnaryReactor* TrackingService::GetSite(grpc::CallbackServerContext* context,
                                                   const v1::SiteRef* request, v1::Site* response) {
  return run(context, "GetSite", [=, this] { return store_.getSite(*request, response); });
}

grpc::ServerUnaryReactor* TrackingService::DeleteSite(grpc::CallbackServerContext* context,
                                                      const v1::SiteRef* request, v1::TrackingEmpty*) {
  return run(context, "DeleteSite", [=, this] { return store_.deleteSite(*request); });
}

grpc::ServerUnaryReactor* TrackingService::AddNumber(grpc::CallbackServerContext* context,
                                                     const v1::AddNumberRequest* request,
                                                     v1::TrackingNumber* response) {
  return run(context, "AddNumber", [=, this] { return store_.addNumber(*request, response); });
}

grpc::ServerUnaryReactor* TrackingService::RemoveNumber(grpc::CallbackServerContext* context,
                                                        const v1::RemoveNumberRequest* request,
                                                        v1::TrackingEmpty*) {
  return run(context, "RemoveNumber", [=, this] { return store_.removeNumber(*request); });
}

grpc::ServerUnaryReactor* TrackingService::GetPoolUsage(grpc::CallbackServerContext* context,
                                                        const v1::PoolUsageRequest* request,
                                                        v1::PoolUsage* response) {
  return run(context, "GetPoolUsage", [=, this] { return store_.poolUsage(*request, response); });
}

// Visits are written in batches by the batcher's threads, which finish the call; only the check
// of the request runs here, on gRPC's thread.
grpc::ServerUnaryReactor* TrackingService::Visit(grpc::CallbackServerContext* context,
                                                 const v1::VisitRequest* request, v1::VisitResponse* response) {
  auto* reactor = context->DefaultReactor();
  auto finish = [this, reactor, response](const grpc::Status& status) {
    const char* outcome = !status.ok() ? "refused" : response->tracked() ? "tracked" : "default_number";
    visits_.Add({{"outcome", outcome}}).Increment();
    reactor->Finish(status);
  };
  if (auto status = checkVisit(*request); !status.ok()) {
    finish(status);
    return reactor;
  }
  batcher_.submit(request, response, std::move(finish));
  return reactor;
}

}  // namespace tel::analytics
