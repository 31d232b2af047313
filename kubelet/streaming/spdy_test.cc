#include "kubelet/streaming/spdy.h"

#include <gtest/gtest.h>
#include <zlib.h>

namespace kubes::kubelet::streaming::spdy {
namespace {

std::string Bytes(std::initializer_list<int> b) {
  std::string s;
  for (int c : b) s += static_cast<char>(c);
  return s;
}

Frame SynStream(uint32_t id, Headers h, uint8_t flags = 0) {
  Frame f;
  f.type = FrameType::kSynStream;
  f.stream_id = id;
  f.priority = 3;
  f.flags = flags;
  f.headers = std::move(h);
  return f;
}

TEST(SpdyTest, DictionaryIsSpdy3s) {
  const std::string& d = HeaderDictionary();
  EXPECT_EQ(d.size(), 1423u);
  // The Adler-32 a peer's zlib header names (FDICT): what zlib checks before use.
  EXPECT_EQ(adler32(1, reinterpret_cast<const Bytef*>(d.data()), static_cast<uInt>(d.size())), 0xe3c6a7c2u);
}

TEST(SpdyTest, FixedFramesHaveTheirWireBytes) {
  Framer f;
  EXPECT_EQ(f.Encode(Ping(1)), Bytes({0x80, 0x03, 0x00, 0x06, 0x00, 0x00, 0x00, 0x04, 0, 0, 0, 1}));
  EXPECT_EQ(f.Encode(RstStream(5, kCancel)), Bytes({0x80, 0x03, 0x00, 0x03, 0, 0, 0, 8, 0, 0, 0, 5, 0, 0, 0, 5}));
  EXPECT_EQ(f.Encode(Data(3, "hi", /*fin=*/true)), Bytes({0, 0, 0, 3, 0x01, 0, 0, 2, 'h', 'i'}));
  EXPECT_EQ(f.Encode(GoAway(7, kGoAwayOk)), Bytes({0x80, 0x03, 0x00, 0x07, 0, 0, 0, 8, 0, 0, 0, 7, 0, 0, 0, 0}));
}

TEST(SpdyTest, EveryFrameTypeRoundTripsAndZlibStaysInStep) {
  Framer client, server;
  Frame settings;
  settings.type = FrameType::kSettings;
  settings.settings = {{(1u << 24) | 4, 100}, {7, 65536}};
  Frame window;
  window.type = FrameType::kWindowUpdate;
  window.stream_id = 3;
  window.value = 1 << 20;
  Frame headers;
  headers.type = FrameType::kHeaders;
  headers.stream_id = 1;
  headers.headers = {{"x-extra", std::string("a\0b", 3)}};

  // The same header block twice: the second one compresses against the first,
  // so it only decodes if both sides kept their zlib context.
  const Headers pf = {{"streamtype", "error"}, {"port", "8080"}, {"requestid", "0"}};
  std::vector<Frame> frames = {SynStream(1, pf),
                               SynStream(3, {{"streamtype", "data"}, {"port", "8080"}, {"requestid", "0"}}, kFlagFin),
                               SynStream(5, pf),
                               SynReply(1),
                               headers,
                               Data(3, std::string(70000, 'z')),
                               Data(3, "", true),
                               RstStream(3, kCancel),
                               settings,
                               Ping(9),
                               window,
                               GoAway(5, kGoAwayProtocolError)};
  std::string wire;
  for (const Frame& f : frames) wire += client.Encode(f);

  size_t at = 0;
  for (const Frame& want : frames) {
    Frame got;
    Result<size_t> r = server.Decode(std::string_view(wire).substr(at), &got);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    ASSERT_GT(*r, 0u);
    at += *r;
    EXPECT_EQ(got.type, want.type);
    EXPECT_EQ(got.flags, want.flags);
    EXPECT_EQ(got.stream_id, want.stream_id);
    EXPECT_EQ(got.priority, want.priority);
    EXPECT_EQ(got.status, want.status);
    EXPECT_EQ(got.value, want.value);
    EXPECT_EQ(got.settings, want.settings);
    EXPECT_EQ(got.headers, want.headers);
    EXPECT_EQ(got.data, want.data);
  }
  EXPECT_EQ(at, wire.size());
}

TEST(SpdyTest, IncompleteInputWaitsForMore) {
  Framer client, server;
  std::string wire = client.Encode(SynStream(1, {{"port", "80"}}));
  Frame f;
  for (size_t n = 0; n < wire.size(); ++n) {
    Result<size_t> r = server.Decode(std::string_view(wire).substr(0, n), &f);
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(*r, 0u) << n;
  }
  Result<size_t> r = server.Decode(wire, &f);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, wire.size());
  EXPECT_EQ(f.headers.at("port"), "80");
}

TEST(SpdyTest, UnknownControlFramesAreSkippedWhole) {
  Framer server;
  std::string noop = Bytes({0x80, 0x03, 0x00, 0x05, 0x00, 0x00, 0x00, 0x02, 0xAA, 0xBB});  // SPDY/2 NOOP
  Frame f;
  Result<size_t> r = server.Decode(noop + Framer().Encode(Ping(3)), &f);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, 10u);
  EXPECT_EQ(f.type, FrameType::kUnknown);
  EXPECT_EQ(f.value, 5u);
  std::string type0 = Bytes({0x80, 0x03, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00});  // not a DATA frame
  ASSERT_TRUE(server.Decode(type0, &f).ok());
  EXPECT_EQ(f.type, FrameType::kUnknown);
}

