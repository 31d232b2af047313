#include "kubelet/streaming/portforward.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <set>
#include <thread>

#include "kubelet/streaming/spdy.h"
#include "kubelet/streaming/testing.h"

namespace kubes::kubelet::streaming {
namespace {

using testing::ReadSome;
using testing::SocketConnection;
using testing::SocketPair;
using testing::WriteAll;
using testing::WsClient;
using namespace std::chrono_literals;

// A TCP server on 127.0.0.1 that runs `serve` on each connection (in its own
// thread) and closes it afterwards.
class TcpServer {
 public:
  explicit TcpServer(std::function<void(int)> serve) : serve_(std::move(serve)) {
    fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
    EXPECT_EQ(listen(fd_, 16), 0);
    socklen_t len = sizeof a;
    getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
    acceptor_ = std::thread([this] {
      while (true) {
        int c = accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
        if (c < 0) return;
        std::lock_guard<std::mutex> l(mu_);
        open_.insert(c);
        workers_.emplace_back([this, c] {
          serve_(c);
          std::lock_guard<std::mutex> l(mu_);
          open_.erase(c);
          close(c);
        });
      }
    });
  }
  // Ends connections still open (a forward the test left running) so that no
  // worker waits forever.
  ~TcpServer() {
    shutdown(fd_, SHUT_RDWR);
    acceptor_.join();
    close(fd_);
    {
      std::lock_guard<std::mutex> l(mu_);
      for (int c : open_) shutdown(c, SHUT_RDWR);
    }
    for (std::thread& t : workers_) t.join();
  }
  uint16_t port() const { return port_; }

 private:
  std::function<void(int)> serve_;
  int fd_ = -1;
  uint16_t port_ = 0;
  std::thread acceptor_;
  std::mutex mu_;
  std::vector<std::thread> workers_;
  std::set<int> open_;
};

void Echo(int fd) {
  char buf[4096];
  ssize_t n;
  while ((n = read(fd, buf, sizeof buf)) > 0) WriteAll(fd, std::string_view(buf, static_cast<size_t>(n)));
}

Result<int> DialLoopback(uint16_t port) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    std::string err = strerror(errno);
    close(fd);
    return Internal("dial tcp4 127.0.0.1:" + std::to_string(port) + ": connect: " + err);
  }
  return fd;
}

// A port nothing listens on: bound, then closed.
uint16_t ClosedPort() {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  socklen_t len = sizeof a;
  getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  close(fd);
  return ntohs(a.sin_port);
}

// kubectl's side of the SPDY session, plain or tunnelled through WebSocket. In the
// tunnel each frame is split over two messages, as Go's framer writes it piecemeal.
class SpdyClient {
 public:
  SpdyClient(int fd, bool tunnel) : fd_(fd), tunnel_(tunnel), ws_(fd) {}

  void Send(const spdy::Frame& f) {
    std::string bytes = framer_.Encode(f);
    if (!tunnel_) {
      ASSERT_TRUE(WriteAll(fd_, bytes));
      return;
    }
    size_t half = bytes.size() / 2;
    ASSERT_TRUE(ws_.Send(Opcode::kBinary, bytes.substr(0, half)));
    ASSERT_TRUE(ws_.Send(Opcode::kBinary, bytes.substr(half)));
  }
  void Open(uint32_t id, const std::string& type, uint16_t port, const std::string& request_id) {
    spdy::Frame f;
    f.type = spdy::FrameType::kSynStream;
    f.stream_id = id;
    f.headers = {{"streamtype", type}, {"port", std::to_string(port)}, {"requestid", request_id}};
    Send(f);
  }

