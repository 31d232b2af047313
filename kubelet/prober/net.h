// Connections for the network probes and hooks: a TCP dial and a byte stream (plain or
// TLS) whose every call ends by a deadline, on non-blocking sockets and poll(2)
// (upstream: the net.Dialer and http.Transport the probes use).
//
// Errors read as Go's net package words them, because that text ends up in the
// `Unhealthy` events users compare with Kubernetes documentation:
//   dial tcp 10.42.0.7:8080: connect: connection refused
//   dial tcp 10.42.0.7:8080: i/o timeout                      (Code::kTimeout)
//   read tcp 10.42.0.1:51234->10.42.0.7:8080: read: connection reset by peer
// TLS is for probes and hooks with scheme HTTPS: the server's certificate is not
// verified (as upstream: InsecureSkipVerify).
//
// Thread-safety: a Stream is used by one thread at a time; the functions are
// independent.
#pragma once

#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <string_view>

#include "util/status.h"

namespace kubes::kubelet::prober {

using Deadline = std::chrono::steady_clock::time_point;

// Owns a file descriptor; closes it when destroyed.
class UniqueFd {
 public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) : fd_(fd) {}
  ~UniqueFd() { Reset(); }
  UniqueFd(UniqueFd&& o) noexcept : fd_(o.Release()) {}
  UniqueFd& operator=(UniqueFd&& o) noexcept {
    if (this != &o) Reset(o.Release());
    return *this;
  }
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;

  int get() const { return fd_; }
  int Release() {
    int fd = fd_;
    fd_ = -1;
    return fd;
  }
  void Reset(int fd = -1);

 private:
  int fd_ = -1;
};

// "10.0.0.1:80", "[fd00::1]:80" (Go's net.JoinHostPort).
std::string JoinHostPort(const std::string& host, int port);

// Waits until fd is ready for `events` (POLLIN, POLLOUT). kTimeout when the deadline
// passes first; kServiceUnavailable "cancelled" when *cancel becomes true.
Status WaitReady(int fd, short events, Deadline deadline, const std::atomic<bool>* cancel = nullptr);

// Connects to host:port (an IP literal or a name) before the deadline.
Result<UniqueFd> DialTCP(const std::string& host, int port, Deadline deadline,
                         const std::atomic<bool>* cancel = nullptr);

// Starts a non-blocking connect to an IP address (or a name, resolved first, blocking):
// *connected says whether it completed already; otherwise the socket becomes writable
// when it does (then ConnectResult says how it went).
Result<UniqueFd> StartConnect(const std::string& host, int port, bool* connected);
// After a pending connect made the socket writable: OK, or Go's dial error.
Status ConnectResult(int fd, const std::string& addr);
// Go's texts: "dial tcp <addr>: i/o timeout"; "read tcp <a>-><b>: read: <errno text>".
std::string DialTimeout(const std::string& addr);
Status SocketError(const char* op, int fd, int err);

// A connected byte stream.
class Stream {
 public:
  virtual ~Stream() = default;
  // Writes all of data.
  virtual Status Write(std::string_view data, Deadline deadline) = 0;
  // Reads up to n bytes (at least one); 0 means the peer closed the stream.
  virtual Result<size_t> Read(char* buf, size_t n, Deadline deadline) = 0;
};

// The stream over a plain TCP connection.
std::unique_ptr<Stream> NewPlainStream(UniqueFd fd, const std::atomic<bool>* cancel = nullptr);

// A TLS client session over fd after the handshake. A server that answers in plain
// HTTP fails with Go's "http: server gave HTTP response to HTTPS client" (the lifecycle
// hooks retry those over HTTP).
Result<std::unique_ptr<Stream>> NewTLSStream(UniqueFd fd, const std::string& server_name, Deadline deadline,
                                             const std::atomic<bool>* cancel = nullptr);

// The message of an HTTPS request answered in plain HTTP.
inline constexpr std::string_view kHTTPResponseToHTTPSClient = "http: server gave HTTP response to HTTPS client";

}  // namespace kubes::kubelet::prober
