#include "tel/pg/connection_pool.h"

#include <stdexcept>

namespace tel::pg {

ConnectionPool::ConnectionPool(std::string url, size_t size)
    : url_(std::move(url)), connections_(size), in_use_(size, false) {
  if (size == 0) throw std::invalid_argument("connection pool size must be positive");
}

ConnectionPool::~ConnectionPool() = default;

ConnectionPool::Lease::~Lease() {
  if (pool_) pool_->release(slot_);
}

pqxx::connection& ConnectionPool::Lease::connection() {
  auto& slot = pool_->connections_[slot_];
  if (!slot || !slot->is_open()) slot = std::make_unique<pqxx::connection>(pool_->url_);
  return *slot;
}

void ConnectionPool::Lease::discard() { pool_->connections_[slot_].reset(); }

ConnectionPool::Lease ConnectionPool::acquire(std::chrono::milliseconds timeout) {
  std::unique_lock lock(mutex_);
  for (;;) {
    for (size_t slot = 0; slot < in_use_.size(); ++slot) {
      if (!in_use_[slot]) {
        in_use_[slot] = true;
        return Lease(*this, slot);
      }
    }
    if (freed_.wait_for(lock, timeout) == std::cv_status::timeout) {
      throw std::runtime_error("database: no free connection within the pool timeout");
    }
  }
}

void ConnectionPool::release(size_t slot) {
  {
    std::lock_guard lock(mutex_);
    in_use_[slot] = false;
  }
  freed_.notify_one();
}

void ConnectionPool::runWithRetry(const std::function<void(pqxx::connection&)>& body) {
  for (int attempt = 0;; ++attempt) {
    auto lease = acquire();
    try {
      body(lease.connection());
      return;
    } catch (const pqxx::broken_connection&) {
      lease.discard();
      if (attempt > 0) throw;
    }
  }
}

void ConnectionPool::inTenantTransaction(const std::string& tenant_id,
                                         const std::function<void(pqxx::work&)>& work) {
  if (tenant_id.empty()) throw std::invalid_argument("tenant transaction without a tenant id");
  runWithRetry([&](pqxx::connection& connection) {
    pqxx::work txn(connection);
    // is_local=true: the setting ends with the transaction, so a pooled connection never carries
    // one tenant's scope into another's request.
    txn.exec_params("SELECT set_config('tel.tenant_id', $1, true)", tenant_id);
    work(txn);
    txn.commit();
  });
}

void ConnectionPool::inTransaction(const std::function<void(pqxx::work&)>& work) {
  runWithRetry([&](pqxx::connection& connection) {
    pqxx::work txn(connection);
    work(txn);
    txn.commit();
  });
}

bool ConnectionPool::ping() {
  try {
    inTransaction([](pqxx::work& txn) { txn.exec("SELECT 1"); });
    return true;
  } catch (const std::exception&) {
    return false;
  }
}

}  // namespace tel::pg
