#include "http.h"

#include <algorithm>
#include <cctype>

namespace kubes::demo {
namespace {

constexpr size_t kMaxHeaders = 100;

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
         });
}

// RFC 9110 tchar: what a method or a header name is made of.
bool IsTokenChar(char c) {
  if (std::isalnum(static_cast<unsigned char>(c))) return true;
  return std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

bool IsToken(std::string_view s) { return !s.empty() && std::all_of(s.begin(), s.end(), IsTokenChar); }

// Bytes a header value may not hold: control characters other than tab.
bool HasControlChar(std::string_view s) {
  return std::any_of(s.begin(), s.end(), [](char c) {
    auto u = static_cast<unsigned char>(c);
    return (u < 0x20 && c != '\t') || u == 0x7f;
  });
}

std::string_view TrimSpaces(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

ParseResult Error(int status, std::string message) {
  ParseResult r;
  r.kind = ParseResult::Kind::kError;
  r.status = status;
  r.error = std::move(message);
  return r;
}

// Splits the head (everything before the empty line) into lines, accepting CRLF or a
// bare LF. Returns the offset just past the empty line, or npos if it has not arrived.
size_t SplitHead(std::string_view buffer, std::vector<std::string_view>* lines) {
  size_t pos = 0;
  while (true) {
    size_t nl = buffer.find('\n', pos);
    if (nl == std::string_view::npos) return std::string_view::npos;
    std::string_view line = buffer.substr(pos, nl - pos);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    pos = nl + 1;
    if (line.empty()) {
      if (lines->empty()) continue;  // empty lines before the request line are ignored
      return pos;
    }
    lines->push_back(line);
  }
}

// "GET /x?y HTTP/1.1" into method, target, path, query and version.
std::optional<ParseResult> ParseRequestLine(std::string_view line, Request* r) {
  size_t sp1 = line.find(' ');
  size_t sp2 = sp1 == std::string_view::npos ? sp1 : line.find(' ', sp1 + 1);
  if (sp2 == std::string_view::npos || line.find(' ', sp2 + 1) != std::string_view::npos) {
    return Error(400, "malformed request line");
  }
  std::string_view method = line.substr(0, sp1);
  std::string_view target = line.substr(sp1 + 1, sp2 - sp1 - 1);
  std::string_view version = line.substr(sp2 + 1);
  if (!IsToken(method)) return Error(400, "malformed method");
  if (target.empty() || target.front() != '/' || HasControlChar(target)) {
    return Error(400, "the request target must be a path starting with /");
  }
  if (version.size() != 8 || version.substr(0, 5) != "HTTP/" || !std::isdigit(static_cast<unsigned char>(version[5])) ||
      version[6] != '.' || !std::isdigit(static_cast<unsigned char>(version[7]))) {
    return Error(400, "malformed HTTP version");
  }
  if (version[5] != '1') return Error(505, "only HTTP/1.x is supported");
  r->method = method;
  r->target = target;
  r->version = version;
  std::string_view path = target.substr(0, target.find('#'));
  size_t q = path.find('?');
  if (q != std::string_view::npos) {
    r->query = ParseQuery(path.substr(q + 1));
    path = path.substr(0, q);
  }
  r->path = PercentDecode(path, false);
  return std::nullopt;
}

std::optional<ParseResult> ParseHeaderLine(std::string_view line, Request* r) {
  if (line.front() == ' ' || line.front() == '\t') return Error(400, "folded header lines are not supported");
  size_t colon = line.find(':');
  if (colon == std::string_view::npos) return Error(400, "header line without a colon");
  std::string_view name = line.substr(0, colon);
  std::string_view value = TrimSpaces(line.substr(colon + 1));
  if (!IsToken(name)) return Error(400, "malformed header name");
  if (HasControlChar(value)) return Error(400, "control character in header " + std::string(name));
  if (r->headers.size() >= kMaxHeaders) return Error(431, "too many header lines");
  r->headers.emplace_back(name, value);
  return std::nullopt;
}

// The body's length from Content-Length; an error for Transfer-Encoding, a malformed or
// too large length, or two lengths that disagree.
std::optional<ParseResult> BodyLength(const Request& r, size_t* length) {
  std::optional<std::string_view> seen;
  for (const auto& [name, value] : r.headers) {
    if (EqualsIgnoreCase(name, "Transfer-Encoding")) return Error(501, "Transfer-Encoding is not supported");
    if (!EqualsIgnoreCase(name, "Content-Length")) continue;
    if (seen && *seen != value) return Error(400, "conflicting Content-Length headers");
    seen = value;
  }
  *length = 0;
  if (!seen) return std::nullopt;
  if (seen->empty() || seen->size() > 9 ||
      !std::all_of(seen->begin(), seen->end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return Error(400, "malformed Content-Length");
  }
  *length = std::stoul(std::string(*seen));
  if (*length > kMaxBodyBytes) return Error(413, "request body larger than 1 MiB");
  return std::nullopt;
}

}  // namespace

std::optional<std::string> Request::Query(std::string_view key) const {
  for (const auto& [k, v] : query) {
    if (k == key) return v;
  }
  return std::nullopt;
}

std::optional<std::string> Request::Header(std::string_view name) const {
  for (const auto& [n, v] : headers) {
    if (EqualsIgnoreCase(n, name)) return v;
  }
  return std::nullopt;
}

bool Request::KeepAlive() const {
  std::string connection = Header("Connection").value_or("");
  std::transform(connection.begin(), connection.end(), connection.begin(),
                 [](unsigned char c) { return std::tolower(c); });
  if (connection.find("close") != std::string::npos) return false;
  if (version == "HTTP/1.0") return connection.find("keep-alive") != std::string::npos;
  return true;
}

ParseResult ParseRequest(std::string_view buffer) {
  std::vector<std::string_view> lines;
  size_t head_end = SplitHead(buffer.substr(0, std::min(buffer.size(), kMaxHeadBytes)), &lines);
  if (head_end == std::string_view::npos) {
    if (buffer.size() >= kMaxHeadBytes) return Error(431, "request head larger than 64 KiB");
    return ParseResult{};  // incomplete
  }
  ParseResult r;
  if (auto err = ParseRequestLine(lines[0], &r.request)) return *err;
  for (size_t i = 1; i < lines.size(); i++) {
    if (auto err = ParseHeaderLine(lines[i], &r.request)) return *err;
  }
  size_t body_length = 0;
  if (auto err = BodyLength(r.request, &body_length)) return *err;
  if (buffer.size() - head_end < body_length) return ParseResult{};  // the body is still arriving
  r.request.body = buffer.substr(head_end, body_length);
  r.kind = ParseResult::Kind::kComplete;
  r.consumed = head_end + body_length;
  return r;
}

std::vector<std::pair<std::string, std::string>> ParseQuery(std::string_view query) {
  std::vector<std::pair<std::string, std::string>> out;
  while (!query.empty()) {
    size_t amp = query.find('&');
    std::string_view part = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    if (part.empty()) continue;
    size_t eq = part.find('=');
    std::string_view key = part.substr(0, eq);
    std::string_view value = eq == std::string_view::npos ? std::string_view() : part.substr(eq + 1);
    out.emplace_back(PercentDecode(key, true), PercentDecode(value, true));
  }
  return out;
}

std::string PercentDecode(std::string_view s, bool plus_is_space) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); i++) {
    if (s[i] == '%' && i + 2 < s.size() && HexValue(s[i + 1]) >= 0 && HexValue(s[i + 2]) >= 0) {
      out.push_back(static_cast<char>(HexValue(s[i + 1]) * 16 + HexValue(s[i + 2])));
      i += 2;
    } else if (s[i] == '+' && plus_is_space) {
      out.push_back(' ');
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

std::string_view ReasonPhrase(int status) {
  switch (status) {
    case 200: return "OK";
    case 400: return "Bad Request";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 413: return "Content Too Large";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 503: return "Service Unavailable";
    case 505: return "HTTP Version Not Supported";
    default: return "Unknown";
  }
}

std::string SerializeResponse(const Response& response, bool keep_alive, bool head_only) {
  std::string out = "HTTP/1.1 " + std::to_string(response.status) + " " + std::string(ReasonPhrase(response.status)) +
                    "\r\nContent-Type: " + response.content_type +
                    "\r\nContent-Length: " + std::to_string(response.body.size()) +
                    "\r\nConnection: " + (keep_alive ? "keep-alive" : "close") + "\r\n\r\n";
  if (!head_only) out += response.body;
  return out;
}

}  // namespace kubes::demo
