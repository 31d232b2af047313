// Conn — one TCP connection to 127.0.0.1, optionally wrapped in TLS (OpenSSL), for
// the benchmark's load generators. It is the only place that touches sockets and
// SSL objects, so the HTTP client and the watch load share one way to dial.
//
// A Conn starts blocking (with 30-second send/receive timeouts so no read waits
// forever); the watch load switches it to non-blocking and drives it from epoll.
// Server certificates are verified against the given CA and must be valid for
// 127.0.0.1, as kubectl would check them.
//
// Thread-safety: a Conn is used by one thread at a time. TlsContext is immutable after
// Make and may be shared by every thread.
#pragma once

#include <openssl/ssl.h>

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

#include "util/status.h"

namespace kubes::bench {

// An SSL_CTX that trusts one CA file.
class TlsContext {
 public:
  static Result<std::shared_ptr<TlsContext>> Make(const std::string& ca_file);
  ~TlsContext();
  SSL_CTX* get() const { return ctx_; }

 private:
  explicit TlsContext(SSL_CTX* ctx) : ctx_(ctx) {}
  SSL_CTX* ctx_;
};

class Conn {
 public:
  // Connects to 127.0.0.1:port; with tls, also completes the handshake.
  static Result<std::unique_ptr<Conn>> Dial(int port, std::shared_ptr<TlsContext> tls);
  ~Conn();
  Conn(const Conn&) = delete;
  Conn& operator=(const Conn&) = delete;

  Status WriteAll(std::string_view data);

  // Outcome of one read: bytes, end of stream, nothing yet (non-blocking only), or error.
  enum class ReadKind { kData, kEof, kWouldBlock, kError };
  struct ReadResult {
    ReadKind kind;
    size_t n = 0;
  };
  ReadResult Read(char* buf, size_t size);

  Status SetNonBlocking();
  int fd() const { return fd_; }

 private:
  Conn(int fd, SSL* ssl, std::shared_ptr<TlsContext> tls) : fd_(fd), ssl_(ssl), tls_(std::move(tls)) {}
  int fd_;
  SSL* ssl_;  // null for plain TCP
  std::shared_ptr<TlsContext> tls_;
};

// The last OpenSSL error as text, for error messages.
std::string OpenSslError();

}  // namespace kubes::bench
