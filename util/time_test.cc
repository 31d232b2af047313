#include "util/time.h"

#include <gtest/gtest.h>

namespace kubes {
namespace {

TEST(TimeTest, HumanDurationMatchesKubectl) {
  struct Case { int64_t s; const char* want; };
  const Case cases[] = {{-5, "<invalid>"}, {0, "0s"}, {59, "59s"}, {119, "119s"}, {120, "2m"}, {185, "3m5s"},
                        {600, "10m"}, {3 * 3600 - 1, "179m"}, {3 * 3600, "3h"}, {3 * 3600 + 120, "3h2m"},
                        {9 * 3600, "9h"}, {50 * 3600, "2d2h"}, {10 * 86400, "10d"}, {800 * 86400, "2y70d"}};
  for (const auto& c : cases) EXPECT_EQ(HumanDuration(std::chrono::seconds(c.s)), c.want) << c.s;
}

TEST(TimeTest, RFC3339RoundTrip) {
  auto t = ParseRFC3339("2024-01-02T03:04:05Z");
  ASSERT_TRUE(t);
  EXPECT_EQ(FormatRFC3339(*t), "2024-01-02T03:04:05Z");
  auto off = ParseRFC3339("2024-01-02T05:04:05+02:00");
  ASSERT_TRUE(off);
  EXPECT_EQ(FormatRFC3339(*off), "2024-01-02T03:04:05Z");
  auto micro = ParseRFC3339("2024-01-02T03:04:05.123456Z");
  ASSERT_TRUE(micro);
  EXPECT_EQ(FormatRFC3339Micro(*micro), "2024-01-02T03:04:05.123456Z");
  EXPECT_FALSE(ParseRFC3339("yesterday"));
}

TEST(TimeTest, GoDurationString) {
  EXPECT_EQ(GoDurationString(0), "0s");
  EXPECT_EQ(GoDurationString(500000000), "500ms");
  EXPECT_EQ(GoDurationString(1500000000), "1.5s");
  EXPECT_EQ(GoDurationString(3723000000000), "1h2m3s");
  EXPECT_EQ(GoDurationString(60000000000), "1m0s");
}

}  // namespace
}  // namespace kubes
