#include "subprocess.h"

#include <absl/strings/str_cat.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <optional>
#include <thread>
#include <utility>

extern char** environ;

namespace tel::routing {
namespace {

using Clock = std::chrono::steady_clock;

// A descriptor closed when it goes out of scope (or earlier, by reset()).
class Fd {
 public:
  Fd() = default;
  explicit Fd(int fd) : fd_(fd) {}
  Fd(Fd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  Fd& operator=(Fd&& other) noexcept {
    reset();
    fd_ = std::exchange(other.fd_, -1);
    return *this;
  }
  ~Fd() { reset(); }
  int get() const { return fd_; }
  bool open() const { return fd_ >= 0; }
  void reset() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

 private:
  int fd_ = -1;
};

absl::Status systemError(const std::string& what, int error) {
  return absl::InternalError(absl::StrCat(what, ": ", std::strerror(error)));
}

bool setNonBlocking(int fd) {
  const int flags = ::fcntl(fd, F_GETFL);
  return flags >= 0 && ::fcntl(fd, F_SETFL, flags | O_NONBLOCK) == 0;
}

// posix_spawn's attribute objects, destroyed on every path.
struct SpawnSetup {
  posix_spawn_file_actions_t actions;
  posix_spawnattr_t attributes;
  SpawnSetup() {
    posix_spawn_file_actions_init(&actions);
    posix_spawnattr_init(&attributes);
  }
  ~SpawnSetup() {
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attributes);
  }
  SpawnSetup(const SpawnSetup&) = delete;
  SpawnSetup& operator=(const SpawnSetup&) = delete;
};

int exitCodeOf(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return -1;
}

// The child, until it has been waited for: killed and reaped if the run ends early (an error
// return, an exception), so that no zombie or runaway process outlives the call.
class Child {
 public:
  explicit Child(pid_t pid) : pid_(pid) {}
  ~Child() {
    if (pid_ > 0) killAndReap();
  }
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;

  int killAndReap() {
    if (pid_ <= 0) return -1;  // never kill(-1): that would signal every process we may signal
    ::kill(pid_, SIGKILL);
    return waitBlocking();
  }
  // Waits until `deadline`; the exit code, or nullopt if it is still running then.
  std::optional<int> waitUntil(Clock::time_point deadline) {
    for (;;) {
      int status = 0;
      const pid_t done = ::waitpid(pid_, &status, WNOHANG);
      if (done == pid_) {
        pid_ = -1;
        return exitCodeOf(status);
      }
      if (done < 0 && errno != EINTR) {
        pid_ = -1;
        return -1;
      }
      if (Clock::now() >= deadline) return std::nullopt;
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
  }

 private:
  int waitBlocking() {
    int status = 0;
    while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
    }
    pid_ = -1;
    return exitCodeOf(status);
  }

  pid_t pid_;
};

}  // namespace

absl::StatusOr<SubprocessResult> runSubprocess(const std::vector<std::string>& argv, std::string_view input,
                                               const SubprocessLimits& limits) {
  if (argv.empty() || argv[0].empty()) return absl::InvalidArgumentError("no program to run");
  const auto deadline = Clock::now() + limits.timeout;
  // stdin is a socket so that writing to a child that has stopped reading gives EPIPE
  // (MSG_NOSIGNAL) instead of a SIGPIPE that would end the service.
  int in_pair[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, in_pair) != 0) return systemError("socketpair", errno);
  Fd stdin_ours(in_pair[0]), stdin_child(in_pair[1]);
  int out_pipe[2];
  if (::pipe2(out_pipe, O_CLOEXEC) != 0) return systemError("pipe", errno);
  Fd stdout_ours(out_pipe[0]), stdout_child(out_pipe[1]);
  int err_pipe[2];
  if (::pipe2(err_pipe, O_CLOEXEC) != 0) return systemError("pipe", errno);
  Fd stderr_ours(err_pipe[0]), stderr_child(err_pipe[1]);
  // Only our ends are non-blocking: the child's must behave like ordinary stdio.
  if (!setNonBlocking(stdin_ours.get()) || !setNonBlocking(stdout_ours.get()) || !setNonBlocking(stderr_ours.get())) {
    return systemError("fcntl", errno);
  }

