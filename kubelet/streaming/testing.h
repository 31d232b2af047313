// Test helpers for the streaming protocols (used only by the *_test.cc files here):
// an UpgradedConnection on one end of a socketpair, and the client side of WebSocket
// written from the RFC, so a test drives a session the way kubectl would.
#pragma once

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <optional>
#include <string>
#include <utility>

#include "apiserver/request.h"
#include "kubelet/streaming/websocket.h"

namespace kubes::kubelet::streaming::testing {

// The server's end of a socketpair, as the apiserver hands it over after a 101.
class SocketConnection : public apiserver::UpgradedConnection {
 public:
  explicit SocketConnection(int fd) : fd_(fd) {}
  ~SocketConnection() override { close(fd_); }
  int PollFd() const override { return fd_; }
  bool Buffered() override { return false; }
  size_t Read(char* buf, size_t n) override {
    ssize_t r;
    do {
      r = read(fd_, buf, n);
    } while (r < 0 && errno == EINTR);
    return r > 0 ? static_cast<size_t>(r) : 0;
  }
  bool Write(const void* data, size_t n) override {
    const char* p = static_cast<const char*>(data);
    while (n > 0) {
      ssize_t w = send(fd_, p, n, MSG_NOSIGNAL);
      if (w < 0 && errno == EINTR) continue;
      if (w <= 0) return false;
      p += w;
      n -= static_cast<size_t>(w);
    }
    return true;
  }

 private:
  int fd_;
};

// A connected pair: server() for the code under test, client_fd for the test.
struct SocketPair {
  int server_fd = -1;
  int client_fd = -1;
  SocketPair() {
    int fds[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) == 0) {
      server_fd = fds[0];
      client_fd = fds[1];
    }
  }
  ~SocketPair() {
    if (client_fd >= 0) close(client_fd);
  }
};

// Reads once with a deadline; "" on timeout or end of stream (then *eof is set).
inline std::string ReadSome(int fd, std::chrono::milliseconds timeout, bool* eof = nullptr) {
  pollfd p{fd, POLLIN, 0};
  if (poll(&p, 1, static_cast<int>(timeout.count())) <= 0) return "";
  char buf[64 * 1024];
  ssize_t n = read(fd, buf, sizeof buf);
  if (n <= 0) {
    if (eof) *eof = true;
    return "";
  }
  return std::string(buf, static_cast<size_t>(n));
}

inline bool WriteAll(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t w = send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return false;
    data.remove_prefix(static_cast<size_t>(w));
  }
  return true;
}

// The client side of a WebSocket: masks what it sends, reads the server's frames.
class WsClient {
 public:
  explicit WsClient(int fd) : fd_(fd) {}

  bool Send(Opcode op, std::string_view payload, bool fin = true) {
    return WriteAll(fd_, EncodeFrame(op, payload, fin, next_mask_++ * 0x9E3779B9u));
  }
  bool SendChannel(uint8_t channel, std::string_view data) {
    return Send(Opcode::kBinary, std::string(1, static_cast<char>(channel)) + std::string(data));
  }
  bool SendRaw(std::string_view bytes) { return WriteAll(fd_, bytes); }

  // The next frame from the server (control frames included), or nullopt after
  // `timeout` or at the end of the connection.
  std::optional<Frame> Next(std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (true) {
      Frame f;
      Result<size_t> r = DecodeFrame(in_, /*from_client=*/false, 1 << 30, &f);
      if (!r.ok()) return std::nullopt;
      if (*r > 0) {
        in_.erase(0, *r);
        return f;
      }
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) return std::nullopt;
      bool eof = false;
      std::string more = ReadSome(fd_, left, &eof);
      if (eof) return std::nullopt;
      in_ += more;
    }
  }

 private:
  int fd_;
  uint32_t next_mask_ = 1;
  std::string in_;
};

}  // namespace kubes::kubelet::streaming::testing
