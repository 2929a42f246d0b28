// Runs the built binary as a child process with captured stdout/stderr, for end-to-end tests.
// Not thread-safe; one test thread drives one Process.
#pragma once

#include <chrono>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace testing {

class Process {
 public:
  // Starts `binary args...` with `env` ("NAME=value") added to the current environment.
  // `input` is written to its stdin, which is then closed.
  Process(const std::string& binary, const std::vector<std::string>& args, const std::vector<std::string>& env = {},
          const std::string& input = "");
  ~Process();

  void signal(int signo) const;
  // The exit code, or nullopt if it has not exited within `timeout` (it is then killed).
  std::optional<int> wait(std::chrono::milliseconds timeout);
  // Waits until stderr contains `text`; returns false on timeout or on exit without it.
  bool wait_for_stderr(const std::string& text, std::chrono::milliseconds timeout);

  std::string out() const;
  std::string err() const;
  int pid() const { return pid_; }

 private:
  // True once the child has exited (collecting its status and the rest of its output).
  bool reaped();

  int pid_ = -1;
  std::optional<int> exit_code_;
  mutable std::mutex mutex_;
  std::string out_, err_;
  std::thread out_reader_, err_reader_;
};

// Runs to completion (up to 30 s) and returns {exit code, stdout, stderr}.
struct Completed {
  int code;
  std::string out;
  std::string err;
};
Completed run_binary(const std::string& binary, const std::vector<std::string>& args,
                     const std::vector<std::string>& env = {}, const std::string& input = "");

}  // namespace testing
