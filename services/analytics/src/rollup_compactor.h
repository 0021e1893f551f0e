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

// Merges the report rollups' change rows (one per call written, see 0013_report_rollups.sql)
// every `interval`, so that a report reads about one row per hour and key. Reports are exact
// without it, only slower as the rows pile up. Several analytics instances may run one each:
// the database lets one merge at a time.
//
// Threading: one thread of its own, which blocks on the database.
class RollupCompactor {
 public:
  RollupCompactor(std::shared_ptr<pg::ConnectionPool> pool, std::chrono::milliseconds interval,
                  log::Logger logger, prometheus::Registry& registry);
  ~RollupCompactor();
  RollupCompactor(const RollupCompactor&) = delete;
  RollupCompactor& operator=(const RollupCompactor&) = delete;

  void start();
  void stop();

  // One merge; returns the rows merged. Throws on a database error.
  int64_t compactOnce();

 private:
  std::shared_ptr<pg::ConnectionPool> pool_;
  std::chrono::milliseconds interval_;
  log::Logger log_;
  prometheus::Counter& merged_rows_;
  prometheus::Counter& failures_;

  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace tel::analytics
