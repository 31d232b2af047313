// The CronJob controller's SyncCronJob against a real in-process apiserver with a fake
// clock, and the apiserver's validation of CronJobs. No Job controller runs: the
// tests finish Jobs by writing their status.
#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "apiserver/testing/test_server.h"
#include "client/informer.h"
#include "client/resources.h"
#include "controller/cronjob/cronjob_controller.h"
#include "controller/cronjob/timezone.h"

namespace kubes::controller {
namespace {

using apiserver::testing::TestServer;
using client::kCronJobs;
using client::kEvents;
using client::kJobs;
using std::chrono::minutes;
using std::chrono::seconds;

class FakeClock : public Clock {
 public:
  TimePoint Now() const override { return now.load(); }
  std::atomic<TimePoint> now{std::chrono::system_clock::now()};
};

int64_t Secs(TimePoint t) { return std::chrono::duration_cast<seconds>(t.time_since_epoch()).count(); }

class CronJobControllerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(server_.Start("kubes-cronjob").ok());
    c_ = server_.client();
    jobs_ = std::make_unique<client::Informer>(c_, kJobs);
    cronjobs_ = std::make_unique<client::Informer>(c_, kCronJobs);
    cc_ = std::make_unique<CronJobController>(c_, *jobs_, *cronjobs_, clock_);
    for (auto* inf : {jobs_.get(), cronjobs_.get()}) threads_.emplace_back([this, inf] { inf->Run(stop_); });
    ASSERT_TRUE(TestServer::Eventually([&] { return jobs_->HasSynced() && cronjobs_->HasSynced(); }));
  }
  void TearDown() override {
    stop_ = true;
    for (auto& t : threads_) t.join();
    cc_.reset();
    server_.Stop();
  }

  static Json NewCronJob(const std::string& name, const std::string& schedule, Json extra = Json::object()) {
    Json spec = {{"schedule", schedule},
                 {"jobTemplate",
                  {{"metadata", {{"labels", {{"app", name}}}}},
                   {"spec",
                    {{"template",
                      {{"spec",
                        {{"restartPolicy", "OnFailure"},
                         {"containers", {{{"name", "hello"}, {"image", "busybox:1.28"}}}}}}}}}}}}};
    spec.update(extra);
    return {{"apiVersion", "batch/v1"}, {"kind", "CronJob"}, {"metadata", {{"name", name}}}, {"spec", spec}};
  }
  // Creates the CronJob; the fake clock starts at its creation time.
  Json Create(const Json& cj) {
    auto made = c_->Create(kCronJobs, "default", cj);
    EXPECT_TRUE(made.ok()) << made.status().ToString();
    if (!made.ok()) return Json();
    clock_.now = *ParseRFC3339((*made)["metadata"]["creationTimestamp"]);
    return *made;
  }
  void CatchUp() {
    for (auto [inf, res] : {std::pair{jobs_.get(), &kJobs}, std::pair{cronjobs_.get(), &kCronJobs}}) {
      Json items = (*c_->List(*res, "default"))["items"];
      ASSERT_TRUE(TestServer::Eventually([&] {
        if (inf->List().size() != items.size()) return false;
        for (const auto& obj : items) {
          Json got;
          if (!inf->Get("default/" + obj["metadata"]["name"].get<std::string>(), &got) ||
              got["metadata"]["resourceVersion"] != obj["metadata"]["resourceVersion"]) {
            return false;
          }
        }
        return true;
      }));
    }
  }
  std::optional<std::chrono::milliseconds> Sync(const std::string& name) {
    CatchUp();
    auto r = cc_->SyncCronJob("default/" + name);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? *r : std::nullopt;
  }
  std::vector<Json> Jobs() {
    Json list = *c_->List(kJobs, "default");
    std::vector<Json> out;
    for (const auto& j : list["items"]) {
      if (!j["metadata"].contains("deletionTimestamp")) out.push_back(j);
    }
    return out;
  }
  Json GetCronJob(const std::string& name) { return *c_->Get(kCronJobs, "default", name); }
  void FinishJob(const std::string& name, const std::string& type, TimePoint at) {
    Json job = *c_->Get(kJobs, "default", name);
    std::string t = FormatRFC3339(at);
    job["status"] = {{"startTime", t},
                     {"conditions", {{{"type", type}, {"status", "True"}, {"lastTransitionTime", t}, {"lastProbeTime", t}}}}};
    if (type == "Complete") job["status"]["completionTime"] = t;
    ASSERT_TRUE(c_->Update(kJobs, "default", job, "status").ok());
  }
  long EventCount(const std::string& reason, long want) {
    long n = 0;
    TestServer::Eventually([&] {
      n = 0;
      Json list = *c_->List(kEvents, "default");
      for (const auto& e : list["items"]) {
        if (e["reason"] == reason) n += e.value("count", 1);
      }
      return n >= want;
    });
    return n;
  }
  // The next whole minute after the clock, plus `s` seconds.
  void ToNextMinute(int s = 5) {
    int64_t now = Secs(clock_.Now());
    clock_.now = std::chrono::system_clock::from_time_t((now / 60 + 1) * 60 + s);
  }

