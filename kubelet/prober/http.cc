#include "kubelet/prober/http.h"

#include <algorithm>
#include <cctype>
#include <map>

#include "kubelet/prober/net.h"
#include "util/strings.h"

namespace kubes::kubelet::prober {
namespace {

constexpr size_t kMaxHead = 1 << 20;  // Go's DefaultMaxHeaderBytes
constexpr int kMaxRedirects = 10;
constexpr const char* kHeadTimeout = "context deadline exceeded (Client.Timeout exceeded while awaiting headers)";
constexpr const char* kBodyTimeout = "context deadline exceeded (Client.Timeout or context cancellation while reading body)";

// Header values never carry a line break onto the wire (Go replaces them with spaces).
std::string OneLine(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c == '\r' || c == '\n') c = ' ';
  }
  return std::string(TrimSpace(out));
}

// The path as it goes on the request line: leading slash, no spaces or control bytes.
std::string RequestPath(std::string_view path) {
  std::string out = path.empty() || path.front() != '/' ? "/" : "";
  static const char* hex = "0123456789ABCDEF";
  for (unsigned char c : path) {
    if (c <= 0x20 || c >= 0x7f) {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    } else {
      out += static_cast<char>(c);
    }
  }
  return out;
}

// Go's strconv.Atoi, for a port written as a string.
bool Atoi(const std::string& s, int* out) {
  if (s.empty() || s.size() > 18) return false;
  size_t i = (s[0] == '+' || s[0] == '-') ? 1 : 0;
  if (i == s.size()) return false;
  int64_t v = 0;
  for (size_t j = i; j < s.size(); ++j) {
    if (!std::isdigit(static_cast<unsigned char>(s[j]))) return false;
    v = v * 10 + (s[j] - '0');
  }
  if (s[0] == '-') v = -v;
  *out = static_cast<int>(std::clamp<int64_t>(v, -1, 1 << 30));
  return true;
}

bool AllOf(std::string_view s, int (*pred)(int)) {
  return std::all_of(s.begin(), s.end(), [pred](char c) { return pred(static_cast<unsigned char>(c)) != 0; });
}

bool IsRedirect(int status) {
  return status == 301 || status == 302 || status == 303 || status == 307 || status == 308;
}

// The request a redirect points to; false when Location cannot be followed.
bool RedirectTarget(const HTTPRequest& from, const std::string& location, HTTPRequest* to) {
  *to = from;
  std::string loc = location;
  auto scheme_end = loc.find("://");
  if (scheme_end != std::string::npos && loc.find('/') > scheme_end) {
    to->scheme = LowerASCII(loc.substr(0, scheme_end));
    if (to->scheme != "http" && to->scheme != "https") return false;
    loc = loc.substr(scheme_end + 1);  // "//host:port/path"
  }
  if (loc.rfind("//", 0) == 0) {
    std::string rest = loc.substr(2);
    size_t slash = rest.find_first_of("/?");
    std::string authority = rest.substr(0, slash);
    loc = slash == std::string::npos ? "/" : rest.substr(slash);
    int port = to->scheme == "https" ? 443 : 80;
    std::string host = authority;
    if (!authority.empty() && authority[0] == '[') {
      size_t close = authority.find(']');
      if (close == std::string::npos) return false;
      host = authority.substr(1, close - 1);
      if (close + 1 < authority.size() && authority[close + 1] == ':' && !Atoi(authority.substr(close + 2), &port)) {
        return false;
      }
    } else if (authority.find(':') != std::string::npos) {
      host = authority.substr(0, authority.find(':'));
      if (!Atoi(authority.substr(authority.find(':') + 1), &port)) return false;
    }
    if (host.empty() || port <= 0 || port > 65535) return false;
    to->host = host;
    to->port = port;
    to->host_header.clear();
  } else if (loc.empty() || loc[0] != '/') {
    // Relative to the directory of the current path.
    std::string base = from.path.substr(0, from.path.find('?'));
    loc = base.substr(0, base.rfind('/') + 1) + loc;
  }
  to->path = RequestPath(loc);
  return true;
}

