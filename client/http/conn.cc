#include "client/http/conn.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstring>

#include "client/http/url.h"

namespace kubes::client::http {
namespace {

// Send and receive timeout of a dialled socket.
constexpr int kIoTimeoutSeconds = 30;

// strerror as Go spells it: "connection refused", not "Connection refused".
std::string GoErrno(int err) {
  std::string s = std::strerror(err);
  if (!s.empty()) s[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(s[0])));
  return s;
}

bool IsIpLiteral(const std::string& host) {
  in_addr v4;
  in6_addr v6;
  return inet_pton(AF_INET, host.c_str(), &v4) == 1 || inet_pton(AF_INET6, host.c_str(), &v6) == 1;
}

std::string NumericAddress(const addrinfo* ai, int port) {
  char text[INET6_ADDRSTRLEN] = "?";
  const void* where = ai->ai_family == AF_INET6
                          ? static_cast<const void*>(&reinterpret_cast<const sockaddr_in6*>(ai->ai_addr)->sin6_addr)
                          : static_cast<const void*>(&reinterpret_cast<const sockaddr_in*>(ai->ai_addr)->sin_addr);
  inet_ntop(ai->ai_family, where, text, sizeof text);
  return JoinHostPort(text, port);
}

// OpenSSL writes to the socket with write(2), which raises SIGPIPE when the peer has
// gone. This holds SIGPIPE back on the calling thread for the guard's lifetime and
// swallows one that the guarded writes raised, so a closed peer is an error, not death.
class SigpipeGuard {
 public:
  SigpipeGuard() {
    sigset_t pipe;
    sigemptyset(&pipe);
    sigaddset(&pipe, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &pipe, &old_);
    sigset_t pending;
    sigpending(&pending);
    was_pending_ = sigismember(&pending, SIGPIPE) == 1;
  }
  ~SigpipeGuard() {
    if (sigismember(&old_, SIGPIPE) == 0 && !was_pending_) {
      sigset_t pending;
      sigpending(&pending);
      if (sigismember(&pending, SIGPIPE) == 1) {
        sigset_t pipe;
        sigemptyset(&pipe);
        sigaddset(&pipe, SIGPIPE);
        timespec zero{0, 0};
        while (sigtimedwait(&pipe, nullptr, &zero) < 0 && errno == EINTR) {
        }
      }
    }
    pthread_sigmask(SIG_SETMASK, &old_, nullptr);
  }

