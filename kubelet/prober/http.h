// HTTP GET for httpGet probes and lifecycle hooks (upstream: pkg/probe/http — http.go
// and request.go — on Go's net/http client).
//
// The request an httpGet action describes: the pod IP unless `host` is set, the port by
// number or by the name of one of the container's ports, the path, the action's
// headers, and the kubelet's defaults "User-Agent: kube-probe/1.32" (hooks:
// "kube-lifecycle/1.32") and "Accept: */*" unless the action sets them (an empty
// Accept removes it). One connection per request ("Connection: close"), HTTPS without
// certificate verification, redirects followed only to the same host (up to 10) as
// the kubelet's probe client does.
//
// The probe's verdict (DoHTTPProbe): 200–299 success; a redirect that was not followed
// (3xx to another host) succeeds with a warning; anything else fails with "HTTP probe
// failed with statuscode: N" (the body is not shown, as upstream); a request that
// fails outright reports Go's error text, e.g.
//   Get "http://10.42.0.7:8080/healthz": dial tcp 10.42.0.7:8080: connect: connection refused
//   Get "http://10.42.0.7:8080/healthz": context deadline exceeded (Client.Timeout exceeded while awaiting headers)
// At most 10 KiB of a response body is read.
//
// Thread-safety: pure functions and per-call state.
#pragma once

#include <atomic>
#include <chrono>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "kubelet/prober/probe.h"
#include "util/status.h"

namespace kubes::kubelet::prober {

using Json = nlohmann::json;

inline constexpr size_t kMaxResponseBody = 10 * 1024;

struct HTTPHeader {
  std::string name;
  std::string value;
};

struct HTTPRequest {
  std::string scheme = "http";  // "http" or "https"
  std::string host;             // where to connect
  int port = 80;
  std::string path = "/";       // path and query
  std::string host_header;      // the Host header; "" means host:port
  std::vector<HTTPHeader> headers;  // as sent, after Host (User-Agent first, the rest sorted)

  // "http://10.42.0.7:8080/healthz"
  std::string URL() const;
  // The request's bytes on the wire.
  std::string Serialize() const;
};

struct HTTPResponse {
  int status = 0;
  std::vector<HTTPHeader> headers;
  std::string body;  // at most the limit the request was made with
  std::string Header(std::string_view name) const;  // first value, case-insensitive; "" if absent
};

// A port of an action: a number, or the name of a container port (a numeric string is
// read as a number). Errors as upstream's probe.ResolveContainerPort.
Result<int> ResolveContainerPort(const Json& port, const Json& container);

// Go's http.CanonicalHeaderKey: "x-probe" → "X-Probe".
std::string CanonicalHeaderKey(std::string_view key);

// The request of an httpGet action (upstream NewRequestForHTTPGetAction). user_agent is
// the default User-Agent ("kube-probe/1.32").
Result<HTTPRequest> NewRequestForHTTPGetAction(const Json& action, const Json& container, const std::string& pod_ip,
                                               const std::string& user_agent);

struct HTTPGetOptions {
  std::chrono::milliseconds timeout{1000};  // for the whole exchange, redirects included
  size_t max_body = kMaxResponseBody;
  const std::atomic<bool>* cancel = nullptr;  // stops waiting when set (kubelet shutdown)
};

// Sends the GET and reads the response; the error message is Go's client error text.
Result<HTTPResponse> DoHTTPGet(const HTTPRequest& request, const HTTPGetOptions& options);

// One httpGet probe.
ProbeOutput DoHTTPProbe(const HTTPRequest& request, std::chrono::milliseconds timeout);

// The probe's verdict on what one GET gave (DoHTTPProbe's second half; the probe loop
// uses it too).
ProbeOutput HTTPProbeOutput(const Result<HTTPResponse>& response);
// Whether DoHTTPGet would follow this response to another request (a redirect to the
// same host).
bool FollowsRedirect(const HTTPRequest& request, const HTTPResponse& response);
// Go's client timeout text, before or after the response's head arrived.
std::string HTTPTimeout(bool head_done);

// Reads an HTTP/1.x response from bytes as they arrive (exposed for tests and the
// fuzzer). Bodies: Content-Length, chunked, or up to the end of the stream; only the
// first max_body bytes are kept, and the response counts as complete once they are
// there.
class ResponseParser {
 public:
  enum class State { kNeedMore, kDone, kError };
  explicit ResponseParser(size_t max_body = kMaxResponseBody) : max_body_(max_body) {}

  State Feed(std::string_view data);
  // The peer closed the stream.
  State Finish();
  bool HeadDone() const { return head_done_; }
  const HTTPResponse& response() const { return response_; }
  const std::string& error() const { return error_; }  // when kError

 private:
  enum class BodyMode { kNone, kLength, kChunked, kUntilClose };
  State ParseHead();
  State ParseBody();
  State Fail(std::string message);
  void Keep(std::string_view data);

  size_t max_body_;
  std::string buffer_;
  bool head_done_ = false;
  BodyMode mode_ = BodyMode::kNone;
  uint64_t remaining_ = 0;  // kLength: body bytes still to come; kChunked: of this chunk
  bool in_chunk_ = false;   // kChunked: inside a chunk's data
  bool chunk_end_ = false;  // kChunked: the line end after a chunk's data is due
  bool received_ = false;   // any byte arrived
  State state_ = State::kNeedMore;
  HTTPResponse response_;
  std::string error_;
};

}  // namespace kubes::kubelet::prober