// One request on one connection.
Result<HTTPResponse> RoundTrip(const HTTPRequest& req, Deadline deadline, const HTTPGetOptions& o) {
  auto timeout = [](const Status& s, const char* text) {
    return s.code() == Code::kTimeout ? Status(Code::kTimeout, text) : s;
  };
  auto fd = DialTCP(req.host, req.port, deadline, o.cancel);
  if (!fd.ok()) return timeout(fd.status(), kHeadTimeout);
  std::unique_ptr<Stream> stream;
  if (req.scheme == "https") {
    auto tls = NewTLSStream(std::move(fd).value(), req.host, deadline, o.cancel);
    if (!tls.ok()) return timeout(tls.status(), kHeadTimeout);
    stream = std::move(tls).value();
  } else {
    stream = NewPlainStream(std::move(fd).value(), o.cancel);
  }
  Status sent = stream->Write(req.Serialize(), deadline);
  if (!sent.ok()) return timeout(sent, kHeadTimeout);
  ResponseParser parser(o.max_body);
  char buf[16384];
  while (true) {
    auto n = stream->Read(buf, sizeof buf, deadline);
    if (!n.ok()) return timeout(n.status(), parser.HeadDone() ? kBodyTimeout : kHeadTimeout);
    ResponseParser::State st = *n == 0 ? parser.Finish() : parser.Feed(std::string_view(buf, *n));
    if (st == ResponseParser::State::kDone) return parser.response();
    if (st == ResponseParser::State::kError) return Status(Code::kServiceUnavailable, parser.error());
  }
}

}  // namespace

std::string HTTPResponse::Header(std::string_view name) const {
  std::string want = LowerASCII(name);
  for (const auto& h : headers) {
    if (LowerASCII(h.name) == want) return h.value;
  }
  return "";
}

std::string HTTPRequest::URL() const { return scheme + "://" + JoinHostPort(host, port) + RequestPath(path); }

std::string HTTPRequest::Serialize() const {
  std::string out = "GET " + RequestPath(path) + " HTTP/1.1\r\n";
  out += "Host: " + (host_header.empty() ? JoinHostPort(host, port) : host_header) + "\r\n";
  for (const auto& h : headers) out += h.name + ": " + h.value + "\r\n";
  out += "Connection: close\r\n\r\n";
  return out;
}

std::string CanonicalHeaderKey(std::string_view key) {
  for (unsigned char c : key) {
    // Keys with bytes outside a token are left as they are (as Go does).
    if (c <= ' ' || c >= 0x7f || std::string_view("\"(),/:;<=>?@[\\]{}").find(static_cast<char>(c)) !=
                                      std::string_view::npos) {
      return std::string(key);
    }
  }
  std::string out(key);
  bool upper = true;
  for (char& c : out) {
    c = static_cast<char>(upper ? std::toupper(static_cast<unsigned char>(c)) : std::tolower(static_cast<unsigned char>(c)));
    upper = c == '-';
  }
  return out;
}

Result<int> ResolveContainerPort(const Json& port, const Json& container) {
  int value = -1;
  if (port.is_number_integer()) {
    value = static_cast<int>(std::clamp<int64_t>(port.get<int64_t>(), -1, 1 << 30));
  } else if (port.is_string()) {
    std::string name = port.get<std::string>();
    bool found = false;
    for (const auto& p : container.value("ports", Json::array())) {
      if (p.is_object() && p.value("name", "") == name && p.contains("containerPort") &&
          p["containerPort"].is_number_integer()) {
        value = p["containerPort"].get<int>();
        found = true;
        break;
      }
    }
    if (!found && !Atoi(name, &value)) return Invalid("strconv.Atoi: parsing \"" + name + "\": invalid syntax");
  } else {
    return Invalid("intOrString had no kind: " + port.dump());
  }
  if (value > 0 && value < 65536) return value;
  return Invalid("invalid port number: " + std::to_string(value));
}

Result<HTTPRequest> NewRequestForHTTPGetAction(const Json& action, const Json& container, const std::string& pod_ip,
                                               const std::string& user_agent) {
  HTTPRequest req;
  req.scheme = LowerASCII(action.value("scheme", "HTTP"));
  if (req.scheme.empty()) req.scheme = "http";
  req.host = action.value("host", "");
  if (req.host.empty()) req.host = pod_ip;
  auto port = ResolveContainerPort(action.value("port", Json()), container);
  if (!port.ok()) return port.status();
  req.port = *port;
  req.path = action.value("path", "");
  // As http.Header: canonical keys, several values per key, written sorted by key.
  std::map<std::string, std::vector<std::string>> headers;
  for (const auto& h : action.value("httpHeaders", Json::array())) {
    if (!h.is_object()) continue;
    headers[CanonicalHeaderKey(h.value("name", ""))].push_back(OneLine(h.value("value", "")));
  }
  if (!headers.count("User-Agent")) headers["User-Agent"] = {user_agent};
  if (!headers.count("Accept")) headers["Accept"] = {"*/*"};
  else if (headers["Accept"].front().empty()) headers.erase("Accept");
  if (headers.count("Host")) {
    req.host_header = headers["Host"].front();
    headers.erase("Host");
  }
  std::string agent = headers["User-Agent"].front();
  headers.erase("User-Agent");
  if (!agent.empty()) req.headers.push_back({"User-Agent", agent});
  for (const auto& [name, values] : headers) {
    for (const auto& v : values) req.headers.push_back({name, v});
  }
  return req;
}

