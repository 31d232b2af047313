// Processes and directories the benchmark owns: a child process it started (stopped
// by its PID only), a temporary directory removed with its owner, a free loopback
// port, and small /proc and file-system readings.
//
// Cleanup is tied to scope: a ChildProcess that goes out of scope is stopped, a
// TempDir is removed. Children also get SIGTERM if the benchmark dies
// (PR_SET_PDEATHSIG), so an interrupted run leaves no servers behind.
//
// Thread-safety: none; the benchmark's main thread owns these objects.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "util/status.h"

namespace kubes::bench {

class TempDir {
 public:
  // Creates parent/prefixXXXXXX.
  static Result<std::unique_ptr<TempDir>> Make(const std::string& parent, const std::string& prefix);
  ~TempDir();
  const std::string& path() const { return path_; }

 private:
  explicit TempDir(std::string path) : path_(std::move(path)) {}
  std::string path_;
};

class ChildProcess {
 public:
  // Starts argv[0] with the given arguments. Its stdout is readable through
  // ReadStdoutLine; its stderr goes to stderr_path.
  static Result<std::unique_ptr<ChildProcess>> Start(const std::vector<std::string>& argv,
                                                     const std::string& stderr_path);
  ~ChildProcess();  // Stop()s

  // The next line the child printed, waiting at most `timeout`.
  Result<std::string> ReadStdoutLine(std::chrono::milliseconds timeout);

  // SIGTERM, up to 10 s for it to exit, then SIGKILL. Returns false if it had to be killed.
  bool Stop();
  bool Exited();  // reaps the child if it has exited
  pid_t pid() const { return pid_; }

 private:
  ChildProcess(pid_t pid, int stdout_fd) : pid_(pid), stdout_fd_(stdout_fd) {}
  pid_t pid_;
  int stdout_fd_;
  bool reaped_ = false;
  std::string stdout_buf_;
};

// A TCP port on 127.0.0.1 that was free a moment ago (bind to port 0, read, close).
Result<int> FreePort();

// VmRSS of a process in kilobytes, from /proc/PID/status; -1 if unreadable.
int64_t RssKb(pid_t pid);

// Total apparent size of the regular files under dir.
int64_t DirBytes(const std::string& dir);

Result<std::string> ReadFile(const std::string& path);
Status CopyFile(const std::string& from, const std::string& to);

}  // namespace kubes::bench