  SpawnSetup setup;
  posix_spawn_file_actions_adddup2(&setup.actions, stdin_child.get(), STDIN_FILENO);
  posix_spawn_file_actions_adddup2(&setup.actions, stdout_child.get(), STDOUT_FILENO);
  posix_spawn_file_actions_adddup2(&setup.actions, stderr_child.get(), STDERR_FILENO);
  posix_spawn_file_actions_addclosefrom_np(&setup.actions, 3);
  sigset_t none;
  sigemptyset(&none);
  posix_spawnattr_setsigmask(&setup.attributes, &none);
  sigset_t defaults;
  sigemptyset(&defaults);
  for (int signal : {SIGPIPE, SIGTERM, SIGINT}) sigaddset(&defaults, signal);
  posix_spawnattr_setsigdefault(&setup.attributes, &defaults);
  posix_spawnattr_setflags(&setup.attributes, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);

  std::vector<char*> args;
  for (const auto& arg : argv) args.push_back(const_cast<char*>(arg.c_str()));
  args.push_back(nullptr);
  pid_t pid = -1;
  const bool search_path = argv[0].find('/') == std::string::npos;
  const int spawned = search_path
                          ? ::posix_spawnp(&pid, args[0], &setup.actions, &setup.attributes, args.data(), environ)
                          : ::posix_spawn(&pid, args[0], &setup.actions, &setup.attributes, args.data(), environ);
  if (spawned == ENOENT) return absl::NotFoundError(absl::StrCat("no program ", argv[0]));
  if (spawned != 0) return systemError(absl::StrCat("cannot start ", argv[0]), spawned);
  Child child(pid);
  stdin_child.reset();
  stdout_child.reset();
  stderr_child.reset();

  SubprocessResult result;
  std::string_view pending = input;
  if (pending.empty()) stdin_ours.reset();
  char buffer[65536];
  while (stdout_ours.open() || stderr_ours.open()) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    if (left.count() <= 0) {
      child.killAndReap();
      return absl::DeadlineExceededError(
          absl::StrCat(argv[0], " did not finish within ", limits.timeout.count(), " ms"));
    }
    pollfd fds[3];
    nfds_t count = 0;
    int stdin_slot = -1, stdout_slot = -1, stderr_slot = -1;
    if (stdin_ours.open()) {
      stdin_slot = static_cast<int>(count);
      fds[count++] = {stdin_ours.get(), POLLOUT, 0};
    }
    if (stdout_ours.open()) {
      stdout_slot = static_cast<int>(count);
      fds[count++] = {stdout_ours.get(), POLLIN, 0};
    }
    if (stderr_ours.open()) {
      stderr_slot = static_cast<int>(count);
      fds[count++] = {stderr_ours.get(), POLLIN, 0};
    }
    const int ready = ::poll(fds, count, static_cast<int>(std::min<int64_t>(left.count() + 1, 1000)));
    if (ready < 0) {
      if (errno == EINTR) continue;
      return systemError("poll", errno);
    }
    if (stdin_slot >= 0 && fds[stdin_slot].revents != 0) {
      const ssize_t sent = ::send(stdin_ours.get(), pending.data(), pending.size(), MSG_NOSIGNAL);
      if (sent > 0) pending.remove_prefix(static_cast<size_t>(sent));
      // Done, or the child closed its stdin (EPIPE): it has all it will read.
      if (pending.empty() || (sent < 0 && errno != EAGAIN && errno != EINTR)) stdin_ours.reset();
    }
    if (stdout_slot >= 0 && fds[stdout_slot].revents != 0) {
      const ssize_t got = ::read(stdout_ours.get(), buffer, sizeof buffer);
      if (got > 0) {
        if (result.out.size() + static_cast<size_t>(got) > limits.max_stdout) {
          child.killAndReap();
          return absl::ResourceExhaustedError(
              absl::StrCat(argv[0], " wrote more than ", limits.max_stdout, " bytes"));
        }
        result.out.append(buffer, static_cast<size_t>(got));
      } else if (got == 0 || (errno != EAGAIN && errno != EINTR)) {
        stdout_ours.reset();
      }
    }
    if (stderr_slot >= 0 && fds[stderr_slot].revents != 0) {
      const ssize_t got = ::read(stderr_ours.get(), buffer, sizeof buffer);
      if (got > 0) {
        const size_t room = limits.max_stderr - std::min(limits.max_stderr, result.err.size());
        result.err.append(buffer, std::min(room, static_cast<size_t>(got)));
      } else if (got == 0 || (errno != EAGAIN && errno != EINTR)) {
        stderr_ours.reset();
      }
    }
  }
  stdin_ours.reset();
  // Both outputs are closed; a child that lingers after that still gets only the same deadline.
  const auto exit_code = child.waitUntil(deadline);
  if (!exit_code) {
    child.killAndReap();
    return absl::DeadlineExceededError(absl::StrCat(argv[0], " did not exit within ", limits.timeout.count(), " ms"));
  }
  result.exit_code = *exit_code;
  return result;
}

}  // namespace tel::routing
