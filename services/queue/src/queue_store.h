#pragma once

#include <absl/status/statusor.h>
#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>
#include <vector>

#include "tel/cache/ttl_cache.h"
#include "tel/pg/connection_pool.h"
#include "tel/queue/v1/queues.pb.h"

namespace tel::queue {

// The tenants' queues and their agents' own states in Postgres (migration 0026), each request in
// the tenant's transaction (row-level security). Settings are checked (normalizeSettings) and their
// members must be the tenant's SIP accounts, the music an existing prompt. Thread-safe.
class QueueStore {
 public:
  QueueStore(std::shared_ptr<pg::ConnectionPool> pool, std::chrono::milliseconds cache_ttl)
      : pool_(std::move(pool)), settings_(cache_ttl, 100000) {}

  grpc::Status create(const std::string& tenant_id, v1::QueueSettings settings, v1::Queue* out);
  grpc::Status update(const std::string& tenant_id, const std::string& id, v1::QueueSettings settings, v1::Queue* out);
  grpc::Status get(const std::string& tenant_id, const std::string& id, v1::Queue* out);
  grpc::Status list(const std::string& tenant_id, v1::ListQueuesResponse* out);
  grpc::Status remove(const std::string& tenant_id, const std::string& id);
  // NOT_FOUND when the account is not one of the tenant's.
  grpc::Status setAgentState(const std::string& tenant_id, const std::string& account_id, const std::string& state,
                             const std::string& reason);
  // The agents that set a state of their own: (account id, state, reason).
  grpc::Status agentStates(const std::string& tenant_id, std::vector<std::array<std::string, 3>>* out);

  // A queue's settings for calls, kept for the cache TTL; NOT_FOUND for a queue that does not exist.
  absl::StatusOr<v1::QueueSettings> settingsFor(const std::string& tenant_id, const std::string& id);

 private:
  grpc::Status checkReferences(pqxx::work& txn, const v1::QueueSettings& settings);

  std::shared_ptr<pg::ConnectionPool> pool_;
  cache::TtlCache<v1::QueueSettings> settings_;  // by tenant and queue id
};

}  // namespace tel::queue