Result<HTTPResponse> DoHTTPGet(const HTTPRequest& request, const HTTPGetOptions& options) {
  Deadline deadline = std::chrono::steady_clock::now() + options.timeout;
  HTTPRequest req = request;
  for (int sent = 1;; ++sent) {
    auto resp = RoundTrip(req, deadline, options);
    if (!resp.ok()) {
      std::string msg = resp.status().message() == "cancelled" ? "context canceled" : resp.status().message();
      return Status(resp.status().code(), "Get \"" + req.URL() + "\": " + msg);
    }
    HTTPRequest next;
    std::string location = resp->Header("Location");
    if (!IsRedirect(resp->status) || location.empty() || !RedirectTarget(req, location, &next)) return resp;
    // The kubelet follows redirects to the same host only; others end here as a 3xx.
    if (next.host != request.host) return resp;
    if (sent >= kMaxRedirects) return Status(Code::kServiceUnavailable, "Get \"" + next.URL() + "\": stopped after 10 redirects");
    req = next;
  }
}

std::string HTTPTimeout(bool head_done) { return head_done ? kBodyTimeout : kHeadTimeout; }

bool FollowsRedirect(const HTTPRequest& request, const HTTPResponse& response) {
  HTTPRequest next;
  std::string location = response.Header("Location");
  return IsRedirect(response.status) && !location.empty() && RedirectTarget(request, location, &next) &&
         next.host == request.host;
}

ProbeOutput DoHTTPProbe(const HTTPRequest& request, std::chrono::milliseconds timeout) {
  HTTPGetOptions o;
  o.timeout = timeout;
  return HTTPProbeOutput(DoHTTPGet(request, o));
}

ProbeOutput HTTPProbeOutput(const Result<HTTPResponse>& resp) {
  // Errors count as failures: a timeout is the common case.
  if (!resp.ok()) return ProbeOutput::Failure(resp.status().message());
  if (resp->status >= 200 && resp->status < 400) {
    if (resp->status >= 300) return ProbeOutput::Warning("Probe terminated redirects, Response body: " + resp->body);
    return ProbeOutput::Success(resp->body);
  }
  return ProbeOutput::Failure("HTTP probe failed with statuscode: " + std::to_string(resp->status));
}

// ---- ResponseParser ------------------------------------------------------------------

ResponseParser::State ResponseParser::Fail(std::string message) {
  error_ = std::move(message);
  state_ = State::kError;
  return state_;
}

void ResponseParser::Keep(std::string_view data) {
  size_t room = max_body_ > response_.body.size() ? max_body_ - response_.body.size() : 0;
  response_.body.append(data.substr(0, std::min(room, data.size())));
}

ResponseParser::State ResponseParser::Feed(std::string_view data) {
  if (state_ != State::kNeedMore) return state_;
  if (!data.empty()) received_ = true;
  buffer_.append(data);
  if (!head_done_) {
    State s = ParseHead();
    if (s != State::kNeedMore || !head_done_) return s;
  }
  return ParseBody();
}

ResponseParser::State ResponseParser::Finish() {
  if (state_ != State::kNeedMore) return state_;
  if (!head_done_) return Fail(received_ ? "unexpected EOF" : "EOF");
  // A body cut short keeps what arrived.
  state_ = State::kDone;
  return state_;
}

