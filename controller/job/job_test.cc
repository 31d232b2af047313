// The Job controller: its pure helpers table by table, and SyncJob against a real
// in-process apiserver (apiserver/testing/test_server.h) with a fake clock. Nothing
// runs pods here: the tests write pod status themselves, as a kubelet would.
#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "apiserver/testing/test_server.h"
#include "client/informer.h"
#include "client/resources.h"
#include "controller/job/job_controller.h"
#include "controller/job/job_utils.h"
#include "controller/ttlafterfinished/ttl_after_finished_controller.h"

namespace kubes::controller {
namespace {

using apiserver::testing::TestServer;
using client::kEvents;
using client::kJobs;
using client::kPods;
using client::kServiceAccounts;
using std::chrono::seconds;
namespace j = job;

// ---- helpers on their own ----

TEST(JobUtils, IntervalsParseAndPrintLikeStatus) {
  struct Case {
    std::string in;
    int completions;
    std::string want;
    int total;
  } cases[] = {
      {"", 5, "", 0},           {"1", 5, "1", 1},         {"1,2", 5, "1,2", 2},   {"1-3,5", 10, "1-3,5", 4},
      {"0,1,2", 5, "0-2", 3},   {"1-9", 5, "1-4", 4},     {"7", 5, "", 0},        {"x,2", 5, "2", 1},
  };
  for (const auto& c : cases) {
    auto iv = j::OrderedIntervals::Parse(c.in, c.completions);
    EXPECT_EQ(iv.String(), c.want) << c.in;
    EXPECT_EQ(iv.Total(), c.total) << c.in;
  }
  auto iv = j::OrderedIntervals::Parse("1,5-6", 10).WithOrderedIndexes({0, 3, 7});
  EXPECT_EQ(iv.String(), "0,1,3,5-7");
  EXPECT_TRUE(iv.Has(6));
  EXPECT_FALSE(iv.Has(4));
  EXPECT_EQ(j::FirstPendingIndexes(iv, 3, 10), (std::vector<int>{2, 4, 8}));
  EXPECT_EQ(j::FirstPendingIndexes(iv, 5, 9), (std::vector<int>{2, 4, 8}));
}

TEST(JobUtils, PodFailureBackoffDoublesUpToTenMinutes) {
  TimePoint t0 = std::chrono::system_clock::from_time_t(1700000000);
  struct Case {
    int failures;
    int waited_seconds;
    int want_seconds;
  } cases[] = {{0, 0, 0}, {1, 0, 10}, {1, 4, 6}, {1, 11, 0}, {2, 0, 20}, {3, 0, 40},
               {6, 0, 320}, {7, 0, 600}, {20, 0, 600}, {20, 601, 0}};
  for (const auto& c : cases) {
    auto got = j::RemainingTimeForFailures(c.failures, t0, t0 + seconds(c.waited_seconds));
    EXPECT_EQ(got, std::chrono::milliseconds(c.want_seconds * 1000)) << c.failures << " after " << c.waited_seconds;
  }
}

Json FailedPod(const std::string& name, int exit_code, const std::string& finished = "2024-01-01T00:00:10Z") {
  return {{"metadata", {{"name", name}, {"namespace", "default"}, {"creationTimestamp", "2024-01-01T00:00:00Z"}}},
          {"status",
           {{"phase", "Failed"},
            {"containerStatuses",
             {{{"name", "main"}, {"state", {{"terminated", {{"exitCode", exit_code}, {"finishedAt", finished}}}}}}}}}}};
}

TEST(JobUtils, PodFailurePolicyFirstMatchingRuleWins) {
  Json job = {{"spec",
               {{"podFailurePolicy",
                 {{"rules",
                   {{{"action", "Ignore"}, {"onPodConditions", {{{"type", "DisruptionTarget"}}}}},
                    {{"action", "FailJob"}, {"onExitCodes", {{"containerName", "main"}, {"operator", "In"}, {"values", {42}}}}},
                    {{"action", "Count"}, {"onExitCodes", {{"operator", "NotIn"}, {"values", {0, 42}}}}}}}}}}}};
  auto m = j::MatchPodFailurePolicy(job, FailedPod("p", 42));
  ASSERT_TRUE(m.fail_job_message.has_value());
  EXPECT_EQ(*m.fail_job_message, "Container main for pod default/p failed with exit code 42 matching FailJob rule at index 1");
  m = j::MatchPodFailurePolicy(job, FailedPod("p", 1));
  EXPECT_EQ(m.action, "Count");
  EXPECT_TRUE(m.count_failed);
  Json disrupted = FailedPod("p", 137);
  disrupted["status"]["conditions"] = {{{"type", "DisruptionTarget"}, {"status", "True"}}};
  m = j::MatchPodFailurePolicy(job, disrupted);
  EXPECT_EQ(m.action, "Ignore");
  EXPECT_FALSE(m.count_failed);
}

TEST(JobUtils, SuccessPolicyRules) {
  Json job = {{"spec",
               {{"completions", 5},
                {"successPolicy",
                 {{"rules", {{{"succeededIndexes", "0,2-3"}, {"succeededCount", 2}}, {{"succeededCount", 4}}}}}}}}};
  EXPECT_FALSE(j::MatchSuccessPolicy(job, j::OrderedIntervals::Parse("0,4", 5)).has_value());
  EXPECT_EQ(j::MatchSuccessPolicy(job, j::OrderedIntervals::Parse("0,3", 5)), "Matched rules at index 0");
  EXPECT_EQ(j::MatchSuccessPolicy(job, j::OrderedIntervals::Parse("1,2,4", 5)), std::nullopt);
  EXPECT_EQ(j::MatchSuccessPolicy(job, j::OrderedIntervals::Parse("0-2,4", 5)), "Matched rules at index 0");
  EXPECT_EQ(j::MatchSuccessPolicy(job, j::OrderedIntervals::Parse("1-4", 5)), "Matched rules at index 0");
  EXPECT_EQ(j::MatchSuccessPolicy(job, j::OrderedIntervals::Parse("1,4", 5)), std::nullopt);
}

// ---- against an apiserver ----

class FakeClock : public Clock {
 public:
  TimePoint Now() const override { return now.load(); }
  std::atomic<TimePoint> now{std::chrono::system_clock::now()};
  void Advance(std::chrono::seconds d) { now = now.load() + d; }
};

class JobControllerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(server_.Start("kubes-job").ok());
    c_ = server_.client();
    Json sa = {{"apiVersion", "v1"}, {"kind", "ServiceAccount"}, {"metadata", {{"name", "default"}}}};
    ASSERT_TRUE(c_->Create(kServiceAccounts, "default", sa).ok());
    pods_ = std::make_unique<client::Informer>(c_, kPods);
    jobs_ = std::make_unique<client::Informer>(c_, kJobs);
    jc_ = std::make_unique<JobController>(c_, *pods_, *jobs_, clock_);
    for (auto* inf : {pods_.get(), jobs_.get()}) threads_.emplace_back([this, inf] { inf->Run(stop_); });
    ASSERT_TRUE(TestServer::Eventually([&] { return pods_->HasSynced() && jobs_->HasSynced(); }));
  }
  void TearDown() override {
    stop_ = true;
    for (auto& t : threads_) t.join();
    jc_.reset();
    server_.Stop();
  }

