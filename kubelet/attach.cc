// kubectl attach: the container's own stdin/stdout/stderr, through the attach socket
// its kubes-monitor keeps (upstream: the CRI Attach call; CRI-O's conmon has the same
// socket; runtime/monitor/README.md has the protocol). Packets read from the socket
// start with one byte naming the stream (2 stdout, 3 stderr); bytes written to it go
// to the container's stdin, and shutting down our sending side ends that input (a
// stdinOnce container's stdin is closed then). A window size change is a line
// "1 <height> <width>" on the monitor's control FIFO.
#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>
#include <thread>

#include "kubelet/kubelet.h"

namespace kubes::kubelet {

Result<streaming::Process> Kubelet::AttachProcess(const std::string& id, const streaming::Options& o) {
  std::string path = runtime_->AttachSocket(id);
  int sock = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  // The path may be longer than sun_path allows: connect through /proc/self/fd.
  int dir = open(path.substr(0, path.rfind('/')).c_str(), O_PATH | O_CLOEXEC);
  std::string short_path = "/proc/self/fd/" + std::to_string(dir) + "/attach";
  std::snprintf(addr.sun_path, sizeof addr.sun_path, "%s", short_path.c_str());
  int rc = connect(sock, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  int err = errno;
  close(dir);
  if (rc != 0) {
    close(sock);
    return Internal("attach to container " + id + ": " + strerror(err));
  }
  int out[2], errp[2], in[2] = {-1, -1};
  if (pipe2(out, O_CLOEXEC) || pipe2(errp, O_CLOEXEC) || (o.stdin && pipe2(in, O_CLOEXEC))) {
    close(sock);
    return Internal(std::string("pipe: ") + strerror(errno));
  }
  // The socket is closed when both relay threads are done with it.
  auto socket_owner = std::shared_ptr<void>(nullptr, [sock](void*) { close(sock); });
  // Split the socket's packets into the two output pipes until either side ends.
  std::thread([sock, socket_owner, out_w = out[1], err_w = errp[1]] {
    char buf[8193];
    while (true) {
      ssize_t n = recv(sock, buf, sizeof buf, 0);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) break;
      int fd = buf[0] == 3 ? err_w : out_w;
      if (write(fd, buf + 1, n - 1) < 0 && errno == EPIPE) break;
    }
    close(out_w);
    close(err_w);
    // Unblocks the stdin relay, which may still wait to send.
    shutdown(sock, SHUT_RDWR);
  }).detach();
  // The session's stdin into the socket, one packet per read; its end shuts down our
  // sending side, which the monitor takes as the end of the container's input.
  if (o.stdin) {
    std::thread([sock, socket_owner, in_r = in[0]] {
      char buf[8192];
      while (true) {
        ssize_t n = read(in_r, buf, sizeof buf);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0 || send(sock, buf, n, MSG_NOSIGNAL) < 0) break;
      }
      shutdown(sock, SHUT_WR);
      close(in_r);
    }).detach();
  }
  streaming::Process p;
  p.stdin_fd = o.stdin ? in[1] : -1;
  if (o.stdout) p.stdout_fd = out[0];
  else close(out[0]);
  if (o.stderr && !o.tty) p.stderr_fd = errp[0];
  else close(errp[0]);
  std::string ctl = runtime_->ControlFifo(id);
  if (o.tty) {
    p.resize = [ctl](uint16_t w, uint16_t h) {
      int fd = open(ctl.c_str(), O_WRONLY | O_NONBLOCK | O_CLOEXEC);
      if (fd < 0) return;
      std::string line = "1 " + std::to_string(h) + " " + std::to_string(w) + "\n";
      (void)!write(fd, line.data(), line.size());
      close(fd);
    };
  }
  return p;
}

}  // namespace kubes::kubelet
