#pragma once

#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>

#include "target_guard.h"
#include "tel/integrations/v1/webhooks.pb.h"
#include "tel/pg/connection_pool.h"

namespace tel::integrations {

namespace v1 = ::tel::integrations::v1;

// The event types a subscription may ask for.
bool isSubscribableEventType(const std::string& type);

// The fields of a subscription a tenant sets, checked before anything is stored: an http(s) URL the
// guard allows, 1 to 16 known event types without repeats, up to 50 E.164 numbers and 50
// extensions (2 to 6 digits), a description of at most 200 printable characters. INVALID_ARGUMENT
// names the field.
grpc::Status checkSubscriptionFields(const std::string& url, const google::protobuf::RepeatedPtrField<std::string>& event_types,
                                     const google::protobuf::RepeatedPtrField<std::string>& numbers,
                                     const google::protobuf::RepeatedPtrField<std::string>& extensions,
                                     const std::string& description, const TargetGuard& guard);

// Webhook subscriptions, their delivery log and replays, in Postgres; every call runs in the
// tenant's transaction, so row-level security keeps tenants apart (another tenant's ids answer
// NOT_FOUND, like ids that never existed). Thread-safe (the pool is).
class SubscriptionStore {
 public:
  SubscriptionStore(std::shared_ptr<pg::ConnectionPool> pool, const TargetGuard& guard,
                    int max_subscriptions_per_tenant)
      : pool_(std::move(pool)), guard_(guard), max_subscriptions_(max_subscriptions_per_tenant) {}

  grpc::Status create(const v1::CreateSubscriptionRequest& request, v1::Subscription* out);
  grpc::Status list(const std::string& tenant_id, v1::ListSubscriptionsResponse* out);
  grpc::Status get(const v1::SubscriptionRef& ref, v1::Subscription* out);
  grpc::Status update(const v1::UpdateSubscriptionRequest& request, v1::Subscription* out);
  grpc::Status remove(const v1::SubscriptionRef& ref);
  grpc::Status rotateSecret(const v1::RotateSecretRequest& request, v1::RotatedSecret* out);
  grpc::Status ping(const v1::SubscriptionRef& ref, v1::QueuedEvents* out);
  grpc::Status listAttempts(const v1::ListAttemptsRequest& request, v1::ListAttemptsResponse* out);
  grpc::Status replay(const v1::ReplayRequest& request, v1::QueuedEvents* out);

 private:
  std::shared_ptr<pg::ConnectionPool> pool_;
  const TargetGuard& guard_;
  int max_subscriptions_;
};

}  // namespace tel::integrations
