#include "client/http/http_client.h"

#include <algorithm>
#include <cctype>
#include <cstdlib>

#include "client/http/url.h"
#include "util/strings.h"

namespace kubes::client::http {
namespace {

constexpr size_t kMaxHeadBytes = 1024 * 1024;

bool HasLineBreak(std::string_view s) { return s.find_first_of("\r\n") != std::string_view::npos; }

// A Content-Length value: digits only, no overflow.
bool ParseLength(const std::string& text, size_t* out) {
  if (text.empty() || text.size() > 18) return false;
  for (char c : text) {
    if (!std::isdigit(static_cast<unsigned char>(c))) return false;
  }
  *out = std::strtoull(text.c_str(), nullptr, 10);
  return true;
}

}  // namespace

size_t ChunkedDecoder::Feed(std::string_view in, std::string* out) {
  size_t i = 0;
  while (i < in.size() && state_ != State::kDone && state_ != State::kFailed) {
    switch (state_) {
      case State::kSize: {  // "1a2b[;extension]\r\n"
        char c = in[i++];
        if (c != '\n') {
          if (line_.size() > 1024) state_ = State::kFailed;
          line_ += c;
          break;
        }
        if (line_.empty() || !std::isxdigit(static_cast<unsigned char>(line_[0])) || line_.size() > 1024) {
          state_ = State::kFailed;
          break;
        }
        char* end = nullptr;
        unsigned long long n = std::strtoull(line_.c_str(), &end, 16);
        std::string_view rest = TrimSpace(std::string_view(end, line_.c_str() + line_.size() - end));
        if ((!rest.empty() && rest[0] != ';') || n > (1ull << 40)) {
          state_ = State::kFailed;
          break;
        }
        line_.clear();
        remaining_ = static_cast<size_t>(n);
        state_ = n == 0 ? State::kTrailer : State::kData;
        break;
      }
      case State::kData: {
        size_t take = std::min(remaining_, in.size() - i);
        out->append(in.data() + i, take);
        i += take;
        remaining_ -= take;
        if (remaining_ == 0) state_ = State::kDataEnd;
        break;
      }
      case State::kDataEnd: {  // the CRLF after a chunk's data
        char c = in[i++];
        if (c == '\n') {
          state_ = State::kSize;
        } else if (c != '\r') {
          state_ = State::kFailed;
        }
        break;
      }
      case State::kTrailer: {  // trailer lines up to an empty one
        char c = in[i++];
        if (c != '\n') {
          if (line_.size() > 64 * 1024) state_ = State::kFailed;
          line_ += c;
          break;
        }
        if (TrimSpace(line_).empty()) state_ = State::kDone;
        line_.clear();
        break;
      }
      case State::kDone:
      case State::kFailed:
        break;
    }
  }
  return i;
}

std::string HttpResponse::Header(const std::string& lower_name) const {
  auto it = headers.find(lower_name);
  return it == headers.end() ? "" : it->second;
}

Status ParseResponseHead(std::string_view head, HttpResponse* resp) {
  size_t line_end = head.find("\r\n");
  std::string_view status_line = head.substr(0, line_end);
  // "HTTP/1.1 200 OK": the version, a space, three digits, then a space or the end.
  bool ok = status_line.size() >= 12 && status_line.starts_with("HTTP/1.") && status_line[8] == ' ' &&
            (status_line.size() == 12 || status_line[12] == ' ');
  for (size_t i = 9; ok && i < 12; ++i) ok = std::isdigit(static_cast<unsigned char>(status_line[i])) != 0;
  if (!ok) {
    return Internal("malformed HTTP response: bad status line \"" + std::string(status_line.substr(0, 64)) + "\"");
  }
  resp->status = (status_line[9] - '0') * 100 + (status_line[10] - '0') * 10 + (status_line[11] - '0');
  resp->headers.clear();
  while (line_end != std::string_view::npos) {
    size_t start = line_end + 2;
    size_t next = head.find("\r\n", start);
    std::string_view line = head.substr(start, next == std::string_view::npos ? std::string_view::npos : next - start);
    line_end = next;
    size_t colon = line.find(':');
    if (colon == std::string_view::npos || colon == 0) {
      if (TrimSpace(line).empty()) continue;
      return Internal("malformed HTTP response: bad header line");
    }
    std::string name = LowerASCII(TrimSpace(line.substr(0, colon)));
    std::string value(TrimSpace(line.substr(colon + 1)));
    auto [it, fresh] = resp->headers.emplace(name, value);
    if (!fresh) it->second += ", " + value;
  }
  return Status::OK();
}

BodyFraming FramingOf(const HttpResponse& resp, bool head_request) {
  if (head_request || resp.status / 100 == 1 || resp.status == 204 || resp.status == 304) return BodyFraming::kNone;
  if (LowerASCII(resp.Header("transfer-encoding")).find("chunked") != std::string::npos) return BodyFraming::kChunked;
  if (resp.headers.count("content-length")) return BodyFraming::kLength;
  return BodyFraming::kUntilClose;
}

HeaderList ForwardableHeaders(const HttpResponse& resp) {
  static const char* const kSkip[] = {"connection", "keep-alive", "transfer-encoding", "content-length",
                                      "content-type", "cache-control", "date", "upgrade", "te", "trailer",
                                      "proxy-connection", "proxy-authenticate"};
  HeaderList out;
  for (const auto& [name, value] : resp.headers) {
    if (std::find(std::begin(kSkip), std::end(kSkip), name) != std::end(kSkip)) continue;
    out.emplace_back(CanonicalHeaderName(name), value);
  }
  return out;
}

std::string CanonicalHeaderName(std::string_view name) {
  std::string out(name);
  bool upper = true;
  for (char& c : out) {
    unsigned char u = static_cast<unsigned char>(c);
    c = static_cast<char>(upper ? std::toupper(u) : std::tolower(u));
    upper = c == '-';
  }
  return out;
}

std::string FormatRequest(std::string_view method, std::string_view target, std::string_view host,
                          const HeaderList& headers, std::string_view body) {
  std::string req;
  req.reserve(256 + body.size());
  req.append(method).append(" ").append(target).append(" HTTP/1.1\r\n");
  req.append("Host: ").append(host).append("\r\n");
  for (const auto& [name, value] : headers) {
    std::string lower = LowerASCII(name);
    if (lower == "host" || lower == "content-length" || lower == "transfer-encoding") continue;
    if (name.empty() || HasLineBreak(name) || HasLineBreak(value)) continue;  // never let a value end the head
    req.append(name).append(": ").append(value).append("\r\n");
  }
  if (!body.empty() || method == "POST" || method == "PUT" || method == "PATCH") {
    req.append("Content-Length: ").append(std::to_string(body.size())).append("\r\n");
  }
  req.append("\r\n").append(body);
  return req;
}

Status HttpConnection::ReadMore() {
  char buf[64 * 1024];
  auto deadline = std::chrono::steady_clock::now() + kReadTimeout;
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0 || !conn_->WaitReadable(left)) {
      return Internal("reading from " + conn_->address() + ": timed out");
    }
    Conn::ReadResult r = conn_->Read(buf, sizeof buf);
    switch (r.kind) {
      case Conn::ReadKind::kData:
        in_.append(buf, r.n);
        received_any_ = true;
        return Status::OK();
      case Conn::ReadKind::kWouldBlock:
        continue;
      case Conn::ReadKind::kEof:
        return Internal("reading from " + conn_->address() + ": connection closed by the server");
      case Conn::ReadKind::kError:
        return Internal("reading from " + conn_->address() + ": connection failed");
    }
  }
}

