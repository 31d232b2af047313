// Monitor::Run and Monitor::Finish — serving a created container until its init process
// ends. One epoll set, level-triggered, over: the container's output (pipes or the
// terminal), SIGCHLD (signalfd), the attach socket and its clients, the control FIFO,
// and — only while input waits — the container's stdin.
#include <fcntl.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "runtime/monitor/monitor.h"

namespace kubes::monitor {
namespace {

constexpr char kStdoutByte = 2, kStderrByte = 3;  // attach packets' stream byte
constexpr unsigned kIn = EPOLLIN, kOut = EPOLLOUT, kNone = 0;

}  // namespace

void Monitor::Watch(int fd, unsigned events) {
  epoll_event ev{};
  ev.events = events;
  ev.data.fd = fd;
  epoll_ctl(epoll_, EPOLL_CTL_ADD, fd, &ev);
}

void Monitor::Rewatch(int fd, unsigned events) {
  epoll_event ev{};
  ev.events = events;
  ev.data.fd = fd;
  epoll_ctl(epoll_, EPOLL_CTL_MOD, fd, &ev);
}

void Monitor::Run() {
  epoll_ = epoll_create1(EPOLL_CLOEXEC);
  for (int fd : {out_, err_, tty_, signals_, attach_.listen_fd(), ctl_}) {
    if (fd >= 0) Watch(fd, EPOLLIN);
  }
  Reap();  // the container may have ended already (SIGCHLD stays pending: harmless)
  epoll_event events[16];
  while (!exited_) {
    int n = epoll_wait(epoll_, events, 16, -1);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return;
    for (int i = 0; i < n; ++i) Handle(events[i].data.fd, events[i].events);
  }
}

void Monitor::Handle(int fd, unsigned events) {
  if (fd < 0) return;  // closed by an earlier event of the same batch
  if (fd == out_ || fd == err_ || fd == tty_) {
    if (events & (EPOLLIN | EPOLLHUP | EPOLLERR)) ReadOutput(fd);
    if (fd == tty_ && (events & EPOLLOUT)) FlushStdin();
  } else if (fd == in_) {
    FlushStdin();
  } else if (fd == signals_) {
    signalfd_siginfo info;
    while (read(signals_, &info, sizeof info) > 0) {
    }
    Reap();
  } else if (fd == attach_.listen_fd()) {
    AcceptClients();
  } else if (fd == ctl_) {
    ReadControl();
  } else if (attach_.IsClient(fd)) {
    ClientInput(fd, events);
  }
}

// One read per call: level-triggered epoll comes back while there is more. False when
// this output has ended (end of file; EIO from a terminal nobody holds any more).
bool Monitor::ReadOutput(int fd) {
  ssize_t n = read(fd, packet_ + 1, kMaxChunk);
  if (n < 0 && (errno == EAGAIN || errno == EINTR)) return false;
  if (n <= 0) {
    CloseOutput(fd);
    return false;
  }
  bool is_stderr = fd == err_;
  log_.Write(is_stderr ? Stream::kStderr : Stream::kStdout, std::string_view(packet_ + 1, n));
  attach_.Broadcast(is_stderr ? kStderrByte : kStdoutByte, packet_, n);
  return true;
}

void Monitor::CloseOutput(int fd) {
  close(fd);  // also leaves the epoll set
  if (fd == out_) out_ = -1;
  if (fd == err_) err_ = -1;
  if (fd == tty_) {
    tty_ = -1;  // its input side with it
    pending_begin_ = pending_end_ = 0;
    SetStdinWaiting(false);
  }
}

// Collects every child that ended. The container's init is a child of ours: the
// runtime's `create` exited and we are a child subreaper, so it was reparented here.
void Monitor::Reap() {
  int status;
  pid_t pid;
  while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
    if (pid == pid_) {
      wait_status_ = status;
      exited_ = true;
    }
  }
}

void Monitor::AcceptClients() {
  int fd;
  while ((fd = attach_.Accept()) >= 0) Watch(fd, stdin_waiting_ ? kNone : kIn);
}

void Monitor::ClientInput(int fd, unsigned events) {
  ssize_t n = 0;
  if (events & EPOLLIN) {
    n = recv(fd, pending_, sizeof pending_, MSG_DONTWAIT);
    if (n > 0) {
      pending_begin_ = 0;
      pending_end_ = n;
      FlushStdin();
      return;
    }
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) return;
  }
  // The client's input has ended: it shut down its sending side (and still reads the
  // output), or it is gone.
  if (o_.stdin_once) CloseStdin();
  if ((events & (EPOLLHUP | EPOLLERR)) || n < 0) attach_.Drop(fd);
  else Rewatch(fd, 0);  // output only from now on; EPOLLHUP still tells when it leaves
}

