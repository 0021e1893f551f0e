#pragma once

#include "subscription_store.h"
#include "tel/grpc/blocking_executor.h"
#include "tel/integrations/v1/webhooks.grpc.pb.h"
#include "tel/log/log.h"

namespace tel::integrations {

// tel.integrations.v1.Webhooks for the gateway; database work runs on a BlockingExecutor.
class WebhooksService final : public v1::Webhooks::CallbackService {
 public:
  WebhooksService(SubscriptionStore& store, int workers, log::Logger log)
      : store_(store), log_(std::move(log)), executor_(workers) {}

  grpc::ServerUnaryReactor* CreateSubscription(grpc::CallbackServerContext* context,
                                               const v1::CreateSubscriptionRequest* request,
                                               v1::Subscription* response) override;
  grpc::ServerUnaryReactor* ListSubscriptions(grpc::CallbackServerContext* context,
                                              const v1::ListSubscriptionsRequest* request,
                                              v1::ListSubscriptionsResponse* response) override;
  grpc::ServerUnaryReactor* GetSubscription(grpc::CallbackServerContext* context, const v1::SubscriptionRef* request,
                                            v1::Subscription* response) override;
  grpc::ServerUnaryReactor* UpdateSubscription(grpc::CallbackServerContext* context,
                                               const v1::UpdateSubscriptionRequest* request,
                                               v1::Subscription* response) override;
  grpc::ServerUnaryReactor* DeleteSubscription(grpc::CallbackServerContext* context,
                                               const v1::SubscriptionRef* request,
                                               v1::WebhooksEmpty* response) override;
  grpc::ServerUnaryReactor* RotateSecret(grpc::CallbackServerContext* context, const v1::RotateSecretRequest* request,
                                         v1::RotatedSecret* response) override;
  grpc::ServerUnaryReactor* Ping(grpc::CallbackServerContext* context, const v1::SubscriptionRef* request,
                                 v1::QueuedEvents* response) override;
  grpc::ServerUnaryReactor* ListAttempts(grpc::CallbackServerContext* context, const v1::ListAttemptsRequest* request,
                                         v1::ListAttemptsResponse* response) override;
  grpc::ServerUnaryReactor* Replay(grpc::CallbackServerContext* context, const v1::ReplayRequest* request,
                                   v1::QueuedEvents* response) override;

 private:
  SubscriptionStore& store_;
  log::Logger log_;
  grpc_util::BlockingExecutor executor_;
};

}  // namespace tel::integrations
