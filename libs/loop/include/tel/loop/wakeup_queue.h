#pragma once

#include <functional>
#include <mutex>
#include <vector>

namespace tel::loop {

// How other threads hand work to a thread that runs its own event loop (an epoll worker, the
// sofia-sip thread): post() queues a closure and makes fd() readable; the loop watches fd() and
// calls drain(), which runs the queued closures in order on the loop's thread.
// post() is thread-safe; drain() must only be called by the loop's thread.
class WakeupQueue {
 public:
  WakeupQueue();
  ~WakeupQueue();
  WakeupQueue(const WakeupQueue&) = delete;
  WakeupQueue& operator=(const WakeupQueue&) = delete;

  int fd() const { return fd_; }
  void post(std::function<void()> task);
  // Runs what was queued before the call; tasks posted meanwhile wait for the next wake-up.
  void drain();

 private:
  int fd_;
  std::mutex mutex_;
  std::vector<std::function<void()>> tasks_;  // guarded by mutex_
};

}  // namespace tel::loop
