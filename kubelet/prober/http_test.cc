#include "kubelet/prober/http.h"

#include <gtest/gtest.h>

#include "kubelet/prober/testing.h"

namespace kubes::kubelet::prober {
namespace {

using testing::ReadUntil;
using testing::Server;
using testing::WriteAll;

// A server that answers every request with `response` and remembers the last request.
struct Canned {
  explicit Canned(std::string response)
      : server([this, response](int fd) {
          std::string req = ReadUntil(fd, "\r\n\r\n");
          {
            std::lock_guard<std::mutex> lock(mu);
            requests.push_back(req);
          }
          WriteAll(fd, response);
        }) {}
  std::string last() {
    std::lock_guard<std::mutex> lock(mu);
    return requests.empty() ? "" : requests.back();
  }
  std::mutex mu;
  std::vector<std::string> requests;
  Server server;
};

HTTPRequest Request(int port, const std::string& path = "/healthz") {
  auto r = NewRequestForHTTPGetAction({{"path", path}, {"port", port}}, Json::object(), "127.0.0.1", "kube-probe/1.32");
  EXPECT_TRUE(r.ok());
  return *r;
}

TEST(ResolveContainerPortTest, NumbersAndNames) {
  Json container = {{"ports", {{{"name", "http"}, {"containerPort", 8080}}, {{"name", "9090"}, {"containerPort", 7070}}}}};
  struct Case {
    Json port;
    int want;
    std::string error;
  } cases[] = {
      {8080, 8080, ""},
      {"http", 8080, ""},
      {"8081", 8081, ""},
      {"9090", 7070, ""},  // a name first, as upstream
      {"metrics", 0, "strconv.Atoi: parsing \"metrics\": invalid syntax"},
      {0, 0, "invalid port number: 0"},
      {70000, 0, "invalid port number: 70000"},
      {"-1", 0, "invalid port number: -1"},
  };
  for (const auto& c : cases) {
    auto got = ResolveContainerPort(c.port, container);
    if (c.error.empty()) {
      ASSERT_TRUE(got.ok()) << c.port << ": " << got.status().message();
      EXPECT_EQ(*got, c.want) << c.port;
    } else {
      ASSERT_FALSE(got.ok()) << c.port;
      EXPECT_EQ(got.status().message(), c.error);
    }
  }
}

TEST(NewRequestTest, DefaultsAndHeaders) {
  Json action = {{"path", "/ready?full=1"},
                 {"port", "http"},
                 {"scheme", "HTTPS"},
                 {"httpHeaders", {{{"name", "x-custom"}, {"value", "a"}}, {{"name", "X-Custom"}, {"value", "b"}}}}};
  Json container = {{"ports", {{{"name", "http"}, {"containerPort", 8443}}}}};
  auto r = NewRequestForHTTPGetAction(action, container, "10.42.0.7", "kube-probe/1.32");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->URL(), "https://10.42.0.7:8443/ready?full=1");
  EXPECT_EQ(r->Serialize(),
            "GET /ready?full=1 HTTP/1.1\r\nHost: 10.42.0.7:8443\r\nUser-Agent: kube-probe/1.32\r\nAccept: */*\r\n"
            "X-Custom: a\r\nX-Custom: b\r\nConnection: close\r\n\r\n");

  // The action's own User-Agent, Host, and an empty Accept (which removes it).
  action = {{"port", 80},
            {"host", "fd00::7"},
            {"httpHeaders",
             {{{"name", "User-Agent"}, {"value", "mine"}}, {{"name", "Accept"}, {"value", ""}}, {{"name", "host"}, {"value", "example.com"}}}}};
  r = NewRequestForHTTPGetAction(action, Json::object(), "10.42.0.7", "kube-probe/1.32");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->URL(), "http://[fd00::7]:80/");
  EXPECT_EQ(r->Serialize(), "GET / HTTP/1.1\r\nHost: example.com\r\nUser-Agent: mine\r\nConnection: close\r\n\r\n");
}

TEST(NewRequestTest, HeaderValuesStayOnOneLine) {
  Json action = {{"port", 80}, {"httpHeaders", {{{"name", "X-A"}, {"value", "1\r\nX-Injected: 2"}}}}};
  auto r = NewRequestForHTTPGetAction(action, Json::object(), "10.0.0.1", "kube-probe/1.32");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->Serialize().find("\r\nX-Injected"), std::string::npos);
}