TEST(SpdyTest, BrokenFramesAreConnectionErrors) {
  struct Case {
    const char* name;
    std::string bytes;
  };
  const std::vector<Case> cases = {
      {"version 2", Bytes({0x80, 0x02, 0x00, 0x06, 0, 0, 0, 4, 0, 0, 0, 1})},
      {"short ping", Bytes({0x80, 0x03, 0x00, 0x06, 0, 0, 0, 2, 0, 1})},
      {"long rst", Bytes({0x80, 0x03, 0x00, 0x03, 0, 0, 0, 9, 0, 0, 0, 1, 0, 0, 0, 5, 0})},
      {"short syn_stream", Bytes({0x80, 0x03, 0x00, 0x01, 0, 0, 0, 4, 0, 0, 0, 1})},
      {"syn_stream not zlib", Bytes({0x80, 0x03, 0x00, 0x01, 0, 0, 0, 14, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 1, 2, 3, 4})},
      {"settings count", Bytes({0x80, 0x03, 0x00, 0x04, 0, 0, 0, 4, 0, 0, 0, 1})},
      {"data on stream 0", Bytes({0, 0, 0, 0, 0, 0, 0, 0})},
      {"rst on stream 0", Bytes({0x80, 0x03, 0x00, 0x03, 0, 0, 0, 8, 0, 0, 0, 0, 0, 0, 0, 5})},
  };
  for (const Case& c : cases) {
    Framer server;
    Frame f;
    EXPECT_FALSE(server.Decode(c.bytes, &f).ok()) << c.name;
  }
}

TEST(SpdyTest, HeaderBlockWithDuplicateOrEmptyNamesIsRejected) {
  // Build blocks by hand, compressed as a peer would.
  auto block = [](std::vector<std::pair<std::string, std::string>> h) {
    std::string plain;
    auto put32 = [&](uint32_t v) {
      for (int s = 24; s >= 0; s -= 8) plain += static_cast<char>((v >> s) & 0xFF);
    };
    put32(static_cast<uint32_t>(h.size()));
    for (auto& [k, v] : h) {
      put32(static_cast<uint32_t>(k.size()));
      plain += k;
      put32(static_cast<uint32_t>(v.size()));
      plain += v;
    }
    z_stream z{};
    deflateInit(&z, Z_DEFAULT_COMPRESSION);
    const std::string& d = HeaderDictionary();
    deflateSetDictionary(&z, reinterpret_cast<const Bytef*>(d.data()), static_cast<uInt>(d.size()));
    std::string out(plain.size() + 1024, '\0');
    z.next_in = reinterpret_cast<Bytef*>(plain.data());
    z.avail_in = static_cast<uInt>(plain.size());
    z.next_out = reinterpret_cast<Bytef*>(out.data());
    z.avail_out = static_cast<uInt>(out.size());
    deflate(&z, Z_SYNC_FLUSH);
    out.resize(out.size() - z.avail_out);
    deflateEnd(&z);
    std::string body = Bytes({0, 0, 0, 1, 0, 0, 0, 0, 0, 0}) + out;
    std::string frame = Bytes({0x80, 0x03, 0x00, 0x01, 0, 0, 0, static_cast<int>(body.size())}) + body;
    return frame;
  };
  Frame f;
  EXPECT_TRUE(Framer().Decode(block({{"Port", "80"}}), &f).ok());
  EXPECT_EQ(f.headers.at("port"), "80");  // names are folded to lower case
  EXPECT_FALSE(Framer().Decode(block({{"port", "80"}, {"port", "81"}}), &f).ok());
  EXPECT_FALSE(Framer().Decode(block({{"", "80"}}), &f).ok());
}

}  // namespace
}  // namespace kubes::kubelet::streaming::spdy
