// Server — the HTTPS listener of the apiserver: TLS, HTTP/1.1, one thread per
// connection.
//
// Each connection is served by its own thread with blocking reads and writes
// (Boost.Beast over OpenSSL), the way kube-apiserver's Go HTTP server gives each
// connection a goroutine. Client certificates are verified during the TLS handshake
// against the cluster CA; the verified certificate's CN and O become the request's
// user and groups. Everything else (bearer tokens, routing) is the handler's job.
// Streaming responses (watch) keep their thread until the stream ends.
//
// Thread-safety: Start and Stop are called by the owner; the handler is called from
// many connection threads at once and must be thread-safe.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "apiserver/request.h"
#include "util/status.h"

namespace kubes::apiserver {

struct ServerOptions {
  std::string address = "127.0.0.1";
  int port = 6443;                 // 0 = pick a free port
  std::string cert_file;           // serving certificate (PEM)
  std::string key_file;
  std::string client_ca_file;      // CA that signs client certificates
  size_t max_body_bytes = 3 * 1024 * 1024;  // upstream's request size limit
};

class Server {
 public:
  using Handler = std::function<Response(Request&)>;
  Server(ServerOptions options, Handler handler);
  ~Server();

  // Binds and starts accepting. The port is known afterwards (port()).
  Status Start();
  int port() const { return port_; }
  // Stops accepting; open connections end when their current request ends.
  void Stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  int port_ = 0;
};

}  // namespace kubes::apiserver