TEST(HTTPProbeTest, Verdicts) {
  struct Case {
    std::string response;
    ProbeResult want;
    std::string output;
  } cases[] = {
      {"HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nok\n", ProbeResult::kSuccess, "ok\n"},
      {"HTTP/1.1 204 No Content\r\n\r\n", ProbeResult::kSuccess, ""},
      {"HTTP/1.0 200 OK\r\n\r\nuntil close", ProbeResult::kSuccess, "until close"},
      {"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2;x=y\r\nde\r\n0\r\n\r\n",
       ProbeResult::kSuccess, "abcde"},
      {"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi", ProbeResult::kSuccess, "hi"},
      {"HTTP/1.1 399 Odd\r\nContent-Length: 0\r\n\r\n", ProbeResult::kWarning, "Probe terminated redirects, Response body: "},
      {"HTTP/1.1 500 Internal Server Error\r\nContent-Length: 4\r\n\r\nboom", ProbeResult::kFailure,
       "HTTP probe failed with statuscode: 500"},
      {"HTTP/1.1 503 Service Unavailable\r\n\r\n", ProbeResult::kFailure, "HTTP probe failed with statuscode: 503"},
  };
  for (const auto& c : cases) {
    Canned server(c.response);
    ProbeOutput out = DoHTTPProbe(Request(server.server.port()), std::chrono::seconds(2));
    EXPECT_EQ(out.result, c.want) << c.response;
    EXPECT_EQ(out.output, c.output) << c.response;
  }
}

