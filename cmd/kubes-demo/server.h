// Server — kubes-demo's listeners and connections: accepts on the HTTP port (and the
// HTTPS port when TLS is configured), one thread per connection, requests parsed by
// http.h and answered by App, one log line per request.
//
// Graceful stop (what a pod's terminationGracePeriodSeconds is for): Stop() closes the
// listeners, so new connections are refused; connections idle between requests are
// closed; a request being served is finished and answered with "Connection: close";
// Run() returns when the last connection is gone.
//
// Listens on [::] (IPv4 too, as dual-stack pods need) or on 0.0.0.0 when the pod has no IPv6.
// Thread-safety: Listen and Run from one thread; Stop from any thread.
#pragma once

#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "app.h"
#include "stream.h"
#include "tls.h"

namespace kubes::demo {

class Server {
 public:
  // app (and tls, when not null) must outlive the Server.
  Server(App* app, TlsContext* tls);
  ~Server();

  // Binds PORT, and TLS_PORT when there is a TlsContext; port 0 picks a free one.
  // false with *error when a port cannot be bound.
  bool Listen(int port, int tls_port, std::string* error);
  // The ports bound by Listen (tls_port() is 0 without TLS).
  int port() const { return port_; }
  int tls_port() const { return tls_port_; }

  // Accepts connections until Stop(), then waits for open connections to finish.
  void Run();
  void Stop();

 private:
  struct Listener {
    int fd;
    bool tls;
  };
  // Serves requests on one connection until it closes, fails, or the server stops.
  void Serve(std::unique_ptr<Stream> stream, const std::string& remote);
  void StartConnection(int fd, bool tls, const std::string& remote);

  App* const app_;
  TlsContext* const tls_;
  std::vector<Listener> listeners_;
  int port_ = 0;
  int tls_port_ = 0;
  int wake_[2] = {-1, -1};  // a pipe: Stop() writes, Run()'s poll wakes up

  std::mutex mu_;
  std::condition_variable idle_cv_;
  int connections_ = 0;   // guarded by mu_
  bool stopping_ = false; // guarded by mu_
  bool Stopping();
};

}  // namespace kubes::demo