Status HttpConnection::ReadHead(HttpResponse* resp) {
  reusable_ = false;
  received_any_ = !in_.empty();
  for (;;) {
    size_t end;
    size_t from = 0;
    while ((end = in_.find("\r\n\r\n", from)) == std::string::npos) {
      if (in_.size() > kMaxHeadBytes) return Internal("response head from " + conn_->address() + " is too large");
      from = in_.size() < 3 ? 0 : in_.size() - 3;
      KUBES_RETURN_IF_ERROR(ReadMore());
    }
    Status s = ParseResponseHead(std::string_view(in_.data(), end), resp);
    in_.erase(0, end + 4);
    if (!s.ok()) return s;
    // 100 Continue and other interim answers come before the real one; 101 is final.
    if (resp->status / 100 != 1 || resp->status == 101) return Status::OK();
  }
}

Status HttpConnection::ReadBody(HttpResponse* resp, bool head_request) {
  resp->body.clear();
  bool close = LowerASCII(resp->Header("connection")).find("close") != std::string::npos;
  switch (FramingOf(*resp, head_request)) {
    case BodyFraming::kNone:
      break;
    case BodyFraming::kChunked: {
      ChunkedDecoder decoder;
      for (;;) {
        size_t used = decoder.Feed(in_, &resp->body);
        in_.erase(0, used);
        if (decoder.failed()) return Internal("malformed chunked body from " + conn_->address());
        if (decoder.done()) break;
        KUBES_RETURN_IF_ERROR(ReadMore());
      }
      break;
    }
    case BodyFraming::kLength: {
      size_t n = 0;
      if (!ParseLength(resp->Header("content-length"), &n)) {
        return Internal("bad Content-Length from " + conn_->address());
      }
      while (in_.size() < n) KUBES_RETURN_IF_ERROR(ReadMore());
      resp->body.assign(in_, 0, n);
      in_.erase(0, n);
      break;
    }
    case BodyFraming::kUntilClose:
      close = true;
      for (;;) {
        Status s = ReadMore();
        if (!s.ok()) break;  // the end of the connection is the end of the body
      }
      resp->body = std::move(in_);
      in_.clear();
      break;
  }
  reusable_ = !close;
  return Status::OK();
}

