#include "rollup_compactor.h"

namespace tel::analytics {

RollupCompactor::RollupCompactor(std::shared_ptr<pg::ConnectionPool> pool,
                                 std::chrono::milliseconds interval, log::Logger logger,
                                 prometheus::Registry& registry)
    : pool_(std::move(pool)),
      interval_(interval),
      log_(std::move(logger)),
      merged_rows_(prometheus::BuildCounter()
                       .Name("tel_analytics_rollup_rows_merged_total")
                       .Help("Change rows of the report rollups merged into one row per hour and key")
                       .Register(registry)
                       .Add({})),
      failures_(prometheus::BuildCounter()
                    .Name("tel_analytics_rollup_merge_failures_total")
                    .Help("Rollup merges that failed (reports stay exact, only slower)")
                    .Register(registry)
                    .Add({})) {}

RollupCompactor::~RollupCompactor() { stop(); }

void RollupCompactor::start() {
  thread_ = std::thread([this] {
    std::unique_lock lock(mutex_);
    while (!wake_.wait_for(lock, interval_, [this] { return stopping_; })) {
      lock.unlock();
      try {
        const int64_t merged = compactOnce();
        if (merged > 0) log_.debug("report rollups merged", {{"rows", std::to_string(merged)}});
      } catch (const std::exception& e) {
        failures_.Increment();
        log_.warn("report rollup merge failed", {{"error", e.what()}});
      }
      lock.lock();
    }
  });
}

void RollupCompactor::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

int64_t RollupCompactor::compactOnce() {
  int64_t merged = 0;
  pool_->inTransaction(
      [&](pqxx::work& txn) { merged = txn.exec("SELECT tel_compact_report_rollups()")[0][0].as<int64_t>(); });
  merged_rows_.Increment(static_cast<double>(merged));
  return merged;
}

}  // namespace tel::analytics