  static Json NewJob(const std::string& name, Json spec) {
    Json tmpl = {{"spec",
                  {{"restartPolicy", "Never"}, {"containers", {{{"name", "main"}, {"image", "busybox"}}}}}}};
    if (!spec.contains("template")) spec["template"] = tmpl;
    return {{"apiVersion", "batch/v1"}, {"kind", "Job"}, {"metadata", {{"name", name}}}, {"spec", spec}};
  }
  Json Create(const Json& job) {
    auto made = c_->Create(kJobs, "default", job);
    EXPECT_TRUE(made.ok()) << made.status().ToString();
    return made.ok() ? *made : Json();
  }
  // Waits until the informers hold exactly what the apiserver holds.
  void CatchUp() {
    for (auto [inf, res] : {std::pair{pods_.get(), &kPods}, std::pair{jobs_.get(), &kJobs}}) {
      Json items = (*c_->List(*res, "default"))["items"];
      ASSERT_TRUE(TestServer::Eventually([&] {
        if (inf->List().size() != items.size()) return false;
        for (const auto& obj : items) {
          Json got;
          if (!inf->Get("default/" + obj["metadata"]["name"].get<std::string>(), &got)) return false;
          if (got["metadata"]["resourceVersion"] != obj["metadata"]["resourceVersion"]) return false;
        }
        return true;
      })) << "informer of " << res->resource << " did not catch up";
    }
  }
  Status Sync(const std::string& name) {
    CatchUp();
    return jc_->SyncJob("default/" + name);
  }
  Json GetJob(const std::string& name) { return *c_->Get(kJobs, "default", name); }
  std::vector<Json> Pods(bool include_deleted = false) {
    std::vector<Json> out;
    Json list = *c_->List(kPods, "default");
    for (const auto& p : list["items"]) {
      if (include_deleted || !p["metadata"].contains("deletionTimestamp")) out.push_back(p);
    }
    return out;
  }
  // What a kubelet reports when the pod's one container exits.
  void Finish(const Json& pod, int exit_code) {
    Json p = pod;
    std::string now = FormatRFC3339(clock_.Now());
    p["status"] = {{"phase", exit_code == 0 ? "Succeeded" : "Failed"},
                   {"containerStatuses",
                    {{{"name", "main"},
                      {"ready", false},
                      {"restartCount", 0},
                      {"image", "busybox"},
                      {"imageID", ""},
                      {"state", {{"terminated", {{"exitCode", exit_code}, {"finishedAt", now}, {"startedAt", now}}}}}}}}};
    auto r = c_->Update(kPods, "default", p, "status");
    ASSERT_TRUE(r.ok()) << r.status().ToString();
  }
  std::vector<std::string> ConditionTypes(const Json& job) {
    std::vector<std::string> out;
    for (const auto& c : job["status"].value("conditions", Json::array())) {
      out.push_back(c["type"].get<std::string>() + "=" + c["status"].get<std::string>() + "/" + c.value("reason", ""));
    }
    return out;
  }
  // Events about `name` with `reason`, waiting (a little) for at least `want` of them:
  // the recorder writes in the background.
  long EventCount(const std::string& name, const std::string& reason, long want) {
    long n = 0;
    TestServer::Eventually([&] {
      n = 0;
      Json list = *c_->List(kEvents, "default");
      for (const auto& e : list["items"]) {
        if (e["involvedObject"].value("name", "") == name && e["reason"] == reason) n += e.value("count", 1);
      }
      return n >= want;
    });
    return n;
  }

