// ProxyToKubelet between two real TLS listeners on 127.0.0.1: a stand-in kubelet
// (an apiserver::Server whose handler answers plainly, streams, or switches protocols
// and echoes bytes) and a stand-in apiserver whose handler proxies every request to
// it. The test talks to the proxy with client/http, as kubectl would.
#include "apiserver/kubelet_client.h"

#include <gtest/gtest.h>
#include <poll.h>

#include <condition_variable>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>

#include "apiserver/server.h"
#include "client/http/conn.h"
#include "client/http/http_client.h"
#include "client/http/testing.h"
#include "client/http/url.h"

namespace kubes::apiserver {
namespace {

using client::http::Conn;
using client::http::HttpConnection;
using client::http::HttpResponse;
using Json = nlohmann::json;

constexpr char kToken[] = "kubelet-token";

// A latch a test and a server thread meet at (bounded, so a broken test still ends).
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

// Echoes every byte until the peer closes.
void Echo(UpgradedConnection& c) {
  char buf[16 * 1024];
  for (;;) {
    if (!c.Buffered()) {
      pollfd p{c.PollFd(), POLLIN, 0};
      if (::poll(&p, 1, 10000) <= 0) return;
    }
    size_t n = c.Read(buf, sizeof buf);
    if (n == 0 || !c.Write(buf, n)) return;
  }
}

class KubeletClientTest : public ::testing::Test {
 protected:
  void SetUp() override {
    kubelet_ = client::http::testing::StartServer(pki_, "127.0.0.1", {{}, {"127.0.0.1"}},
                                                  [this](Request& r) { return Kubelet(r); });
    ASSERT_TRUE(kubelet_);
    refused_port_ = client::http::testing::UnusedPort();
    proxy_ = client::http::testing::StartServer(pki_, "127.0.0.1", {{}, {"127.0.0.1"}}, [this](Request& r) {
      int port = r.path.starts_with("/refused") ? refused_port_ : kubelet_->port();
      return ProxyToKubelet("127.0.0.1", port, kToken, r);
    });
    ASSERT_TRUE(proxy_);
    auto tls = client::http::TlsContext::Make({.ca_file = pki_.ca_file()});
    ASSERT_TRUE(tls.ok());
    tls_ = *tls;
  }
  // The servers' threads use the latches below: stop them first.
  void TearDown() override {
    proxy_.reset();
    kubelet_.reset();
  }

  // The stand-in kubelet.
  Response Kubelet(Request& r) {
    if (r.path == "/stream") {
      Response s;
      s.content_type = "text/plain";
      s.stream = [this](ResponseStream& out) {
        out.Write("first\n");
        second_after_first_ = first_seen_.Wait();
        out.Write("second\n");
      };
      return s;
    }
    if (r.path == "/forever") {
      Response s;
      s.stream = [this](ResponseStream& out) {
        out.Write("tick\n");
        for (int i = 0; i < 1000 && !kubelet_saw_close_; ++i) {
          kubelet_saw_close_ = out.PeerClosed();
          if (!kubelet_saw_close_) std::this_thread::sleep_for(std::chrono::milliseconds(10));
        }
        stream_ended_.Open();
      };
      return s;
    }
    if (r.path == "/exec/ns/pod/c" && !r.Header("upgrade").empty()) {
      Response up;
      up.code = 101;
      up.headers = {{"Upgrade", r.Header("upgrade")},
                    {"Connection", "Upgrade"},
                    {"X-Stream-Protocol-Version", "v4.channel.k8s.io"},
                    {"Sec-WebSocket-Protocol", "v5.channel.k8s.io"}};
      up.upgrade = [this](UpgradedConnection& c) {
        c.Write("hello\n", 6);  // sent at once: may arrive with the 101's head
        Echo(c);
        upgrade_ended_.Open();
      };
      return up;
    }
    if (r.path == "/attach/ns/pod/c") {  // switches, says goodbye, closes
      Response up;
      up.code = 101;
      up.headers = {{"Upgrade", "SPDY/3.1"}, {"Connection", "Upgrade"}};
      up.upgrade = [](UpgradedConnection& c) { c.Write("bye", 3); };
      return up;
    }
    if (r.path == "/portForward/ns/pod") {  // refuses the upgrade
      Response no;
      no.code = 403;
      no.body = R"({"kind":"Status","status":"Failure","message":"no","reason":"Forbidden","code":403})";
      return no;
    }
    // Anything else: what arrived, as JSON.
    Json query = Json::array();
    for (const auto& [k, v] : r.query) query.push_back(k + "=" + v);
    Response echo;
    echo.content_type = "text/plain; charset=utf-8";
    echo.headers = {{"X-Kubelet", "yes"}};
    echo.body = Json{{"method", r.method},
                     {"path", r.path},
                     {"query", query},
                     {"authorization", r.Header("authorization")},
                     {"protocols", r.Header("x-stream-protocol-version")},
                     {"body", r.body}}
                    .dump();
    return echo;
  }

