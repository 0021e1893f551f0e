#include "webhooks_service.h"

#include "tel/grpc/run_logged.h"

namespace tel::integrations {

using grpc_util::runLogged;

grpc::ServerUnaryReactor* WebhooksService::CreateSubscription(grpc::CallbackServerContext* context,
                                                              const v1::CreateSubscriptionRequest* request,
                                                              v1::Subscription* response) {
  return runLogged(executor_, log_, context, "CreateSubscription",
                   [=, this] { return store_.create(*request, response); });
}

grpc::ServerUnaryReactor* WebhooksService::ListSubscriptions(grpc::CallbackServerContext* context,
                                                             const v1::ListSubscriptionsRequest* request,
                                                             v1::ListSubscriptionsResponse* response) {
  return runLogged(executor_, log_, context, "ListSubscriptions",
                   [=, this] { return store_.list(request->tenant_id(), response); });
}

grpc::ServerUnaryReactor* WebhooksService::GetSubscription(grpc::CallbackServerContext* context,
                                                           const v1::SubscriptionRef* request,
                                                           v1::Subscription* response) {
  return runLogged(executor_, log_, context, "GetSubscription", [=, this] { return store_.get(*request, response); });
}

grpc::ServerUnaryReactor* WebhooksService::UpdateSubscription(grpc::CallbackServerContext* context,
                                                              const v1::UpdateSubscriptionRequest* request,
                                                              v1::Subscription* response) {
  return runLogged(executor_, log_, context, "UpdateSubscription",
                   [=, this] { return store_.update(*request, response); });
}

grpc::ServerUnaryReactor* WebhooksService::DeleteSubscription(grpc::CallbackServerContext* context,
                                                              const v1::SubscriptionRef* request,
                                                              v1::WebhooksEmpty*) {
  return runLogged(executor_, log_, context, "DeleteSubscription", [=, this] { return store_.remove(*request); });
}

grpc::ServerUnaryReactor* WebhooksService::RotateSecret(grpc::CallbackServerContext* context,
                                                        const v1::RotateSecretRequest* request,
                                                        v1::RotatedSecret* response) {
  return runLogged(executor_, log_, context, "RotateSecret",
                   [=, this] { return store_.rotateSecret(*request, response); });
}

grpc::ServerUnaryReactor* WebhooksService::Ping(grpc::CallbackServerContext* context, const v1::SubscriptionRef* request,
                                                v1::QueuedEvents* response) {
  return runLogged(executor_, log_, context, "Ping", [=, this] { return store_.ping(*request, response); });
}

grpc::ServerUnaryReactor* WebhooksService::ListAttempts(grpc::CallbackServerContext* context,
                                                        const v1::ListAttemptsRequest* request,
                                                        v1::ListAttemptsResponse* response) {
  return runLogged(executor_, log_, context, "ListAttempts",
                   [=, this] { return store_.listAttempts(*request, response); });
}

grpc::ServerUnaryReactor* WebhooksService::Replay(grpc::CallbackServerContext* context, const v1::ReplayRequest* request,
                                                  v1::QueuedEvents* response) {
  return runLogged(executor_, log_, context, "Replay", [=, this] { return store_.replay(*request, response); });
}

}  // namespace tel::integrations
