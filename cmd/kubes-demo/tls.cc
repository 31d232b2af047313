#include "tls.h"

#include <errno.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>

namespace kubes::demo {
namespace {

// How long a client gets to finish the handshake.
constexpr auto kHandshakeTimeout = std::chrono::seconds(10);

// OpenSSL's queued errors as one line (and the queue emptied).
std::string OpenSslErrors() {
  std::string out;
  while (unsigned long e = ERR_get_error()) {
    char buf[256];
    ERR_error_string_n(e, buf, sizeof buf);
    if (!out.empty()) out += "; ";
    out += buf;
  }
  return out.empty() ? "unknown error" : out;
}

class TlsStream : public Stream {
 public:
  TlsStream(SSL* ssl, int fd) : ssl_(ssl), fd_(fd) {}
  ~TlsStream() override {
    SSL_shutdown(ssl_);  // best effort close_notify; the peer may be gone
    SSL_free(ssl_);
    close(fd_);
  }

  long Read(char* buffer, size_t n) override {
    int r = SSL_read(ssl_, buffer, static_cast<int>(std::min<size_t>(n, 1 << 30)));
    if (r > 0) return r;
    switch (SSL_get_error(ssl_, r)) {
      case SSL_ERROR_ZERO_RETURN: return kClosed;
      case SSL_ERROR_WANT_READ:
      case SSL_ERROR_WANT_WRITE: return kTimeout;
      case SSL_ERROR_SYSCALL:
        ERR_clear_error();
        if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) return kTimeout;
        return r == 0 ? kClosed : kError;
      default:
        ERR_clear_error();
        return kError;
    }
  }

  bool WriteAll(std::string_view data) override {
    while (!data.empty()) {
      int w = SSL_write(ssl_, data.data(), static_cast<int>(std::min<size_t>(data.size(), 1 << 30)));
      if (w <= 0) {
        ERR_clear_error();
        return false;
      }
      data.remove_prefix(static_cast<size_t>(w));
    }
    return true;
  }

 private:
  SSL* const ssl_;
  const int fd_;
};

}  // namespace

std::unique_ptr<TlsContext> TlsContext::Load(const std::string& cert_file, const std::string& key_file,
                                             std::string* error) {
  SSL_CTX* ctx = SSL_CTX_new(TLS_server_method());
  if (ctx == nullptr) {
    *error = "TLS: " + OpenSslErrors();
    return nullptr;
  }
  SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
  if (SSL_CTX_use_certificate_chain_file(ctx, cert_file.c_str()) != 1) {
    *error = "TLS_CERT " + cert_file + ": " + OpenSslErrors();
  } else if (SSL_CTX_use_PrivateKey_file(ctx, key_file.c_str(), SSL_FILETYPE_PEM) != 1) {
    *error = "TLS_KEY " + key_file + ": " + OpenSslErrors();
  } else if (SSL_CTX_check_private_key(ctx) != 1) {
    *error = "TLS_KEY " + key_file + " does not match TLS_CERT " + cert_file + ": " + OpenSslErrors();
  } else {
    return std::unique_ptr<TlsContext>(new TlsContext(ctx));
  }
  SSL_CTX_free(ctx);
  return nullptr;
}

TlsContext::~TlsContext() { SSL_CTX_free(ctx_); }

std::unique_ptr<Stream> TlsContext::Accept(int fd, std::string* error) {
  SSL* ssl = SSL_new(ctx_);
  if (ssl == nullptr || SSL_set_fd(ssl, fd) != 1) {
    *error = "TLS: " + OpenSslErrors();
    SSL_free(ssl);
    close(fd);
    return nullptr;
  }
  // The socket's receive timeout makes SSL_accept return WANT_READ now and then; retry
  // until the handshake is done or the client has had long enough.
  auto deadline = std::chrono::steady_clock::now() + kHandshakeTimeout;
  while (true) {
    int r = SSL_accept(ssl);
    if (r == 1) return std::make_unique<TlsStream>(ssl, fd);
    int e = SSL_get_error(ssl, r);
    bool again = e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE ||
                 (e == SSL_ERROR_SYSCALL && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR));
    if (!again || std::chrono::steady_clock::now() > deadline) {
      *error = again ? "TLS handshake timed out" : "TLS handshake: " + OpenSslErrors();
      ERR_clear_error();
      SSL_free(ssl);
      close(fd);
      return nullptr;
    }
  }
}

}  // namespace kubes::demo
