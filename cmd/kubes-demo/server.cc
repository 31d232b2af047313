#include "server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <thread>

#include "http.h"
#include "log.h"

namespace kubes::demo {
namespace {

// How often a waiting connection looks whether the server is stopping.
constexpr timeval kReadTimeout = {0, 250 * 1000};
// A client that sends nothing (or never finishes a request) for this long is dropped.
constexpr auto kIdleTimeout = std::chrono::seconds(60);
constexpr timeval kWriteTimeout = {10, 0};

// A listening socket on port (0: any free port), or -1 with *error.
int OpenListener(int port, std::string* error) {
  int fd = socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);
  int one = 1, zero = 0;
  if (fd >= 0) {
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof zero);
    sockaddr_in6 addr{};
    addr.sin6_family = AF_INET6;
    addr.sin6_addr = in6addr_any;
    addr.sin6_port = htons(static_cast<uint16_t>(port));
    if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 && listen(fd, 128) == 0) return fd;
    close(fd);
  }
  // No IPv6 in this network namespace: IPv4 only.
  fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    *error = std::string("socket: ") + strerror(errno);
    return -1;
  }
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_ANY);
  addr.sin_port = htons(static_cast<uint16_t>(port));
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || listen(fd, 128) != 0) {
    *error = "listen on port " + std::to_string(port) + ": " + strerror(errno);
    close(fd);
    return -1;
  }
  return fd;
}

int BoundPort(int fd) {
  sockaddr_storage addr{};
  socklen_t len = sizeof addr;
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  if (addr.ss_family == AF_INET6) return ntohs(reinterpret_cast<sockaddr_in6*>(&addr)->sin6_port);
  return ntohs(reinterpret_cast<sockaddr_in*>(&addr)->sin_port);
}

// "10.64.0.7:43122" or "[fd00::7]:43122"; IPv4 clients of a dual-stack socket show as IPv4.
std::string PeerName(const sockaddr_storage& addr) {
  char host[INET6_ADDRSTRLEN] = "?";
  if (addr.ss_family == AF_INET) {
    auto* a = reinterpret_cast<const sockaddr_in*>(&addr);
    inet_ntop(AF_INET, &a->sin_addr, host, sizeof host);
    return std::string(host) + ":" + std::to_string(ntohs(a->sin_port));
  }
  auto* a = reinterpret_cast<const sockaddr_in6*>(&addr);
  if (IN6_IS_ADDR_V4MAPPED(&a->sin6_addr)) {
    inet_ntop(AF_INET, &a->sin6_addr.s6_addr[12], host, sizeof host);
    return std::string(host) + ":" + std::to_string(ntohs(a->sin6_port));
  }
  inet_ntop(AF_INET6, &a->sin6_addr, host, sizeof host);
  return "[" + std::string(host) + "]:" + std::to_string(ntohs(a->sin6_port));
}

// One access-log line: client, request line, status, body bytes, time taken, user agent.
void LogRequest(const std::string& remote, const Request& request, const Response& response,
                std::chrono::steady_clock::duration took) {
  char ms[32];
  snprintf(ms, sizeof ms, "%.1fms", std::chrono::duration<double, std::milli>(took).count());
  LogLine(remote + " \"" + request.method + " " + request.target + " " + request.version + "\" " +
          std::to_string(response.status) + " " + std::to_string(response.body.size()) + " " + ms + " \"" +
          request.Header("User-Agent").value_or("-") + "\"");
}

}  // namespace

Server::Server(App* app, TlsContext* tls) : app_(app), tls_(tls) {
  if (pipe2(wake_, O_CLOEXEC) != 0) wake_[0] = wake_[1] = -1;
}

Server::~Server() {
  for (const Listener& l : listeners_) close(l.fd);
  for (int fd : wake_) {
    if (fd >= 0) close(fd);
  }
}

bool Server::Listen(int port, int tls_port, std::string* error) {
  if (wake_[0] < 0) {
    *error = std::string("pipe: ") + strerror(errno);
    return false;
  }
  int fd = OpenListener(port, error);
  if (fd < 0) return false;
  listeners_.push_back({fd, false});
  port_ = BoundPort(fd);
  if (tls_ != nullptr) {
    fd = OpenListener(tls_port, error);
    if (fd < 0) return false;
    listeners_.push_back({fd, true});
    tls_port_ = BoundPort(fd);
  }
  return true;
}