 private:
  sigset_t old_;
  bool was_pending_ = false;
};

Status LoadCaPem(SSL_CTX* ctx, const std::string& pem) {
  BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  if (!bio) return Internal("BIO_new_mem_buf: " + OpenSslError());
  X509_STORE* store = SSL_CTX_get_cert_store(ctx);
  int added = 0;
  while (X509* cert = PEM_read_bio_X509(bio, nullptr, nullptr, nullptr)) {
    if (X509_STORE_add_cert(store, cert) == 1) ++added;
    X509_free(cert);
  }
  ERR_clear_error();  // the read that ends the loop leaves "no start line"
  BIO_free(bio);
  if (added == 0) return BadRequest("CA PEM holds no certificate");
  return Status::OK();
}

Status UseClientPem(SSL_CTX* ctx, const std::string& cert_pem, const std::string& key_pem) {
  BIO* bio = BIO_new_mem_buf(cert_pem.data(), static_cast<int>(cert_pem.size()));
  X509* leaf = bio ? PEM_read_bio_X509(bio, nullptr, nullptr, nullptr) : nullptr;
  bool ok = leaf && SSL_CTX_use_certificate(ctx, leaf) == 1;
  X509_free(leaf);
  // Any further certificates are the chain up to the CA.
  while (ok) {
    X509* extra = PEM_read_bio_X509(bio, nullptr, nullptr, nullptr);
    if (!extra) break;
    if (SSL_CTX_add0_chain_cert(ctx, extra) != 1) {
      X509_free(extra);
      ok = false;
    }
  }
  BIO_free(bio);
  if (!ok) return BadRequest("client certificate PEM: " + OpenSslError());
  ERR_clear_error();
  bio = BIO_new_mem_buf(key_pem.data(), static_cast<int>(key_pem.size()));
  EVP_PKEY* key = bio ? PEM_read_bio_PrivateKey(bio, nullptr, nullptr, nullptr) : nullptr;
  ok = key && SSL_CTX_use_PrivateKey(ctx, key) == 1;
  EVP_PKEY_free(key);
  BIO_free(bio);
  if (!ok) return BadRequest("client key PEM: " + OpenSslError());
  return Status::OK();
}

Status Configure(SSL_CTX* ctx, const TlsOptions& o) {
  SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
  // Reads return to the caller after a record without application data (a TLS 1.3
  // session ticket) instead of blocking for the next record; see the header.
  SSL_CTX_clear_mode(ctx, SSL_MODE_AUTO_RETRY);
  // A peer that closes without close_notify has simply ended the stream.
  SSL_CTX_set_options(ctx, SSL_OP_IGNORE_UNEXPECTED_EOF);
  if (o.insecure) {
    SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, nullptr);
  } else {
    if (!o.ca_file.empty() && SSL_CTX_load_verify_locations(ctx, o.ca_file.c_str(), nullptr) != 1) {
      return BadRequest("loading CA " + o.ca_file + ": " + OpenSslError());
    }
    if (!o.ca_pem.empty()) KUBES_RETURN_IF_ERROR(LoadCaPem(ctx, o.ca_pem));
    if (o.ca_file.empty() && o.ca_pem.empty() && SSL_CTX_set_default_verify_paths(ctx) != 1) {
      return Internal("loading the system's trusted CAs: " + OpenSslError());
    }
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, nullptr);
  }
  bool has_cert = !o.cert_file.empty() || !o.cert_pem.empty();
  bool has_key = !o.key_file.empty() || !o.key_pem.empty();
  if (has_cert != has_key) return BadRequest("a client certificate needs both the certificate and its key");
  if (!o.cert_file.empty()) {
    if (SSL_CTX_use_certificate_chain_file(ctx, o.cert_file.c_str()) != 1) {
      return BadRequest("loading client certificate " + o.cert_file + ": " + OpenSslError());
    }
  }
  if (!o.key_file.empty()) {
    if (SSL_CTX_use_PrivateKey_file(ctx, o.key_file.c_str(), SSL_FILETYPE_PEM) != 1) {
      return BadRequest("loading client key " + o.key_file + ": " + OpenSslError());
    }
  }
  if (!o.cert_pem.empty()) KUBES_RETURN_IF_ERROR(UseClientPem(ctx, o.cert_pem, o.key_pem));
  if (has_cert && SSL_CTX_check_private_key(ctx) != 1) {
    return BadRequest("the client key does not match the client certificate: " + OpenSslError());
  }
  return Status::OK();
}

// Connects fd to ai within the deadline; 0 or an errno (ETIMEDOUT for the deadline).
int ConnectBefore(int fd, const addrinfo* ai, std::chrono::steady_clock::time_point deadline) {
  if (::connect(fd, ai->ai_addr, ai->ai_addrlen) == 0) return 0;
  if (errno != EINPROGRESS && errno != EINTR) return errno;
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return ETIMEDOUT;
    pollfd p{fd, POLLOUT, 0};
    int n = ::poll(&p, 1, static_cast<int>(left.count()));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return errno;
    if (n == 0) return ETIMEDOUT;
    int err = 0;
    socklen_t len = sizeof err;
    ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
    return err;
  }
}

