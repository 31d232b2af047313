// Conn — one TCP connection, optionally wrapped in TLS (OpenSSL): the only place in
// client/http that touches sockets and SSL objects. The HTTP client, the apiserver's
// proxy to remote kubelets and the benchmark's watch load all dial through it.
//
// Dial resolves any host (IPv4 or IPv6 literal, or a name through getaddrinfo, trying
// each address in turn), connects within kDialTimeout, and completes the TLS
// handshake. The server's certificate is checked against the trusted CA and must name
// the host given to Dial (an IP SAN for an address, a DNS SAN for a name), the way Go's
// crypto/tls checks it for kubectl and client-go — unless the TlsContext is
// `insecure`, as the apiserver's kubelet client is by default. Errors read like Go's
// ("dial tcp 127.0.0.1:10250: connect: connection refused"), because users see them
// through kubectl.
//
// A Conn starts blocking, with 30-second send and receive timeouts so that no call
// waits forever; callers that must not block wait with WaitReadable (poll) first, or
// switch to non-blocking and drive it from epoll (the benchmark's watch load).
// Writes never raise SIGPIPE. TLS reads may return kWouldBlock even on a blocking
// Conn (after a TLS record that carried no application data, such as a TLS 1.3
// session ticket), so a reader never hangs on a record that had nothing for it.
//
// Thread-safety: a Conn is used by one thread at a time. A TlsContext is immutable
// after Make and may be shared by every thread.
#pragma once

#include <openssl/ssl.h>

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

#include "util/status.h"

namespace kubes::client::http {

// Whom to trust and who we are. With neither CA given and insecure false, the
// system's trust store is used.
struct TlsOptions {
  std::string ca_file{};     // trust the CA certificates in this PEM file...
  std::string ca_pem{};      // ...or in this PEM text
  bool insecure = false;     // do not verify the server's certificate at all
  std::string cert_file{};   // client certificate and key, PEM files...
  std::string key_file{};
  std::string cert_pem{};    // ...or PEM text
  std::string key_pem{};
};

class TlsContext {
 public:
  static Result<std::shared_ptr<TlsContext>> Make(const TlsOptions& options);
  ~TlsContext();
  TlsContext(const TlsContext&) = delete;
  TlsContext& operator=(const TlsContext&) = delete;

  SSL_CTX* get() const { return ctx_; }
  bool verifies_server() const { return verify_; }

 private:
  TlsContext(SSL_CTX* ctx, bool verify) : ctx_(ctx), verify_(verify) {}
  SSL_CTX* ctx_;
  bool verify_;
};

class Conn {
 public:
  // Connect timeout per address (Go's net.Dialer default in client-go is 30 s).
  static constexpr std::chrono::seconds kDialTimeout{30};

  // Connects to host:port; with tls, also completes the handshake and checks the
  // server's certificate names host.
  static Result<std::unique_ptr<Conn>> Dial(const std::string& host, int port, std::shared_ptr<TlsContext> tls);
  ~Conn();
  Conn(const Conn&) = delete;
  Conn& operator=(const Conn&) = delete;

  Status WriteAll(std::string_view data);

  // Outcome of one read: bytes, end of stream, nothing yet, or error.
  enum class ReadKind { kData, kEof, kWouldBlock, kError };
  struct ReadResult {
    ReadKind kind;
    size_t n = 0;
  };
  ReadResult Read(char* buf, size_t size);

  // True when TLS has already decrypted bytes that Read returns without touching the
  // socket; poll() on fd() cannot see them, so check this before waiting.
  bool Pending() const;
  // Waits until Read has something to report (data, end of stream, an error) or the
  // timeout passes; a negative timeout waits forever. False on timeout.
  bool WaitReadable(std::chrono::milliseconds timeout) const;

  // Sends TLS close_notify (when TLS) and shuts the socket down both ways, so the peer
  // sees the end at once; later reads and writes fail. The descriptor stays open
  // until the Conn is destroyed.
  void Close();

  Status SetNonBlocking();
  int fd() const { return fd_; }
  // "host:port" as given to Dial, for messages.
  const std::string& address() const { return address_; }

 private:
  Conn(int fd, SSL* ssl, std::shared_ptr<TlsContext> tls, std::string address)
      : fd_(fd), ssl_(ssl), tls_(std::move(tls)), address_(std::move(address)) {}
  int fd_;
  SSL* ssl_;  // null for plain TCP
  std::shared_ptr<TlsContext> tls_;
  std::string address_;
  bool closed_ = false;
};

// The last OpenSSL error as text, for error messages (clears the error queue).
std::string OpenSslError();

}  // namespace kubes::client::http
