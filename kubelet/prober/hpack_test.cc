#include "kubelet/prober/hpack.h"

#include <gtest/gtest.h>

namespace kubes::kubelet::prober::hpack {
namespace {

std::string Hex(std::string_view hex) {
  std::string out;
  std::string digits;
  for (char c : hex) {
    if (c != ' ') digits += c;
  }
  for (size_t i = 0; i + 1 < digits.size(); i += 2) out += static_cast<char>(std::stoi(digits.substr(i, 2), nullptr, 16));
  return out;
}

std::string ToHex(std::string_view s) {
  static const char* d = "0123456789abcdef";
  std::string out;
  for (unsigned char c : s) {
    out += d[c >> 4];
    out += d[c & 15];
  }
  return out;
}

// RFC 7541 Appendix C.4: Huffman-coded strings.
TEST(HuffmanTest, EncodesTheRFCExamples) {
  struct Case {
    const char* text;
    const char* hex;
  } cases[] = {
      {"www.example.com", "f1e3c2e5f23a6ba0ab90f4ff"},
      {"no-cache", "a8eb10649cbf"},
      {"custom-key", "25a849e95ba97d7f"},
      {"custom-value", "25a849e95bb8e8b4bf"},
      {"private", "aec3771a4b"},
      {"Mon, 21 Oct 2013 20:13:21 GMT", "d07abe941054d444a8200595040b8166e082a62d1bff"},
      {"https://www.example.com", "9d29ad171863c78f0b97c8e9ae82ae43d3"},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(ToHex(HuffmanEncode(c.text)), c.hex) << c.text;
    auto back = HuffmanDecode(Hex(c.hex));
    ASSERT_TRUE(back.ok()) << c.text << ": " << back.status().message();
    EXPECT_EQ(*back, c.text);
  }
}

TEST(HuffmanTest, EveryByteRoundTrips) {
  std::string all;
  for (int i = 0; i < 256; ++i) all += static_cast<char>(i);
  auto back = HuffmanDecode(HuffmanEncode(all));
  ASSERT_TRUE(back.ok()) << back.status().message();
  EXPECT_EQ(*back, all);
}

TEST(HuffmanTest, RejectsBadPadding) {
  // 'a' is 00011; padded with zeros instead of ones.
  EXPECT_FALSE(HuffmanDecode(std::string(1, '\x18')).ok());
  // A whole byte of ones after the last symbol is more than padding.
  EXPECT_FALSE(HuffmanDecode(Hex("1fff")).ok());
  // EOS spelled out (30 ones) is an error.
  EXPECT_FALSE(HuffmanDecode(Hex("ffffffff")).ok());
}

TEST(IntegerTest, RFCExamples) {
  EXPECT_EQ(ToHex(EncodeInteger(10, 5, 0)), "0a");
  EXPECT_EQ(ToHex(EncodeInteger(1337, 5, 0)), "1f9a0a");
  EXPECT_EQ(ToHex(EncodeInteger(42, 8, 0)), "2a");
}

TEST(DecoderTest, RequestsWithHuffmanAndTheDynamicTable) {
  // RFC 7541 C.4.1–C.4.3: three requests on one connection.
  Decoder d;
  std::vector<HeaderField> got;
  ASSERT_TRUE(d.Decode(Hex("8286 8441 8cf1 e3c2 e5f2 3a6b a0ab 90f4 ff"), &got).ok());
  EXPECT_EQ(got, (std::vector<HeaderField>{
                     {":method", "GET"}, {":scheme", "http"}, {":path", "/"}, {":authority", "www.example.com"}}));
  got.clear();
  ASSERT_TRUE(d.Decode(Hex("8286 84be 5886 a8eb 1064 9cbf"), &got).ok());
  EXPECT_EQ(got, (std::vector<HeaderField>{{":method", "GET"},
                                           {":scheme", "http"},
                                           {":path", "/"},
                                           {":authority", "www.example.com"},
                                           {"cache-control", "no-cache"}}));
  got.clear();
  ASSERT_TRUE(d.Decode(Hex("8287 85bf 4088 25a8 49e9 5ba9 7d7f 8925 a849 e95b b8e8 b4bf"), &got).ok());
  EXPECT_EQ(got, (std::vector<HeaderField>{{":method", "GET"},
                                           {":scheme", "https"},
                                           {":path", "/index.html"},
                                           {":authority", "www.example.com"},
                                           {"custom-key", "custom-value"}}));
}

TEST(DecoderTest, ResponsesEvictFromASmallTable) {
  // RFC 7541 C.6.1–C.6.2: a 256-byte table; the second response evicts the first.
  Decoder d(256);
  std::vector<HeaderField> got;
  ASSERT_TRUE(d.Decode(Hex("4882 6402 5885 aec3 771a 4b61 96d0 7abe 9410 54d4 44a8 2005 9504 0b81 66e0 82a6 2d1b "
                           "ff6e 919d 29ad 1718 63c7 8f0b 97c8 e9ae 82ae 43d3"),
                       &got)
                  .ok());
  EXPECT_EQ(got, (std::vector<HeaderField>{{":status", "302"},
                                           {"cache-control", "private"},
                                           {"date", "Mon, 21 Oct 2013 20:13:21 GMT"},
                                           {"location", "https://www.example.com"}}));
  got.clear();
  ASSERT_TRUE(d.Decode(Hex("4883 640e ff c1 c0 bf"), &got).ok());
  EXPECT_EQ(got, (std::vector<HeaderField>{{":status", "307"},
                                           {"cache-control", "private"},
                                           {"date", "Mon, 21 Oct 2013 20:13:21 GMT"},
                                           {"location", "https://www.example.com"}}));
}

TEST(DecoderTest, LiteralsRoundTrip) {
  Decoder d;
  std::vector<HeaderField> got;
  std::string block = EncodeLiteral(":path", "/grpc.health.v1.Health/Check") + EncodeLiteral("te", "trailers");
  ASSERT_TRUE(d.Decode(block, &got).ok());
  EXPECT_EQ(got, (std::vector<HeaderField>{{":path", "/grpc.health.v1.Health/Check"}, {"te", "trailers"}}));
}

TEST(DecoderTest, RejectsBrokenBlocks) {
  const char* cases[] = {
      "80",          // index 0
      "ff00",        // an index past both tables
      "41",          // a literal without its value
      "4085",        // a name shorter than its length says
      "3fe21f",      // a table size above the limit (4097)
      "ffffffffffffff",  // an integer too long
  };
  for (const char* hex : cases) {
    Decoder d;
    std::vector<HeaderField> got;
    EXPECT_FALSE(d.Decode(Hex(hex), &got).ok()) << hex;
  }
}

}  // namespace
}  // namespace kubes::kubelet::prober::hpack