  // The next frame, or nullopt on timeout or end of the connection.
  std::optional<spdy::Frame> Next(std::chrono::milliseconds timeout = 10s) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (true) {
      spdy::Frame f;
      Result<size_t> r = framer_in_.Decode(in_, &f);
      if (!r.ok()) return std::nullopt;
      if (*r > 0) {
        in_.erase(0, *r);
        return f;
      }
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0 || ended_) return std::nullopt;
      if (!tunnel_) {
        bool eof = false;
        in_ += ReadSome(fd_, left, &eof);
        ended_ = eof;
        continue;
      }
      auto m = ws_.Next(left);
      if (!m) return std::nullopt;
      if (m->opcode == Opcode::kClose) {
        ws_closed_ = true;
        ended_ = true;
        ws_.Send(Opcode::kClose, m->payload.substr(0, 2));
      } else if (m->opcode == Opcode::kBinary) {
        in_ += m->payload;
      }
    }
  }

  // Reads frames until `done` says so; DATA payloads are gathered per stream, FINs
  // and RSTs remembered.
  bool ReadUntil(const std::function<bool()>& done) {
    while (!done()) {
      auto f = Next();
      if (!f) return false;
      frames_.push_back(*f);
      if (f->type == spdy::FrameType::kData) {
        data_[f->stream_id] += f->data;
        if (f->fin()) fin_[f->stream_id] = true;
      }
      if (f->type == spdy::FrameType::kSynReply) replied_[f->stream_id] = true;
      if (f->type == spdy::FrameType::kRstStream) reset_[f->stream_id] = f->status;
      if (f->type == spdy::FrameType::kPing) pongs_.push_back(f->value);
      if (f->type == spdy::FrameType::kGoAway) goaway_ = f->status;
    }
    return true;
  }

  std::map<uint32_t, std::string> data_;
  std::map<uint32_t, bool> fin_, replied_;
  std::map<uint32_t, uint32_t> reset_;
  std::vector<uint32_t> pongs_;
  std::optional<uint32_t> goaway_;
  std::vector<spdy::Frame> frames_;
  bool ws_closed_ = false;

 private:
  int fd_;
  bool tunnel_;
  WsClient ws_;
  spdy::Framer framer_, framer_in_;
  std::string in_;
  bool ended_ = false;
};

apiserver::Request TunnelRequest() {
  apiserver::Request r;
  r.method = "GET";
  r.path = "/api/v1/namespaces/default/pods/web/portforward";
  r.headers = {{"connection", "Upgrade"},
               {"upgrade", "websocket"},
               {"sec-websocket-version", "13"},
               {"sec-websocket-key", "dGhlIHNhbXBsZSBub25jZQ=="},
               {"sec-websocket-protocol", "SPDY/3.1+portforward.k8s.io"}};
  return r;
}

apiserver::Request SpdyRequest() {
  apiserver::Request r;
  r.method = "POST";
  r.path = "/api/v1/namespaces/default/pods/web/portforward";
  r.headers = {{"connection", "Upgrade"}, {"upgrade", "SPDY/3.1"}, {"x-stream-protocol-version", "portforward.k8s.io"}};
  return r;
}

PortForwarder Forwarder() {
  PortForwarder f;
  f.pod = "web-0123";
  f.dial = DialLoopback;
  return f;
}

// Runs an upgrade handler on the server end of a socketpair.
class PortForwardTest : public ::testing::Test {
 protected:
  void Serve(apiserver::Response resp) {
    ASSERT_EQ(resp.code, 101) << resp.body;
    server_ = std::thread([this, up = resp.upgrade] {
      SocketConnection conn(pair_.server_fd);
      up(conn);
    });
  }
  void TearDown() override {
    if (pair_.client_fd >= 0) shutdown(pair_.client_fd, SHUT_RDWR);
    if (server_.joinable()) server_.join();
  }
  SocketPair pair_;
  std::thread server_;
};