bool Server::Stopping() {
  std::lock_guard lock(mu_);
  return stopping_;
}

void Server::Stop() {
  {
    std::lock_guard lock(mu_);
    if (stopping_) return;
    stopping_ = true;
  }
  char byte = 0;
  (void)!write(wake_[1], &byte, 1);
}

void Server::Run() {
  std::vector<pollfd> fds;
  for (const Listener& l : listeners_) fds.push_back({l.fd, POLLIN, 0});
  fds.push_back({wake_[0], POLLIN, 0});
  while (!Stopping()) {
    if (poll(fds.data(), fds.size(), -1) < 0 && errno != EINTR) break;
    for (size_t i = 0; i < listeners_.size(); i++) {
      if (!(fds[i].revents & POLLIN)) continue;
      sockaddr_storage addr{};
      socklen_t len = sizeof addr;
      int fd = accept4(listeners_[i].fd, reinterpret_cast<sockaddr*>(&addr), &len, SOCK_CLOEXEC);
      if (fd >= 0) StartConnection(fd, listeners_[i].tls, PeerName(addr));
    }
  }
  // New connections are refused from here on.
  for (const Listener& l : listeners_) close(l.fd);
  listeners_.clear();
  std::unique_lock lock(mu_);
  idle_cv_.wait(lock, [this] { return connections_ == 0; });
}

void Server::StartConnection(int fd, bool tls, const std::string& remote) {
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &kReadTimeout, sizeof kReadTimeout);
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &kWriteTimeout, sizeof kWriteTimeout);
  {
    std::lock_guard lock(mu_);
    connections_++;
  }
  std::thread([this, fd, tls, remote] {
    std::unique_ptr<Stream> stream;
    std::string error;
    if (tls) {
      stream = tls_->Accept(fd, &error);
      if (!stream) LogLine(remote + " " + error);
    } else {
      stream = NewPlainStream(fd);
    }
    if (stream) Serve(std::move(stream), remote);
    std::lock_guard lock(mu_);
    if (--connections_ == 0) idle_cv_.notify_all();
  }).detach();
}

void Server::Serve(std::unique_ptr<Stream> stream, const std::string& remote) {
  std::string buffer;
  auto last_activity = std::chrono::steady_clock::now();
  while (true) {
    ParseResult parsed = ParseRequest(buffer);
    if (parsed.kind == ParseResult::Kind::kError) {
      Response r{parsed.status, "text/plain; charset=utf-8", parsed.error + "\n", std::nullopt};
      stream->WriteAll(SerializeResponse(r, false, false));
      LogLine(remote + " bad request: " + std::to_string(parsed.status) + " " + parsed.error);
      return;
    }
    if (parsed.kind == ParseResult::Kind::kIncomplete) {
      // Between requests a stopping server just closes the connection.
      if (buffer.empty() && Stopping()) return;
      if (std::chrono::steady_clock::now() - last_activity > kIdleTimeout) return;
      char chunk[16 * 1024];
      long n = stream->Read(chunk, sizeof chunk);
      if (n == Stream::kTimeout) continue;
      if (n <= 0) return;
      buffer.append(chunk, static_cast<size_t>(n));
      continue;
    }
    Request& request = parsed.request;
    request.remote = remote;
    buffer.erase(0, parsed.consumed);
    auto start = std::chrono::steady_clock::now();
    Response response = app_->Handle(request);
    bool keep_alive = request.KeepAlive() && !response.exit_code && !Stopping();
    bool written = stream->WriteAll(SerializeResponse(response, keep_alive, request.method == "HEAD"));
    LogRequest(remote, request, response, std::chrono::steady_clock::now() - start);
    if (response.exit_code) {
      LogLine("exiting with code " + std::to_string(*response.exit_code) + " (asked by " + remote + ")");
      stream.reset();  // the client sees the end of the response before the process goes
      _exit(*response.exit_code);
    }
    if (!written || !keep_alive) return;
    last_activity = std::chrono::steady_clock::now();
  }
}

}  // namespace kubes::demo
