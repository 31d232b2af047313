#include "apiserver/kubelet_client.h"

#include <poll.h>

#include <cerrno>
#include <memory>

#include "apiserver/endpoints/endpoints.h"
#include "client/http/http_client.h"
#include "client/http/url.h"

namespace kubes::apiserver {
namespace {

using client::http::Conn;
using client::http::HttpConnection;
using client::http::HttpResponse;

// The kubelet's serving certificate is not checked (upstream's default), so one
// context serves every kubelet.
std::shared_ptr<client::http::TlsContext> KubeletTls() {
  static const Result<std::shared_ptr<client::http::TlsContext>> tls =
      client::http::TlsContext::Make(client::http::TlsOptions{.insecure = true});
  return tls.ok() ? *tls : nullptr;
}

// Headers about this hop or the caller's credentials: not forwarded.
bool NotForwarded(const std::string& name) {
  static const char* const kNames[] = {"host", "content-length", "transfer-encoding", "connection", "keep-alive",
                                       "upgrade", "te", "trailer", "proxy-connection", "proxy-authorization",
                                       "authorization", "accept-encoding"};
  for (const char* n : kNames) {
    if (name == n) return true;
  }
  return false;
}

std::string Trim(std::string s) {
  while (!s.empty() && s.front() == ' ') s.erase(0, 1);
  while (!s.empty() && s.back() == ' ') s.pop_back();
  return s;
}

std::string FormatRequest(const std::string& host, int port, const std::string& token, const Request& req,
                          bool upgrade) {
  client::http::HeaderList headers;
  for (const auto& [name, value] : req.headers) {
    if (NotForwarded(name)) continue;
    if (name == "x-stream-protocol-version") {
      // The server joined repeated lines; the kubelet expects one protocol per line.
      size_t start = 0;
      while (start <= value.size()) {
        size_t comma = value.find(',', start);
        std::string one = Trim(value.substr(start, comma == std::string::npos ? std::string::npos : comma - start));
        if (!one.empty()) headers.emplace_back("X-Stream-Protocol-Version", one);
        if (comma == std::string::npos) break;
        start = comma + 1;
      }
      continue;
    }
    headers.emplace_back(client::http::CanonicalHeaderName(name), value);
  }
  if (upgrade) {
    headers.emplace_back("Connection", "Upgrade");
    headers.emplace_back("Upgrade", req.Header("upgrade"));
  } else {
    headers.emplace_back("Connection", "close");  // one connection per proxied request
  }
  if (!token.empty()) headers.emplace_back("Authorization", "Bearer " + token);
  return client::http::FormatRequest(req.method.empty() ? "GET" : req.method,
                                     client::http::RequestTarget(req.path, req.query),
                                     client::http::JoinHostPort(host, port), headers, req.body);
}

Response Unavailable(const std::string& message) { return ErrorResponse(Status(Code::kServiceUnavailable, message)); }

// Copies bytes both ways until either side closes. Bytes already decrypted (or read
// past the 101's head) are invisible to poll(), so each side is drained before
// waiting on the descriptors.
void Pipe(UpgradedConnection& client, HttpConnection& kubelet) {
  std::string early = kubelet.TakeBuffered();
  if (!early.empty() && !client.Write(early.data(), early.size())) return;
  Conn& backend = kubelet.conn();
  char buf[32 * 1024];
  for (;;) {
    bool from_client = client.Buffered();
    bool from_kubelet = backend.Pending();
    if (!from_client && !from_kubelet) {
      pollfd fds[2] = {{client.PollFd(), POLLIN, 0}, {backend.fd(), POLLIN, 0}};
      int n = ::poll(fds, 2, -1);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return;
      from_client = fds[0].revents != 0;
      from_kubelet = fds[1].revents != 0;
    }
    if (from_client) {
      size_t n = client.Read(buf, sizeof buf);
      if (n == 0 || !backend.WriteAll(std::string_view(buf, n)).ok()) return;
    }
    if (from_kubelet) {
      Conn::ReadResult r = backend.Read(buf, sizeof buf);
      if (r.kind == Conn::ReadKind::kData && !client.Write(buf, r.n)) return;
      if (r.kind == Conn::ReadKind::kEof || r.kind == Conn::ReadKind::kError) return;
    }
  }
}

Response Upgraded(std::shared_ptr<HttpConnection> conn, const HttpResponse& head) {
  Response r;
  r.code = 101;
  static const std::pair<const char*, const char*> kHandshake[] = {
      {"upgrade", "Upgrade"},
      {"connection", "Connection"},
      {"sec-websocket-accept", "Sec-WebSocket-Accept"},
      {"sec-websocket-protocol", "Sec-WebSocket-Protocol"},
      {"x-stream-protocol-version", "X-Stream-Protocol-Version"}};
  for (const auto& [lower, name] : kHandshake) {
    std::string value = head.Header(lower);
    if (!value.empty()) r.headers.emplace_back(name, value);
  }
  r.upgrade = [conn](UpgradedConnection& client) {
    Pipe(client, *conn);
    conn->conn().Close();
  };
  return r;
}

Response Streamed(std::shared_ptr<HttpConnection> conn, const HttpResponse& head) {
  Response r;
  r.code = head.status;
  std::string type = head.Header("content-type");
  if (!type.empty()) r.content_type = type;
  r.headers = client::http::ForwardableHeaders(head);
  r.stream = [conn, head](ResponseStream& out) {
    (void)conn->StreamBody(
        head, [&out](std::string_view piece) { return out.Write(std::string(piece)); },
        [&out] { return out.PeerClosed(); });
    conn->conn().Close();
  };
  return r;
}

}  // namespace

Response ProxyToKubelet(const std::string& host, int port, const std::string& bearer_token, Request& req) {
  std::string where = client::http::JoinHostPort(host, port);
  auto tls = KubeletTls();
  if (!tls) return ErrorResponse(Internal("no TLS context for kubelet connections"));
  auto dialled = Conn::Dial(host, port, tls);
  if (!dialled.ok()) return Unavailable("error dialing backend: " + dialled.status().message());
  auto conn = std::make_shared<HttpConnection>(std::move(*dialled));

  bool upgrade = !req.Header("upgrade").empty();
  Status s = conn->Send(FormatRequest(host, port, bearer_token, req, upgrade));
  if (!s.ok()) return Unavailable("error sending request: " + s.message());
  HttpResponse head;
  s = conn->ReadHead(&head);
  if (!s.ok()) return Unavailable("error reading the kubelet's response: " + s.message());

  if (head.status == 101) {
    if (!upgrade) return Unavailable("the kubelet at " + where + " switched protocols unasked");
    return Upgraded(conn, head);
  }
  client::http::BodyFraming framing = client::http::FramingOf(head, req.method == "HEAD");
  if (framing == client::http::BodyFraming::kChunked || framing == client::http::BodyFraming::kUntilClose) {
    return Streamed(conn, head);
  }
  s = conn->ReadBody(&head, req.method == "HEAD");
  if (!s.ok()) return Unavailable("error reading the kubelet's response: " + s.message());
  Response r;
  r.code = head.status;
  std::string type = head.Header("content-type");
  if (!type.empty()) r.content_type = type;
  r.headers = client::http::ForwardableHeaders(head);
  r.body = std::move(head.body);
  return r;
}

}  // namespace kubes::apiserver
