#include "client/http/url.h"

#include <arpa/inet.h>

#include <cctype>

namespace kubes::client::http {
namespace {

bool Unreserved(unsigned char c) { return std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~'; }

void AppendEscaped(std::string& out, unsigned char c) {
  static const char kHex[] = "0123456789ABCDEF";
  out += '%';
  out += kHex[c >> 4];
  out += kHex[c & 15];
}

bool IsIpv6(const std::string& s) {
  in6_addr a;
  return inet_pton(AF_INET6, s.c_str(), &a) == 1;
}

}  // namespace

Result<ServerUrl> ParseServerUrl(std::string_view url) {
  auto bad = [&](const std::string& why) { return BadRequest("server URL \"" + std::string(url) + "\": " + why); };
  ServerUrl out;
  size_t sep = url.find("://");
  if (sep == std::string_view::npos) return bad("no scheme (want https://host:port)");
  out.scheme = std::string(url.substr(0, sep));
  for (char& c : out.scheme) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (out.scheme != "https" && out.scheme != "http") return bad("scheme must be https or http");
  std::string_view rest = url.substr(sep + 3);
  size_t end = rest.find_first_of("/?#");
  std::string_view authority = rest.substr(0, end);
  if (end != std::string_view::npos && rest.substr(end) != "/") return bad("a server URL has no path or query");
  if (authority.find('@') != std::string_view::npos) return bad("user information is not supported");
  std::string_view port_text;
  if (authority.starts_with("[")) {
    size_t close = authority.find(']');
    if (close == std::string_view::npos) return bad("missing ']' after an IPv6 address");
    out.host = std::string(authority.substr(1, close - 1));
    if (!IsIpv6(out.host)) return bad("\"" + out.host + "\" is not an IPv6 address");
    std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after[0] != ':') return bad("unexpected text after the IPv6 address");
      port_text = after.substr(1);
    }
  } else {
    size_t colon = authority.rfind(':');
    if (colon != std::string_view::npos && authority.find(':') != colon) {
      return bad("an IPv6 address must be in brackets");
    }
    out.host = std::string(authority.substr(0, colon));
    if (colon != std::string_view::npos) port_text = authority.substr(colon + 1);
  }
  if (out.host.empty()) return bad("no host");
  out.port = out.scheme == "https" ? 443 : 80;
  if (!port_text.empty()) {
    int port = 0;
    for (char c : port_text) {
      if (!std::isdigit(static_cast<unsigned char>(c)) || port > 65535) return bad("invalid port");
      port = port * 10 + (c - '0');
    }
    if (port < 1 || port > 65535) return bad("invalid port");
    out.port = port;
  }
  return out;
}

std::string JoinHostPort(std::string_view host, int port) {
  std::string h(host);
  if (h.find(':') != std::string::npos) h = "[" + h + "]";
  return h + ":" + std::to_string(port);
}

std::string EscapePath(std::string_view path) {
  std::string out;
  out.reserve(path.size());
  for (unsigned char c : path) {
    bool keep = Unreserved(c) || c == '/' || c == ':' || c == '@' || c == '!' || c == '$' || c == '&' ||
                c == '\'' || c == '(' || c == ')' || c == '*' || c == ',' || c == ';' || c == '=';
    if (keep) {
      out += static_cast<char>(c);
    } else {
      AppendEscaped(out, c);
    }
  }
  return out;
}

std::string EscapeQueryComponent(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (unsigned char c : s) {
    if (Unreserved(c)) {
      out += static_cast<char>(c);
    } else if (c == ' ') {
      out += '+';
    } else {
      AppendEscaped(out, c);
    }
  }
  return out;
}

std::string EncodeQuery(const std::multimap<std::string, std::string>& query) {
  std::string out;
  for (const auto& [k, v] : query) {
    if (!out.empty()) out += '&';
    out += EscapeQueryComponent(k);
    out += '=';
    out += EscapeQueryComponent(v);
  }
  return out;
}

std::string RequestTarget(std::string_view path, const std::multimap<std::string, std::string>& query) {
  std::string target = EscapePath(path.empty() ? "/" : path);
  if (!query.empty()) target += "?" + EncodeQuery(query);
  return target;
}

}  // namespace kubes::client::http
