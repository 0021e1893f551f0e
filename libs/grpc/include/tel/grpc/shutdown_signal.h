#pragma once

#include <chrono>
#include <cstddef>
#include <functional>

namespace tel::grpc_util {

// Waits for SIGTERM or SIGINT. Construct it first thing in main(), before any thread starts:
// it blocks both signals in the calling thread, and threads created afterwards inherit the mask,
// so the signal is only ever taken by wait() (sigwait), never by a random thread.
class ShutdownSignal {
 public:
  ShutdownSignal();
  // Blocks until a signal arrives; returns its number.
  int wait();
  // The same for at most `timeout`; 0 when none came.
  int waitFor(std::chrono::milliseconds timeout);
};

struct DrainResult {
  size_t left = 0;           // work still in progress when the drain ended
  bool interrupted = false;  // a second signal asked to stop at once
  std::chrono::milliseconds took{0};
};

// A graceful drain, after the first signal: the caller has stopped taking new work; this waits
// until in_progress() reports nothing left, the grace period ends, or a second signal arrives.
// in_progress() is called from this thread every 100 ms.
DrainResult drainInProgress(ShutdownSignal& signal, std::chrono::milliseconds grace,
                            const std::function<size_t()>& in_progress);

}  // namespace tel::grpc_util