  TestServer server_;
  client::Client* c_ = nullptr;
  FakeClock clock_;
  std::unique_ptr<client::Informer> pods_, jobs_;
  std::unique_ptr<JobController> jc_;
  std::atomic<bool> stop_{false};
  std::vector<std::thread> threads_;
};

TEST_F(JobControllerTest, ApiserverGeneratesSelectorAndPodLabels) {
  Json job = NewJob("pi", {});
  job["spec"]["template"]["metadata"]["labels"] = {{"app", "pi"}, {"job-name", "mine"}};
  Json made = Create(job);
  std::string uid = made["metadata"]["uid"];
  EXPECT_EQ(made["spec"]["selector"], Json({{"matchLabels", {{"batch.kubernetes.io/controller-uid", uid}}}}));
  Json labels = made["spec"]["template"]["metadata"]["labels"];
  EXPECT_EQ(labels["batch.kubernetes.io/controller-uid"], uid);
  EXPECT_EQ(labels["controller-uid"], uid);
  EXPECT_EQ(labels["batch.kubernetes.io/job-name"], "pi");
  EXPECT_EQ(labels["job-name"], "mine");  // a label the user set is kept
  EXPECT_EQ(made["metadata"]["labels"], Json({{"app", "pi"}, {"job-name", "mine"}}));  // from the template
  EXPECT_EQ(made["spec"]["backoffLimit"], 6);
  EXPECT_EQ(made["spec"]["completions"], 1);
  // A template label contradicting the generated selector is refused.
  Json bad = NewJob("bad", {});
  bad["spec"]["template"]["metadata"]["labels"] = {{"batch.kubernetes.io/controller-uid", "not-mine"}};
  EXPECT_EQ(c_->Create(kJobs, "default", bad).status().code(), Code::kInvalid);
}

