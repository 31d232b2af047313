// The parts of client/http that need no network: URL handling, request formatting,
// response-head parsing and the chunked decoder.
#include <gtest/gtest.h>

#include "client/http/http_client.h"
#include "client/http/url.h"

namespace kubes::client::http {
namespace {

TEST(ParseServerUrlTest, Table) {
  struct Case {
    std::string url;
    bool ok;
    std::string scheme, host;
    int port;
  };
  const Case cases[] = {
      {"https://127.0.0.1:6443", true, "https", "127.0.0.1", 6443},
      {"https://127.0.0.1:6443/", true, "https", "127.0.0.1", 6443},
      {"HTTPS://example.com", true, "https", "example.com", 443},
      {"http://localhost", true, "http", "localhost", 80},
      {"https://[::1]:10250", true, "https", "::1", 10250},
      {"https://[fd00::5]", true, "https", "fd00::5", 443},
      {"127.0.0.1:6443", false, "", "", 0},
      {"ftp://host", false, "", "", 0},
      {"https://", false, "", "", 0},
      {"https://::1:6443", false, "", "", 0},
      {"https://[::1", false, "", "", 0},
      {"https://[not-v6]:1", false, "", "", 0},
      {"https://host:0", false, "", "", 0},
      {"https://host:65536", false, "", "", 0},
      {"https://host:99999999999", false, "", "", 0},
      {"https://host:12ab", false, "", "", 0},
      {"https://host/api", false, "", "", 0},
      {"https://host?x=1", false, "", "", 0},
      {"https://user@host", false, "", "", 0},
  };
  for (const Case& c : cases) {
    auto u = ParseServerUrl(c.url);
    ASSERT_EQ(u.ok(), c.ok) << c.url;
    if (!c.ok) {
      EXPECT_EQ(u.status().code(), Code::kBadRequest) << c.url;
      continue;
    }
    EXPECT_EQ(u->scheme, c.scheme) << c.url;
    EXPECT_EQ(u->host, c.host) << c.url;
    EXPECT_EQ(u->port, c.port) << c.url;
  }
}

TEST(UrlTest, JoinHostPort) {
  EXPECT_EQ(JoinHostPort("127.0.0.1", 6443), "127.0.0.1:6443");
  EXPECT_EQ(JoinHostPort("::1", 10250), "[::1]:10250");
  EXPECT_EQ(JoinHostPort("node-1", 1), "node-1:1");
}

TEST(UrlTest, Escaping) {
  struct Case {
    std::string in, path, query;
  };
  const Case cases[] = {
      {"abc-._~XYZ09", "abc-._~XYZ09", "abc-._~XYZ09"},
      {"/api/v1/namespaces", "/api/v1/namespaces", "%2Fapi%2Fv1%2Fnamespaces"},
      {"a b", "a%20b", "a+b"},
      {"a+b", "a%2Bb", "a%2Bb"},
      {"app in (a,b)", "app%20in%20(a,b)", "app+in+%28a%2Cb%29"},
      {"x=1&y", "x=1&y", "x%3D1%26y"},
      {"100%", "100%25", "100%25"},
      {"q?#", "q%3F%23", "q%3F%23"},
      {"\xc3\xa9", "%C3%A9", "%C3%A9"},
      {std::string("nul\0", 4), "nul%00", "nul%00"},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(EscapePath(c.in), c.path) << c.in;
    EXPECT_EQ(EscapeQueryComponent(c.in), c.query) << c.in;
  }
}

TEST(UrlTest, RequestTarget) {
  std::multimap<std::string, std::string> q;
  EXPECT_EQ(RequestTarget("", q), "/");
  EXPECT_EQ(RequestTarget("/api/v1/pods", q), "/api/v1/pods");
  q.emplace("watch", "true");
  q.emplace("labelSelector", "app=web,tier!=db");
  q.emplace("command", "sh");
  q.emplace("command", "-c");
  q.emplace("command", "echo a b");
  EXPECT_EQ(RequestTarget("/exec/ns/pod/c", q),
            "/exec/ns/pod/c?command=sh&command=-c&command=echo+a+b&labelSelector=app%3Dweb%2Ctier%21%3Ddb&watch=true");
}

TEST(FormatRequestTest, HeadersBodyAndLength) {
  std::string get = FormatRequest("GET", "/x?y=1", "127.0.0.1:6443", {{"Accept", "application/json"}}, "");
  EXPECT_EQ(get, "GET /x?y=1 HTTP/1.1\r\nHost: 127.0.0.1:6443\r\nAccept: application/json\r\n\r\n");
  std::string post = FormatRequest("POST", "/x", "[::1]:1", {{"Content-Type", "application/json"}}, "{}");
  EXPECT_EQ(post, "POST /x HTTP/1.1\r\nHost: [::1]:1\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}");
  // An empty POST still says its length; caller-supplied framing headers are replaced;
  // a header with a line break is dropped instead of ending the head early.
  std::string tricky = FormatRequest(
      "POST", "/x", "h:1",
      {{"Content-Length", "99"}, {"Host", "evil"}, {"X-Ok", "1"}, {"X-Bad", "a\r\nX-Injected: 1"}}, "");
  EXPECT_EQ(tricky, "POST /x HTTP/1.1\r\nHost: h:1\r\nX-Ok: 1\r\nContent-Length: 0\r\n\r\n");
}

TEST(FormatRequestTest, CanonicalHeaderName) {
  EXPECT_EQ(CanonicalHeaderName("content-type"), "Content-Type");
  EXPECT_EQ(CanonicalHeaderName("x-stream-protocol-version"), "X-Stream-Protocol-Version");
  EXPECT_EQ(CanonicalHeaderName("ACCEPT"), "Accept");
}

TEST(ParseResponseHeadTest, Table) {
  struct Case {
    std::string head;
    bool ok;
    int status;
    std::map<std::string, std::string> headers;
  };
  const Case cases[] = {
      {"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2", true, 200,
       {{"content-type", "application/json"}, {"content-length", "2"}}},
      {"HTTP/1.0 404", true, 404, {}},
      {"HTTP/1.1 101 Switching Protocols\r\nUpgrade: SPDY/3.1\r\nConnection:Upgrade", true, 101,
       {{"upgrade", "SPDY/3.1"}, {"connection", "Upgrade"}}},
      {"HTTP/1.1 200 OK\r\nWarning: 299 - \"a\"\r\nwarning: 299 - \"b\"", true, 200,
       {{"warning", "299 - \"a\", 299 - \"b\""}}},
      {"HTTP/1.1 200 OK\r\nX-Empty:   \r\n", true, 200, {{"x-empty", ""}}},
      {"HTTP/2 200", false, 0, {}},
      {"HTTP/1.1 2x0 OK", false, 0, {}},
      {"HTTP/1.1 200OK", false, 0, {}},
      {"garbage", false, 0, {}},
      {"", false, 0, {}},
      {"HTTP/1.1 200 OK\r\nno colon here", false, 0, {}},
      {"HTTP/1.1 200 OK\r\n: no name", false, 0, {}},
  };
  for (const Case& c : cases) {
    HttpResponse r;
    Status s = ParseResponseHead(c.head, &r);
    ASSERT_EQ(s.ok(), c.ok) << c.head << ": " << s.ToString();
    if (!c.ok) continue;
    EXPECT_EQ(r.status, c.status) << c.head;
    EXPECT_EQ(r.headers, c.headers) << c.head;
  }
}

TEST(FramingTest, Table) {
  struct Case {
    int status;
    std::map<std::string, std::string> headers;
    bool head_request;
    BodyFraming want;
  };
  const Case cases[] = {
      {200, {{"content-length", "5"}}, false, BodyFraming::kLength},
      {200, {{"transfer-encoding", "Chunked"}, {"content-length", "5"}}, false, BodyFraming::kChunked},
      {200, {}, false, BodyFraming::kUntilClose},
      {200, {{"content-length", "5"}}, true, BodyFraming::kNone},
      {204, {}, false, BodyFraming::kNone},
      {304, {}, false, BodyFraming::kNone},
      {101, {}, false, BodyFraming::kNone},
  };
  for (const Case& c : cases) {
    HttpResponse r;
    r.status = c.status;
    r.headers = c.headers;
    EXPECT_EQ(FramingOf(r, c.head_request), c.want) << c.status;
  }
}

TEST(FramingTest, ForwardableHeaders) {
  HttpResponse r;
  r.headers = {{"content-type", "text/plain"}, {"content-length", "3"}, {"connection", "close"},
               {"warning", "299 - \"x\""}, {"audit-id", "abc"}, {"transfer-encoding", "chunked"}};
  HeaderList want = {{"Audit-Id", "abc"}, {"Warning", "299 - \"x\""}};
  EXPECT_EQ(ForwardableHeaders(r), want);
}

// Feeds `wire` to a decoder in pieces of `step` bytes.
std::string DecodeInSteps(const std::string& wire, size_t step, ChunkedDecoder* d, size_t* consumed) {
  std::string out;
  *consumed = 0;
  for (size_t i = 0; i < wire.size() && !d->done() && !d->failed(); i += step) {
    std::string_view piece(wire.data() + i, std::min(step, wire.size() - i));
    *consumed += d->Feed(piece, &out);
  }
  return out;
}

TEST(ChunkedDecoderTest, Table) {
  struct Case {
    std::string wire;
    bool done, failed;
    std::string body;
    size_t consumed;  // of the wire, when done
  };
  const Case cases[] = {
      {"5\r\nhello\r\n0\r\n\r\n", true, false, "hello", 15},
      {"5\r\nhello\r\n6\r\n world\r\n0\r\n\r\nNEXT", true, false, "hello world", 26},
      {"A;ext=1\r\n0123456789\r\n0\r\nTrailer: x\r\n\r\n", true, false, "0123456789", 38},
      {"5\r\nhel", false, false, "hel", 0},
      {"zz\r\n", false, true, "", 0},
      {"\r\n", false, true, "", 0},
      {"-1\r\n", false, true, "", 0},
      {"5 junk\r\nhello\r\n", false, true, "", 0},
      {"2\r\nhiX\r\n", false, true, "hi", 0},
      {"fffffffffffffffffff\r\n", false, true, "", 0},
  };
  for (const Case& c : cases) {
    for (size_t step : {size_t{1}, size_t{3}, c.wire.size()}) {
      ChunkedDecoder d;
      size_t consumed = 0;
      std::string body = DecodeInSteps(c.wire, step, &d, &consumed);
      EXPECT_EQ(d.done(), c.done) << c.wire << " step " << step;
      EXPECT_EQ(d.failed(), c.failed) << c.wire << " step " << step;
      if (!c.failed) {
        EXPECT_EQ(body, c.body) << c.wire << " step " << step;
      }
      if (c.done) {
        EXPECT_EQ(consumed, c.consumed) << c.wire << " step " << step;
      }
    }
  }
}

}  // namespace
}  // namespace kubes::client::http
