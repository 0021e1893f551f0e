#include "tracking_service.h"

#include "service_call.h"

namespace tel::analytics {

TrackingService::TrackingService(TrackingStore& store, int workers, log::Logger log,
                                 prometheus::Registry& registry)
    : store_(store),
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
  return runLogged(executor_, log_, context, method, std::move(work));
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

grpc::ServerUnaryReactor* TrackingService::Visit(grpc::CallbackServerContext* context,
                                                 const v1::VisitRequest* request, v1::VisitResponse* response) {
  return run(context, "Visit", [=, this] {
    const grpc::Status status = store_.visit(*request, response);
    const char* outcome = !status.ok() ? "refused" : response->tracked() ? "tracked" : "default_number";
    visits_.Add({{"outcome", outcome}}).Increment();
    return status;
  });
}

}  // namespace tel::analytics
