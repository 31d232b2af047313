// Monitor::Create — from nothing to a created container (not started: Runtime::Start
// runs `<runtime> start` later). The runtime's `create` hands its own stdio to the
// container's process, so the container's pipes are the runtime's stdio; with a
// terminal the runtime sends the terminal's master side over a console socket.
#include <fcntl.h>
#include <signal.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "runtime/monitor/monitor.h"

namespace kubes::monitor {
namespace {

constexpr const char* kConsoleSocket = "console.sock";

// A pipe whose `ours` end is non-blocking (the event loop never waits on one
// descriptor); the container's end stays blocking, as programs expect.
bool Pipe(int fds[2], int ours) {
  if (pipe2(fds, O_CLOEXEC) != 0) return false;
  fcntl(fds[ours], F_SETFL, O_NONBLOCK);
  return true;
}

}  // namespace

bool Monitor::Fail(const char* what, int err) {
  char text[512];
  snprintf(text, sizeof text, "error kubes-monitor: %s: %s", what, strerror(err));
  Answer(text);
  return false;
}

void Monitor::Answer(const char* text) {
  size_t len = strlen(text);
  while (len > 0) {
    ssize_t n = write(o_.sync_fd, text, len);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    text += n;
    len -= n;
  }
  close(o_.sync_fd);
}

bool Monitor::Create() {
  if (!log_.Open(o_.log_path)) return Fail("open the log file", errno);
  if (!attach_.Listen("attach")) return Fail("listen on the attach socket", errno);
  if (!OpenControlFifo()) return Fail("make the control FIFO", errno);
  // SIGCHLD arrives through a descriptor the event loop reads: block it before the
  // runtime (whose container becomes our child) is started, so none is missed.
  sigset_t chld;
  sigemptyset(&chld);
  sigaddset(&chld, SIGCHLD);
  sigprocmask(SIG_BLOCK, &chld, nullptr);
  signals_ = signalfd(-1, &chld, SFD_NONBLOCK | SFD_CLOEXEC);
  if (signals_ < 0) return Fail("signalfd", errno);

  int child[3];  // the runtime's stdin, stdout, stderr
  if (!MakeStdio(child)) return Fail("make the container's stdio", errno);
  pid_t runtime = SpawnRuntime(child);
  int spawn_errno = errno;
  for (int fd : child) close(fd);
  if (runtime < 0) return Fail("fork", spawn_errno);
  int status = 0;
  while (waitpid(runtime, &status, 0) < 0 && errno == EINTR) {
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    AnswerRuntimeError(status);
    return false;
  }
  if (o_.tty && !ReceiveTerminal()) return Fail("receive the container's terminal from the OCI runtime", errno);
  if (o_.tty) {
    close(err_);  // it only carried the runtime's error messages
    err_ = -1;
  }

  char pid[32] = {};
  int fd = open("pidfile", O_RDONLY | O_CLOEXEC);
  if (fd >= 0) {
    (void)!read(fd, pid, sizeof pid - 1);
    close(fd);
  }
  pid_ = atoi(pid);
  if (pid_ <= 0) return Fail("read the pid file the OCI runtime wrote", fd < 0 ? errno : EINVAL);
  char answer[32];
  snprintf(answer, sizeof answer, "ok %d\n", static_cast<int>(pid_));
  Answer(answer);
  return true;
}

bool Monitor::OpenControlFifo() {
  unlink("ctl");
  if (mkfifo("ctl", 0600) != 0) return false;
  // Open for writing too: with a writer always present, a reader never sees end of
  // file when the kubelet's writes come and go.
  ctl_ = open("ctl", O_RDWR | O_NONBLOCK | O_CLOEXEC);
  return ctl_ >= 0;
}

bool Monitor::MakeStdio(int child[3]) {
  int null = open("/dev/null", O_RDWR | O_CLOEXEC);
  if (null < 0) return false;
  int out[2], err[2];
  if (!Pipe(err, 0)) return false;
  err_ = err[0];
  child[2] = err[1];
  if (o_.tty) {
    // The terminal belongs to the container; the runtime gets /dev/null, and a pipe
    // for its error messages.
    child[0] = null;
    child[1] = fcntl(null, F_DUPFD_CLOEXEC, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    strcpy(addr.sun_path, kConsoleSocket);
    unlink(kConsoleSocket);
    console_ = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    return console_ >= 0 && bind(console_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
           listen(console_, 1) == 0;
  }
  if (!Pipe(out, 0)) return false;
  out_ = out[0];
  child[1] = out[1];
  if (!o_.stdin) {
    child[0] = null;
    return true;
  }
  close(null);
  int in[2];
  if (!Pipe(in, 1)) return false;
  in_ = in[1];
  child[0] = in[0];
  return true;
}

pid_t Monitor::SpawnRuntime(const int child[3]) {
  pid_t pid = fork();
  if (pid == 0) ExecRuntime(child);
  return pid;
}

// The child: the runtime gets the container's stdio and the signal state a normal
// program starts with (the container inherits both). The command line is built here,
// on the child's copy of the stack: the monitor keeps every page of stack it ever
// touches, and pid_file alone is 4 KiB. Not inlined, or it would be in the parent's
// stack frame again.
[[gnu::noinline]] void Monitor::ExecRuntime(const int child[3]) {
  char pid_file[PATH_MAX];
  snprintf(pid_file, sizeof pid_file, "%s/pidfile", o_.bundle);
  const char* argv[16];
  int n = 0;
  for (const char* a : {o_.runtime, "--root", o_.runtime_root, "create", "--bundle", o_.bundle, "--pid-file",
                        static_cast<const char*>(pid_file)}) {
    argv[n++] = a;
  }
  if (o_.tty) {
    // Relative to the bundle: both runtimes connect from there.
    argv[n++] = "--console-socket";
    argv[n++] = kConsoleSocket;
  }
  argv[n++] = o_.id;
  argv[n] = nullptr;
  for (int i = 0; i < 3; ++i) dup2(child[i], i);
  signal(SIGPIPE, SIG_DFL);
  signal(SIGHUP, SIG_DFL);
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, nullptr);
  execv(argv[0], const_cast<char* const*>(argv));
  dprintf(2, "exec %s: %s\n", argv[0], strerror(errno));
  _exit(127);
}

bool Monitor::ReceiveTerminal() {
  // The runtime connected and sent the descriptor before it exited: both wait in the
  // socket's queue.
  int conn = accept4(console_, nullptr, nullptr, SOCK_CLOEXEC);
  if (conn < 0) return false;
  char byte;
  iovec iov{&byte, 1};
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))];
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof control;
  ssize_t n = recvmsg(conn, &msg, MSG_CMSG_CLOEXEC);
  int err = errno;
  close(conn);
  close(console_);
  console_ = -1;
  unlink(kConsoleSocket);
  cmsghdr* c = n >= 0 ? CMSG_FIRSTHDR(&msg) : nullptr;
  if (c == nullptr || c->cmsg_type != SCM_RIGHTS) {
    errno = n < 0 ? err : EPROTO;
    return false;
  }
  memcpy(&tty_, CMSG_DATA(c), sizeof tty_);
  fcntl(tty_, F_SETFL, O_NONBLOCK);
  return true;
}

// "error <what the runtime printed>", or how it ended when it printed nothing. Runtime::
// Create turns runc's and crun's log format into a plain message. Not inlined, to keep
// the buffer out of Create's stack frame (see ExecRuntime).
[[gnu::noinline]] void Monitor::AnswerRuntimeError(int status) {
  char out[4096];
  size_t len = snprintf(out, sizeof out, "error ");
  for (int fd : {err_, out_}) {
    ssize_t n;
    while (fd >= 0 && len + 1 < sizeof out && (n = read(fd, out + len, sizeof out - 1 - len)) > 0) len += n;
  }
  while (len > 6 && (out[len - 1] == '\n' || out[len - 1] == ' ')) --len;
  out[len] = '\0';
  if (len <= 6) {  // it printed nothing
    if (WIFEXITED(status)) snprintf(out, sizeof out, "error %s create exited with %d", o_.runtime, WEXITSTATUS(status));
    else snprintf(out, sizeof out, "error %s create was killed by signal %d", o_.runtime, WTERMSIG(status));
  }
  Answer(out);
}

}  // namespace kubes::monitor
