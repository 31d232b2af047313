// url — the small part of URL handling an HTTP client needs: splitting a server
// address such as "https://10.0.0.1:6443" into its parts, and writing a request
// target (path and query) with percent-encoding (RFC 3986 §2.1).
//
// Upstream a Go client leans on net/url: url.Parse for the kubeconfig's server, and
// url.PathEscape / url.Values.Encode when client-go's rest.Request builds a URL.
// The encodings here are chosen so that the kubes apiserver's decoder (server.cc,
// which also reads '+' as a space, in the path too) gets back exactly the
// apiserver::Request the client started from.
//
// Thread-safety: pure functions.
#pragma once

#include <map>
#include <string>
#include <string_view>

#include "util/status.h"

namespace kubes::client::http {

// "https://host:port" split up. host has no brackets ("::1", not "[::1]").
struct ServerUrl {
  std::string scheme;  // "https" or "http"
  std::string host;
  int port = 0;
};

// Parses "scheme://host[:port][/]": the port defaults to 443 for https and 80 for http;
// IPv6 literals are bracketed ("https://[::1]:6443"). A path other than "/", a query,
// or user information is rejected: a server address names a host, nothing more.
Result<ServerUrl> ParseServerUrl(std::string_view url);

// "host:port", with brackets around an IPv6 literal ("[::1]:6443"), as Go's
// net.JoinHostPort writes it (dial errors and Host headers use this form).
std::string JoinHostPort(std::string_view host, int port);

// Percent-encodes a path: unreserved characters, '/' and the sub-delimiters other
// than '+' stay as they are, everything else becomes %XX.
std::string EscapePath(std::string_view path);

// Percent-encodes one query key or value the way HTML forms do (Go's
// url.QueryEscape): ' ' becomes '+', everything but unreserved characters %XX.
std::string EscapeQueryComponent(std::string_view s);

// "k1=v1&k2=v2", in key order, repeated keys kept in their order; "" when empty.
std::string EncodeQuery(const std::multimap<std::string, std::string>& query);

// The request target: EscapePath(path), then "?" and the query when there is one.
std::string RequestTarget(std::string_view path, const std::multimap<std::string, std::string>& query);

}  // namespace kubes::client::http
