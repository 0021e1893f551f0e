// Subprocesses without a shell: input in, output out, exit codes, and the limits that keep a
// runaway renderer from hanging or flooding the service.
#include "subprocess.h"

#include <catch2/catch.hpp>
#include <signal.h>

using namespace tel::routing;
using namespace std::chrono_literals;

TEST_CASE("stdin reaches the program whole and its stdout comes back") {
  std::string big(3 << 20, 'x');  // larger than any pipe buffer: both directions must interleave
  for (size_t i = 0; i < big.size(); i += 4097) big[i] = static_cast<char>('a' + i % 26);
  auto run = runSubprocess({"cat"}, big, {.timeout = 10s, .max_stdout = 4 << 20});
  REQUIRE(run.ok());
  CHECK(run->exit_code == 0);
  CHECK(run->out == big);
}

TEST_CASE("arguments are passed as they are, never through a shell") {
  auto run = runSubprocess({"printf", "%s|%s", "a;b $(id) `id`", "-- 'c'"}, "", {});
  REQUIRE(run.ok());
  CHECK(run->out == "a;b $(id) `id`|-- 'c'");
}

TEST_CASE("exit codes and stderr are reported, stderr capped") {
  auto run = runSubprocess({"sh", "-c", "echo oops >&2; head -c 10000 /dev/zero >&2; exit 3"}, "", {.max_stderr = 16});
  REQUIRE(run.ok());
  CHECK(run->exit_code == 3);
  CHECK(run->err.size() == 16);
  CHECK(run->err.rfind("oops\n", 0) == 0);
}

TEST_CASE("a program that ignores its input does not break the writer") {
  auto run = runSubprocess({"true"}, std::string(8 << 20, 'x'), {});
  REQUIRE(run.ok());
  CHECK(run->exit_code == 0);
}

TEST_CASE("a program past its timeout is killed") {
  const auto started = std::chrono::steady_clock::now();
  auto run = runSubprocess({"sleep", "30"}, "", {.timeout = 200ms});
  CHECK(run.status().code() == absl::StatusCode::kDeadlineExceeded);
  CHECK(std::chrono::steady_clock::now() - started < 5s);
  // Also one that closed its output but lingers.
  auto lingering = runSubprocess({"sh", "-c", "exec >&- 2>&-; sleep 30"}, "", {.timeout = 200ms});
  CHECK(lingering.status().code() == absl::StatusCode::kDeadlineExceeded);
  CHECK(std::chrono::steady_clock::now() - started < 10s);
}

TEST_CASE("a program that writes too much is killed") {
  auto run = runSubprocess({"cat", "/dev/zero"}, "", {.timeout = 10s, .max_stdout = 100000});
  CHECK(run.status().code() == absl::StatusCode::kResourceExhausted);
}

TEST_CASE("a missing program is NOT_FOUND") {
  CHECK(runSubprocess({"no-such-program-tel"}, "", {}).status().code() == absl::StatusCode::kNotFound);
  CHECK(runSubprocess({"/nonexistent/program"}, "", {}).status().code() == absl::StatusCode::kNotFound);
  CHECK(runSubprocess({}, "", {}).status().code() == absl::StatusCode::kInvalidArgument);
}

TEST_CASE("the child gets SIGTERM unblocked even when the service blocks it") {
  // Services block SIGTERM in all threads (ShutdownSignal); the child must not inherit that.
  sigset_t term, previous;
  sigemptyset(&term);
  sigaddset(&term, SIGTERM);
  REQUIRE(pthread_sigmask(SIG_BLOCK, &term, &previous) == 0);
  auto run = runSubprocess({"sh", "-c", "kill -TERM $$; sleep 5"}, "", {.timeout = 3s});
  pthread_sigmask(SIG_SETMASK, &previous, nullptr);
  REQUIRE(run.ok());
  CHECK(run->exit_code == 128 + SIGTERM);
}
