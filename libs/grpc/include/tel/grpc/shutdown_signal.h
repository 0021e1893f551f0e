#pragma once

namespace tel::grpc_util {

// Waits for SIGTERM or SIGINT. Construct it first thing in main(), before any thread starts:
// it blocks both signals in the calling thread, and threads created afterwards inherit the mask,
// so the signal is only ever taken by wait() (sigwait), never by a random thread.
class ShutdownSignal {
 public:
  ShutdownSignal();
  // Blocks until a signal arrives; returns its number.
  int wait();
};

}  // namespace tel::grpc_util
