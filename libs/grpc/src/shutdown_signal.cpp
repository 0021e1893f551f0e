#include "tel/grpc/shutdown_signal.h"

#include <pthread.h>
#include <signal.h>

#include <algorithm>

namespace tel::grpc_util {
namespace {
sigset_t shutdownSignals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  return set;
}
}  // namespace

ShutdownSignal::ShutdownSignal() {
  const sigset_t set = shutdownSignals();
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
}

int ShutdownSignal::wait() {
  const sigset_t set = shutdownSignals();
  int received = 0;
  while (sigwait(&set, &received) != 0) {
  }
  return received;
}

}  // namespace tel::grpc_util

namespace tel::grpc_util {

int ShutdownSignal::waitFor(std::chrono::milliseconds timeout) {
  const sigset_t set = shutdownSignals();
  const auto seconds = std::chrono::duration_cast<std::chrono::seconds>(timeout);
  const timespec wait{static_cast<time_t>(seconds.count()),
                      static_cast<long>((timeout - seconds).count() * 1000000)};
  const int received = sigtimedwait(&set, nullptr, &wait);
  return received > 0 ? received : 0;
}

DrainResult drainInProgress(ShutdownSignal& signal, std::chrono::milliseconds grace,
                            const std::function<size_t()>& in_progress) {
  const auto started = std::chrono::steady_clock::now();
  const auto deadline = started + grace;
  DrainResult result;
  while ((result.left = in_progress()) > 0) {
    const auto now = std::chrono::steady_clock::now();
    if (now >= deadline) break;
    const auto step = std::min<std::chrono::milliseconds>(
        std::chrono::milliseconds(100),
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - now));
    if (signal.waitFor(step) != 0) {
      result.interrupted = true;
      break;
    }
  }
  result.took = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::steady_clock::now() - started);
  return result;
}

}  // namespace tel::grpc_util