TEST_F(PortForwardTest, TunnelledEchoWithHalfCloseAndPing) {
  TcpServer echo(Echo);
  apiserver::Response resp = UpgradePortForward(TunnelRequest(), Forwarder());
  std::map<std::string, std::string> headers(resp.headers.begin(), resp.headers.end());
  EXPECT_EQ(headers["Sec-WebSocket-Protocol"], "SPDY/3.1+portforward.k8s.io");
  Serve(resp);
  SpdyClient c(pair_.client_fd, /*tunnel=*/true);

  c.Open(1, "error", echo.port(), "0");
  ASSERT_TRUE(c.ReadUntil([&] { return c.replied_[1]; }));
  c.Send(spdy::Data(1, "", /*fin=*/true));  // kubectl half-closes the error stream at once
  c.Open(3, "data", echo.port(), "0");
  c.Send(spdy::Data(3, "hello through the pod"));
  c.Send(spdy::Ping(1));
  ASSERT_TRUE(c.ReadUntil([&] { return c.data_[3] == "hello through the pod" && !c.pongs_.empty(); }));
  EXPECT_TRUE(c.replied_[3]);
  EXPECT_EQ(c.pongs_, std::vector<uint32_t>{1});

  c.Send(spdy::Data(3, "", /*fin=*/true));  // local EOF → shutdown(SHUT_WR) → echo ends
  ASSERT_TRUE(c.ReadUntil([&] { return c.fin_[3] && c.fin_[1]; }));
  EXPECT_EQ(c.data_[1], "");  // no error

  c.Send(spdy::GoAway(0, spdy::kGoAwayOk));
  ASSERT_TRUE(c.ReadUntil([&] { return c.goaway_.has_value(); }));
  EXPECT_FALSE(c.Next(5s));  // then the WebSocket close
  EXPECT_TRUE(c.ws_closed_);
  server_.join();
}

TEST_F(PortForwardTest, PlainSpdyDialFailureIsReportedOnTheErrorStream) {
  uint16_t port = ClosedPort();
  apiserver::Response resp = UpgradePortForward(SpdyRequest(), Forwarder());
  std::map<std::string, std::string> headers(resp.headers.begin(), resp.headers.end());
  EXPECT_EQ(headers["Upgrade"], "SPDY/3.1");
  EXPECT_EQ(headers["X-Stream-Protocol-Version"], "portforward.k8s.io");
  Serve(resp);
  SpdyClient c(pair_.client_fd, /*tunnel=*/false);
  c.Open(1, "error", port, "0");
  c.Open(3, "data", port, "0");
  ASSERT_TRUE(c.ReadUntil([&] { return c.fin_[1] && c.fin_[3]; }));
  EXPECT_EQ(c.data_[1], "error forwarding port " + std::to_string(port) +
                            " to pod web-0123, uid : dial tcp4 127.0.0.1:" + std::to_string(port) +
                            ": connect: Connection refused");
  EXPECT_EQ(c.data_[3], "");
}

TEST_F(PortForwardTest, ClientResetAfterThePodClosesEndsTheForward) {
  TcpServer hello([](int fd) { WriteAll(fd, "HTTP/1.0 200 OK\r\n\r\nhi"); });
  Serve(UpgradePortForward(SpdyRequest(), Forwarder()));
  SpdyClient c(pair_.client_fd, false);
  c.Open(1, "error", hello.port(), "0");
  c.Open(3, "data", hello.port(), "0");
  ASSERT_TRUE(c.ReadUntil([&] { return c.fin_[3]; }));
  EXPECT_EQ(c.data_[3], "HTTP/1.0 200 OK\r\n\r\nhi");
  c.Send(spdy::RstStream(3, spdy::kCancel));  // what kubectl does once the remote side is done
  ASSERT_TRUE(c.ReadUntil([&] { return c.fin_[1]; }));
  EXPECT_EQ(c.data_[1], "");
}

TEST_F(PortForwardTest, ConnectionsArePairedByRequestIdAndEarlyDataIsKept) {
  TcpServer echo(Echo);
  Serve(UpgradePortForward(SpdyRequest(), Forwarder()));
  SpdyClient c(pair_.client_fd, false);
  c.Open(1, "error", echo.port(), "0");
  c.Open(3, "error", echo.port(), "1");
  c.Open(5, "data", echo.port(), "1");
  c.Open(7, "data", echo.port(), "2");  // data before its error stream
  c.Send(spdy::Data(7, "early bird"));
  c.Open(9, "data", echo.port(), "0");
  c.Open(11, "error", echo.port(), "2");
  c.Send(spdy::Data(5, "one"));
  c.Send(spdy::Data(9, "zero"));
  ASSERT_TRUE(c.ReadUntil([&] { return c.data_[5] == "one" && c.data_[9] == "zero" && c.data_[7] == "early bird"; }));
  for (uint32_t id : {1u, 3u, 5u, 7u, 9u, 11u}) EXPECT_TRUE(c.replied_[id]) << id;
}

