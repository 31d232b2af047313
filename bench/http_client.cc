#include "bench/http_client.h"

#include <algorithm>
#include <cctype>
#include <cstdlib>

namespace kubes::bench {
namespace {

std::string Lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return std::tolower(c); });
  return out;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

}  // namespace

size_t ChunkedDecoder::Feed(std::string_view in, std::string* out) {
  size_t i = 0;
  while (i < in.size() && state_ != State::kDone && state_ != State::kFailed) {
    switch (state_) {
      case State::kSize: {
        char c = in[i++];
        if (c != '\n') {
          if (line_.size() > 1024) state_ = State::kFailed;
          line_ += c;
          break;
        }
        char* end = nullptr;
        unsigned long n = std::strtoul(line_.c_str(), &end, 16);
        if (end == line_.c_str()) {
          state_ = State::kFailed;
          break;
        }
        line_.clear();
        remaining_ = n;
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
      case State::kDataEnd:  // the CRLF after a chunk's data
        if (in[i++] == '\n') state_ = State::kSize;
        break;
      case State::kTrailer: {  // trailer lines up to an empty one
        char c = in[i++];
        if (c != '\n') {
          line_ += c;
          break;
        }
        if (Trim(line_).empty()) state_ = State::kDone;
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

std::string HttpClient::FormatRequest(const Target& target, std::string_view method, std::string_view path,
                                      std::string_view body, std::string_view accept) {
  std::string req;
  req.reserve(256 + body.size());
  req.append(method).append(" ").append(path).append(" HTTP/1.1\r\n");
  req.append("Host: 127.0.0.1:").append(std::to_string(target.port)).append("\r\n");
  req.append("User-Agent: kubes-bench\r\n");
  if (!target.bearer_token.empty()) req.append("Authorization: Bearer ").append(target.bearer_token).append("\r\n");
  if (!accept.empty()) req.append("Accept: ").append(accept).append("\r\n");
  if (!body.empty() || method == "POST" || method == "PUT") {
    req.append("Content-Type: application/json\r\n");
    req.append("Content-Length: ").append(std::to_string(body.size())).append("\r\n");
  }
  req.append("\r\n").append(body);
  return req;
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

Result<HttpResponse> HttpClient::DoOnce(const std::string& request, bool head_only_method) {
  if (!conn_) {
    in_.clear();
    auto conn = Conn::Dial(target_.port, target_.tls);
    if (!conn.ok()) return conn.status();
    conn_ = std::move(*conn);
  }
  HttpResponse resp;
  bool close_after = false;
  Status s = conn_->WriteAll(request);
  if (s.ok()) s = ReadHead(resp);
  if (s.ok() && !head_only_method) s = ReadBody(resp, &close_after);
  if (!s.ok() || close_after) conn_.reset();
  if (!s.ok()) return s;
  return resp;
}

Status HttpClient::ReadMore() {
  char buf[64 * 1024];
  Conn::ReadResult r = conn_->Read(buf, sizeof buf);
  if (r.kind == Conn::ReadKind::kData) {
    in_.append(buf, r.n);
    return Status::OK();
  }
  return Internal(r.kind == Conn::ReadKind::kEof ? "connection closed by server" : "read failed or timed out");
}

Status HttpClient::ReadHead(HttpResponse& resp) {
  size_t end;
  while ((end = in_.find("\r\n\r\n")) == std::string::npos) {
    if (in_.size() > 1024 * 1024) return Internal("response head too large");
    KUBES_RETURN_IF_ERROR(ReadMore());
  }
  std::string_view head(in_.data(), end);
  size_t line_end = head.find("\r\n");
  std::string_view status_line = head.substr(0, line_end);
  if (status_line.size() < 12 || !status_line.starts_with("HTTP/1.")) {
    return Internal("bad status line: " + std::string(status_line));
  }
  resp.status = std::atoi(std::string(status_line.substr(9, 3)).c_str());
  while (line_end != std::string_view::npos) {
    size_t next = head.find("\r\n", line_end + 2);
    std::string_view line = head.substr(line_end + 2, next == std::string_view::npos ? next : next - line_end - 2);
    size_t colon = line.find(':');
    if (colon != std::string_view::npos) {
      resp.headers[Lower(Trim(line.substr(0, colon)))] = std::string(Trim(line.substr(colon + 1)));
    }
    line_end = next;
  }
  in_.erase(0, end + 4);
  return Status::OK();
}

Status HttpClient::ReadBody(HttpResponse& resp, bool* close_after) {
  auto header = [&](const char* name) -> std::string {
    auto it = resp.headers.find(name);
    return it == resp.headers.end() ? "" : Lower(it->second);
  };
  *close_after = header("connection") == "close";
  if (resp.status == 204 || resp.status == 304 || resp.status / 100 == 1) return Status::OK();
  if (header("transfer-encoding").find("chunked") != std::string::npos) {
    ChunkedDecoder decoder;
    for (;;) {
      size_t used = decoder.Feed(in_, &resp.body);
      in_.erase(0, used);
      if (decoder.failed()) return Internal("malformed chunked body");
      if (decoder.done()) return Status::OK();
      KUBES_RETURN_IF_ERROR(ReadMore());
    }
  }
  std::string length = header("content-length");
  if (length.empty()) {  // body runs to the end of the connection
    *close_after = true;
    while (ReadMore().ok()) {
    }
    resp.body = std::move(in_);
    in_.clear();
    return Status::OK();
  }
  size_t n = std::strtoull(length.c_str(), nullptr, 10);
  while (in_.size() < n) KUBES_RETURN_IF_ERROR(ReadMore());
  resp.body.assign(in_, 0, n);
  in_.erase(0, n);
  return Status::OK();
}

}  // namespace kubes::bench
