#include "kubelet/prober/exec.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "util/strings.h"

extern char** environ;

namespace kubes::kubelet::prober {
namespace {

// Closes the descriptors it holds.
struct Pipe {
  int fd[2] = {-1, -1};
  ~Pipe() {
    for (int f : fd) {
      if (f >= 0) close(f);
    }
  }
};

}  // namespace

std::string JoinCommand(const std::vector<std::string>& command) { return Join(command, " "); }

Result<ExecResult> RunWithTimeout(const std::vector<std::string>& argv, std::chrono::milliseconds timeout,
                                  size_t max_output, const std::atomic<bool>* cancel) {
  if (argv.empty()) return Invalid("empty command");
  Pipe out, err;
  if (pipe2(out.fd, O_CLOEXEC) != 0 || pipe2(err.fd, O_CLOEXEC) != 0) {
    return Internal(std::string("pipe: ") + strerror(errno));
  }
  // posix_spawn (vfork underneath): no copy of the kubelet's page tables per probe.
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&actions, out.fd[1], 1);
  posix_spawn_file_actions_adddup2(&actions, err.fd[1], 2);
  posix_spawn_file_actions_addclosefrom_np(&actions, 3);
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t none, defaults;
  sigemptyset(&none);
  sigemptyset(&defaults);
  sigaddset(&defaults, SIGPIPE);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setsigdefault(&attr, &defaults);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  std::vector<char*> args;
  std::vector<std::string> copy = argv;
  for (auto& a : copy) args.push_back(a.data());
  args.push_back(nullptr);
  pid_t pid = -1;
  int rc = posix_spawnp(&pid, args[0], &actions, &attr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  if (rc != 0) return Internal("exec " + argv[0] + ": " + strerror(rc));
  close(out.fd[1]);
  close(err.fd[1]);
  out.fd[1] = err.fd[1] = -1;

  ExecResult result;
  std::string stdout_text, stderr_text;
  auto deadline = std::chrono::steady_clock::now() + timeout;
  int open = 2;
  while (open > 0) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0 || (cancel && cancel->load())) {
      result.timed_out = true;
      break;
    }
    pollfd p[2] = {{out.fd[0], POLLIN, 0}, {err.fd[0], POLLIN, 0}};
    int n = poll(p, 2, static_cast<int>(cancel ? std::min<int64_t>(left.count(), 100) : left.count()));
    if (n < 0 && errno != EINTR) {
      result.timed_out = true;  // cannot wait any more: stop it as at the timeout
      break;
    }
    for (int i = 0; i < 2 && n > 0; ++i) {
      if (p[i].fd < 0 || !(p[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
      char buf[8192];
      ssize_t k = read(p[i].fd, buf, sizeof buf);
      std::string& text = i == 0 ? stdout_text : stderr_text;
      if (k > 0) {
        text.append(buf, std::min<size_t>(static_cast<size_t>(k), max_output - std::min(max_output, text.size())));
      } else if (k == 0 || errno != EINTR) {
        int& fd = i == 0 ? out.fd[0] : err.fd[0];
        close(fd);
        fd = -1;
        --open;
      }
    }
  }
  if (result.timed_out) kill(pid, SIGKILL);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  result.output = stdout_text + stderr_text;
  if (result.output.size() > max_output) result.output.resize(max_output);
  return result;
}

ProbeOutput ExecProbeOutput(const std::vector<std::string>& command, const Result<ExecResult>& ran) {
  if (!ran.ok()) return ProbeOutput::Error(ran.status());
  if (ran->timed_out) return ProbeOutput::Failure("command \"" + JoinCommand(command) + "\" timed out");
  if (ran->exit_code == 0) return ProbeOutput::Success(ran->output);
  return ProbeOutput::Failure(ran->output);
}

}  // namespace kubes::kubelet::prober