TEST_F(JobControllerTest, NonIndexedJobRunsUntilCompletionsSucceed) {
  Create(NewJob("pi", {{"completions", 3}, {"parallelism", 2}}));
  ASSERT_TRUE(Sync("pi").ok());
  auto pods = Pods();
  ASSERT_EQ(pods.size(), 2u);
  for (const auto& p : pods) {
    EXPECT_EQ(p["metadata"]["generateName"], "pi-");
    EXPECT_EQ(p["metadata"]["finalizers"], Json::array({"batch.kubernetes.io/job-tracking"}));
    EXPECT_EQ(p["metadata"]["ownerReferences"][0]["kind"], "Job");
    EXPECT_EQ(p["metadata"]["labels"]["batch.kubernetes.io/job-name"], "pi");
  }
  Json st = GetJob("pi")["status"];
  EXPECT_EQ(st["active"], 2);
  EXPECT_EQ(st["ready"], 0);
  EXPECT_EQ(st["terminating"], 0);
  EXPECT_TRUE(st.contains("startTime"));
  EXPECT_EQ(st["uncountedTerminatedPods"], Json::object());

  // One succeeds: it is counted (its finalizer goes) and a third pod starts.
  Finish(pods[0], 0);
  ASSERT_TRUE(Sync("pi").ok());
  st = GetJob("pi")["status"];
  EXPECT_EQ(st["succeeded"], 1);
  EXPECT_EQ(st["active"], 2);
  EXPECT_FALSE(j::HasJobTrackingFinalizer(*c_->Get(kPods, "default", pods[0]["metadata"]["name"])));
  EXPECT_EQ(Pods().size(), 3u);
  // Syncing again counts nothing twice.
  ASSERT_TRUE(Sync("pi").ok());
  EXPECT_EQ(GetJob("pi")["status"]["succeeded"], 1);

  for (const auto& p : Pods()) {
    if (p["status"].value("phase", "") != "Succeeded") Finish(p, 0);
  }
  ASSERT_TRUE(Sync("pi").ok());
  Json done = GetJob("pi");
  EXPECT_EQ(done["status"]["succeeded"], 3);
  EXPECT_FALSE(done["status"].contains("active"));
  EXPECT_EQ(ConditionTypes(done), (std::vector<std::string>{"SuccessCriteriaMet=True/CompletionsReached",
                                                            "Complete=True/CompletionsReached"}));
  EXPECT_EQ(done["status"]["conditions"][1]["message"], "Reached expected number of succeeded pods");
  EXPECT_TRUE(done["status"].contains("completionTime"));
  EXPECT_EQ(EventCount("pi", "SuccessfulCreate", 3), 3);
  EXPECT_EQ(EventCount("pi", "Completed", 1), 1);
}

TEST_F(JobControllerTest, FailuresBackOffThenExceedTheBackoffLimit) {
  Create(NewJob("flaky", {{"backoffLimit", 1}}));
  ASSERT_TRUE(Sync("flaky").ok());
  ASSERT_EQ(Pods().size(), 1u);
  Finish(Pods()[0], 1);
  ASSERT_TRUE(Sync("flaky").ok());
  Json st = GetJob("flaky")["status"];
  EXPECT_EQ(st["failed"], 1);
  EXPECT_FALSE(st.contains("active"));
  // The replacement waits 10 s after the failure.
  EXPECT_EQ(Pods().size(), 1u);
  clock_.Advance(seconds(5));
  ASSERT_TRUE(Sync("flaky").ok());
  EXPECT_EQ(Pods().size(), 1u);
  clock_.Advance(seconds(6));
  ASSERT_TRUE(Sync("flaky").ok());
  ASSERT_EQ(Pods().size(), 2u);

  for (const auto& p : Pods()) {
    if (p["status"].value("phase", "") != "Failed") Finish(p, 1);
  }
  ASSERT_TRUE(Sync("flaky").ok());
  Json failed = GetJob("flaky");
  EXPECT_EQ(failed["status"]["failed"], 2);
  EXPECT_EQ(ConditionTypes(failed), (std::vector<std::string>{"FailureTarget=True/BackoffLimitExceeded",
                                                              "Failed=True/BackoffLimitExceeded"}));
  EXPECT_EQ(failed["status"]["conditions"][1]["message"], "Job has reached the specified backoff limit");
  EXPECT_FALSE(failed["status"].contains("completionTime"));
  EXPECT_EQ(EventCount("flaky", "BackoffLimitExceeded", 1), 1);
}

