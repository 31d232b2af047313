// HttpClient — a minimal blocking HTTP/1.1 client over one keep-alive Conn, and the
// chunked-transfer decoder it shares with the watch load.
//
// Enough of RFC 9112 for talking to kubes and etcd: requests with Content-Length
// bodies; responses framed by Content-Length, chunked encoding, or connection close.
// A connection the server closed between requests is redialled once, the way Go's
// http.Transport retries an idempotent request on a stale keep-alive connection.
//
// Thread-safety: one HttpClient per thread.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <string_view>

#include "bench/conn.h"
#include "util/status.h"

namespace kubes::bench {

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
  std::map<std::string, std::string> headers;  // names lower-cased
  std::string body;
};

// Where requests go and how they authenticate.
struct Target {
  int port = 0;
  std::shared_ptr<TlsContext> tls;  // null for plain HTTP
  std::string bearer_token;         // "" for none
};

class HttpClient {
 public:
  explicit HttpClient(Target target) : target_(std::move(target)) {}

  // Sends one request and reads the whole response.
  Result<HttpResponse> Do(std::string_view method, std::string_view path, std::string_view body = {},
                          std::string_view accept = "application/json");

  // The request line and headers of a request, for callers that stream the response.
  static std::string FormatRequest(const Target& target, std::string_view method, std::string_view path,
                                   std::string_view body, std::string_view accept);

 private:
  Result<HttpResponse> DoOnce(const std::string& request, bool head_only_method);
  Status ReadMore();  // appends at least one byte to in_, or fails
  Status ReadHead(HttpResponse& resp);
  Status ReadBody(HttpResponse& resp, bool* close_after);

  Target target_;
  std::unique_ptr<Conn> conn_;
  std::string in_;  // bytes read from conn_ and not yet consumed
};

}  // namespace kubes::bench
