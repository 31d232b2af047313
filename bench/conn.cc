#include "bench/conn.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace kubes::bench {

std::string OpenSslError() {
  unsigned long e = ERR_get_error();
  if (e == 0) return "unknown TLS error";
  char buf[256];
  ERR_error_string_n(e, buf, sizeof buf);
  ERR_clear_error();
  return buf;
}

Result<std::shared_ptr<TlsContext>> TlsContext::Make(const std::string& ca_file) {
  SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
  if (!ctx) return Internal("SSL_CTX_new: " + OpenSslError());
  if (SSL_CTX_load_verify_locations(ctx, ca_file.c_str(), nullptr) != 1) {
    std::string err = OpenSslError();
    SSL_CTX_free(ctx);
    return Internal("loading CA " + ca_file + ": " + err);
  }
  SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, nullptr);
  return std::shared_ptr<TlsContext>(new TlsContext(ctx));
}

TlsContext::~TlsContext() { SSL_CTX_free(ctx_); }

Result<std::unique_ptr<Conn>> Conn::Dial(int port, std::shared_ptr<TlsContext> tls) {
  std::string where = "127.0.0.1:" + std::to_string(port);
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return Internal("socket: " + std::string(std::strerror(errno)));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    Status s = Internal("connect " + where + ": " + std::strerror(errno));
    ::close(fd);
    return s;
  }
  int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  timeval timeout{30, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof timeout);
  if (!tls) return std::unique_ptr<Conn>(new Conn(fd, nullptr, nullptr));

  SSL* ssl = SSL_new(tls->get());
  if (!ssl) {
    ::close(fd);
    return Internal("SSL_new: " + OpenSslError());
  }
  SSL_set_fd(ssl, fd);
  X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), "127.0.0.1");
  auto conn = std::unique_ptr<Conn>(new Conn(fd, ssl, std::move(tls)));
  if (SSL_connect(ssl) != 1) return Internal("TLS handshake with " + where + ": " + OpenSslError());
  return conn;
}

Conn::~Conn() {
  if (ssl_) SSL_free(ssl_);  // no close_notify: the benchmark just drops connections
  ::close(fd_);
}

Status Conn::WriteAll(std::string_view data) {
  while (!data.empty()) {
    ssize_t n;
    if (ssl_) {
      n = SSL_write(ssl_, data.data(), static_cast<int>(data.size()));
      if (n <= 0) return Internal("TLS write: " + OpenSslError());
    } else {
      n = ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return Internal(std::string("write: ") + std::strerror(errno));
    }
    data.remove_prefix(static_cast<size_t>(n));
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
  int n = SSL_read(ssl_, buf, static_cast<int>(size));
  if (n > 0) return {ReadKind::kData, static_cast<size_t>(n)};
  switch (SSL_get_error(ssl_, n)) {
    case SSL_ERROR_WANT_READ:
    case SSL_ERROR_WANT_WRITE:
      return {ReadKind::kWouldBlock};
    case SSL_ERROR_ZERO_RETURN:
      return {ReadKind::kEof};
    case SSL_ERROR_SYSCALL:
      ERR_clear_error();
      return {n == 0 ? ReadKind::kEof : ReadKind::kError};
    default:
      ERR_clear_error();
      return {ReadKind::kError};
  }
}

Status Conn::SetNonBlocking() {
  int flags = ::fcntl(fd_, F_GETFL);
  if (flags < 0 || ::fcntl(fd_, F_SETFL, flags | O_NONBLOCK) < 0)
    return Internal(std::string("fcntl O_NONBLOCK: ") + std::strerror(errno));
  return Status::OK();
}

}  // namespace kubes::bench