TEST_F(JobControllerTest, ActiveDeadlineStopsTheJob) {
  Create(NewJob("slow", {{"activeDeadlineSeconds", 5}, {"parallelism", 2}, {"completions", 4}}));
  ASSERT_TRUE(Sync("slow").ok());
  ASSERT_EQ(Pods().size(), 2u);
  clock_.Advance(seconds(6));
  ASSERT_TRUE(Sync("slow").ok());
  // The running pods were deleted; unscheduled, they are gone once their finalizer is.
  EXPECT_TRUE(Pods(true).empty());
  Json st = GetJob("slow")["status"];
  EXPECT_EQ(st["failed"], 2);
  EXPECT_EQ(st["terminating"], 2);  // as far as this sync knew
  EXPECT_EQ(ConditionTypes(GetJob("slow")), (std::vector<std::string>{"FailureTarget=True/DeadlineExceeded"}));
  // Failed waits until no pod is terminating.
  ASSERT_TRUE(Sync("slow").ok());
  EXPECT_EQ(ConditionTypes(GetJob("slow")), (std::vector<std::string>{"FailureTarget=True/DeadlineExceeded",
                                                                      "Failed=True/DeadlineExceeded"}));
}

TEST_F(JobControllerTest, SuspendDeletesPodsAndResumeRestarts) {
  Create(NewJob("later", {{"suspend", true}, {"parallelism", 2}, {"completions", 2}}));
  ASSERT_TRUE(Sync("later").ok());
  EXPECT_TRUE(Pods().empty());
  Json job = GetJob("later");
  EXPECT_EQ(ConditionTypes(job), (std::vector<std::string>{"Suspended=True/JobSuspended"}));
  EXPECT_FALSE(job["status"].contains("startTime"));

  ASSERT_TRUE(c_->Patch(kJobs, "default", "later", "application/merge-patch+json", {{"spec", {{"suspend", false}}}}).ok());
  ASSERT_TRUE(Sync("later").ok());
  EXPECT_EQ(Pods().size(), 2u);
  job = GetJob("later");
  EXPECT_EQ(ConditionTypes(job), (std::vector<std::string>{"Suspended=False/JobResumed"}));
  EXPECT_TRUE(job["status"].contains("startTime"));

  ASSERT_TRUE(c_->Patch(kJobs, "default", "later", "application/merge-patch+json", {{"spec", {{"suspend", true}}}}).ok());
  ASSERT_TRUE(Sync("later").ok());
  EXPECT_TRUE(Pods(true).empty());
  job = GetJob("later");
  EXPECT_EQ(ConditionTypes(job), (std::vector<std::string>{"Suspended=True/JobSuspended"}));
  EXPECT_FALSE(job["status"].contains("active"));
  EXPECT_EQ(EventCount("later", "SuccessfulDelete", 2), 2);
  EXPECT_EQ(EventCount("later", "Resumed", 1), 1);
  EXPECT_EQ(EventCount("later", "Suspended", 2), 2);
}

