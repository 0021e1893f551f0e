#include "recording_sweeper.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <regex>
#include <vector>

namespace tel::cdr {
namespace {

constexpr int kBatch = 500;

// What media-relay names a recording: <tenant_id>/<call_id>.wav, nothing that leaves the folder.
bool safeRecordingPath(const std::string& file) {
  static const std::regex kFile(R"([0-9a-f-]{36}/[A-Za-z0-9_-][A-Za-z0-9._-]{0,127}\.wav)");
  return std::regex_match(file, kFile) && file.find("..") == std::string::npos;
}

}  // namespace

RecordingSweeper::RecordingSweeper(std::shared_ptr<pg::ConnectionPool> pool, std::string directory,
                                   std::chrono::milliseconds interval, log::Logger logger,
                                   prometheus::Registry& registry)
    : pool_(std::move(pool)),
      directory_(std::move(directory)),
      interval_(interval),
      log_(std::move(logger)),
      deleted_(prometheus::BuildCounter()
                   .Name("tel_cdr_recordings_expired_total")
                   .Help("Call recordings deleted after their tenant's retention")
                   .Register(registry)
                   .Add({})),
      failed_(prometheus::BuildCounter()
                  .Name("tel_cdr_recording_sweep_failures_total")
                  .Help("Recordings the retention sweep could not delete (left for its next round)")
                  .Register(registry)
                  .Add({})) {}

RecordingSweeper::~RecordingSweeper() { stop(); }

void RecordingSweeper::start() {
  thread_ = std::thread([this] {
    std::unique_lock lock(mutex_);
    while (!stopping_) {
      lock.unlock();
      try {
        // Whole batches while there are some: a backlog (a retention just shortened) drains at once.
        while (sweepOnce() == static_cast<size_t>(kBatch)) {
        }
      } catch (const std::exception& e) {
        log_.error("recording sweep failed", {{"error", e.what()}});
      }
      lock.lock();
      wake_.wait_for(lock, interval_, [this] { return stopping_; });
    }
  });
}

void RecordingSweeper::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

size_t RecordingSweeper::sweepOnce() {
  struct Expired {
    std::string tenant_id, call_id, file;
  };
  std::vector<Expired> expired;
  pool_->inTransaction([&](pqxx::work& txn) {
    for (const auto& row : txn.exec_params("SELECT tenant_id::text, call_id, coalesce(file, '') "
                                           "FROM tel_recordings_past_retention($1)",
                                           kBatch)) {
      expired.push_back({row[0].as<std::string>(), row[1].as<std::string>(), row[2].as<std::string>()});
    }
  });
  size_t deleted = 0;
  for (const auto& recording : expired) {
    auto call_log = log_.withFields({{"tenant_id", recording.tenant_id}, {"call_id", recording.call_id}});
    if (!safeRecordingPath(recording.file)) {
      // Not a name media-relay writes: never touched, only marked, so it is not read again.
      call_log.error("recording with a malformed file name: marked expired, nothing deleted",
                     {{"file", recording.file}});
    } else if (std::remove((directory_ + "/" + recording.file).c_str()) != 0 && errno != ENOENT) {
      failed_.Increment();
      call_log.warn("recording not deleted", {{"file", recording.file}, {"error", strerror(errno)}});
      continue;
    }
    pool_->inTenantTransaction(recording.tenant_id, [&](pqxx::work& txn) {
      txn.exec_params(
          "UPDATE calls SET recording = recording || jsonb_build_object('expired_at', now()) "
          "WHERE tenant_id = $1 AND call_id = $2",
          recording.tenant_id, recording.call_id);
    });
    deleted_.Increment();
    ++deleted;
    call_log.info("recording deleted after the tenant's retention", {{"file", recording.file}});
  }
  return deleted;
}

}  // namespace tel::cdr
