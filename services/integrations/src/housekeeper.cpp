#include "housekeeper.h"

#include <thread>

namespace tel::integrations {

Housekeeper::Housekeeper(std::shared_ptr<pg::ConnectionPool> pool, std::chrono::milliseconds retention,
                         std::chrono::milliseconds disable_after, log::Logger logger,
                         prometheus::Registry& registry)
    : pool_(std::move(pool)),
      retention_(retention),
      disable_after_(disable_after),
      log_(std::move(logger)),
      pruned_(prometheus::BuildCounter()
                  .Name("tel_webhooks_pruned_rows_total")
                  .Help("Webhook history rows removed past the retention")
                  .Register(registry)
                  .Add({})),
      disabled_(prometheus::BuildCounter()
                    .Name("tel_webhooks_subscriptions_disabled_total")
                    .Help("Subscriptions disabled by the sweep for failing longer than disable_after")
                    .Register(registry)
                    .Add({})) {}

void Housekeeper::run(const std::atomic<bool>& stop, std::chrono::milliseconds interval) {
  auto next = std::chrono::steady_clock::now();
  while (!stop) {
    if (std::chrono::steady_clock::now() >= next) {
      next = std::chrono::steady_clock::now() + interval;
      try {
        pool_->inTransaction([&](pqxx::work& txn) {
          const pqxx::row row = txn.exec_params1(
              "SELECT tel_prune_webhooks(make_interval(secs => $1::double precision / 1000)),"
              " tel_disable_failing_webhooks(make_interval(secs => $2::double precision / 1000), NULL)",
              static_cast<int64_t>(retention_.count()), static_cast<int64_t>(disable_after_.count()));
          pruned_.Increment(row[0].as<double>());
          disabled_.Increment(row[1].as<double>());
        });
      } catch (const std::exception& e) {
        log_.error("webhook housekeeping failed", {{"error", e.what()}});
      }
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
  }
}

}  // namespace tel::integrations