TEST_F(JobControllerTest, IndexedJobGivesEachPodAnIndex) {
  Create(NewJob("idx", {{"completions", 3}, {"parallelism", 3}, {"completionMode", "Indexed"}}));
  ASSERT_TRUE(Sync("idx").ok());
  auto pods = Pods();
  ASSERT_EQ(pods.size(), 3u);
  std::map<std::string, Json> by_index;
  for (const auto& p : pods) {
    std::string ix = p["metadata"]["annotations"]["batch.kubernetes.io/job-completion-index"];
    by_index[ix] = p;
    EXPECT_EQ(p["metadata"]["labels"]["batch.kubernetes.io/job-completion-index"], ix);
    EXPECT_EQ(p["spec"]["hostname"], "idx-" + ix);
    EXPECT_EQ(p["metadata"]["generateName"], "idx-" + ix + "-");
    EXPECT_EQ(p["spec"]["containers"][0]["env"][0],
              Json({{"name", "JOB_COMPLETION_INDEX"},
                    {"valueFrom", {{"fieldRef", {{"apiVersion", "v1"},
                                                 {"fieldPath", "metadata.labels['batch.kubernetes.io/job-completion-index']"}}}}}}));
  }
  ASSERT_EQ(by_index.size(), 3u);
  Finish(by_index["1"], 0);
  ASSERT_TRUE(Sync("idx").ok());
  Json st = GetJob("idx")["status"];
  EXPECT_EQ(st["completedIndexes"], "1");
  EXPECT_EQ(st["succeeded"], 1);
  EXPECT_EQ(Pods().size(), 3u);  // index 1 is done: no new pod
  Finish(by_index["0"], 0);
  Finish(by_index["2"], 0);
  ASSERT_TRUE(Sync("idx").ok());
  Json done = GetJob("idx");
  EXPECT_EQ(done["status"]["completedIndexes"], "0-2");
  EXPECT_EQ(ConditionTypes(done).back(), "Complete=True/CompletionsReached");
}

TEST_F(JobControllerTest, PodFailurePolicyFailsTheJobOrIgnoresDisruptions) {
  Json policy = {{"rules",
                  {{{"action", "FailJob"}, {"onExitCodes", {{"containerName", "main"}, {"operator", "In"}, {"values", {42}}}}},
                   {{"action", "Ignore"}, {"onPodConditions", {{{"type", "DisruptionTarget"}, {"status", "True"}}}}}}}};
  Create(NewJob("policy", {{"backoffLimit", 0}, {"podFailurePolicy", policy}}));
  ASSERT_TRUE(Sync("policy").ok());
  // A disruption is not counted against backoffLimit 0, and is replaced after the backoff.
  Json pod = Pods()[0];
  Finish(pod, 137);
  pod = *c_->Get(kPods, "default", pod["metadata"]["name"]);
  pod["status"]["conditions"] = {{{"type", "DisruptionTarget"}, {"status", "True"}, {"reason", "EvictionByEvictionAPI"}}};
  ASSERT_TRUE(c_->Update(kPods, "default", pod, "status").ok());
  ASSERT_TRUE(Sync("policy").ok());
  Json job = GetJob("policy");
  EXPECT_FALSE(job["status"].contains("failed"));
  EXPECT_FALSE(job["status"].contains("conditions"));
  clock_.Advance(seconds(11));
  ASSERT_TRUE(Sync("policy").ok());
  ASSERT_EQ(Pods().size(), 2u);
  // Exit code 42 fails the Job whatever backoffLimit says.
  for (const auto& p : Pods()) {
    if (p["status"].value("phase", "") != "Failed") Finish(p, 42);
  }
  ASSERT_TRUE(Sync("policy").ok());
  job = GetJob("policy");
  EXPECT_EQ(ConditionTypes(job), (std::vector<std::string>{"FailureTarget=True/PodFailurePolicy", "Failed=True/PodFailurePolicy"}));
  std::string msg = job["status"]["conditions"][1]["message"];
  EXPECT_NE(msg.find("failed with exit code 42 matching FailJob rule at index 0"), std::string::npos) << msg;
}