TEST_F(PortForwardTest, BadStreamsAreReset) {
  Serve(UpgradePortForward(SpdyRequest(), Forwarder()));
  SpdyClient c(pair_.client_fd, false);
  spdy::Frame no_port;
  no_port.type = spdy::FrameType::kSynStream;
  no_port.stream_id = 1;
  no_port.headers = {{"streamtype", "data"}};
  c.Send(no_port);
  c.Open(3, "bogus", 80, "0");
  c.Open(5, "data", 0, "0");
  c.Open(4, "data", 80, "0");  // even ids belong to the server
  c.Open(7, "data", 80, "0");
  c.Open(7, "error", 80, "0");  // reused id
  ASSERT_TRUE(c.ReadUntil([&] { return c.reset_.size() == 5; }));
  EXPECT_EQ(c.reset_[1], spdy::kCancel);
  EXPECT_EQ(c.reset_[3], spdy::kCancel);
  EXPECT_EQ(c.reset_[5], spdy::kCancel);
  EXPECT_EQ(c.reset_[4], spdy::kProtocolError);
  EXPECT_EQ(c.reset_[7], spdy::kProtocolError);
  EXPECT_TRUE(c.replied_[7]);  // the first stream 7 was fine
}

TEST_F(PortForwardTest, AHalfPairTimesOut) {
  PortForwarder f = Forwarder();
  f.stream_creation_timeout = 100ms;
  Serve(UpgradePortForward(SpdyRequest(), f));
  SpdyClient c(pair_.client_fd, false);
  c.Open(1, "error", 80, "42");
  ASSERT_TRUE(c.ReadUntil([&] { return c.fin_[1]; }));
  EXPECT_EQ(c.data_[1], "(request=42) timed out waiting for streams");
}

TEST_F(PortForwardTest, ABrokenFrameEndsTheConnectionWithGoAway) {
  Serve(UpgradePortForward(SpdyRequest(), Forwarder()));
  SpdyClient c(pair_.client_fd, false);
  const char bad[] = {'\x80', '\x02', '\x00', '\x06', 0, 0, 0, 4, 0, 0, 0, 1};  // SPDY/2
  ASSERT_TRUE(WriteAll(pair_.client_fd, std::string_view(bad, sizeof bad)));
  ASSERT_TRUE(c.ReadUntil([&] { return c.goaway_.has_value(); }));
  EXPECT_EQ(*c.goaway_, spdy::kGoAwayProtocolError);
  server_.join();
}

TEST(PortForwardUpgradeTest, Refusals) {
  struct Case {
    const char* name;
    std::function<void(apiserver::Request&)> change;
    int code;
    const char* message;
  };
  const std::vector<Case> cases = {
      {"no protocol version", [](apiserver::Request& r) { r.headers.erase("x-stream-protocol-version"); }, 400,
       "unable to upgrade: X-Stream-Protocol-Version is required"},
      {"other protocol", [](apiserver::Request& r) { r.headers["x-stream-protocol-version"] = "portforward.k8s.io.v2"; },
       403,
       "unable to upgrade: unable to negotiate protocol: client supports [portforward.k8s.io.v2], server accepts "
       "[portforward.k8s.io]"},
      {"no upgrade", [](apiserver::Request& r) { r.headers.erase("upgrade"); }, 400, nullptr},
      {"websocket without tunnel",
       [](apiserver::Request& r) { r = TunnelRequest(); r.headers["sec-websocket-protocol"] = "v4.channel.k8s.io"; },
       400, "unable to upgrade: no tunneling spdy protocols provided"},
      {"websocket, other tunnel",
       [](apiserver::Request& r) { r = TunnelRequest(); r.headers["sec-websocket-protocol"] = "SPDY/3.1+v9.k8s.io"; },
       403, nullptr},
  };
  for (const Case& c : cases) {
    apiserver::Request r = SpdyRequest();
    c.change(r);
    apiserver::Response resp = UpgradePortForward(r, Forwarder());
    EXPECT_EQ(resp.code, c.code) << c.name;
    EXPECT_FALSE(resp.upgrade) << c.name;
    if (c.message) {
      EXPECT_EQ(nlohmann::json::parse(resp.body)["message"], c.message) << c.name;
    }
  }
}

}  // namespace
}  // namespace kubes::kubelet::streaming