ResponseParser::State ResponseParser::ParseHead() {
  while (!head_done_) {
    // The head ends at the first empty line (CRLF CRLF, or bare LFs).
    size_t end = std::string::npos, body_at = 0;
    for (size_t i = buffer_.find('\n'); i != std::string::npos; i = buffer_.find('\n', i + 1)) {
      if (i + 1 < buffer_.size() && buffer_[i + 1] == '\n') {
        end = i;
        body_at = i + 2;
        break;
      }
      if (i + 2 < buffer_.size() && buffer_[i + 1] == '\r' && buffer_[i + 2] == '\n') {
        end = i;
        body_at = i + 3;
        break;
      }
    }
    if (end == std::string::npos) {
      if (buffer_.size() > kMaxHead) return Fail("net/http: server response headers exceeded 1048576 bytes; aborted");
      return State::kNeedMore;
    }
    std::string head = buffer_.substr(0, end);
    buffer_.erase(0, body_at);
    size_t line_end = head.find('\n');
    std::string status_line(TrimSpace(head.substr(0, line_end)));
    if (status_line.rfind("HTTP/", 0) != 0 || status_line.find(' ') == std::string::npos) {
      return Fail("malformed HTTP response \"" + status_line.substr(0, 64) + "\"");
    }
    std::string code = status_line.substr(status_line.find(' ') + 1, 3);
    if (code.size() != 3 || !AllOf(code, isdigit)) {
      return Fail("malformed HTTP status code \"" + code + "\"");
    }
    response_ = HTTPResponse();
    response_.status = std::stoi(code);
    size_t pos = line_end == std::string::npos ? head.size() : line_end + 1;
    while (pos < head.size()) {
      size_t next = head.find('\n', pos);
      if (next == std::string::npos) next = head.size();
      std::string_view line(head.data() + pos, next - pos);
      pos = next + 1;
      size_t colon = line.find(':');
      if (colon == std::string_view::npos || colon == 0 || line[0] == ' ' || line[0] == '\t') continue;
      response_.headers.push_back({std::string(TrimSpace(line.substr(0, colon))), std::string(TrimSpace(line.substr(colon + 1)))});
    }
    // 1xx answers come before the real one.
    if (response_.status >= 100 && response_.status < 200 && response_.status != 101) continue;
    head_done_ = true;
  }
  std::string te = LowerASCII(response_.Header("Transfer-Encoding"));
  std::string length = response_.Header("Content-Length");
  if (response_.status == 204 || response_.status == 304 || response_.status < 200) {
    mode_ = BodyMode::kNone;
  } else if (te.find("chunked") != std::string::npos) {
    mode_ = BodyMode::kChunked;
  } else if (!length.empty()) {
    if (length.size() > 18 || !AllOf(length, isdigit)) {
      return Fail("bad Content-Length \"" + length.substr(0, 32) + "\"");
    }
    mode_ = BodyMode::kLength;
    remaining_ = std::stoull(length);
  } else {
    mode_ = BodyMode::kUntilClose;
  }
  return State::kNeedMore;
}

ResponseParser::State ResponseParser::ParseBody() {
  auto done = [this] {
    state_ = State::kDone;
    return state_;
  };
  switch (mode_) {
    case BodyMode::kNone:
      return done();
    case BodyMode::kUntilClose:
      Keep(buffer_);
      buffer_.clear();
      return response_.body.size() >= max_body_ ? done() : State::kNeedMore;
    case BodyMode::kLength: {
      size_t take = static_cast<size_t>(std::min<uint64_t>(remaining_, buffer_.size()));
      Keep(std::string_view(buffer_).substr(0, take));
      buffer_.erase(0, take);
      remaining_ -= take;
      return remaining_ == 0 || response_.body.size() >= max_body_ ? done() : State::kNeedMore;
    }
    case BodyMode::kChunked:
      break;
  }
  while (true) {
    if (response_.body.size() >= max_body_) return done();
    if (chunk_end_) {
      if (buffer_.rfind("\r\n", 0) == 0) buffer_.erase(0, 2);
      else if (!buffer_.empty() && buffer_[0] == '\n') buffer_.erase(0, 1);
      else if (buffer_.empty() || buffer_ == "\r") return State::kNeedMore;
      else return Fail("malformed chunked encoding");
      chunk_end_ = false;
    }
    if (in_chunk_) {
      size_t take = static_cast<size_t>(std::min<uint64_t>(remaining_, buffer_.size()));
      Keep(std::string_view(buffer_).substr(0, take));
      buffer_.erase(0, take);
      remaining_ -= take;
      if (remaining_ > 0) return State::kNeedMore;
      in_chunk_ = false;
      chunk_end_ = true;
      continue;
    }
    size_t nl = buffer_.find('\n');
    if (nl == std::string::npos) {
      return buffer_.size() > 4096 ? Fail("malformed chunked encoding") : State::kNeedMore;
    }
    std::string size_text(TrimSpace(std::string_view(buffer_).substr(0, nl)));
    size_text = size_text.substr(0, size_text.find(';'));
    buffer_.erase(0, nl + 1);
    if (size_text.empty() || size_text.size() > 15 || !AllOf(size_text, isxdigit)) {
      return Fail("malformed chunked encoding");
    }
    remaining_ = std::stoull(size_text, nullptr, 16);
    if (remaining_ == 0) return done();  // trailers, if any, are not needed
    in_chunk_ = true;
  }
}

}  // namespace kubes::kubelet::prober
