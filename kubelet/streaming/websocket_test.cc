#include "kubelet/streaming/websocket.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <thread>

#include "kubelet/streaming/testing.h"

namespace kubes::kubelet::streaming {
namespace {

using testing::SocketConnection;
using testing::SocketPair;
using testing::WsClient;

std::string Bytes(std::initializer_list<int> b) {
  std::string s;
  for (int c : b) s += static_cast<char>(c);
  return s;
}

apiserver::Request UpgradeRequest(std::string protocols) {
  apiserver::Request r;
  r.method = "GET";
  r.headers = {{"connection", "Upgrade"},
               {"upgrade", "websocket"},
               {"sec-websocket-version", "13"},
               {"sec-websocket-key", "dGhlIHNhbXBsZSBub25jZQ=="}};
  if (!protocols.empty()) r.headers["sec-websocket-protocol"] = protocols;
  return r;
}

std::string HeaderOf(const WebSocketHandshake& h, const std::string& name) {
  for (const auto& [k, v] : h.headers) {
    if (k == name) return v;
  }
  return "<absent>";
}

TEST(WebSocketHandshakeTest, AcceptKeyIsTheRfc6455Example) {
  // RFC 6455 §1.3.
  EXPECT_EQ(WebSocketAcceptKey("dGhlIHNhbXBsZSBub25jZQ=="), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
}

TEST(WebSocketHandshakeTest, PicksTheClientsFirstSupportedSubprotocol) {
  struct Case {
    std::string offered;
    std::vector<std::string> supported;
    std::string chosen;  // "!" = refused
  };
  const std::vector<Case> cases = {
      {"v5.channel.k8s.io", {"v5.channel.k8s.io", "v4.channel.k8s.io"}, "v5.channel.k8s.io"},
      {"v4.channel.k8s.io, v5.channel.k8s.io", {"v5.channel.k8s.io", "v4.channel.k8s.io"}, "v4.channel.k8s.io"},
      {" x ,v4.channel.k8s.io", {"v5.channel.k8s.io", "v4.channel.k8s.io"}, "v4.channel.k8s.io"},
      {"", {"v5.channel.k8s.io", ""}, ""},
      {"", {"v5.channel.k8s.io"}, "!"},
      {"v6.channel.k8s.io", {"v5.channel.k8s.io", ""}, "!"},
  };
  for (const Case& c : cases) {
    auto h = NegotiateWebSocket(UpgradeRequest(c.offered), c.supported);
    if (c.chosen == "!") {
      ASSERT_FALSE(h.ok()) << c.offered;
      EXPECT_EQ(h.status().code(), Code::kForbidden);
      continue;
    }
    ASSERT_TRUE(h.ok()) << c.offered << ": " << h.status().ToString();
    EXPECT_EQ(h->subprotocol, c.chosen);
    EXPECT_EQ(HeaderOf(*h, "Sec-WebSocket-Protocol"), c.chosen.empty() ? "<absent>" : c.chosen);
    EXPECT_EQ(HeaderOf(*h, "Sec-WebSocket-Accept"), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
    EXPECT_EQ(HeaderOf(*h, "Upgrade"), "websocket");
  }
}

TEST(WebSocketHandshakeTest, RefusesMalformedRequestsWith400) {
  struct Case {
    const char* name;
    std::function<void(apiserver::Request&)> spoil;
    const char* message_part;
  };
  const std::vector<Case> cases = {
      {"post", [](apiserver::Request& r) { r.method = "POST"; }, "must be a GET"},
      {"no upgrade", [](apiserver::Request& r) { r.headers.erase("upgrade"); }, "Upgrade: websocket"},
      {"no connection", [](apiserver::Request& r) { r.headers["connection"] = "keep-alive"; }, "Upgrade: websocket"},
      {"version 8", [](apiserver::Request& r) { r.headers["sec-websocket-version"] = "8"; }, "version \"8\""},
      {"no key", [](apiserver::Request& r) { r.headers.erase("sec-websocket-key"); }, "Sec-WebSocket-Key"},
      {"short key", [](apiserver::Request& r) { r.headers["sec-websocket-key"] = "c2hvcnQ="; }, "16 bytes"},
  };
  for (const Case& c : cases) {
    apiserver::Request r = UpgradeRequest("v5.channel.k8s.io");
    c.spoil(r);
    auto h = NegotiateWebSocket(r, {"v5.channel.k8s.io"});
    ASSERT_FALSE(h.ok()) << c.name;
    EXPECT_EQ(h.status().code(), Code::kBadRequest) << c.name;
    EXPECT_NE(h.status().message().find(c.message_part), std::string::npos) << c.name << ": " << h.status().message();
    apiserver::Response resp = RefuseUpgrade(h.status());
    EXPECT_EQ(resp.code, 400);
    auto body = nlohmann::json::parse(resp.body);
    EXPECT_EQ(body["kind"], "Status");
    EXPECT_EQ(body["reason"], "BadRequest");
    EXPECT_EQ(body["message"], h.status().message());
  }
}

TEST(WebSocketFrameTest, DecodesTheRfcExamplesAndRejectsBadFrames) {
  struct Case {
    const char* name;
    std::string bytes;
    bool from_client;
    int used;  // -1 = error
    Opcode opcode;
    bool fin;
    std::string payload;
  };
  const std::string hello_masked = Bytes({0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58});
  const std::string long16 = Bytes({0x82, 0x7E, 0x01, 0x00}) + std::string(256, 'x');
  const std::string long64 = Bytes({0x82, 0x7F, 0, 0, 0, 0, 0, 1, 0, 0}) + std::string(65536, 'y');
  const std::vector<Case> cases = {
      // RFC 6455 §5.7.
      {"unmasked hello", Bytes({0x81, 0x05, 'H', 'e', 'l', 'l', 'o'}), false, 7, Opcode::kText, true, "Hello"},
      {"masked hello", hello_masked, true, 11, Opcode::kText, true, "Hello"},
      {"first fragment", Bytes({0x01, 0x03, 'H', 'e', 'l'}), false, 5, Opcode::kText, false, "Hel"},
      {"last fragment", Bytes({0x80, 0x02, 'l', 'o'}), false, 4, Opcode::kContinuation, true, "lo"},
      {"ping", Bytes({0x89, 0x05, 'H', 'e', 'l', 'l', 'o'}), false, 7, Opcode::kPing, true, "Hello"},
      {"256 bytes", long16, false, 260, Opcode::kBinary, true, std::string(256, 'x')},
      {"64 KiB", long64, false, 65546, Opcode::kBinary, true, std::string(65536, 'y')},
      {"incomplete header", Bytes({0x81}), false, 0, Opcode::kText, true, ""},
      {"incomplete payload", Bytes({0x81, 0x05, 'H'}), false, 0, Opcode::kText, true, ""},
      {"incomplete mask", Bytes({0x81, 0x85, 0x37}), true, 0, Opcode::kText, true, ""},
      {"client frame unmasked", Bytes({0x81, 0x05, 'H', 'e', 'l', 'l', 'o'}), true, -1, Opcode::kText, true, ""},
      {"server frame masked", hello_masked, false, -1, Opcode::kText, true, ""},
      {"reserved bit", Bytes({0xC1, 0x00}), false, -1, Opcode::kText, true, ""},
      {"reserved opcode", Bytes({0x83, 0x00}), false, -1, Opcode::kText, true, ""},
      {"fragmented ping", Bytes({0x09, 0x00}), false, -1, Opcode::kText, true, ""},
      {"long ping", Bytes({0x89, 0x7E, 0x00, 0x80}) + std::string(128, 'p'), false, -1, Opcode::kText, true, ""},
      {"top length bit", Bytes({0x82, 0x7F, 0x80, 0, 0, 0, 0, 0, 0, 1}), false, -1, Opcode::kText, true, ""},
  };
  for (const Case& c : cases) {
    Frame f;
    Result<size_t> r = DecodeFrame(c.bytes, c.from_client, 1 << 20, &f);
    if (c.used < 0) {
      EXPECT_FALSE(r.ok()) << c.name;
      continue;
    }
    ASSERT_TRUE(r.ok()) << c.name << ": " << r.status().ToString();
    EXPECT_EQ(*r, static_cast<size_t>(c.used)) << c.name;
    if (c.used == 0) continue;
    EXPECT_EQ(f.opcode, c.opcode) << c.name;
    EXPECT_EQ(f.fin, c.fin) << c.name;
    EXPECT_EQ(f.payload, c.payload) << c.name;
  }
  Frame f;
  EXPECT_EQ(DecodeFrame(long16, false, 100, &f).status().code(), Code::kRequestEntityTooLarge);
}

TEST(WebSocketFrameTest, EncodeMatchesTheRfcExamples) {
  EXPECT_EQ(EncodeFrame(Opcode::kText, "Hello"), Bytes({0x81, 0x05, 'H', 'e', 'l', 'l', 'o'}));
  EXPECT_EQ(EncodeFrame(Opcode::kText, "Hello", true, 0x37fa213d),
            Bytes({0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58}));
  EXPECT_EQ(EncodeFrame(Opcode::kBinary, std::string(256, 'x')).substr(0, 4), Bytes({0x82, 0x7E, 0x01, 0x00}));
  EXPECT_EQ(EncodeFrame(Opcode::kBinary, std::string(65536, 'x')).substr(0, 10),
            Bytes({0x82, 0x7F, 0, 0, 0, 0, 0, 1, 0, 0}));
}

// A server WebSocket on one end of a socketpair, a test client on the other.
class WebSocketConnTest : public ::testing::Test {
 protected:
  SocketPair pair_;
  SocketConnection conn_{pair_.server_fd};
  WebSocket ws_{conn_};
  WsClient client_{pair_.client_fd};

  // Receives until at least one message arrives or the socket closes.
  std::vector<Message> ReceiveMessages() {
    std::vector<Message> out;
    while (out.empty() && !ws_.closed()) {
      Status s = ws_.Receive(&out);
      if (!s.ok()) break;
    }
    return out;
  }
};

TEST_F(WebSocketConnTest, JoinsMaskedFragmentsAndAnswersAPingInBetween) {
  ASSERT_TRUE(client_.Send(Opcode::kText, "frag", /*fin=*/false));
  ASSERT_TRUE(client_.Send(Opcode::kPing, "are you there"));
  ASSERT_TRUE(client_.Send(Opcode::kContinuation, "men", /*fin=*/false));
  ASSERT_TRUE(client_.Send(Opcode::kContinuation, "ted", /*fin=*/true));
  ASSERT_TRUE(client_.Send(Opcode::kBinary, std::string("\x01\x00\xff", 3)));

  std::vector<Message> got;
  while (got.size() < 2) {
    ASSERT_TRUE(ws_.Receive(&got).ok());
    ASSERT_FALSE(ws_.closed());
  }
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0].type, Opcode::kText);
  EXPECT_EQ(got[0].data, "fragmented");
  EXPECT_EQ(got[1].type, Opcode::kBinary);
  EXPECT_EQ(got[1].data, std::string("\x01\x00\xff", 3));

  auto pong = client_.Next();
  ASSERT_TRUE(pong);
  EXPECT_EQ(pong->opcode, Opcode::kPong);
  EXPECT_EQ(pong->payload, "are you there");
}

TEST_F(WebSocketConnTest, AFrameArrivingByteByByteIsStillOneMessage) {
  std::string frame = EncodeFrame(Opcode::kBinary, "slow", true, 0x01020304);
  std::vector<Message> got;
  for (char c : frame) {
    ASSERT_TRUE(client_.SendRaw(std::string(1, c)));
    ASSERT_TRUE(ws_.Receive(&got).ok());
  }
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].data, "slow");
}

