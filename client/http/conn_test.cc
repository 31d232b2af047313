// Conn, TlsContext, HttpClient and HttpConnection against real TLS listeners
// (apiserver::Server) on 127.0.0.1 and ::1, with certificates from a throw-away CA.
#include <gtest/gtest.h>

#include <condition_variable>
#include <mutex>
#include <thread>

#include "client/http/conn.h"
#include "client/http/http_client.h"
#include "client/http/testing.h"
#include "client/http/url.h"

namespace kubes::client::http {
namespace {

using apiserver::Request;
using apiserver::Response;
using testing::StartServer;
using testing::TestPki;

Response Text(const std::string& body) {
  Response r;
  r.content_type = "text/plain";
  r.body = body;
  return r;
}

// Dials, sends GET path, and returns the body (or the failure).
Result<std::string> Get(const std::string& host, int port, std::shared_ptr<TlsContext> tls, const std::string& path) {
  auto conn = Conn::Dial(host, port, std::move(tls));
  if (!conn.ok()) return conn.status();
  HttpConnection http(std::move(*conn));
  KUBES_RETURN_IF_ERROR(http.Send(FormatRequest("GET", path, JoinHostPort(host, port), {}, "")));
  HttpResponse resp;
  KUBES_RETURN_IF_ERROR(http.ReadHead(&resp));
  KUBES_RETURN_IF_ERROR(http.ReadBody(&resp));
  return resp.body;
}

std::shared_ptr<TlsContext> Tls(const TlsOptions& o) {
  auto made = TlsContext::Make(o);
  EXPECT_TRUE(made.ok()) << made.status().ToString();
  return made.ok() ? *made : nullptr;
}

class ConnTest : public ::testing::Test {
 protected:
  TestPki pki_;
};

TEST_F(ConnTest, ChecksTheCertificateNamesTheHostDialled) {
  auto hello = [](Request&) { return Text("hello"); };
  auto both = StartServer(pki_, "127.0.0.1", {{"localhost"}, {"127.0.0.1"}}, hello);
  auto ip_only = StartServer(pki_, "127.0.0.1", {{}, {"127.0.0.1"}}, hello);
  auto dns_only = StartServer(pki_, "127.0.0.1", {{"localhost"}, {}}, hello);
  ASSERT_TRUE(both && ip_only && dns_only);
  auto tls = Tls({.ca_file = pki_.ca_file()});
  struct Case {
    std::string host;
    apiserver::Server* server;
    std::string error;  // "" for success
  };
  const Case cases[] = {
      {"127.0.0.1", both.get(), ""},
      {"localhost", both.get(), ""},
      {"[127.0.0.1]", both.get(), ""},
      {"127.0.0.1", ip_only.get(), ""},
      {"localhost", ip_only.get(), "tls: failed to verify certificate: hostname mismatch"},
      {"localhost", dns_only.get(), ""},
      {"127.0.0.1", dns_only.get(), "tls: failed to verify certificate: IP address mismatch"},
  };
  for (const Case& c : cases) {
    auto body = Get(c.host, c.server->port(), tls, "/");
    if (c.error.empty()) {
      ASSERT_TRUE(body.ok()) << c.host << ": " << body.status().ToString();
      EXPECT_EQ(*body, "hello");
    } else {
      ASSERT_FALSE(body.ok()) << c.host;
      EXPECT_EQ(body.status().code(), Code::kServiceUnavailable);
      EXPECT_NE(body.status().message().find(c.error), std::string::npos) << body.status().message();
    }
  }
}

TEST_F(ConnTest, TrustOptions) {
  auto server = StartServer(pki_, "127.0.0.1", {{}, {"127.0.0.1"}}, [](Request&) { return Text("ok"); });
  ASSERT_TRUE(server);
  TestPki other;
  struct Case {
    std::string name;
    TlsOptions options;
    bool ok;
  };
  const Case cases[] = {
      {"CA file", {.ca_file = pki_.ca_file()}, true},
      {"CA PEM", {.ca_pem = pki_.ca_pem()}, true},
      {"another CA", {.ca_pem = other.ca_pem()}, false},
      {"system trust store", {}, false},
      {"insecure", {.insecure = true}, true},
      {"insecure ignores the CA", {.ca_pem = other.ca_pem(), .insecure = true}, true},
  };
  for (const Case& c : cases) {
    auto body = Get("127.0.0.1", server->port(), Tls(c.options), "/");
    EXPECT_EQ(body.ok(), c.ok) << c.name << ": " << body.status().ToString();
    if (!c.ok) {
      EXPECT_NE(body.status().message().find("tls: failed to verify certificate"), std::string::npos)
          << c.name << ": " << body.status().message();
    }
  }
}

TEST_F(ConnTest, BadTlsOptionsAreRejected) {
  pki::CertAndKey a = pki_.Client("a", {});
  pki::CertAndKey b = pki_.Client("b", {});
  struct Case {
    std::string name;
    TlsOptions options;
  };
  const Case cases[] = {
      {"missing CA file", {.ca_file = pki_.dir() + "/nope.crt"}},
      {"CA PEM without a certificate", {.ca_pem = "not PEM"}},
      {"certificate without key", {.insecure = true, .cert_pem = a.cert_pem}},
      {"key without certificate", {.insecure = true, .key_pem = a.key_pem}},
      {"key of another certificate", {.insecure = true, .cert_pem = a.cert_pem, .key_pem = b.key_pem}},
      {"garbage certificate", {.insecure = true, .cert_pem = "junk", .key_pem = a.key_pem}},
      {"missing certificate file", {.insecure = true, .cert_file = "/nonexistent", .key_file = "/nonexistent"}},
  };
  for (const Case& c : cases) {
    auto made = TlsContext::Make(c.options);
    ASSERT_FALSE(made.ok()) << c.name;
    EXPECT_EQ(made.status().code(), Code::kBadRequest) << c.name << ": " << made.status().ToString();
  }
}

TEST_F(ConnTest, PresentsAClientCertificate) {
  auto server = StartServer(
      pki_, "127.0.0.1", {{}, {"127.0.0.1"}},
      [](Request& r) { return Text(r.user.name + "|" + (r.user.groups.empty() ? "" : r.user.groups[0])); },
      pki_.ca_file());
  ASSERT_TRUE(server);
  pki::CertAndKey node = pki_.Client("system:node:n1", {"system:nodes"});
  std::string cert_file = pki_.dir() + "/node.crt", key_file = pki_.dir() + "/node.key";
  ASSERT_TRUE(pki::WriteFileAtomic(cert_file, node.cert_pem, 0600).ok());
  ASSERT_TRUE(pki::WriteFileAtomic(key_file, node.key_pem, 0600).ok());
  struct Case {
    std::string name;
    TlsOptions options;
    std::string want;
  };
  const Case cases[] = {
      {"PEM", {.ca_file = pki_.ca_file(), .cert_pem = node.cert_pem, .key_pem = node.key_pem},
       "system:node:n1|system:nodes"},
      {"files", {.ca_file = pki_.ca_file(), .cert_file = cert_file, .key_file = key_file},
       "system:node:n1|system:nodes"},
      {"none", {.ca_file = pki_.ca_file()}, "|"},
  };
  for (const Case& c : cases) {
    auto body = Get("127.0.0.1", server->port(), Tls(c.options), "/");
    ASSERT_TRUE(body.ok()) << c.name << ": " << body.status().ToString();
    EXPECT_EQ(*body, c.want) << c.name;
  }
}

TEST_F(ConnTest, IPv6) {
  auto server = StartServer(pki_, "::1", {{}, {"::1"}}, [](Request&) { return Text("six"); });
  if (!server) GTEST_SKIP() << "no IPv6 loopback";
  auto tls = Tls({.ca_file = pki_.ca_file()});
  for (const std::string host : {"::1", "[::1]"}) {
    auto body = Get(host, server->port(), tls, "/");
    ASSERT_TRUE(body.ok()) << host << ": " << body.status().ToString();
    EXPECT_EQ(*body, "six");
  }
}

TEST_F(ConnTest, DialErrorsReadLikeGo) {
  int port = testing::UnusedPort();
  auto conn = Conn::Dial("127.0.0.1", port, nullptr);
  ASSERT_FALSE(conn.ok());
  EXPECT_EQ(conn.status().code(), Code::kServiceUnavailable);
  EXPECT_EQ(conn.status().message(), "dial tcp 127.0.0.1:" + std::to_string(port) + ": connect: connection refused");
  auto bad_name = Conn::Dial("no such host", port, nullptr);
  ASSERT_FALSE(bad_name.ok());
  EXPECT_TRUE(bad_name.status().message().starts_with("dial tcp: lookup no such host: "))
      << bad_name.status().message();
}

TEST_F(ConnTest, HttpClientKeepsAliveAndReadsChunkedBodies) {
  std::mutex mu;
  std::vector<std::string> seen;
  auto server = StartServer(pki_, "127.0.0.1", {{}, {"127.0.0.1"}}, [&](Request& r) {
    {
      std::lock_guard<std::mutex> lock(mu);
      seen.push_back(r.method + " " + r.path + " " + r.Header("authorization") + " " + r.body);
    }
    if (r.path == "/chunked") {
      Response s;
      s.stream = [](apiserver::ResponseStream& out) {
        out.Write("one,");
        out.Write("two");
      };
      return s;
    }
    return Text("answer to " + r.method);
  });
  ASSERT_TRUE(server);
  HttpClient client(Target{.port = server->port(), .tls = Tls({.ca_file = pki_.ca_file()}), .bearer_token = "t0k"});
  auto get = client.Do("GET", "/a");
  ASSERT_TRUE(get.ok()) << get.status().ToString();
  EXPECT_EQ(get->status, 200);
  EXPECT_EQ(get->body, "answer to GET");
  EXPECT_EQ(get->Header("content-type"), "text/plain");
  auto post = client.Do("POST", "/b", "{\"x\":1}");
  ASSERT_TRUE(post.ok()) << post.status().ToString();
  EXPECT_EQ(post->body, "answer to POST");
  auto chunked = client.Do("GET", "/chunked");
  ASSERT_TRUE(chunked.ok()) << chunked.status().ToString();
  EXPECT_EQ(chunked->body, "one,two");
  std::lock_guard<std::mutex> lock(mu);
  EXPECT_EQ(seen, (std::vector<std::string>{"GET /a Bearer t0k ", "POST /b Bearer t0k {\"x\":1}",
                                            "GET /chunked Bearer t0k "}));
}

// A latch the test and a server thread meet at.
struct Latch {
  std::mutex mu;
  std::condition_variable cv;
  bool open = false;
  void Open() {
    std::lock_guard<std::mutex> lock(mu);
    open = true;
    cv.notify_all();
  }
  bool Wait() {
    std::unique_lock<std::mutex> lock(mu);
    return cv.wait_for(lock, std::chrono::seconds(10), [&] { return open; });
  }
};

TEST_F(ConnTest, StreamBodyHandsOnPiecesAsTheyArrive) {
  Latch first_seen;
  std::atomic<bool> second_after_first{false};
  auto server = StartServer(pki_, "127.0.0.1", {{}, {"127.0.0.1"}}, [&](Request&) {
    Response s;
    s.stream = [&](apiserver::ResponseStream& out) {
      out.Write("first");
      // The second piece is sent only after the client had the first on its own.
      second_after_first = first_seen.Wait();
      out.Write("second");
    };
    return s;
  });
  ASSERT_TRUE(server);
  auto conn = Conn::Dial("127.0.0.1", server->port(), Tls({.ca_file = pki_.ca_file()}));
  ASSERT_TRUE(conn.ok()) << conn.status().ToString();
  HttpConnection http(std::move(*conn));
  ASSERT_TRUE(http.Send(FormatRequest("GET", "/", "127.0.0.1", {}, "")).ok());
  HttpResponse head;
  ASSERT_TRUE(http.ReadHead(&head).ok());
  std::vector<std::string> pieces;
  Status s = http.StreamBody(
      head,
      [&](std::string_view p) {
        pieces.emplace_back(p);
        if (p == "first") first_seen.Open();
        return true;
      },
      [] { return false; });
  EXPECT_TRUE(s.ok()) << s.ToString();
  std::string all;
  for (const auto& p : pieces) all += p;
  EXPECT_EQ(all, "firstsecond");
  EXPECT_TRUE(second_after_first);
}

TEST_F(ConnTest, StreamBodyStopsWhenAskedWhileTheServerIsSilent) {
  Latch done;
  std::atomic<bool> peer_closed{false};
  auto server = StartServer(pki_, "127.0.0.1", {{}, {"127.0.0.1"}}, [&](Request&) {
    Response s;
    s.stream = [&](apiserver::ResponseStream& out) {
      out.Write("only");
      // Silent until the client goes away (bounded, so a broken test still ends).
      for (int i = 0; i < 1000 && !peer_closed; ++i) {
        peer_closed = out.PeerClosed();
        if (!peer_closed) std::this_thread::sleep_for(std::chrono::milliseconds(10));
      }
      done.Open();
    };
    return s;
  });
  ASSERT_TRUE(server);
  auto conn = Conn::Dial("127.0.0.1", server->port(), Tls({.ca_file = pki_.ca_file()}));
  ASSERT_TRUE(conn.ok());
  HttpConnection http(std::move(*conn));
  ASSERT_TRUE(http.Send(FormatRequest("GET", "/", "127.0.0.1", {}, "")).ok());
  HttpResponse head;
  ASSERT_TRUE(http.ReadHead(&head).ok());
  std::atomic<bool> stop{false};
  std::thread stopper([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    stop = true;
  });
  std::string got;
  Status s = http.StreamBody(
      head, [&](std::string_view p) { got += p; return true; }, [&] { return stop.load(); });
  stopper.join();
  EXPECT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(got, "only");
  http.conn().Close();
  ASSERT_TRUE(done.Wait());
  EXPECT_TRUE(peer_closed);  // the server saw the client leave
}

}  // namespace
}  // namespace kubes::client::http
