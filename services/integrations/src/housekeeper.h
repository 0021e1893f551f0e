#pragma once

#include <prometheus/counter.h>
#include <prometheus/registry.h>

#include <atomic>
#include <chrono>
#include <memory>

#include "tel/log/log.h"
#include "tel/pg/connection_pool.h"

namespace tel::integrations {

// Periodic upkeep, any instance may run it: forgets webhook history older than the retention
// (attempts, finished deliveries, events nobody still has to receive) so that the delivery log stays
// bounded, and disables subscriptions failing for longer than disable_after even when no new
// attempt would notice (a quiet tenant's dead endpoint).
class Housekeeper {
 public:
  Housekeeper(std::shared_ptr<pg::ConnectionPool> pool, std::chrono::milliseconds retention,
              std::chrono::milliseconds disable_after, log::Logger logger, prometheus::Registry& registry);
  // Works every `interval` until `stop`.
  void run(const std::atomic<bool>& stop, std::chrono::milliseconds interval);

 private:
  std::shared_ptr<pg::ConnectionPool> pool_;
  std::chrono::milliseconds retention_;
  std::chrono::milliseconds disable_after_;
  log::Logger log_;
  prometheus::Counter& pruned_;
  prometheus::Counter& disabled_;
};

}  // namespace tel::integrations