TEST_F(WebSocketConnTest, EchoesTheClientsClose) {
  ASSERT_TRUE(client_.Send(Opcode::kClose, Bytes({0x03, 0xE8}) + "bye"));
  EXPECT_TRUE(ReceiveMessages().empty());
  EXPECT_TRUE(ws_.closed());
  EXPECT_EQ(ws_.peer_close_code(), 1000);
  auto reply = client_.Next();
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->opcode, Opcode::kClose);
  EXPECT_EQ(reply->payload, Bytes({0x03, 0xE8}));
  EXPECT_FALSE(ws_.Send(Opcode::kBinary, "late"));  // nothing after a close
}

TEST_F(WebSocketConnTest, AnUnmaskedClientFrameIsAProtocolError) {
  ASSERT_TRUE(client_.SendRaw(EncodeFrame(Opcode::kBinary, "naked")));
  std::vector<Message> got;
  Status s = ws_.Receive(&got);
  EXPECT_EQ(s.code(), Code::kBadRequest);
  EXPECT_TRUE(ws_.closed());
  auto close = client_.Next();
  ASSERT_TRUE(close);
  EXPECT_EQ(close->opcode, Opcode::kClose);
  EXPECT_EQ(close->payload.substr(0, 2), Bytes({0x03, 0xEA}));  // 1002
}

