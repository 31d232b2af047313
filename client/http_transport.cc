#include "client/http_transport.h"

#include <cctype>

namespace kubes::client {
namespace {

using http::HttpConnection;
using http::HttpResponse;

// Requests whose answer is a stream for as long as the caller wants it.
bool IsStreamRequest(const apiserver::Request& req) { return req.QueryBool("watch") || req.QueryBool("follow"); }

// "Get", "Post", ...: how Go's url.Error names the operation.
std::string GoMethod(const std::string& method) {
  std::string out = method.empty() ? "GET" : method;
  for (size_t i = 1; i < out.size(); ++i) out[i] = static_cast<char>(std::tolower(static_cast<unsigned char>(out[i])));
  return out;
}

// A metav1.Status answer made on this side of the connection.
apiserver::Response StatusResponse(int code, const std::string& reason, const std::string& message) {
  apiserver::Response r;
  r.code = code;
  r.body = Json{{"kind", "Status"}, {"apiVersion", "v1"}, {"metadata", Json::object()}, {"status", "Failure"},
                {"message", message}, {"reason", reason}, {"code", code}}
               .dump();
  return r;
}

apiserver::Response ToResponse(HttpResponse& head) {
  apiserver::Response r;
  r.code = head.status;
  std::string type = head.Header("content-type");
  if (!type.empty()) r.content_type = type;
  r.headers = http::ForwardableHeaders(head);
  r.body = std::move(head.body);
  return r;
}

}  // namespace

HttpTransport::HttpTransport(HttpTransportOptions options) : options_(std::move(options)) {
  auto url = http::ParseServerUrl(options_.server);
  if (!url.ok()) {
    status_ = url.status();
    return;
  }
  url_ = std::move(*url);
  if (url_.scheme != "https") return;
  auto tls = http::TlsContext::Make(http::TlsOptions{.ca_file = options_.ca_file,
                                                     .insecure = options_.insecure,
                                                     .cert_file = options_.client_cert_file,
                                                     .key_file = options_.client_key_file});
  if (!tls.ok()) {
    status_ = tls.status();
    return;
  }
  tls_ = std::move(*tls);
}

Result<std::unique_ptr<HttpTransport>> HttpTransport::New(HttpTransportOptions options) {
  auto transport = std::make_unique<HttpTransport>(std::move(options));
  if (!transport->status().ok()) return transport->status();
  return transport;
}

std::string HttpTransport::FormatRequest(const apiserver::Request& req) const {
  http::HeaderList headers;
  for (const auto& [name, value] : req.headers) {
    if (name == "host" || name == "content-length" || name == "transfer-encoding" || name == "connection") continue;
    if (name == "authorization" && !options_.bearer_token.empty()) continue;
    headers.emplace_back(http::CanonicalHeaderName(name), value);
  }
  if (!req.headers.count("accept")) headers.emplace_back("Accept", "application/json");
  if (!req.headers.count("user-agent")) headers.emplace_back("User-Agent", "kubes");
  if (!options_.bearer_token.empty()) headers.emplace_back("Authorization", "Bearer " + options_.bearer_token);
  return http::FormatRequest(req.method.empty() ? "GET" : req.method, http::RequestTarget(req.path, req.query),
                             http::JoinHostPort(url_.host, url_.port), headers, req.body);
}

Result<std::unique_ptr<HttpConnection>> HttpTransport::Dial() {
  ++dials_;
  auto conn = http::Conn::Dial(url_.host, url_.port, tls_);
  if (!conn.ok()) return conn.status();
  return std::make_unique<HttpConnection>(std::move(*conn));
}

std::unique_ptr<HttpConnection> HttpTransport::TakeIdle() {
  for (;;) {
    Idle candidate;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (idle_.empty()) return nullptr;
      candidate = std::move(idle_.back());
      idle_.pop_back();
    }
    bool fresh = std::chrono::steady_clock::now() - candidate.since < kIdleTimeout;
    // An idle connection has nothing to say: if it is readable, the server closed it
    // (or sent something unasked for); either way it cannot carry a request.
    bool quiet = !candidate.conn->Buffered() && !candidate.conn->conn().WaitReadable(std::chrono::milliseconds(0));
    if (fresh && quiet) return std::move(candidate.conn);
  }
}

void HttpTransport::PutIdle(std::unique_ptr<HttpConnection> conn) {
  std::lock_guard<std::mutex> lock(mu_);
  if (idle_.size() >= kMaxIdle) idle_.erase(idle_.begin());
  idle_.push_back(Idle{std::move(conn), std::chrono::steady_clock::now()});
}

apiserver::Response HttpTransport::Do(apiserver::Request& req) {
  if (!status_.ok()) return StatusResponse(400, "BadRequest", status_.message());
  std::string request = FormatRequest(req);
  return IsStreamRequest(req) ? DoStream(req, request) : DoOnce(req, request);
}

apiserver::Response HttpTransport::DoOnce(const apiserver::Request& req, const std::string& request) {
  for (int attempt = 0;; ++attempt) {
    // The retry always dials: the pool might hand out another stale connection.
    std::unique_ptr<HttpConnection> conn = attempt == 0 ? TakeIdle() : nullptr;
    bool reused = conn != nullptr;
    if (!conn) {
      auto dialled = Dial();
      if (!dialled.ok()) return Failure(req, dialled.status());
      conn = std::move(*dialled);
    }
    HttpResponse head;
    Status s = conn->Send(request);
    if (s.ok()) s = conn->ReadHead(&head);
    if (!s.ok() && reused && !conn->received_any()) continue;  // closed while idle: not seen by the server
    if (s.ok()) s = conn->ReadBody(&head, req.method == "HEAD");
    if (!s.ok()) return Failure(req, s);
    if (conn->reusable()) PutIdle(std::move(conn));
    return ToResponse(head);
  }
}

apiserver::Response HttpTransport::DoStream(const apiserver::Request& req, const std::string& request) {
  auto dialled = Dial();
  if (!dialled.ok()) return Failure(req, dialled.status());
  std::shared_ptr<HttpConnection> conn = std::move(*dialled);
  HttpResponse head;
  Status s = conn->Send(request);
  if (s.ok()) s = conn->ReadHead(&head);
  if (!s.ok()) return Failure(req, s);
  http::BodyFraming framing = http::FramingOf(head);
  bool streamed = framing == http::BodyFraming::kChunked || framing == http::BodyFraming::kUntilClose;
  if (head.status / 100 != 2 || !streamed) {
    s = conn->ReadBody(&head);
    if (!s.ok()) return Failure(req, s);
    return ToResponse(head);
  }
  apiserver::Response resp = ToResponse(head);
  resp.stream = [conn, head](apiserver::ResponseStream& out) {
    (void)conn->StreamBody(
        head, [&out](std::string_view piece) { return out.Write(std::string(piece)); },
        [&out] { return out.PeerClosed(); });
    conn->conn().Close();  // the stream is over either way; the server sees it at once
  };
  return resp;
}

apiserver::Response HttpTransport::Failure(const apiserver::Request& req, const Status& why) const {
  std::string server = options_.server;
  while (!server.empty() && server.back() == '/') server.pop_back();
  std::string url = server + http::RequestTarget(req.path, req.query);
  return StatusResponse(503, "ServiceUnavailable", GoMethod(req.method) + " \"" + url + "\": " + why.message());
}

}  // namespace kubes::client
