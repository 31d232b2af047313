#include "duration.h"

#include <gtest/gtest.h>

namespace kubes::demo {
namespace {

TEST(ParseDurationTest, Table) {
  struct Case {
    std::string in;
    std::optional<int64_t> ms;
  } cases[] = {
      {"0", 0},
      {"10", 10000},
      {"10s", 10000},
      {"500ms", 500},
      {"1m30s", 90000},
      {"1h", 3600000},
      {"1.5s", 1500},
      {".5s", 500},
      {"2.0001s", 2000},
      {"1m0.25s", 60250},
      {"0s", 0},
      {"24h", 86400000},
      {"", std::nullopt},
      {"s", std::nullopt},
      {"10x", std::nullopt},
      {"10S", std::nullopt},
      {"-1s", std::nullopt},
      {"1.s", 1000},  // as Go reads it
      {"1 s", std::nullopt},
      {"1.5", std::nullopt},
      {"25h", std::nullopt},
      {"86401", std::nullopt},
      {"1000000", std::nullopt},
      {"99999999999999999999s", std::nullopt},
  };
  for (const Case& c : cases) {
    auto got = ParseDuration(c.in);
    if (c.ms) {
      ASSERT_TRUE(got.has_value()) << c.in;
      EXPECT_EQ(got->count(), *c.ms) << c.in;
    } else {
      EXPECT_FALSE(got.has_value()) << c.in << " gave " << got->count();
    }
  }
}

TEST(FormatDurationTest, Table) {
  struct Case {
    int64_t ms;
    std::string out;
  } cases[] = {{0, "0ms"}, {250, "250ms"}, {1000, "1s"}, {1500, "1.5s"}, {1005, "1.005s"}, {90000, "90s"}};
  for (const Case& c : cases) EXPECT_EQ(FormatDuration(Duration(c.ms)), c.out);
}

TEST(FormatDurationTest, RoundTrips) {
  for (int64_t ms : {0, 1, 999, 1000, 1234, 60000, 86400000}) {
    EXPECT_EQ(ParseDuration(FormatDuration(Duration(ms))), Duration(ms)) << ms;
  }
}

}  // namespace
}  // namespace kubes::demo
