#include "client/event_correlator.h"

#include <gtest/gtest.h>

namespace kubes::client {
namespace {

using namespace std::chrono_literals;

const nlohmann::json kPod = {{"kind", "Pod"}, {"namespace", "ns"}, {"name", "p"}, {"uid", "u"},
                             {"apiVersion", "v1"}, {"fieldPath", "spec.containers{app}"}};
const TimePoint t0 = TimePoint(std::chrono::seconds(1700000000));

TEST(EventCorrelatorTest, SpamFilterAllowsABurstThenOnePerFiveMinutes) {
  EventCorrelator c;
  for (int i = 0; i < EventCorrelator::kSpamBurst; ++i) {
    EXPECT_FALSE(c.Correlate(kPod, "Warning", "Unhealthy", "probe failed", t0 + i * 1s).drop) << i;
  }
  EXPECT_TRUE(c.Correlate(kPod, "Warning", "Unhealthy", "probe failed", t0 + 30s).drop);
  EXPECT_TRUE(c.Correlate(kPod, "Warning", "BackOff", "back-off", t0 + 31s).drop) << "one budget for every reason";
  // Other types and other objects have budgets of their own.
  EXPECT_FALSE(c.Correlate(kPod, "Normal", "Pulled", "pulled", t0 + 32s).drop);
  nlohmann::json other = kPod;
  other["name"] = "q";
  EXPECT_FALSE(c.Correlate(other, "Warning", "Unhealthy", "probe failed", t0 + 33s).drop);
  // The bucket refills all the time, one token per 5 minutes: the burst took 25 tokens,
  // so the next one is there 5 minutes after the first event.
  EXPECT_TRUE(c.Correlate(kPod, "Warning", "Unhealthy", "probe failed", t0 + 299s).drop);
  EXPECT_FALSE(c.Correlate(kPod, "Warning", "Unhealthy", "probe failed", t0 + 301s).drop);
  EXPECT_TRUE(c.Correlate(kPod, "Warning", "Unhealthy", "probe failed", t0 + 302s).drop);
}

TEST(EventCorrelatorTest, SimilarMessagesAreCombined) {
  EventCorrelator c;
  std::string first_key;
  for (int i = 0; i < 9; ++i) {
    auto d = c.Correlate(kPod, "Warning", "FailedMount", "volume " + std::to_string(i), t0 + i * 1s);
    EXPECT_EQ(d.message, "volume " + std::to_string(i));
    EXPECT_NE(d.repeat_key, first_key);
    first_key = d.repeat_key;
  }
  // The tenth different message within 10 minutes: combined from now on, under one key.
  auto tenth = c.Correlate(kPod, "Warning", "FailedMount", "volume 9", t0 + 10s);
  EXPECT_EQ(tenth.message, "(combined from similar events): volume 9");
  auto eleventh = c.Correlate(kPod, "Warning", "FailedMount", "volume 10", t0 + 11s);
  EXPECT_EQ(eleventh.message, "(combined from similar events): volume 10");
  EXPECT_EQ(eleventh.repeat_key, tenth.repeat_key);
  // The same message again is a repeat of itself, not a new one.
  auto again = c.Correlate(kPod, "Warning", "Other", "x", t0 + 12s);
  EXPECT_EQ(again.repeat_key, c.Correlate(kPod, "Warning", "Other", "x", t0 + 13s).repeat_key);
  // After 10 quiet minutes the group starts over.
  auto later = c.Correlate(kPod, "Warning", "FailedMount", "volume 11", t0 + 11s + 601s);
  EXPECT_EQ(later.message, "volume 11");
}

}  // namespace
}  // namespace kubes::client
