// TlsContext — the certificate and key kubes-demo serves HTTPS with (OpenSSL), and the
// TLS handshake that turns an accepted socket into a Stream.
//
// The files are PEM, as in a kubernetes.io/tls Secret (tls.crt may hold the chain).
// They are read once at start; rotating them needs a restart of the container.
//
// Thread-safety: after Load, Accept may be called from many threads at once (an SSL_CTX
// is safe to share once configured).
#pragma once

#include <memory>
#include <string>

#include "stream.h"

typedef struct ssl_ctx_st SSL_CTX;

namespace kubes::demo {

class TlsContext {
 public:
  // nullptr with *error saying which file and what OpenSSL said.
  static std::unique_ptr<TlsContext> Load(const std::string& cert_file, const std::string& key_file,
                                          std::string* error);
  ~TlsContext();

  // Runs the server side of the handshake on fd (owned from now on, closed on failure).
  // nullptr with *error when the client did not complete it.
  std::unique_ptr<Stream> Accept(int fd, std::string* error);

 private:
  explicit TlsContext(SSL_CTX* ctx) : ctx_(ctx) {}
  SSL_CTX* const ctx_;
};

}  // namespace kubes::demo
