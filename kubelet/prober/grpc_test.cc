#include "kubelet/prober/grpc.h"

#include <gtest/gtest.h>

#include "kubelet/prober/testing.h"

namespace kubes::kubelet::prober {
namespace {

using h2::Frame;
using h2::UnaryCall;
using hpack::HeaderField;
using testing::Server;
using testing::WriteAll;

constexpr auto kTimeout = std::chrono::milliseconds(300);

std::string Be32(uint32_t v) {
  return std::string{static_cast<char>(v >> 24), static_cast<char>(v >> 16), static_cast<char>(v >> 8),
                     static_cast<char>(v)};
}

// What the probe sent on stream 1.
struct Received {
  std::vector<HeaderField> headers;
  std::string message;  // the gRPC message, without its 5-byte prefix
  bool ping_acked = false;
  std::string Header(const std::string& name) const {
    for (const auto& h : headers) {
      if (h.first == name) return h.second;
    }
    return "";
  }
};

// Reads the client's preface and frames until its DATA ends the stream (and, with
// want_ping_ack, until it acknowledged our PING).
Received ReadRequest(int fd, bool want_ping_ack = false) {
  Received r;
  std::string buf;
  hpack::Decoder decoder;
  bool ended = false;
  for (int waited = 0; waited < 2000 && (!ended || (want_ping_ack && !r.ping_acked));) {
    pollfd p{fd, POLLIN, 0};
    if (poll(&p, 1, 10) <= 0) {
      waited += 10;
      continue;
    }
    char tmp[4096];
    ssize_t n = read(fd, tmp, sizeof tmp);
    if (n <= 0) break;
    buf.append(tmp, static_cast<size_t>(n));
    if (buf.rfind(h2::kClientPreface, 0) == 0) buf.erase(0, h2::kClientPreface.size());
    while (buf.size() >= 9) {
      size_t len = (static_cast<uint8_t>(buf[0]) << 16) | (static_cast<uint8_t>(buf[1]) << 8) | static_cast<uint8_t>(buf[2]);
      if (buf.size() < 9 + len) break;
      uint8_t type = static_cast<uint8_t>(buf[3]), flags = static_cast<uint8_t>(buf[4]);
      std::string payload = buf.substr(9, len);
      buf.erase(0, 9 + len);
      if (type == h2::kHeaders) (void)decoder.Decode(payload, &r.headers);
      if (type == h2::kData && payload.size() >= 5) r.message = payload.substr(5);
      if (type == h2::kData && (flags & h2::kEndStream)) ended = true;
      if (type == h2::kPing && (flags & h2::kAck)) r.ping_acked = true;
    }
  }
  return r;
}

std::string SettingsFrame() { return Frame(h2::kSettings, 0, 0, ""); }

// Response headers as a real server writes them: indexed :status, Huffman values.
std::string ResponseHeaders(bool end_stream = false, const std::string& extra = "") {
  std::string block = "\x88";  // :status 200
  block += '\x5f';             // content-type, with incremental indexing (index 31)
  std::string ct = hpack::HuffmanEncode("application/grpc");
  block += hpack::EncodeInteger(ct.size(), 7, 0x80) + ct;
  block += extra;
  return Frame(h2::kHeaders, h2::kEndHeaders | (end_stream ? h2::kEndStream : 0), 1, block);
}

std::string Message(const std::string& pb) { return Frame(h2::kData, 0, 1, std::string(1, '\0') + Be32(pb.size()) + pb); }

std::string Trailers(int code, const std::string& message = "") {
  std::string block = hpack::EncodeLiteral("grpc-status", std::to_string(code));
  if (!message.empty()) block += hpack::EncodeLiteral("grpc-message", message);
  return Frame(h2::kHeaders, h2::kEndHeaders | h2::kEndStream, 1, block);
}

ProbeOutput Probe(int port, const std::string& service = "", std::chrono::milliseconds timeout = kTimeout) {
  return DoGRPCProbe("127.0.0.1", port, service, timeout, "kube-probe/1.32");
}

TEST(GRPCProbeTest, ServingAndTheRequestSent) {
  Received got;
  ProbeOutput out;
  int port = 0;
  {
    Server server([&got](int fd) {
      WriteAll(fd, SettingsFrame());
      got = ReadRequest(fd);
      WriteAll(fd, ResponseHeaders() + Message("\x08\x01") + Trailers(0));
    });
    port = server.port();
    out = Probe(port, "db");
  }  // the server's threads have ended: `got` is complete
  EXPECT_EQ(out.result, ProbeResult::kSuccess) << out.output;
  EXPECT_EQ(out.output, "service healthy");
  EXPECT_EQ(got.Header(":method"), "POST");
  EXPECT_EQ(got.Header(":path"), "/grpc.health.v1.Health/Check");
  EXPECT_EQ(got.Header(":authority"), "127.0.0.1:" + std::to_string(port));
  EXPECT_EQ(got.Header("content-type"), "application/grpc");
  EXPECT_EQ(got.Header("user-agent"), "kube-probe/1.32");
  EXPECT_EQ(got.Header("te"), "trailers");
  EXPECT_EQ(got.message, std::string("\x0a\x02" "db"));
}

TEST(GRPCProbeTest, Verdicts) {
  struct Case {
    std::string name;
    std::string response;
    std::string output;
    ProbeResult result = ProbeResult::kFailure;
  } cases[] = {
      {"not serving", ResponseHeaders() + Message("\x08\x02") + Trailers(0),
       "service unhealthy (responded with \"NOT_SERVING\")"},
      {"empty message is UNKNOWN", ResponseHeaders() + Message("") + Trailers(0),
       "service unhealthy (responded with \"UNKNOWN\")"},
      {"unknown fields are skipped", ResponseHeaders() + Message(std::string("\x12\x01x\x08\x01", 5)) + Trailers(0),
       "service healthy", ProbeResult::kSuccess},
      {"trailers only", ResponseHeaders(true, hpack::EncodeLiteral("grpc-status", "5") +
                                                  hpack::EncodeLiteral("grpc-message", "unknown service")),
       "error: health rpc probe failed: rpc error: code = NotFound desc = unknown service"},
      {"unimplemented", ResponseHeaders() + Trailers(12, "unknown service grpc.health.v1.Health"),
       "error: this server does not implement the grpc health protocol (grpc.health.v1.Health): unknown service "
       "grpc.health.v1.Health"},
      {"percent-encoded message", ResponseHeaders() + Trailers(14, "down%20for%0Amaintenance"),
       "error: health rpc probe failed: rpc error: code = Unavailable desc = down for\nmaintenance"},
      {"no trailers", ResponseHeaders() + Frame(h2::kData, h2::kEndStream, 1, std::string("\0\0\0\0\x02\x08\x01", 7)),
       "error: health rpc probe failed: rpc error: code = Internal desc = server closed the stream without sending "
       "trailers"},
      {"HTTP 404", Frame(h2::kHeaders, h2::kEndHeaders | h2::kEndStream, 1, "\x8d"),
       "error: this server does not implement the grpc health protocol (grpc.health.v1.Health): unexpected HTTP "
       "status code received from server: 404"},
      {"reset", Frame(h2::kRstStream, 0, 1, Be32(7)),
       "error: health rpc probe failed: rpc error: code = Internal desc = stream terminated by RST_STREAM with error "
       "code: REFUSED_STREAM"},
  };
  for (const auto& c : cases) {
    Server server([&c](int fd) {
      WriteAll(fd, SettingsFrame());
      ReadRequest(fd);
      WriteAll(fd, c.response);
    });
    ProbeOutput out = Probe(server.port());
    EXPECT_EQ(out.result, c.result) << c.name;
    EXPECT_EQ(out.output, c.output) << c.name;
  }
}

TEST(GRPCProbeTest, ContinuationPaddingAndPing) {
  bool acked = false;
  ProbeOutput out;
  {
  Server server([&acked](int fd) {
    WriteAll(fd, SettingsFrame() + Frame(h2::kPing, 0, 0, "12345678"));
    acked = ReadRequest(fd, true).ping_acked;
    // Headers split over HEADERS + CONTINUATION, then padded DATA.
    std::string block = "\x88" + hpack::EncodeLiteral("content-type", "application/grpc");
    std::string data = std::string(1, '\0') + Be32(2) + "\x08\x01";
    WriteAll(fd, Frame(h2::kHeaders, 0, 1, block.substr(0, 3)) + Frame(h2::kContinuation, h2::kEndHeaders, 1, block.substr(3)) +
                     Frame(h2::kWindowUpdate, 0, 0, Be32(1000)) +
                     Frame(h2::kData, h2::kPadded, 1, std::string(1, '\x04') + data + std::string(4, '\0')) +
                     Trailers(0));
  });
  out = Probe(server.port());
  }
  EXPECT_EQ(out.output, "service healthy");
  EXPECT_TRUE(acked);
}

TEST(GRPCProbeTest, Timeouts) {
  // Nothing listens: connecting is retried until the timeout, as a blocking dial.
  int port = testing::UnusedPort();
  auto start = std::chrono::steady_clock::now();
  ProbeOutput out = Probe(port);
  EXPECT_EQ(out.output, "timeout: failed to connect service \"127.0.0.1:" + std::to_string(port) +
                            "\" within 300ms: context deadline exceeded");
  EXPECT_GE(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(290));

  // Accepts, never speaks HTTP/2.
  Server mute([](int fd) { testing::ReadUntil(fd, "never"); });
  out = Probe(mute.port());
  EXPECT_EQ(out.output, "timeout: failed to connect service \"127.0.0.1:" + std::to_string(mute.port()) +
                            "\" within 300ms: context deadline exceeded");

  // An HTTP/1.1 server: not a gRPC server either.
  Server http1([](int fd) {
    testing::ReadUntil(fd, "\r\n\r\n");
    WriteAll(fd, "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n");
  });
  out = Probe(http1.port());
  EXPECT_EQ(out.output, "timeout: failed to connect service \"127.0.0.1:" + std::to_string(http1.port()) +
                            "\" within 300ms: context deadline exceeded");

  // Connected, then no answer.
  Server slow([](int fd) {
    WriteAll(fd, SettingsFrame());
    testing::ReadUntil(fd, "never");
  });
  out = Probe(slow.port());
  EXPECT_EQ(out.output, "timeout: health rpc did not complete within 300ms");
}

TEST(UnaryCallTest, ByteByByte) {
  std::string server = SettingsFrame() + ResponseHeaders() + Message("\x08\x01") + Trailers(0);
  UnaryCall call;
  std::string reply;
  for (char c : server) ASSERT_TRUE(call.OnBytes(std::string_view(&c, 1), &reply).ok());
  EXPECT_TRUE(call.done());
  EXPECT_EQ(reply, Frame(h2::kSettings, h2::kAck, 0, ""));
  EXPECT_EQ(call.Result().grpc_code, 0);
  EXPECT_EQ(call.Result().status, 1);
}

TEST(UnaryCallTest, ProtocolErrors) {
  struct Case {
    std::string name;
    std::string bytes;
  } cases[] = {
      {"preface is not SETTINGS", Frame(h2::kPing, 0, 0, "12345678")},
      {"frame too large", std::string("\x01\x00\x00\x04\x00\x00\x00\x00\x00", 9)},
      {"CONTINUATION expected", SettingsFrame() + Frame(h2::kHeaders, 0, 1, "\x88") + Frame(h2::kData, 0, 1, "")},
      {"bad padding", SettingsFrame() + Frame(h2::kData, h2::kPadded, 1, "\x09")},
      {"bad HPACK", SettingsFrame() + Frame(h2::kHeaders, h2::kEndHeaders, 1, "\x80")},
      {"push", SettingsFrame() + Frame(h2::kPushPromise, h2::kEndHeaders, 1, Be32(2))},
  };
  for (const auto& c : cases) {
    UnaryCall call;
    std::string reply;
    EXPECT_FALSE(call.OnBytes(c.bytes, &reply).ok()) << c.name;
  }
}

}  // namespace
}  // namespace kubes::kubelet::prober
