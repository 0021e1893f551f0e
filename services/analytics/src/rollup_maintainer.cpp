#include "rollup_maintainer.h"

namespace tel::analytics {

RollupMaintainer::RollupMaintainer(std::shared_ptr<pg::ConnectionPool> pool,
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
      rebuilt_tenants_(prometheus::BuildCounter()
                           .Name("tel_analytics_target_calls_rebuilt_total")
                           .Help("Tenants whose target calls were recomputed after their settings changed")
                           .Register(registry)
                           .Add({})),
      failures_(prometheus::BuildCounter()
                    .Name("tel_analytics_rollup_maintenance_failures_total")
                    .Help("Rollup maintenance rounds that failed (reports stay exact, only slower)")
                    .Register(registry)
                    .Add({})) {}

RollupMaintainer::~RollupMaintainer() { stop(); }

void RollupMaintainer::start() {
  thread_ = std::thread([this] {
    std::unique_lock lock(mutex_);
    while (!wake_.wait_for(lock, interval_, [this] { return stopping_; })) {
      lock.unlock();
      try {
        runOnce();
      } catch (const std::exception& e) {
        failures_.Increment();
        log_.warn("report rollup maintenance failed", {{"error", e.what()}});
      }
      lock.lock();
    }
  });
}

void RollupMaintainer::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void RollupMaintainer::runOnce() {
  int64_t merged = 0;
  pool_->inTransaction(
      [&](pqxx::work& txn) { merged = txn.exec("SELECT tel_compact_report_rollups()")[0][0].as<int64_t>(); });
  merged_rows_.Increment(static_cast<double>(merged));
  int64_t rebuilt = 0;
  pool_->inTransaction(
      [&](pqxx::work& txn) { rebuilt = txn.exec("SELECT tel_rebuild_stale_target_calls()")[0][0].as<int64_t>(); });
  rebuilt_tenants_.Increment(static_cast<double>(rebuilt));
  if (rebuilt > 0) log_.info("target calls recomputed after settings changed", {{"tenants", std::to_string(rebuilt)}});
}

}  // namespace tel::analytics
