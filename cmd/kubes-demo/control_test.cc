#include "control.h"

#include <gtest/gtest.h>

namespace kubes::demo {
namespace {

using std::chrono::seconds;

const Behaviour kOk{Behaviour::Kind::kOk, Duration(0)};
const Behaviour kFail{Behaviour::Kind::kFail, Duration(0)};

// A Control on a clock the test moves by hand.
class ControlTest : public ::testing::Test {
 protected:
  Control::TimePoint now_{};
  Control control_{[this] { return now_; }};
};

TEST(BehaviourTest, ParseAndFormat) {
  struct Case {
    std::string in;
    std::optional<Behaviour> want;
  } cases[] = {
      {"ok", kOk},
      {"fail", kFail},
      {"slow:2s", Behaviour{Behaviour::Kind::kSlow, Duration(2000)}},
      {"slow:250ms", Behaviour{Behaviour::Kind::kSlow, Duration(250)}},
      {"slow:3", Behaviour{Behaviour::Kind::kSlow, Duration(3000)}},
      {"slow", std::nullopt},
      {"slow:", std::nullopt},
      {"slow:x", std::nullopt},
      {"OK", std::nullopt},
      {"", std::nullopt},
      {"failing", std::nullopt},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(ParseBehaviour(c.in), c.want) << c.in;
    if (c.want && c.in != "slow:3") {
      EXPECT_EQ(FormatBehaviour(*c.want), c.in);
    }
  }
}

TEST(ProbeNameTest, RoundTrips) {
  for (Probe p : kProbes) EXPECT_EQ(ParseProbe(ProbeName(p)), p);
  EXPECT_EQ(ParseProbe("livez"), std::nullopt);
}

TEST_F(ControlTest, EveryProbeStartsOk) {
  for (Probe p : kProbes) {
    EXPECT_EQ(control_.Current(p), kOk);
    EXPECT_EQ(control_.Describe(p), "ok");
  }
}

TEST_F(ControlTest, SetChangesOnlyThatProbe) {
  control_.Set(Probe::kHealthz, kFail);
  EXPECT_EQ(control_.Current(Probe::kHealthz), kFail);
  EXPECT_EQ(control_.Current(Probe::kReadyz), kOk);
  control_.Set(Probe::kHealthz, kOk);
  EXPECT_EQ(control_.Current(Probe::kHealthz), kOk);
}

// READY_AFTER=10s: fail now, ok from 10 s on.
TEST_F(ControlTest, FailThenOkAtTheScheduledTime) {
  control_.Set(Probe::kReadyz, kFail);
  control_.SetAfter(Probe::kReadyz, seconds(10), kOk);
  EXPECT_EQ(control_.Describe(Probe::kReadyz), "fail (ok in 10s)");
  now_ += std::chrono::milliseconds(9999);
  EXPECT_EQ(control_.Current(Probe::kReadyz), kFail);
  EXPECT_EQ(control_.Describe(Probe::kReadyz), "fail (ok in 1ms)");
  now_ += std::chrono::milliseconds(1);
  EXPECT_EQ(control_.Current(Probe::kReadyz), kOk);
  EXPECT_EQ(control_.Describe(Probe::kReadyz), "ok");
  now_ += seconds(100);
  EXPECT_EQ(control_.Current(Probe::kReadyz), kOk);
}

// FAIL_HEALTHZ_AFTER=30s: ok for 30 s, then failing for good.
TEST_F(ControlTest, OkThenFailKeepsTheCurrentBehaviourUntilThen) {
  control_.Set(Probe::kHealthz, Behaviour{Behaviour::Kind::kSlow, Duration(2000)});
  control_.SetAfter(Probe::kHealthz, seconds(30), kFail);
  EXPECT_EQ(control_.Describe(Probe::kHealthz), "slow:2s (fail in 30s)");
  now_ += seconds(30);
  EXPECT_EQ(control_.Current(Probe::kHealthz), kFail);
  now_ += seconds(3600);
  EXPECT_EQ(control_.Current(Probe::kHealthz), kFail);
}

TEST_F(ControlTest, SetDropsAScheduledChange) {
  control_.SetAfter(Probe::kStartupz, seconds(5), kFail);
  control_.Set(Probe::kStartupz, kOk);
  now_ += seconds(10);
  EXPECT_EQ(control_.Current(Probe::kStartupz), kOk);
}

TEST_F(ControlTest, ANewScheduleReplacesTheOldOne) {
  control_.SetAfter(Probe::kReadyz, seconds(5), kFail);
  control_.SetAfter(Probe::kReadyz, seconds(20), kFail);
  now_ += seconds(10);
  EXPECT_EQ(control_.Current(Probe::kReadyz), kOk);
  now_ += seconds(10);
  EXPECT_EQ(control_.Current(Probe::kReadyz), kFail);
}

// A schedule whose time has passed is applied before the next one is set: "fail in 1s",
// wait 2 s, "ok in 5s" gives fail now and ok later (not ok now).
TEST_F(ControlTest, ScheduleAppliesADueChangeFirst) {
  control_.SetAfter(Probe::kReadyz, seconds(1), kFail);
  now_ += seconds(2);
  control_.SetAfter(Probe::kReadyz, seconds(5), kOk);
  EXPECT_EQ(control_.Current(Probe::kReadyz), kFail);
  now_ += seconds(5);
  EXPECT_EQ(control_.Current(Probe::kReadyz), kOk);
}

TEST_F(ControlTest, GetReportsTheTimeLeft) {
  control_.SetAfter(Probe::kHealthz, seconds(30), kFail);
  now_ += seconds(12);
  Control::State s = control_.Get(Probe::kHealthz);
  EXPECT_EQ(s.current, kOk);
  ASSERT_TRUE(s.next.has_value());
  EXPECT_EQ(*s.next, kFail);
  EXPECT_EQ(s.next_in, seconds(18));
}

TEST_F(ControlTest, AfterZeroTakesEffectAtOnce) {
  control_.SetAfter(Probe::kHealthz, Duration(0), kFail);
  EXPECT_EQ(control_.Current(Probe::kHealthz), kFail);
}

}  // namespace
}  // namespace kubes::demo
