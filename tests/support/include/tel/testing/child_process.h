#pragma once

#include <sys/types.h>

#include <chrono>
#include <map>
#include <string>
#include <vector>

namespace tel::testing {

// A program started by a test, with extra environment variables; its output goes to `log_path`.
// The destructor kills it (SIGKILL) if it still runs.
class ChildProcess {
 public:
  ChildProcess(const std::string& program, const std::vector<std::string>& args,
               const std::map<std::string, std::string>& env, const std::string& log_path);
  ~ChildProcess();
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  // Sends `signal` and waits up to `timeout` for the exit; returns the exit status, or -1.
  int stop(int signal, std::chrono::milliseconds timeout);
  bool running();
  pid_t pid() const { return pid_; }
  // True once the log contains `text` (waits up to `timeout`).
  bool waitForLog(const std::string& text, std::chrono::milliseconds timeout) const;

 private:
  pid_t pid_ = -1;
  std::string log_path_;
};

}  // namespace tel::testing
