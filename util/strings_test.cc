#include "util/strings.h"

#include <gtest/gtest.h>

namespace kubes {
namespace {

TEST(StringsTest, LowerASCII) {
  EXPECT_EQ(LowerASCII("Content-Type"), "content-type");
  EXPECT_EQ(LowerASCII("SPDY/3.1"), "spdy/3.1");
}

TEST(StringsTest, TrimSpace) {
  EXPECT_EQ(TrimSpace(" \tchunked \r"), "chunked");
  EXPECT_EQ(TrimSpace("  "), "");
  EXPECT_EQ(TrimSpace("a b"), "a b");
}

TEST(StringsTest, PercentDecode) {
  EXPECT_EQ(PercentDecode("a%2Fb%20c"), "a/b c");
  EXPECT_EQ(PercentDecode("a+b"), "a+b");
  EXPECT_EQ(PercentDecode("a+b", true), "a b");
  EXPECT_EQ(PercentDecode("100%"), "100%") << "a malformed escape stays";
  EXPECT_EQ(PercentDecode("%zz%4"), "%zz%4");
}

}  // namespace
}  // namespace kubes