TEST(HTTPProbeTest, SendsWhatTheKubeletSends) {
  Canned server("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
  ProbeOutput out = DoHTTPProbe(Request(server.server.port()), std::chrono::seconds(2));
  EXPECT_EQ(out.result, ProbeResult::kSuccess);
  EXPECT_EQ(server.last(), "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1:" + std::to_string(server.server.port()) +
                               "\r\nUser-Agent: kube-probe/1.32\r\nAccept: */*\r\nConnection: close\r\n\r\n");
}

TEST(HTTPProbeTest, ReadsAtMostTenKiB) {
  Canned server("HTTP/1.1 200 OK\r\n\r\n" + std::string(100000, 'x'));
  ProbeOutput out = DoHTTPProbe(Request(server.server.port()), std::chrono::seconds(2));
  EXPECT_EQ(out.result, ProbeResult::kSuccess);
  EXPECT_EQ(out.output.size(), 10240u);
}

TEST(HTTPProbeTest, FollowsRedirectsToTheSameHostOnly) {
  Canned target("HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\nthere\n");
  Canned same("HTTP/1.1 302 Found\r\nLocation: http://127.0.0.1:" + std::to_string(target.server.port()) +
              "/ok\r\nContent-Length: 0\r\n\r\n");
  ProbeOutput out = DoHTTPProbe(Request(same.server.port()), std::chrono::seconds(2));
  EXPECT_EQ(out.result, ProbeResult::kSuccess);
  EXPECT_EQ(out.output, "there\n");
  EXPECT_TRUE(target.last().rfind("GET /ok HTTP/1.1\r\n", 0) == 0) << target.last();

  Canned elsewhere("HTTP/1.1 301 Moved\r\nLocation: http://192.0.2.1/\r\nContent-Length: 5\r\n\r\nmoved");
  out = DoHTTPProbe(Request(elsewhere.server.port()), std::chrono::seconds(2));
  EXPECT_EQ(out.result, ProbeResult::kWarning);
  EXPECT_EQ(out.output, "Probe terminated redirects, Response body: moved");

  Canned loop("HTTP/1.1 302 Found\r\nLocation: /again\r\nContent-Length: 0\r\n\r\n");
  out = DoHTTPProbe(Request(loop.server.port()), std::chrono::seconds(2));
  EXPECT_EQ(out.result, ProbeResult::kFailure);
  EXPECT_EQ(out.output, "Get \"http://127.0.0.1:" + std::to_string(loop.server.port()) +
                            "/again\": stopped after 10 redirects");
  EXPECT_EQ(loop.requests.size(), 10u);
}

TEST(HTTPProbeTest, ErrorsReadAsGoWritesThem) {
  int port = testing::UnusedPort();
  ProbeOutput out = DoHTTPProbe(Request(port), std::chrono::seconds(1));
  EXPECT_EQ(out.result, ProbeResult::kFailure);
  std::string addr = "127.0.0.1:" + std::to_string(port);
  EXPECT_EQ(out.output, "Get \"http://" + addr + "/healthz\": dial tcp " + addr + ": connect: connection refused");

  // A server that never answers: the timeout.
  Server silent([](int fd) { ReadUntil(fd, "never"); });
  auto start = std::chrono::steady_clock::now();
  out = DoHTTPProbe(Request(silent.port()), std::chrono::milliseconds(300));
  auto took = std::chrono::steady_clock::now() - start;
  EXPECT_EQ(out.result, ProbeResult::kFailure);
  EXPECT_EQ(out.output, "Get \"http://127.0.0.1:" + std::to_string(silent.port()) +
                            "/healthz\": context deadline exceeded (Client.Timeout exceeded while awaiting headers)");
  EXPECT_GE(took, std::chrono::milliseconds(290));
  EXPECT_LT(took, std::chrono::milliseconds(1500));

  // A server that closes without answering.
  Server closer([](int fd) { ReadUntil(fd, "\r\n\r\n"); });
  out = DoHTTPProbe(Request(closer.port()), std::chrono::seconds(1));
  EXPECT_EQ(out.output, "Get \"http://127.0.0.1:" + std::to_string(closer.port()) + "/healthz\": EOF");

  Canned garbage("SSH-2.0-OpenSSH\r\n\r\n");
  out = DoHTTPProbe(Request(garbage.server.port()), std::chrono::seconds(1));
  EXPECT_EQ(out.result, ProbeResult::kFailure);
  EXPECT_NE(out.output.find("malformed HTTP response \"SSH-2.0-OpenSSH\""), std::string::npos) << out.output;
}

TEST(HTTPProbeTest, HTTPSWithoutVerification) {
  SSL_CTX* ctx = testing::SelfSignedServerContext();
  Server tls([ctx](int fd) {
    SSL* ssl = SSL_new(ctx);
    SSL_set_fd(ssl, fd);
    if (SSL_accept(ssl) == 1) {
      char buf[4096];
      std::string req;
      while (req.find("\r\n\r\n") == std::string::npos) {
        int n = SSL_read(ssl, buf, sizeof buf);
        if (n <= 0) break;
        req.append(buf, static_cast<size_t>(n));
      }
      std::string resp = "HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\nsecure";
      SSL_write(ssl, resp.data(), static_cast<int>(resp.size()));
      SSL_shutdown(ssl);
    }
    SSL_free(ssl);
  });
  HTTPRequest req = Request(tls.port());
  req.scheme = "https";
  ProbeOutput out = DoHTTPProbe(req, std::chrono::seconds(2));
  EXPECT_EQ(out.result, ProbeResult::kSuccess) << out.output;
  EXPECT_EQ(out.output, "secure");
  SSL_CTX_free(ctx);

  // An HTTPS probe of a plain HTTP server, which answers the TLS hello with a 400.
  Server plain([](int fd) {
    ReadUntil(fd, "\x16\x03");
    WriteAll(fd, "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n");
  });
  req = Request(plain.port());
  req.scheme = "https";
  out = DoHTTPProbe(req, std::chrono::seconds(2));
  EXPECT_EQ(out.result, ProbeResult::kFailure);
  EXPECT_EQ(out.output, "Get \"https://127.0.0.1:" + std::to_string(plain.port()) +
                            "/healthz\": http: server gave HTTP response to HTTPS client");
}

TEST(ResponseParserTest, ByteByByte) {
  std::string wire = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nX-A: b\r\n\r\n4\r\nwiki\r\n5\r\npedia\r\n0\r\n\r\n";
  ResponseParser p;
  ResponseParser::State st = ResponseParser::State::kNeedMore;
  for (char c : wire) st = p.Feed(std::string_view(&c, 1));
  EXPECT_EQ(st, ResponseParser::State::kDone);
  EXPECT_EQ(p.response().status, 200);
  EXPECT_EQ(p.response().Header("x-a"), "b");
  EXPECT_EQ(p.response().body, "wikipedia");
}

TEST(ResponseParserTest, Errors) {
  struct Case {
    std::string wire;
    std::string error;
  } cases[] = {
      {"", "EOF"},
      {"HTTP/1.1 200 OK\r\nContent-", "unexpected EOF"},
      {"HTTP/1.1 2x0 OK\r\n\r\n", "malformed HTTP status code \"2x0\""},
      {"HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n", "bad Content-Length \"-1\""},
      {"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", "malformed chunked encoding"},
  };
  for (const auto& c : cases) {
    ResponseParser p;
    ResponseParser::State st = p.Feed(c.wire);
    if (st == ResponseParser::State::kNeedMore) st = p.Finish();
    EXPECT_EQ(st, ResponseParser::State::kError) << c.wire;
    EXPECT_EQ(p.error(), c.error) << c.wire;
  }
}

}  // namespace
}  // namespace kubes::kubelet::prober