  TestServer server_;
  client::Client* c_ = nullptr;
  FakeClock clock_;
  std::unique_ptr<client::Informer> jobs_, cronjobs_;
  std::unique_ptr<CronJobController> cc_;
  std::atomic<bool> stop_{false};
  std::vector<std::thread> threads_;
};

TEST_F(CronJobControllerTest, CreatesOneJobPerScheduleTimeAndRequeuesForTheNext) {
  Json cj = Create(NewCronJob("hello", "* * * * *"));
  EXPECT_EQ(cj["spec"]["concurrencyPolicy"], "Allow");
  EXPECT_EQ(cj["spec"]["successfulJobsHistoryLimit"], 3);
  EXPECT_EQ(cj["spec"]["failedJobsHistoryLimit"], 1);
  // Nothing is due yet: come back 100 ms after the next minute.
  auto requeue = Sync("hello");
  ASSERT_TRUE(requeue.has_value());
  int64_t now = Secs(clock_.Now());
  EXPECT_NEAR(requeue->count(), ((now / 60 + 1) * 60 - now) * 1000 + 100, 1000);
  EXPECT_TRUE(Jobs().empty());

  ToNextMinute();
  int64_t scheduled = Secs(clock_.Now()) / 60 * 60;
  requeue = Sync("hello");
  auto jobs = Jobs();
  ASSERT_EQ(jobs.size(), 1u);
  Json job = jobs[0];
  EXPECT_EQ(job["metadata"]["name"], "hello-" + std::to_string(scheduled / 60));
  EXPECT_EQ(job["metadata"]["annotations"]["batch.kubernetes.io/cronjob-scheduled-timestamp"],
            FormatRFC3339(std::chrono::system_clock::from_time_t(scheduled)));
  EXPECT_EQ(job["metadata"]["labels"]["app"], "hello");
  EXPECT_EQ(job["metadata"]["ownerReferences"][0]["kind"], "CronJob");
  EXPECT_EQ(job["metadata"]["ownerReferences"][0]["controller"], true);
  Json st = GetCronJob("hello")["status"];
  ASSERT_EQ(st["active"].size(), 1u);
  EXPECT_EQ(st["active"][0]["name"], job["metadata"]["name"]);
  EXPECT_EQ(st["lastScheduleTime"], FormatRFC3339(std::chrono::system_clock::from_time_t(scheduled)));
  ASSERT_TRUE(requeue.has_value());
  EXPECT_EQ(requeue->count(), (scheduled + 60 - Secs(clock_.Now())) * 1000 + 100);

  // The same minute again: nothing new.
  Sync("hello");
  EXPECT_EQ(Jobs().size(), 1u);

  // It completes: it leaves the active list; the next sync (the status update causes
  // one) moves lastSuccessfulTime, as upstream.
  FinishJob(job["metadata"]["name"], "Complete", clock_.Now());
  Sync("hello");
  st = GetCronJob("hello")["status"];
  EXPECT_FALSE(st.contains("active"));
  EXPECT_FALSE(st.contains("lastSuccessfulTime"));
  Sync("hello");
  EXPECT_EQ(GetCronJob("hello")["status"]["lastSuccessfulTime"], FormatRFC3339(clock_.Now()));
  EXPECT_EQ(EventCount("SuccessfulCreate", 1), 1);
  EXPECT_EQ(EventCount("SawCompletedJob", 1), 1);
}