Status HttpConnection::StreamBody(const HttpResponse& resp, const std::function<bool(std::string_view)>& on_data,
                                  const std::function<bool()>& stop) {
  reusable_ = false;
  BodyFraming framing = FramingOf(resp);
  size_t left = 0;
  if (framing == BodyFraming::kNone) return Status::OK();
  if (framing == BodyFraming::kLength && !ParseLength(resp.Header("content-length"), &left)) {
    return Internal("bad Content-Length from " + conn_->address());
  }
  ChunkedDecoder decoder;
  std::string piece;
  char buf[64 * 1024];
  for (;;) {
    if (!in_.empty()) {  // hand on what has arrived
      piece.clear();
      bool done = false;
      if (framing == BodyFraming::kChunked) {
        in_.erase(0, decoder.Feed(in_, &piece));
        if (decoder.failed()) return Internal("malformed chunked body from " + conn_->address());
        done = decoder.done();
      } else if (framing == BodyFraming::kLength) {
        size_t take = std::min(left, in_.size());
        piece.assign(in_, 0, take);
        in_.erase(0, take);
        left -= take;
        done = left == 0;
      } else {
        piece.swap(in_);
      }
      if (!piece.empty() && !on_data(piece)) return Status::OK();
      if (done) return Status::OK();
    } else if (framing == BodyFraming::kLength && left == 0) {
      return Status::OK();
    }
    if (stop()) return Status::OK();
    if (!conn_->WaitReadable(kStopCheck)) continue;
    Conn::ReadResult r = conn_->Read(buf, sizeof buf);
    switch (r.kind) {
      case Conn::ReadKind::kData:
        in_.append(buf, r.n);
        break;
      case Conn::ReadKind::kWouldBlock:
        break;
      case Conn::ReadKind::kEof:
        if (framing == BodyFraming::kUntilClose) return Status::OK();
        return Internal("reading from " + conn_->address() + ": connection closed before the end of the body");
      case Conn::ReadKind::kError:
        return Internal("reading from " + conn_->address() + ": connection failed");
    }
  }
}

std::string HttpConnection::TakeBuffered() {
  std::string out;
  out.swap(in_);
  return out;
}

std::string HttpClient::FormatRequest(const Target& target, std::string_view method, std::string_view path,
                                      std::string_view body, std::string_view accept) {
  HeaderList headers = {{"User-Agent", "kubes-bench"}};
  if (!target.bearer_token.empty()) headers.emplace_back("Authorization", "Bearer " + target.bearer_token);
  if (!accept.empty()) headers.emplace_back("Accept", std::string(accept));
  if (!body.empty() || method == "POST" || method == "PUT") headers.emplace_back("Content-Type", "application/json");
  return http::FormatRequest(method, path, JoinHostPort(target.host, target.port), headers, body);
}

Result<HttpResponse> HttpClient::Do(std::string_view method, std::string_view path, std::string_view body,
                                    std::string_view accept) {
  std::string request = FormatRequest(target_, method, path, body, accept);
  bool reused = conn_ != nullptr;
  Result<HttpResponse> r = DoOnce(request, method == "HEAD");
  // A reused connection may have been closed by the server while idle: dial once more.
  if (!r.ok() && reused) r = DoOnce(request, method == "HEAD");
  if (!r.ok()) return r.status().Wrap(std::string(method) + " " + std::string(path));
  return r;
}

Result<HttpResponse> HttpClient::DoOnce(const std::string& request, bool head_request) {
  if (!conn_) {
    auto conn = Conn::Dial(target_.host, target_.port, target_.tls);
    if (!conn.ok()) return conn.status();
    conn_ = std::make_unique<HttpConnection>(std::move(*conn));
  }
  HttpResponse resp;
  Status s = conn_->Send(request);
  if (s.ok()) s = conn_->ReadHead(&resp);
  if (s.ok()) s = conn_->ReadBody(&resp, head_request);
  if (!s.ok() || !conn_->reusable()) conn_.reset();
  if (!s.ok()) return s;
  return resp;
}

}  // namespace kubes::client::http
