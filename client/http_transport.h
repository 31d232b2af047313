// HttpTransport — the Transport of components that run outside the apiserver's
// process (`kubes agent`'s kubelet): every apiserver::Request goes over HTTPS to the
// apiserver, and the answer comes back as the same apiserver::Response that
// LocalTransport would give (upstream: client-go's rest.Config → http.Transport).
//
// Requests carry `Authorization: Bearer <token>` (and a client certificate when one
// is configured); the server's certificate is checked against ca_file and must name
// the host in `server`, unless `insecure`. Path and query are percent-encoded so the
// apiserver decodes exactly the Request the caller built.
//
// Connections are kept alive in a small pool of idle ones (client-go keeps up to 25
// idle connections per host; kubes needs fewer), so steady traffic reuses a few TLS
// sessions. A pooled connection the server closed while idle is noticed before use,
// and a request that fails on a reused connection before any byte of the answer
// arrived is sent once more on a fresh one, as Go's http.Transport does.
//
// Streams: a watch (`watch` query parameter true) or a followed log (`follow` true)
// runs on a connection of its own. When the server answers with a streamed body
// (chunked, or running to the connection's end), Do returns after the response head
// with Response.stream set; calling it reads the body as it arrives and hands each
// piece to ResponseStream::Write until Write returns false, the server ends the body
// or closes the connection, or ResponseStream::PeerClosed() (asked at least every
// 200 ms while the server is silent) reports that the caller has gone away — the
// contract Client::Watch's decoder relies on (it sets PeerClosed once its caller
// stops). An error answer to a stream request (400, 410, ...) comes back as a normal
// response with a body, and so does a chunked answer to any other request: the
// caller asked for a single object, so it gets the whole body.
//
// A connection failure becomes a 503 response with a metav1.Status body whose message
// reads like Go's (`Get "https://…": dial tcp …: connect: connection refused`), so
// Client callers see one kind of error either way.
//
// Thread-safety: Do may be called from many threads at once; each call uses its own
// connection, taken from the pool or freshly dialled. A Response.stream is called by
// one thread, once; it owns its connection, which closes when the stream ends or the
// Response is destroyed.
#pragma once

#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "client/client.h"
#include "client/http/conn.h"
#include "client/http/http_client.h"
#include "client/http/url.h"
#include "util/status.h"

namespace kubes::client {

struct HttpTransportOptions {
  std::string server{};            // https://host:port
  std::string bearer_token{};      // "" for none
  std::string ca_file{};           // CA that signed the apiserver's certificate ("" = system trust store)
  bool insecure = false;         // do not verify the apiserver's certificate
  std::string client_cert_file{};  // optional client certificate and key (PEM files)
  std::string client_key_file{};
};

class HttpTransport : public Transport {
 public:
  // At most this many idle connections are kept for reuse.
  static constexpr size_t kMaxIdle = 8;
  // An idle connection older than this is closed instead of reused (Go's default
  // IdleConnTimeout; the apiserver closes idle connections after 10 minutes).
  static constexpr std::chrono::seconds kIdleTimeout{90};

  // Parses the server URL and loads the certificates. When either is unusable,
  // status() says why and every Do fails with that message (a 400 Status).
  explicit HttpTransport(HttpTransportOptions options);
  // The same, failing early: BadRequest when the URL or a certificate is unusable.
  static Result<std::unique_ptr<HttpTransport>> New(HttpTransportOptions options);

  // OK, or why the options are unusable.
  const Status& status() const { return status_; }

  apiserver::Response Do(apiserver::Request& req) override;

  // How many connections have been dialled so far (tests check reuse with it).
  int64_t dials() const { return dials_; }

 private:
  struct Idle {
    std::unique_ptr<http::HttpConnection> conn;
    std::chrono::steady_clock::time_point since;
  };

  std::string FormatRequest(const apiserver::Request& req) const;
  Result<std::unique_ptr<http::HttpConnection>> Dial();
  // A pooled connection that still looks usable, or null.
  std::unique_ptr<http::HttpConnection> TakeIdle();
  void PutIdle(std::unique_ptr<http::HttpConnection> conn);
  apiserver::Response DoOnce(const apiserver::Request& req, const std::string& request);
  apiserver::Response DoStream(const apiserver::Request& req, const std::string& request);
  // The 503 a failed exchange becomes.
  apiserver::Response Failure(const apiserver::Request& req, const Status& why) const;

  HttpTransportOptions options_;
  Status status_;
  http::ServerUrl url_;
  std::shared_ptr<http::TlsContext> tls_;
  std::mutex mu_;
  std::vector<Idle> idle_;  // guarded by mu_; the most recently used last
  std::atomic<int64_t> dials_{0};
};

}  // namespace kubes::client