TEST_F(CronJobControllerTest, HistoryLimitsKeepTheNewestFinishedJobs) {
  Create(NewCronJob("hist", "* * * * *", {{"successfulJobsHistoryLimit", 2}, {"failedJobsHistoryLimit", 1}}));
  std::vector<std::string> names;
  for (int i = 0; i < 4; ++i) {
    ToNextMinute();
    Sync("hist");
    auto jobs = Jobs();
    std::string newest;
    for (const auto& j : jobs) {
      if (!j.contains("status") || !j["status"].contains("conditions")) newest = j["metadata"]["name"];
    }
    ASSERT_FALSE(newest.empty());
    names.push_back(newest);
    FinishJob(newest, i == 1 || i == 3 ? "Failed" : "Complete", clock_.Now());
  }
  Sync("hist");
  std::set<std::string> left;
  for (const auto& j : Jobs()) left.insert(j["metadata"]["name"]);
  // Complete: 0 and 2 (limit 2, both kept); Failed: 1 and 3 (limit 1: 3 kept).
  EXPECT_EQ(left, (std::set<std::string>{names[0], names[2], names[3]}));
  EXPECT_GE(EventCount("SuccessfulDelete", 1), 1);
}

TEST_F(CronJobControllerTest, ConcurrencyPolicies) {
  Create(NewCronJob("forbid", "* * * * *", {{"concurrencyPolicy", "Forbid"}}));
  ToNextMinute();
  Sync("forbid");
  ASSERT_EQ(Jobs().size(), 1u);
  ToNextMinute();
  Sync("forbid");
  EXPECT_EQ(Jobs().size(), 1u);  // the first still runs
  EXPECT_EQ(EventCount("JobAlreadyActive", 1), 1);

  ASSERT_TRUE(c_->Delete(kCronJobs, "default", "forbid", {{"propagationPolicy", "Orphan"}}).ok());
  for (const auto& j : Jobs()) ASSERT_TRUE(c_->Delete(kJobs, "default", j["metadata"]["name"]).ok());
  Create(NewCronJob("replace", "* * * * *", {{"concurrencyPolicy", "Replace"}}));
  ToNextMinute();
  Sync("replace");
  auto first = Jobs();
  ASSERT_EQ(first.size(), 1u);
  ToNextMinute();
  Sync("replace");
  auto second = Jobs();
  ASSERT_EQ(second.size(), 1u);
  EXPECT_NE(second[0]["metadata"]["name"], first[0]["metadata"]["name"]);
  Json st = GetCronJob("replace")["status"];
  ASSERT_EQ(st["active"].size(), 1u);
  EXPECT_EQ(st["active"][0]["name"], second[0]["metadata"]["name"]);
}

TEST_F(CronJobControllerTest, MissedStartsSuspendAndDeadline) {
  Create(NewCronJob("late", "* * * * *", {{"startingDeadlineSeconds", 10}, {"suspend", true}}));
  ToNextMinute(30);
  EXPECT_FALSE(Sync("late").has_value());  // suspended: nothing to wait for
  EXPECT_TRUE(Jobs().empty());
  ASSERT_TRUE(c_->Patch(kCronJobs, "default", "late", "application/merge-patch+json", {{"spec", {{"suspend", false}}}}).ok());
  // 30 s after the minute, a deadline of 10 s has passed: that start is skipped.
  // (Upstream only looks for schedule times inside the deadline window, so its
  // MissSchedule event does not come either.)
  Sync("late");
  EXPECT_TRUE(Jobs().empty());
  ToNextMinute(5);
  Sync("late");
  EXPECT_EQ(Jobs().size(), 1u);
}

