// StatsCollector with a fake machine and a fake clock: the CPU rate over the window,
// the working set, what is left out before a window has passed, forgotten cgroups;
// and the /proc parsers on real-looking text.
#include "kubelet/stats.h"

#include <gtest/gtest.h>

namespace kubes::kubelet {
namespace {

using Json = nlohmann::json;
using std::chrono::seconds;

class FakeClock : public Clock {
 public:
  TimePoint Now() const override { return now; }
  TimePoint now = TimePoint(seconds(1700000000));
};

// Cgroups and the node as a test sets them.
class FakeReader : public UsageReader {
 public:
  std::map<std::string, runtime::CgroupUsage>* cgroups;
  runtime::CgroupUsage* node;
  std::optional<runtime::CgroupUsage> Cgroup(const std::string& path) override {
    auto it = cgroups->find(path);
    if (it == cgroups->end()) return std::nullopt;
    return it->second;
  }
  std::optional<runtime::CgroupUsage> Node() override { return *node; }
};

class StatsCollectorTest : public ::testing::Test {
 protected:
  StatsCollectorTest() {
    auto reader = std::make_unique<FakeReader>();
    reader->cgroups = &cgroups_;
    reader->node = &node_;
    collector_ = std::make_unique<StatsCollector>(std::move(reader), clock_);
    pods_ = {{"default", "web", "u1", "/k/podu1", clock_.now, {{"app", "/k/podu1/c1", clock_.now}}}};
  }

  // Advances the clock by d; every cgroup and the node used `cores` of CPU meanwhile.
  void Advance(seconds d, double cores) {
    clock_.now += d;
    uint64_t used = static_cast<uint64_t>(cores * 1e9 * static_cast<double>(d.count()));
    for (auto& [path, u] : cgroups_) u.cpu_usage_ns += used;
    node_.cpu_usage_ns += used;
  }

