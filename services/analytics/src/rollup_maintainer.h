#pragma once

#include <prometheus/counter.h>
#include <prometheus/registry.h>

#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <thread>

#include "tel/log/log.h"
#include "tel/pg/connection_pool.h"

namespace tel::analytics {

// Keeps the report rollups in shape every `interval`: merges their change rows (one per call
// written, see 0013_report_rollups.sql), so that a report reads about one row per hour and key,
// and recomputes the target calls of tenants whose target settings changed (0014). Reports are
// exact without it, only slower: they read the calls while a tenant's target calls are stale.
// Several analytics instances may run one each: the database lets one merge at a time, and a
// rebuild holds its tenant's lock.
//
// Threading: one thread of its own, which blocks on the database.
class RollupMaintainer {
 public:
  RollupMaintainer(std::shared_ptr<pg::ConnectionPool> pool, std::chrono::milliseconds interval,
                  log::Logger logger, prometheus::Registry& registry);
  ~RollupMaintainer();
  RollupMaintainer(const RollupMaintainer&) = delete;
  RollupMaintainer& operator=(const RollupMaintainer&) = delete;

  void start();
  void stop();

  // One round: the merge, then the stale target calls. Throws on a database error.
  void runOnce();

 private:
  std::shared_ptr<pg::ConnectionPool> pool_;
  std::chrono::milliseconds interval_;
  log::Logger log_;
  prometheus::Counter& merged_rows_;
  prometheus::Counter& rebuilt_tenants_;
  prometheus::Counter& failures_;

  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace tel::analytics