TEST_F(CronJobControllerTest, TooManyMissedStartsWarnsAndRunsTheLatest) {
  Create(NewCronJob("behind", "* * * * *"));
  clock_.now = clock_.Now() + minutes(200);
  Sync("behind");
  auto jobs = Jobs();
  ASSERT_EQ(jobs.size(), 1u);  // only the most recent missed time runs
  EXPECT_EQ(jobs[0]["metadata"]["name"], "behind-" + std::to_string(Secs(clock_.Now()) / 60));
  EXPECT_EQ(EventCount("TooManyMissedTimes", 1), 1);
}

TEST_F(CronJobControllerTest, TimeZoneDecidesWallClockAndAnnotation) {
  auto berlin = *cronjob::Location::Load("Europe/Berlin");
  Create(NewCronJob("berlin", "0 3 * * *", {{"timeZone", "Europe/Berlin"}}));
  // The next 03:00 in Berlin after the creation time.
  auto sched = *cronjob::Schedule::Parse("0 3 * * *", berlin);
  TimePoint at = *sched.Next(clock_.Now());
  clock_.now = at + seconds(20);
  Sync("berlin");
  auto jobs = Jobs();
  ASSERT_EQ(jobs.size(), 1u);
  std::string stamp = jobs[0]["metadata"]["annotations"]["batch.kubernetes.io/cronjob-scheduled-timestamp"];
  EXPECT_EQ(stamp.substr(11, 8), "03:00:00") << stamp;
  EXPECT_EQ(stamp, berlin->FormatRFC3339(Secs(at)));
  EXPECT_EQ(jobs[0]["metadata"]["name"], "berlin-" + std::to_string(Secs(at) / 60));
}

TEST_F(CronJobControllerTest, ApiserverValidatesSchedulesAndZones) {
  struct Case {
    Json cj;
    std::string want;
  } cases[] = {
      {NewCronJob("bad", "* * * *"), "spec.schedule: Invalid value: \"* * * *\": expected exactly 5 fields, found 4: [* * * *]"},
      {NewCronJob("bad", "61 * * * *"), "end of range (61) above maximum (59): 61"},
      {NewCronJob("bad", "TZ=UTC * * * * *"), "cannot use TZ or CRON_TZ in schedule, use timeZone field instead"},
      {NewCronJob("bad", "* * * * *", {{"timeZone", "Mars/Base"}}), "spec.timeZone: Invalid value: \"Mars/Base\": unknown time zone Mars/Base"},
      {NewCronJob("bad", "* * * * *", {{"timeZone", "../etc"}}), "unknown time zone ../etc"},
      {NewCronJob(std::string(53, 'a'), "* * * * *"), "must be no more than 52 characters"},
      {NewCronJob("bad", "* * * * *", {{"startingDeadlineSeconds", -1}}), "must be greater than or equal to 0"},
  };
  for (const auto& c : cases) {
    auto r = c_->Create(kCronJobs, "default", c.cj);
    ASSERT_FALSE(r.ok()) << c.cj.dump();
    EXPECT_EQ(r.status().code(), Code::kInvalid);
    EXPECT_NE(r.status().message().find(c.want), std::string::npos) << r.status().message();
  }
  Json always = NewCronJob("always", "@hourly");
  always["spec"]["jobTemplate"]["spec"]["template"]["spec"]["restartPolicy"] = "Always";
  EXPECT_EQ(c_->Create(kCronJobs, "default", always).status().code(), Code::kInvalid);
  EXPECT_TRUE(c_->Create(kCronJobs, "default", NewCronJob("ok", "@every 1h30m", {{"timeZone", "America/New_York"}})).ok());
}

}  // namespace
}  // namespace kubes::controller