// A connected, blocking socket to one of host's addresses, or Go's wording of why not.
Result<int> ConnectTcp(const std::string& host, int port) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_NUMERICSERV;
  addrinfo* list = nullptr;
  std::string service = std::to_string(port);
  int rc = ::getaddrinfo(host.c_str(), service.c_str(), &hints, &list);
  if (rc != 0) {
    std::string why = rc == EAI_SYSTEM ? GoErrno(errno) : gai_strerror(rc);
    return Status(Code::kServiceUnavailable, "dial tcp: lookup " + host + ": " + why);
  }
  auto deadline = std::chrono::steady_clock::now() + Conn::kDialTimeout;
  Status first_error;
  int fd = -1;
  for (const addrinfo* ai = list; ai && fd < 0; ai = ai->ai_next) {
    int s = ::socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (s < 0) {
      if (first_error.ok()) first_error = Status(Code::kServiceUnavailable, "dial tcp: socket: " + GoErrno(errno));
      continue;
    }
    int err = ConnectBefore(s, ai, deadline);
    if (err == 0) {
      fd = s;
      break;
    }
    ::close(s);
    if (first_error.ok()) {
      std::string why = err == ETIMEDOUT ? "i/o timeout" : "connect: " + GoErrno(err);
      first_error = Status(Code::kServiceUnavailable, "dial tcp " + NumericAddress(ai, port) + ": " + why);
    }
  }
  ::freeaddrinfo(list);
  if (fd < 0) {
    if (first_error.ok()) first_error = Status(Code::kServiceUnavailable, "dial tcp: lookup " + host + ": no address");
    return first_error;
  }
  int flags = ::fcntl(fd, F_GETFL);
  ::fcntl(fd, F_SETFL, flags & ~O_NONBLOCK);
  int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  timeval timeout{kIoTimeoutSeconds, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof timeout);
  return fd;
}

}  // namespace

std::string OpenSslError() {
  unsigned long e = ERR_get_error();
  if (e == 0) return "unknown TLS error";
  char buf[256];
  ERR_error_string_n(e, buf, sizeof buf);
  ERR_clear_error();
  return buf;
}

Result<std::shared_ptr<TlsContext>> TlsContext::Make(const TlsOptions& options) {
  SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
  if (!ctx) return Internal("SSL_CTX_new: " + OpenSslError());
  auto made = std::shared_ptr<TlsContext>(new TlsContext(ctx, !options.insecure));
  Status s = Configure(ctx, options);
  if (!s.ok()) return s;
  return made;
}

TlsContext::~TlsContext() { SSL_CTX_free(ctx_); }

Result<std::unique_ptr<Conn>> Conn::Dial(const std::string& host_in, int port, std::shared_ptr<TlsContext> tls) {
  std::string host = host_in;
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  std::string address = JoinHostPort(host, port);
  auto fd = ConnectTcp(host, port);
  if (!fd.ok()) return fd.status();
  if (!tls) return std::unique_ptr<Conn>(new Conn(*fd, nullptr, nullptr, address));

  SSL* ssl = SSL_new(tls->get());
  if (!ssl) {
    ::close(*fd);
    return Internal("SSL_new: " + OpenSslError());
  }
  bool verify = tls->verifies_server();
  auto conn = std::unique_ptr<Conn>(new Conn(*fd, ssl, std::move(tls), address));
  SSL_set_fd(ssl, *fd);
  bool ip = IsIpLiteral(host);
  if (!ip) SSL_set_tlsext_host_name(ssl, host.c_str());
  if (verify) {
    int set = ip ? X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), host.c_str())
                 : X509_VERIFY_PARAM_set1_host(SSL_get0_param(ssl), host.c_str(), 0);
    if (set != 1) return Internal("TLS: cannot check the certificate for " + host + ": " + OpenSslError());
  }
  int rc;
  {
    SigpipeGuard guard;
    rc = SSL_connect(ssl);
  }
  if (rc != 1) {
    long verdict = SSL_get_verify_result(ssl);
    std::string why = verify && verdict != X509_V_OK
                          ? std::string("tls: failed to verify certificate: ") + X509_verify_cert_error_string(verdict)
                          : OpenSslError();
    ERR_clear_error();
    return Status(Code::kServiceUnavailable, "TLS handshake with " + address + ": " + why);
  }
  return conn;
}

Conn::~Conn() {
  if (ssl_) SSL_free(ssl_);  // no close_notify unless Close was called: dropping is enough
  ::close(fd_);
}