  FakeClock clock_;
  std::map<std::string, runtime::CgroupUsage> cgroups_ = {{"/k/podu1", {1000, 8 << 20}},
                                                          {"/k/podu1/c1", {1000, 6 << 20}}};
  runtime::CgroupUsage node_{5000, 1 << 30};
  std::unique_ptr<StatsCollector> collector_;
  std::vector<PodStatsRef> pods_;
};

TEST_F(StatsCollectorTest, RateAppearsOnceAWindowHasPassed) {
  collector_->Collect(pods_);
  Json s = collector_->Summary("n1", pods_);
  ASSERT_EQ(s["pods"].size(), 1u);
  const Json& c = s["pods"][0]["containers"][0];
  EXPECT_EQ(c["name"], "app");
  EXPECT_FALSE(c["cpu"].contains("usageNanoCores")) << "one reading gives no rate";
  EXPECT_EQ(c["memory"]["workingSetBytes"], 6 << 20);
  EXPECT_EQ(s["node"]["nodeName"], "n1");
  EXPECT_EQ(s["node"]["memory"]["workingSetBytes"], 1 << 30);

  for (int i = 0; i < 3; ++i) {
    Advance(StatsCollector::kInterval, 0.25);
    collector_->Collect(pods_);
  }
  s = collector_->Summary("n1", pods_);
  EXPECT_EQ(s["pods"][0]["containers"][0]["cpu"]["usageNanoCores"], 250000000u);
  EXPECT_EQ(s["pods"][0]["cpu"]["usageNanoCores"], 250000000u);
  EXPECT_EQ(s["node"]["cpu"]["usageNanoCores"], 250000000u);
  EXPECT_EQ(s["pods"][0]["podRef"], Json({{"name", "web"}, {"namespace", "default"}, {"uid", "u1"}}));
  EXPECT_EQ(s["pods"][0]["cpu"]["time"], FormatRFC3339(clock_.now));
}

TEST_F(StatsCollectorTest, RateCoversTheLastWindowOnly) {
  collector_->Collect(pods_);
  // 30 s busy, then 15 s idle: the rate reads the idle window.
  for (int i = 0; i < 6; ++i) {
    Advance(StatsCollector::kInterval, 1.0);
    collector_->Collect(pods_);
  }
  for (int i = 0; i < 3; ++i) {
    Advance(StatsCollector::kInterval, 0.0);
    collector_->Collect(pods_);
  }
  Json s = collector_->Summary("n1", pods_);
  EXPECT_EQ(s["pods"][0]["containers"][0]["cpu"]["usageNanoCores"], 0u);
  // Half-way through a change the rate is the mix of the window.
  Advance(StatsCollector::kInterval, 3.0);
  collector_->Collect(pods_);
  s = collector_->Summary("n1", pods_);
  EXPECT_EQ(s["pods"][0]["containers"][0]["cpu"]["usageNanoCores"], 1000000000u);
}

TEST_F(StatsCollectorTest, LateCollectionStillFindsItsWindow) {
  collector_->Collect(pods_);
  Advance(seconds(7), 0.5);
  collector_->Collect(pods_);
  Advance(seconds(7), 0.5);  // 14 s: within half an interval of the window
  collector_->Collect(pods_);
  Json s = collector_->Summary("n1", pods_);
  EXPECT_EQ(s["pods"][0]["containers"][0]["cpu"]["usageNanoCores"], 500000000u);
}

TEST_F(StatsCollectorTest, GoneCgroupsAreForgotten) {
  collector_->Collect(pods_);
  cgroups_.erase("/k/podu1/c1");  // the container restarted: a new cgroup
  cgroups_["/k/podu1/c2"] = {0, 1 << 20};
  pods_[0].containers = {{"app", "/k/podu1/c2", clock_.now}};
  Advance(StatsCollector::kInterval, 0.1);
  collector_->Collect(pods_);
  Json s = collector_->Summary("n1", pods_);
  ASSERT_EQ(s["pods"][0]["containers"].size(), 1u);
  EXPECT_FALSE(s["pods"][0]["containers"][0]["cpu"].contains("usageNanoCores"));
  // A pod whose cgroup was never read is not reported.
  std::vector<PodStatsRef> other = {{"default", "new", "u2", "/k/podu2", clock_.now, {}}};
  EXPECT_TRUE(collector_->Summary("n1", other)["pods"].empty());
}

TEST_F(StatsCollectorTest, CounterGoingBackwardsGivesNoRate) {
  collector_->Collect(pods_);
  for (int i = 0; i < 3; ++i) {
    Advance(StatsCollector::kInterval, 0.1);
    collector_->Collect(pods_);
  }
  cgroups_["/k/podu1/c1"].cpu_usage_ns = 0;
  Advance(StatsCollector::kInterval, 0.0);
  collector_->Collect(pods_);
  Json s = collector_->Summary("n1", pods_);
  EXPECT_FALSE(s["pods"][0]["containers"][0]["cpu"].contains("usageNanoCores"));
}

TEST(ProcParsers, ProcStat) {
  const char* stat = "cpu  2868497 0 495342 1134388 12301 0 10793 4516 0 0\ncpu0 1 2 3 4 5 6 7 8 0 0\n";
  // (2868497 + 0 + 495342 + 0 + 10793 + 4516) ticks at 100 Hz.
  EXPECT_EQ(ParseProcStatCPU(stat, 100), 3379148ULL * 10000000ULL);
  EXPECT_EQ(ParseProcStatCPU("cpu 1 2 3 4\n", 100), 6ULL * 10000000ULL);
  EXPECT_FALSE(ParseProcStatCPU("", 100));
  EXPECT_FALSE(ParseProcStatCPU("intr 1 2 3\n", 100));
  EXPECT_FALSE(ParseProcStatCPU("cpu 1 x\n", 100));
  EXPECT_FALSE(ParseProcStatCPU("cpu 1 2 3 4\n", 0));
}

TEST(ProcParsers, Meminfo) {
  const char* meminfo =
      "MemTotal:        8000000 kB\nMemFree:         3000000 kB\nMemAvailable:    6000000 kB\n"
      "Inactive(file):  1000000 kB\nActive(file):    500000 kB\n";
  EXPECT_EQ(ParseMeminfoWorkingSet(meminfo), 4000000ULL * 1024);
  EXPECT_EQ(ParseMeminfoWorkingSet("MemTotal: 100 kB\nMemFree: 40 kB\n"), 60ULL * 1024);
  EXPECT_FALSE(ParseMeminfoWorkingSet("MemTotal: 100 kB\n"));
  EXPECT_FALSE(ParseMeminfoWorkingSet("garbage"));
}

}  // namespace
}  // namespace kubes::kubelet