TEST_F(JobControllerTest, BackoffLimitPerIndexFailsOnlyThatIndex) {
  Create(NewJob("per", {{"completions", 2}, {"parallelism", 2}, {"completionMode", "Indexed"},
                        {"backoffLimitPerIndex", 0}}));
  ASSERT_TRUE(Sync("per").ok());
  for (const auto& p : Pods()) {
    Finish(p, p["metadata"]["annotations"]["batch.kubernetes.io/job-completion-index"] == "0" ? 1 : 0);
  }
  ASSERT_TRUE(Sync("per").ok());
  Json job = GetJob("per");
  EXPECT_EQ(job["status"]["failedIndexes"], "0");
  EXPECT_EQ(job["status"]["completedIndexes"], "1");
  EXPECT_EQ(ConditionTypes(job), (std::vector<std::string>{"FailureTarget=True/FailedIndexes", "Failed=True/FailedIndexes"}));
}

TEST_F(JobControllerTest, SuccessPolicyEndsTheJobEarly) {
  Json policy = {{"rules", {{{"succeededIndexes", "0"}}}}};
  Create(NewJob("leader", {{"completions", 3}, {"parallelism", 3}, {"completionMode", "Indexed"}, {"successPolicy", policy}}));
  ASSERT_TRUE(Sync("leader").ok());
  for (const auto& p : Pods()) {
    if (p["metadata"]["annotations"]["batch.kubernetes.io/job-completion-index"] == "0") Finish(p, 0);
  }
  ASSERT_TRUE(Sync("leader").ok());
  // The other workers are stopped; Complete comes once they are gone.
  EXPECT_EQ(ConditionTypes(GetJob("leader")), (std::vector<std::string>{"SuccessCriteriaMet=True/SuccessPolicy"}));
  ASSERT_TRUE(Sync("leader").ok());
  Json job = GetJob("leader");
  EXPECT_EQ(ConditionTypes(job), (std::vector<std::string>{"SuccessCriteriaMet=True/SuccessPolicy", "Complete=True/SuccessPolicy"}));
  EXPECT_EQ(job["status"]["conditions"][0]["message"], "Matched rules at index 0");
  EXPECT_TRUE(Pods(true).size() == 1u);  // the succeeded pod stays
}

TEST_F(JobControllerTest, DeletedJobLeavesNoFinalizerBehind) {
  Create(NewJob("gone", {{"parallelism", 2}, {"completions", 2}}));
  ASSERT_TRUE(Sync("gone").ok());
  ASSERT_EQ(Pods().size(), 2u);
  // No garbage collector runs here: the pods keep naming the deleted Job.
  ASSERT_TRUE(c_->Delete(kJobs, "default", "gone", {{"propagationPolicy", "Background"}}).ok());
  CatchUp();
  // The pods still name the Job, which is gone: the orphan worker takes the finalizer.
  for (const auto& p : Pods()) ASSERT_TRUE(jc_->SyncOrphanPod("default/" + p["metadata"]["name"].get<std::string>()).ok());
  for (const auto& p : Pods()) EXPECT_FALSE(j::HasJobTrackingFinalizer(p)) << p["metadata"].dump();
}

TEST_F(JobControllerTest, TTLAfterFinishedDeletesTheJob) {
  TTLAfterFinishedController ttl(c_, *jobs_, clock_);
  Create(NewJob("short", {{"ttlSecondsAfterFinished", 30}}));
  ASSERT_TRUE(Sync("short").ok());
  Finish(Pods()[0], 0);
  ASSERT_TRUE(Sync("short").ok());
  ASSERT_TRUE(j::IsJobFinished(GetJob("short")));
  CatchUp();
  ASSERT_TRUE(ttl.SyncJob("default/short").ok());
  EXPECT_TRUE(c_->Get(kJobs, "default", "short").ok());  // not yet
  clock_.Advance(seconds(31));
  ASSERT_TRUE(ttl.SyncJob("default/short").ok());
  auto gone = c_->Get(kJobs, "default", "short");
  // Foreground deletion: gone, or waiting for its pods with the foregroundDeletion finalizer.
  EXPECT_TRUE(!gone.ok() || (*gone)["metadata"].contains("deletionTimestamp"));
}

}  // namespace
}  // namespace kubes::controller
