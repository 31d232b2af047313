#include "kubelet/prober/probe_loop.h"

#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace kubes::kubelet::prober {

struct ProbeLoop::Op {
  uint64_t id = 0;
  bool http = false;
  UniqueFd fd;
  std::string addr;  // host:port, for dial errors
  std::string url;   // for HTTP errors: Get "<url>": …
  std::string request;
  size_t sent = 0;
  bool connected = false;
  ResponseParser parser;
  Deadline deadline;
  HTTPDone http_done;
  TCPDone tcp_done;
};

ProbeLoop::ProbeLoop() {
  epoll_fd_ = epoll_create1(EPOLL_CLOEXEC);
  wake_fd_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.u64 = 0;  // id 0: the wake-up
  epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, wake_fd_, &ev);
}

ProbeLoop::~ProbeLoop() {
  ops_.clear();  // closes the sockets; nobody waits for these callbacks any more
  close(wake_fd_);
  close(epoll_fd_);
}

void ProbeLoop::Wake() {
  uint64_t one = 1;
  ssize_t n = write(wake_fd_, &one, sizeof one);
  (void)n;
}

void ProbeLoop::StartHTTP(const HTTPRequest& request, std::chrono::milliseconds timeout, HTTPDone done) {
  auto op = std::make_unique<Op>();
  op->http = true;
  op->addr = JoinHostPort(request.host, request.port);
  op->url = request.URL();
  op->request = request.Serialize();
  op->deadline = std::chrono::steady_clock::now() + timeout;
  op->http_done = std::move(done);
  bool connected = false;
  auto fd = StartConnect(request.host, request.port, &connected);
  if (!fd.ok()) {
    op->http_done(Status(fd.status().code(), "Get \"" + op->url + "\": " + fd.status().message()));
    return;
  }
  op->fd = std::move(fd).value();
  Add(std::move(op), connected);
}

void ProbeLoop::StartTCP(const std::string& host, int port, std::chrono::milliseconds timeout, TCPDone done) {
  bool connected = false;
  auto fd = StartConnect(host, port, &connected);
  if (!fd.ok()) return done(ProbeOutput::Failure(fd.status().message()));
  if (connected) return done(ProbeOutput::Success());
  auto op = std::make_unique<Op>();
  op->addr = JoinHostPort(host, port);
  op->fd = std::move(fd).value();
  op->deadline = std::chrono::steady_clock::now() + timeout;
  op->tcp_done = std::move(done);
  Add(std::move(op), false);
}

void ProbeLoop::Add(std::unique_ptr<Op> op, bool connected) {
  op->id = next_id_++;
  op->connected = connected;
  epoll_event ev{};
  // Writable: connected, or room for the request (sent at once: it is small).
  ev.events = EPOLLOUT;
  ev.data.u64 = op->id;
  epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, op->fd.get(), &ev);
  deadlines_.push({op->deadline, op->id});
  ops_[op->id] = std::move(op);
}

void ProbeLoop::Finish(uint64_t id, Result<HTTPResponse> result) {
  auto it = ops_.find(id);
  if (it == ops_.end()) return;
  std::unique_ptr<Op> op = std::move(it->second);
  ops_.erase(it);
  epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, op->fd.get(), nullptr);
  op->fd.Reset();
  if (op->http) {
    if (!result.ok()) result = Status(result.status().code(), "Get \"" + op->url + "\": " + result.status().message());
    op->http_done(std::move(result));
  } else {
    op->tcp_done(result.ok() ? ProbeOutput::Success() : ProbeOutput::Failure(result.status().message()));
  }
}

void ProbeLoop::OnReady(Op& op, uint32_t events) {
  if (!op.connected) {
    Status s = ConnectResult(op.fd.get(), op.addr);
    if (!s.ok()) return Finish(op.id, s);
    if (!op.http) return Finish(op.id, HTTPResponse());
    op.connected = true;
  }
  if (op.sent < op.request.size()) {
    ssize_t n = send(op.fd.get(), op.request.data() + op.sent, op.request.size() - op.sent, MSG_NOSIGNAL);
    if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
      return Finish(op.id, SocketError("write", op.fd.get(), errno));
    }
    if (n > 0) op.sent += static_cast<size_t>(n);
    if (op.sent == op.request.size()) {
      epoll_event ev{};
      ev.events = EPOLLIN;
      ev.data.u64 = op.id;
      epoll_ctl(epoll_fd_, EPOLL_CTL_MOD, op.fd.get(), &ev);
    }
    return;
  }
  if (!(events & (EPOLLIN | EPOLLHUP | EPOLLERR))) return;
  char buf[16384];
  while (true) {
    ssize_t n = recv(op.fd.get(), buf, sizeof buf, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;
    if (n < 0) return Finish(op.id, SocketError("read", op.fd.get(), errno));
    ResponseParser::State st = n == 0 ? op.parser.Finish() : op.parser.Feed(std::string_view(buf, static_cast<size_t>(n)));
    if (st == ResponseParser::State::kDone) return Finish(op.id, op.parser.response());
    if (st == ResponseParser::State::kError) return Finish(op.id, Status(Code::kServiceUnavailable, op.parser.error()));
  }
}

void ProbeLoop::Expire(Deadline now) {
  while (!deadlines_.empty() && deadlines_.top().first <= now) {
    uint64_t id = deadlines_.top().second;
    deadlines_.pop();
    auto it = ops_.find(id);
    if (it == ops_.end()) continue;  // finished already
    Op& op = *it->second;
    if (op.http) Finish(id, Status(Code::kTimeout, HTTPTimeout(op.parser.HeadDone())));
    else Finish(id, Status(Code::kTimeout, DialTimeout(op.addr)));
  }
}

void ProbeLoop::RunOnce(Deadline until) {
  auto now = std::chrono::steady_clock::now();
  Deadline wake = until;
  if (!deadlines_.empty()) wake = std::min(wake, deadlines_.top().first);
  auto wait = std::chrono::duration_cast<std::chrono::milliseconds>(wake - now);
  // Round up: waking a little late beats spinning on a deadline less than 1 ms away.
  int timeout = wait.count() < 0 ? 0 : static_cast<int>(std::min<int64_t>(wait.count() + 1, 1000));
  epoll_event events[64];
  int n = epoll_wait(epoll_fd_, events, 64, timeout);
  for (int i = 0; i < n; ++i) {
    uint64_t id = events[i].data.u64;
    if (id == 0) {
      uint64_t count;
      ssize_t r = read(wake_fd_, &count, sizeof count);
      (void)r;
      continue;
    }
    auto it = ops_.find(id);
    if (it != ops_.end()) OnReady(*it->second, events[i].events);
  }
  Expire(std::chrono::steady_clock::now());
}

}  // namespace kubes::kubelet::prober
