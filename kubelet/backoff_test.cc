#include "kubelet/backoff.h"

#include <gtest/gtest.h>

namespace kubes::kubelet {
namespace {

using namespace std::chrono_literals;

TEST(BackoffTest, DoublesToTheMaximumAndResetsAfterQuietTime) {
  Backoff b(10s, 300s);
  TimePoint t0{};
  t0 += 1000h;
  EXPECT_FALSE(b.InBackoffSince("c", t0, t0)) << "first restart is immediate";
  b.Next("c", t0);
  EXPECT_EQ(b.Get("c"), 10s);
  EXPECT_TRUE(b.InBackoffSince("c", t0, t0 + 9s));
  EXPECT_FALSE(b.InBackoffSince("c", t0, t0 + 10s));
  TimePoint t = t0;
  std::vector<int> seen;
  for (int i = 0; i < 7; ++i) {
    t += 1s;
    b.Next("c", t);
    seen.push_back(static_cast<int>(std::chrono::duration_cast<std::chrono::seconds>(b.Get("c")).count()));
  }
  EXPECT_EQ(seen, (std::vector<int>{20, 40, 80, 160, 300, 300, 300}));
  // Ten quiet minutes (twice the maximum) start over.
  b.Next("c", t + 601s);
  EXPECT_EQ(b.Get("c"), 10s);
  b.ResetPrefix("c");
  EXPECT_EQ(b.Get("c"), 0s);
}

}  // namespace
}  // namespace kubes::kubelet