TEST_F(WebSocketConnTest, ATooBigMessageClosesWith1009) {
  SocketPair pair;
  SocketConnection conn(pair.server_fd);
  WebSocket small(conn, /*max_message=*/8);
  WsClient client(pair.client_fd);
  ASSERT_TRUE(client.Send(Opcode::kBinary, "12345", false));
  ASSERT_TRUE(client.Send(Opcode::kContinuation, "67890", true));
  std::vector<Message> got;
  Status s;
  while (s.ok() && !small.closed()) s = small.Receive(&got);
  EXPECT_FALSE(s.ok());
  auto close = client.Next();
  ASSERT_TRUE(close);
  EXPECT_EQ(close->payload.substr(0, 2), Bytes({0x03, 0xF1}));  // 1009
}

TEST_F(WebSocketConnTest, ServerCloseWaitsForTheClientsAnswer) {
  std::thread client([&] {
    auto close = client_.Next();
    ASSERT_TRUE(close);
    EXPECT_EQ(close->opcode, Opcode::kClose);
    client_.Send(Opcode::kClose, close->payload);
  });
  ASSERT_TRUE(ws_.SendClose(kCloseNormal));
  ws_.AwaitClose(std::chrono::seconds(10));
  client.join();
  EXPECT_TRUE(ws_.closed());
  EXPECT_EQ(ws_.peer_close_code(), 1000);
}

TEST_F(WebSocketConnTest, EndOfConnectionMeansClosed) {
  close(pair_.client_fd);
  pair_.client_fd = -1;
  std::vector<Message> got;
  EXPECT_TRUE(ws_.Receive(&got).ok());
  EXPECT_TRUE(ws_.closed());
  EXPECT_EQ(ws_.peer_close_code(), 1006);
}

}  // namespace
}  // namespace kubes::kubelet::streaming