  // Dials the proxy and sends one request.
  std::unique_ptr<HttpConnection> Send(const std::string& method, const std::string& target,
                                       const client::http::HeaderList& headers, const std::string& body = "") {
    auto conn = Conn::Dial("127.0.0.1", proxy_->port(), tls_);
    EXPECT_TRUE(conn.ok()) << conn.status().ToString();
    if (!conn.ok()) return nullptr;
    auto http = std::make_unique<HttpConnection>(std::move(*conn));
    EXPECT_TRUE(http->Send(client::http::FormatRequest(method, target, "127.0.0.1", headers, body)).ok());
    return http;
  }

  // Reads from an upgraded connection until `want` bytes arrived (or it ends).
  static std::string ReadExactly(HttpConnection& http, size_t want, std::string got = "") {
    char buf[16 * 1024];
    while (got.size() < want) {
      if (!http.conn().WaitReadable(std::chrono::seconds(10))) break;
      Conn::ReadResult r = http.conn().Read(buf, sizeof buf);
      if (r.kind == Conn::ReadKind::kData) got.append(buf, r.n);
      if (r.kind == Conn::ReadKind::kEof || r.kind == Conn::ReadKind::kError) break;
    }
    return got;
  }

  client::http::testing::TestPki pki_;
  std::unique_ptr<Server> kubelet_;
  std::unique_ptr<Server> proxy_;
  std::shared_ptr<client::http::TlsContext> tls_;
  int refused_port_ = 0;
  Latch first_seen_, stream_ended_, upgrade_ended_;
  std::atomic<bool> second_after_first_{false};
  std::atomic<bool> kubelet_saw_close_{false};
};

TEST_F(KubeletClientTest, PlainRequestIsForwardedWithTheKubeletToken) {
  auto http = Send("POST", "/run/ns/pod/c?command=echo&command=a+b%26c&input=1",
                   {{"Authorization", "Bearer the-users-token"},
                    {"Content-Type", "application/json"},
                    {"X-Stream-Protocol-Version", "v4.channel.k8s.io"},
                    {"X-Stream-Protocol-Version", "v3.channel.k8s.io"}},
                   "{\"x\":1}");
  ASSERT_TRUE(http);
  HttpResponse resp;
  ASSERT_TRUE(http->ReadHead(&resp).ok());
  ASSERT_TRUE(http->ReadBody(&resp).ok());
  EXPECT_EQ(resp.status, 200);
  EXPECT_EQ(resp.Header("content-type"), "text/plain; charset=utf-8");
  EXPECT_EQ(resp.Header("x-kubelet"), "yes");
  Json seen = Json::parse(resp.body, nullptr, false);
  ASSERT_TRUE(seen.is_object()) << resp.body;
  EXPECT_EQ(seen["method"], "POST");
  EXPECT_EQ(seen["path"], "/run/ns/pod/c");
  EXPECT_EQ(seen["query"], Json({"command=echo", "command=a b&c", "input=1"}));
  EXPECT_EQ(seen["authorization"], std::string("Bearer ") + kToken);  // never the user's
  EXPECT_EQ(seen["protocols"], "v4.channel.k8s.io, v3.channel.k8s.io");
  EXPECT_EQ(seen["body"], "{\"x\":1}");
}

TEST_F(KubeletClientTest, StreamIsPumpedAsItArrives) {
  auto http = Send("GET", "/stream?follow=true", {});
  ASSERT_TRUE(http);
  HttpResponse head;
  ASSERT_TRUE(http->ReadHead(&head).ok());
  EXPECT_EQ(head.status, 200);
  EXPECT_EQ(head.Header("content-type"), "text/plain");
  std::string all;
  Status s = http->StreamBody(
      head,
      [&](std::string_view piece) {
        all += piece;
        if (all == "first\n") first_seen_.Open();
        return true;
      },
      [] { return false; });
  EXPECT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(all, "first\nsecond\n");
  EXPECT_TRUE(second_after_first_);  // the first line went through before the second existed
}

TEST_F(KubeletClientTest, StreamEndsAtTheKubeletWhenTheClientGoesAway) {
  auto http = Send("GET", "/forever", {});
  ASSERT_TRUE(http);
  HttpResponse head;
  ASSERT_TRUE(http->ReadHead(&head).ok());
  std::string got;
  ASSERT_TRUE(http->StreamBody(head, [&](std::string_view p) { got += p; return got.size() < 5; }, [] { return false; })
                  .ok());
  EXPECT_EQ(got, "tick\n");
  http->conn().Close();
  ASSERT_TRUE(stream_ended_.Wait());
  EXPECT_TRUE(kubelet_saw_close_);
}

TEST_F(KubeletClientTest, UpgradePipesBytesBothWays) {
  auto http = Send("GET", "/exec/ns/pod/c?command=sh",
                   {{"Connection", "Upgrade"},
                    {"Upgrade", "websocket"},
                    {"Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="},
                    {"Sec-WebSocket-Protocol", "v5.channel.k8s.io"},
                    {"X-Stream-Protocol-Version", "v4.channel.k8s.io"}});
  ASSERT_TRUE(http);
  HttpResponse head;
  ASSERT_TRUE(http->ReadHead(&head).ok());
  ASSERT_EQ(head.status, 101);
  EXPECT_EQ(head.Header("upgrade"), "websocket");
  EXPECT_EQ(head.Header("connection"), "Upgrade");
  EXPECT_EQ(head.Header("x-stream-protocol-version"), "v4.channel.k8s.io");
  EXPECT_EQ(head.Header("sec-websocket-protocol"), "v5.channel.k8s.io");

  // The kubelet's first bytes, then an echo of a small and a large write.
  EXPECT_EQ(ReadExactly(*http, 6, http->TakeBuffered()), "hello\n");
  ASSERT_TRUE(http->conn().WriteAll("ping").ok());
  EXPECT_EQ(ReadExactly(*http, 4), "ping");
  std::string big(1 << 20, '\0');
  for (size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>('a' + i % 23);
  std::thread writer([&] { EXPECT_TRUE(http->conn().WriteAll(big).ok()); });
  std::string back = ReadExactly(*http, big.size());
  writer.join();
  EXPECT_TRUE(back == big) << "echoed " << back.size() << " of " << big.size() << " bytes";

  // The client leaves: the kubelet's side ends too.
  http->conn().Close();
  EXPECT_TRUE(upgrade_ended_.Wait());
}

TEST_F(KubeletClientTest, UpgradeEndsForTheClientWhenTheKubeletCloses) {
  auto http = Send("POST", "/attach/ns/pod/c", {{"Connection", "Upgrade"}, {"Upgrade", "SPDY/3.1"}});
  ASSERT_TRUE(http);
  HttpResponse head;
  ASSERT_TRUE(http->ReadHead(&head).ok());
  ASSERT_EQ(head.status, 101);
  EXPECT_EQ(head.Header("upgrade"), "SPDY/3.1");
  // "bye", then the end of the connection (ReadExactly stops at it, short of 100).
  EXPECT_EQ(ReadExactly(*http, 100, http->TakeBuffered()), "bye");
}

TEST_F(KubeletClientTest, RefusedUpgradeIsTheKubeletsAnswer) {
  auto http = Send("GET", "/portForward/ns/pod", {{"Connection", "Upgrade"}, {"Upgrade", "SPDY/3.1"}});
  ASSERT_TRUE(http);
  HttpResponse resp;
  ASSERT_TRUE(http->ReadHead(&resp).ok());
  ASSERT_TRUE(http->ReadBody(&resp).ok());
  EXPECT_EQ(resp.status, 403);
  EXPECT_EQ(Json::parse(resp.body, nullptr, false).value("reason", ""), "Forbidden");
}

TEST_F(KubeletClientTest, UnreachableKubeletIs503WithUpstreamsWording) {
  for (const auto& headers : {client::http::HeaderList{},
                              client::http::HeaderList{{"Connection", "Upgrade"}, {"Upgrade", "SPDY/3.1"}}}) {
    auto http = Send("GET", "/refused/logs", headers);
    ASSERT_TRUE(http);
    HttpResponse resp;
    ASSERT_TRUE(http->ReadHead(&resp).ok());
    ASSERT_TRUE(http->ReadBody(&resp).ok());
    EXPECT_EQ(resp.status, 503);
    Json status = Json::parse(resp.body, nullptr, false);
    EXPECT_EQ(status.value("kind", ""), "Status");
    EXPECT_EQ(status.value("reason", ""), "ServiceUnavailable");
    EXPECT_EQ(status.value("message", ""), "error dialing backend: dial tcp 127.0.0.1:" +
                                               std::to_string(refused_port_) + ": connect: connection refused");
  }
}

}  // namespace
}  // namespace kubes::apiserver
