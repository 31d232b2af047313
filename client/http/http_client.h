// HttpConnection and HttpClient — a small blocking HTTP/1.1 client over Conn, and the
// pieces it is made of (request formatting, response-head parsing, the chunked
// decoder) for callers that need to stop half-way: the apiserver's kubelet proxy
// (which hands an upgraded connection over after the head) and watch streams (which
// read a body piece by piece as it arrives).
//
// Enough of RFC 9112 for talking to kubes, kubelets and etcd: requests with
// Content-Length bodies; responses framed by Content-Length, chunked encoding, or the
// end of the connection; 1xx/204/304 have no body. HttpClient keeps one keep-alive
// connection and redials once when the server closed it while idle, the way Go's
// http.Transport retries a request on a stale keep-alive connection.
//
// Thread-safety: an HttpConnection or HttpClient is used by one thread at a time.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "client/http/conn.h"
#include "util/status.h"

namespace kubes::client::http {

// Decodes a `Transfer-Encoding: chunked` body fed in arbitrary pieces.
class ChunkedDecoder {
 public:
  // Appends the payload found in `in` to *out and returns how many bytes of `in` it
  // consumed (fewer than in.size() only once the last chunk has been read).
  // Malformed framing sets failed().
  size_t Feed(std::string_view in, std::string* out);
  bool done() const { return state_ == State::kDone; }
  bool failed() const { return state_ == State::kFailed; }

 private:
  enum class State { kSize, kData, kDataEnd, kTrailer, kDone, kFailed };
  State state_ = State::kSize;
  std::string line_;
  size_t remaining_ = 0;
};

struct HttpResponse {
  int status = 0;
  std::map<std::string, std::string> headers;  // names lower-cased; repeated lines joined with ", "
  std::string body;

  // The header's value, "" when absent.
  std::string Header(const std::string& lower_name) const;
};

// Parses a response head: the status line and header lines, without the blank line
// that ends them. Fills status and headers.
Status ParseResponseHead(std::string_view head, HttpResponse* resp);

// How a response's body is delimited (RFC 9112 §6.3).
enum class BodyFraming { kNone, kLength, kChunked, kUntilClose };
BodyFraming FramingOf(const HttpResponse& resp, bool head_request = false);

// A request's bytes: the request line, Host, the headers in the order given, and
// Content-Length when there is a body (or the method always carries one).
using HeaderList = std::vector<std::pair<std::string, std::string>>;
std::string FormatRequest(std::string_view method, std::string_view target, std::string_view host,
                          const HeaderList& headers, std::string_view body);

// The headers of a response worth handing on to the next hop (Warning, Audit-Id,
// ...): all but those about the connection or the body's framing, and Content-Type
// and Cache-Control, which the apiserver writes itself. Names canonical.
HeaderList ForwardableHeaders(const HttpResponse& resp);

// "content-type" → "Content-Type", "sec-websocket-key" → "Sec-Websocket-Key" (the
// spelling Go's textproto gives header names on the wire).
std::string CanonicalHeaderName(std::string_view name);

// One connection speaking HTTP/1.1: send a request, read its head, then its body as a
// whole or piece by piece.
class HttpConnection {
 public:
  // How long a read may wait for the server before the exchange fails.
  static constexpr std::chrono::seconds kReadTimeout{60};

  explicit HttpConnection(std::unique_ptr<Conn> conn) : conn_(std::move(conn)) {}

  Status Send(std::string_view request) { return conn_->WriteAll(request); }
  Status ReadHead(HttpResponse* resp);
  // Reads the whole body into resp->body.
  Status ReadBody(HttpResponse* resp, bool head_request = false);
  // Reads the body as it arrives and hands each decoded piece to on_data until it
  // returns false, the body ends, or stop() returns true (asked between pieces and
  // at least every kStopCheck while the server is silent). Never times out on its own.
  // OK when the body ended or the caller stopped; the failure when the connection broke.
  static constexpr std::chrono::milliseconds kStopCheck{200};
  Status StreamBody(const HttpResponse& resp, const std::function<bool(std::string_view)>& on_data,
                    const std::function<bool()>& stop);

  // Whether another request may follow on this connection (the last response was
  // read completely and did not say Connection: close).
  bool reusable() const { return reusable_; }
  // Whether any byte of the current response has arrived: a reused connection that
  // failed before that was closed by the server while idle, and the request is safe
  // to send again.
  bool received_any() const { return received_any_; }
  // Bytes read past the response head and not consumed: after a 101 they are the
  // first bytes of the new protocol.
  std::string TakeBuffered();
  // True when Read would return data without waiting on the socket.
  bool Buffered() const { return !in_.empty() || conn_->Pending(); }
  Conn& conn() { return *conn_; }

 private:
  // Appends at least one byte to in_; fails on end of stream, error, or kReadTimeout.
  Status ReadMore();

  std::unique_ptr<Conn> conn_;
  std::string in_;  // bytes read from conn_ and not yet consumed
  bool reusable_ = false;
  bool received_any_ = false;
};

// Where the benchmark's requests go and how they authenticate.
struct Target {
  std::string host = "127.0.0.1";
  int port = 0;
  std::shared_ptr<TlsContext> tls{};  // null for plain HTTP
  std::string bearer_token{};         // "" for none
};

// One keep-alive connection to a Target, for the benchmark's load generators.
class HttpClient {
 public:
  explicit HttpClient(Target target) : target_(std::move(target)) {}

  // Sends one request and reads the whole response.
  Result<HttpResponse> Do(std::string_view method, std::string_view path, std::string_view body = {},
                          std::string_view accept = "application/json");

  // The bytes of such a request, for callers that stream the response themselves.
  static std::string FormatRequest(const Target& target, std::string_view method, std::string_view path,
                                   std::string_view body, std::string_view accept);

 private:
  Result<HttpResponse> DoOnce(const std::string& request, bool head_request);

  Target target_;
  std::unique_ptr<HttpConnection> conn_;
};

}  // namespace kubes::client::http
