#pragma once

#include <absl/status/statusor.h>

#include <chrono>
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace tel::routing {

struct SubprocessLimits {
  std::chrono::milliseconds timeout{10000};  // from start to exit, including reading its output
  size_t max_stdout = 1 << 20;
  size_t max_stderr = 4096;  // beyond this stderr is read and dropped
};

struct SubprocessResult {
  int exit_code = 0;  // the child's exit status; 128 + signal number when a signal ended it
  std::string out;
  std::string err;
};

// Runs a program without a shell: argv[0] is searched in PATH when it has no '/', and every other
// item reaches the program as one argument, whatever it contains. `input` is written to its stdin,
// which is then closed; stdout and stderr are read until it exits.
//
// The child starts with the default disposition for SIGPIPE, SIGTERM and SIGINT and nothing
// blocked (services block SIGTERM in every thread to take it with sigwait; a child inheriting that
// could not be stopped politely), and with no descriptor of ours but its 0-2: everything from 3 up
// is closed in the child, and our ends of its pipes are close-on-exec, so that a child spawned at
// the same time by another thread cannot hold them open (which would keep us waiting for EOF).
//
// DEADLINE_EXCEEDED when it runs past the timeout, RESOURCE_EXHAUSTED when its stdout exceeds
// max_stdout (either way the child is killed with SIGKILL and reaped), INTERNAL when it cannot be
// started (NOT_FOUND when the program does not exist). A nonzero exit is a result, not an error.
// Blocking; thread-safe (runs on the calling thread, no shared state).
absl::StatusOr<SubprocessResult> runSubprocess(const std::vector<std::string>& argv, std::string_view input,
                                               const SubprocessLimits& limits);

}  // namespace tel::routing
