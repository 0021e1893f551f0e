#pragma once

#include <prometheus/counter.h>
#include <prometheus/registry.h>

#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "tel/log/log.h"
#include "tel/pg/connection_pool.h"

namespace tel::cdr {

// Deletes call recordings older than their tenant's retention (tenants.recording_retention_days):
// every `interval`, the recordings past it (tel_recordings_past_retention, oldest first, a batch at
// a time) have their file removed from the recordings directory and are marked expired on their
// call record, which keeps its duration and size. A file already gone counts as removed; a call
// whose file cannot be removed is left for the next round. Owns its thread.
class RecordingSweeper {
 public:
  RecordingSweeper(std::shared_ptr<pg::ConnectionPool> pool, std::string directory,
                   std::chrono::milliseconds interval, log::Logger logger,
                   prometheus::Registry& registry);
  ~RecordingSweeper();
  void start();
  void stop();
  // One round; returns how many recordings it deleted. Any thread (the tests call it).
  size_t sweepOnce();

 private:
  std::shared_ptr<pg::ConnectionPool> pool_;
  const std::string directory_;
  const std::chrono::milliseconds interval_;
  log::Logger log_;
  prometheus::Counter& deleted_;
  prometheus::Counter& failed_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;  // guarded by mutex_
  std::thread thread_;
};

}  // namespace tel::cdr
