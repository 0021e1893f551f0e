#include "tel/grpc/shutdown_signal.h"

#include <pthread.h>
#include <signal.h>

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
