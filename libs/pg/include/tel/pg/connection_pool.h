#pragma once

#include <pqxx/pqxx>

#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace tel::pg {

// A fixed-size pool of Postgres connections shared by a service's worker threads.
// Connections open lazily and a broken one is replaced on its next use, so a Postgres restart costs
// the requests in flight, not the service. Thread-safe.
class ConnectionPool {
 public:
  ConnectionPool(std::string url, size_t size);
  ~ConnectionPool();
  ConnectionPool(const ConnectionPool&) = delete;
  ConnectionPool& operator=(const ConnectionPool&) = delete;

  // Exclusive use of one connection until destroyed.
  class Lease {
   public:
    Lease(ConnectionPool& pool, size_t slot) : pool_(&pool), slot_(slot) {}
    Lease(Lease&& other) noexcept : pool_(other.pool_), slot_(other.slot_) { other.pool_ = nullptr; }
    Lease(const Lease&) = delete;
    ~Lease();
    pqxx::connection& connection();
    // Drops the connection (after a broken_connection) so that the next lease reconnects.
    void discard();

   private:
    ConnectionPool* pool_;
    size_t slot_;
  };

  // Waits up to `timeout` for a free connection; throws std::runtime_error when none frees up.
  Lease acquire(std::chrono::milliseconds timeout = std::chrono::seconds(5));

  // Runs `work` in one transaction scoped to the tenant: row-level security policies see
  // `tel.tenant_id`. The transaction commits when `work` returns and rolls back when it throws.
  // A lost connection is retried once on a fresh one (work must therefore be idempotent up to its
  // commit, which a transaction guarantees).
  void inTenantTransaction(const std::string& tenant_id,
                           const std::function<void(pqxx::work&)>& work);
  // The same without a tenant: RLS-protected tables look empty; for global tables and functions.
  void inTransaction(const std::function<void(pqxx::work&)>& work);

  // Readiness: runs SELECT 1 on a pooled connection.
  bool ping();

 private:
  void release(size_t slot);
  void runWithRetry(const std::function<void(pqxx::connection&)>& body);

  std::string url_;
  std::mutex mutex_;
  std::condition_variable freed_;
  std::vector<std::unique_ptr<pqxx::connection>> connections_;
  std::vector<bool> in_use_;
};

}  // namespace tel::pg
