// HTTP/1.1 for kubes-demo: parsing one request from the bytes a client sent, and
// writing one response.
//
// Just enough of RFC 9112 for kubectl, curl, busybox wget, browsers and the kubelet's
// httpGet probes: a request line with an origin-form target ("/path?query"), header
// lines, and an optional body sized by Content-Length (read and ignored by the demo).
// Chunked request bodies are refused (501); nothing the demo serves needs a body.
// Bad input is answered with a 4xx status, never a crash (see http_fuzz.cc).
//
// No upstream counterpart in Kubernetes; agnhost's netexec (test/images/agnhost) is the
// closest relative, written with Go's net/http.
//
// Thread-safety: plain functions and values, no shared state.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace kubes::demo {

// The largest request line plus headers accepted (431 beyond), and the largest body.
inline constexpr size_t kMaxHeadBytes = 64 * 1024;
inline constexpr size_t kMaxBodyBytes = 1024 * 1024;

struct Request {
  std::string method;                                         // "GET"
  std::string target;                                         // "/control/readyz?state=fail", as sent
  std::string path;                                           // "/control/readyz", percent-decoded
  std::vector<std::pair<std::string, std::string>> query;     // in order, decoded
  std::string version;                                        // "HTTP/1.1"
  std::vector<std::pair<std::string, std::string>> headers;   // in order, names as sent
  std::string body;
  std::string remote;  // "10.64.0.7:43122", filled in by the server

  // The first query parameter called key, if any.
  std::optional<std::string> Query(std::string_view key) const;
  // The first header called name (case-insensitive), if any.
  std::optional<std::string> Header(std::string_view name) const;
  // Whether the connection stays open after the response (HTTP/1.1 unless
  // "Connection: close"; HTTP/1.0 only with "Connection: keep-alive").
  bool KeepAlive() const;
};

// The outcome of ParseRequest on the bytes received so far.
struct ParseResult {
  enum class Kind { kIncomplete, kComplete, kError };
  Kind kind = Kind::kIncomplete;
  Request request;       // kComplete
  size_t consumed = 0;   // kComplete: bytes of the buffer the request used
  int status = 0;        // kError: the HTTP status to answer with (400, 413, 431, 501, 505)
  std::string error;     // kError: why, for the response body and the log
};

// Parses the request at the start of buffer. kIncomplete means "read more and call
// again with the longer buffer".
ParseResult ParseRequest(std::string_view buffer);

// "a=1&b=x%20y&c" → {{"a","1"},{"b","x y"},{"c",""}}; '+' is a space. Malformed
// escapes are kept as they were.
std::vector<std::pair<std::string, std::string>> ParseQuery(std::string_view query);

// "%41b+c" → "Ab+c" (plus_is_space false) or "Ab c" (true). A '%' not followed by two
// hex digits stays as it is.
std::string PercentDecode(std::string_view s, bool plus_is_space);

struct Response {
  int status = 200;
  std::string content_type = "text/plain; charset=utf-8";
  std::string body;
  // Set by /exit: the process exits with this code once the response is written.
  std::optional<int> exit_code;
};

// "OK", "Not Found", ... ("Unknown" for codes the demo never sends).
std::string_view ReasonPhrase(int status);

// The bytes of response: status line, Content-Type, Content-Length, Connection, and the
// body unless head_only (a HEAD request).
std::string SerializeResponse(const Response& response, bool keep_alive, bool head_only);

}  // namespace kubes::demo