// Writes waiting input to the container's stdin as far as it takes it. Input for a
// container without stdin (or whose stdin was closed) is dropped.
void Monitor::FlushStdin() {
  int target = tty_ >= 0 ? tty_ : in_;
  while (pending_begin_ < pending_end_) {
    if (target < 0) break;
    ssize_t n = write(target, pending_ + pending_begin_, pending_end_ - pending_begin_);
    if (n > 0) {
      pending_begin_ += n;
    } else if (n < 0 && errno == EINTR) {
      continue;
    } else if (n < 0 && errno == EAGAIN) {
      SetStdinWaiting(true);
      return;
    } else {
      if (target == in_) CloseStdin();  // the container closed its end
      break;
    }
  }
  pending_begin_ = pending_end_ = 0;
  SetStdinWaiting(false);
}

// While input waits for the container: watch its stdin for room and leave the
// clients' sockets unread; after: the other way round.
void Monitor::SetStdinWaiting(bool waiting) {
  if (waiting == stdin_waiting_) return;
  stdin_waiting_ = waiting;
  if (tty_ >= 0) Rewatch(tty_, kIn | (waiting ? kOut : kNone));
  else if (in_ >= 0 && waiting) Watch(in_, EPOLLOUT);
  else if (in_ >= 0) epoll_ctl(epoll_, EPOLL_CTL_DEL, in_, nullptr);
  for (int i = 0; i < attach_.count(); ++i) Rewatch(attach_.client(i), waiting ? kNone : kIn);
}

void Monitor::CloseStdin() {
  if (in_ < 0) return;
  if (stdin_waiting_) SetStdinWaiting(false);
  close(in_);
  in_ = -1;
  pending_begin_ = pending_end_ = 0;
}

void Monitor::ReadControl() {
  ssize_t n = read(ctl_, ctl_line_ + ctl_len_, sizeof ctl_line_ - 1 - ctl_len_);
  if (n <= 0) return;
  ctl_len_ += n;
  size_t start = 0;
  for (size_t i = 0; i < ctl_len_; ++i) {
    if (ctl_line_[i] != '\n') continue;
    ctl_line_[i] = '\0';
    Control(ctl_line_ + start);
    start = i + 1;
  }
  memmove(ctl_line_, ctl_line_ + start, ctl_len_ - start);
  ctl_len_ -= start;
  if (ctl_len_ == sizeof ctl_line_ - 1) ctl_len_ = 0;  // no line is that long: drop it
}

// "1 <height> <width>": the terminal's new size. "2 …": reopen the log file (the
// kubelet renamed it to rotate it).
void Monitor::Control(const char* line) {
  char* end;
  long kind = strtol(line, &end, 10);
  long height = strtol(end, &end, 10);
  long width = strtol(end, &end, 10);
  if (kind == 1 && tty_ >= 0 && height > 0 && width > 0 && height <= USHRT_MAX && width <= USHRT_MAX) {
    winsize size{};
    size.ws_row = static_cast<unsigned short>(height);
    size.ws_col = static_cast<unsigned short>(width);
    ioctl(tty_, TIOCSWINSZ, &size);
  } else if (kind == 2) {
    log_.Reopen();
  }
}

void Monitor::Finish() {
  // What the container wrote before it ended is still in the pipes. Reads stop at end
  // of file, when a process that outlived it keeps a pipe open but idle, or after
  // more than a full pipe's worth (it keeps writing).
  for (int* fd : {&out_, &err_, &tty_}) {
    for (int reads = 0; reads < 256 && *fd >= 0 && ReadOutput(*fd); ++reads) {
    }
  }
  attach_.DropAll();
  if (!exited_) return;  // the loop failed: the code is unknown, say nothing
  // The oom mark before the exit code: the kubelet reads both once the code is there.
  if (OOMKilled()) close(open("oom", O_WRONLY | O_CREAT | O_CLOEXEC, 0644));
  int code = WIFEXITED(wait_status_) ? WEXITSTATUS(wait_status_) : 128 + WTERMSIG(wait_status_);
  WriteExitFile(code);
}

// The container's memory cgroup counts OOM kills: "oom_kill N" in memory.oom_control
// (cgroup v1) or memory.events (v2). The cgroup lives until the runtime's `delete`.
bool Monitor::OOMKilled() const {
  if (o_.oom_file == nullptr) return false;
  char text[1024];
  int fd = open(o_.oom_file, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  ssize_t n = read(fd, text, sizeof text - 1);
  close(fd);
  if (n <= 0) return false;
  text[n] = '\0';
  for (char* line = text; line != nullptr && *line != '\0';) {
    if (strncmp(line, "oom_kill ", 9) == 0) return atol(line + 9) > 0;
    line = strchr(line, '\n');
    if (line != nullptr) ++line;
  }
  return false;
}

// Written to a temporary name and renamed: the kubelet, watching the directory, never
// reads half a file.
void Monitor::WriteExitFile(int code) const {
  char tmp[PATH_MAX], path[PATH_MAX], text[16];
  snprintf(tmp, sizeof tmp, "%s/.%s.tmp", o_.exit_dir, o_.id);
  snprintf(path, sizeof path, "%s/%s", o_.exit_dir, o_.id);
  int len = snprintf(text, sizeof text, "%d", code);
  int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return;
  bool ok = write(fd, text, len) == len;
  ok = close(fd) == 0 && ok;
  if (ok) rename(tmp, path);
  else unlink(tmp);
}

}  // namespace kubes::monitor