Status Conn::WriteAll(std::string_view data) {
  if (closed_) return Internal("write to " + address_ + ": connection closed");
  if (!ssl_) {
    while (!data.empty()) {
      ssize_t n = ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return Internal("write to " + address_ + ": " + GoErrno(errno));
      data.remove_prefix(static_cast<size_t>(n));
    }
    return Status::OK();
  }
  SigpipeGuard guard;
  while (!data.empty()) {
    int n = SSL_write(ssl_, data.data(), static_cast<int>(std::min<size_t>(data.size(), 1 << 30)));
    if (n > 0) {
      data.remove_prefix(static_cast<size_t>(n));
      continue;
    }
    int err = SSL_get_error(ssl_, n);
    if (err == SSL_ERROR_WANT_WRITE || err == SSL_ERROR_WANT_READ) {
      // A non-blocking Conn whose socket is full: wait for room (or a record to read).
      pollfd p{fd_, static_cast<short>(err == SSL_ERROR_WANT_WRITE ? POLLOUT : POLLIN), 0};
      if (::poll(&p, 1, kIoTimeoutSeconds * 1000) <= 0) return Internal("write to " + address_ + ": timed out");
      continue;
    }
    std::string why = err == SSL_ERROR_SYSCALL ? GoErrno(errno ? errno : EPIPE) : OpenSslError();
    ERR_clear_error();
    return Internal("write to " + address_ + ": " + why);
  }
  return Status::OK();
}

Conn::ReadResult Conn::Read(char* buf, size_t size) {
  if (!ssl_) {
    for (;;) {
      ssize_t n = ::recv(fd_, buf, size, 0);
      if (n > 0) return {ReadKind::kData, static_cast<size_t>(n)};
      if (n == 0) return {ReadKind::kEof};
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) return {ReadKind::kWouldBlock};
      return {ReadKind::kError};
    }
  }
  errno = 0;
  int n = SSL_read(ssl_, buf, static_cast<int>(std::min<size_t>(size, 1 << 30)));
  int saved_errno = errno;
  if (n > 0) return {ReadKind::kData, static_cast<size_t>(n)};
  int err = SSL_get_error(ssl_, n);
  ERR_clear_error();
  switch (err) {
    case SSL_ERROR_WANT_READ:
    case SSL_ERROR_WANT_WRITE:
      return {ReadKind::kWouldBlock};
    case SSL_ERROR_ZERO_RETURN:
      return {ReadKind::kEof};
    case SSL_ERROR_SYSCALL:
      if (saved_errno == EAGAIN || saved_errno == EWOULDBLOCK || saved_errno == EINTR) return {ReadKind::kWouldBlock};
      return {saved_errno == 0 ? ReadKind::kEof : ReadKind::kError};
    default:
      return {ReadKind::kError};
  }
}

bool Conn::Pending() const { return ssl_ && !closed_ && SSL_pending(ssl_) > 0; }

bool Conn::WaitReadable(std::chrono::milliseconds timeout) const {
  if (Pending()) return true;
  auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    int wait_ms = -1;
    if (timeout.count() >= 0) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
      wait_ms = static_cast<int>(std::max<int64_t>(0, left.count()));
    }
    pollfd p{fd_, POLLIN, 0};
    int n = ::poll(&p, 1, wait_ms);
    if (n < 0 && errno == EINTR) continue;
    return n != 0;  // readable, hung up, or a poll error that the next Read reports
  }
}

void Conn::Close() {
  if (closed_) return;
  closed_ = true;
  if (ssl_) {
    SigpipeGuard guard;
    SSL_shutdown(ssl_);
    ERR_clear_error();
  }
  ::shutdown(fd_, SHUT_RDWR);
}

Status Conn::SetNonBlocking() {
  int flags = ::fcntl(fd_, F_GETFL);
  if (flags < 0 || ::fcntl(fd_, F_SETFL, flags | O_NONBLOCK) < 0) {
    return Internal(std::string("fcntl O_NONBLOCK: ") + std::strerror(errno));
  }
  return Status::OK();
}

}  // namespace kubes::client::http
