// EventRecorder against a fake Transport that records every request: what is written,
// where, when repeats become PATCHes, and that the caller never waits.
#include "client/record.h"

#include <gtest/gtest.h>

#include <thread>

namespace kubes::client {
namespace {

using namespace std::chrono_literals;

class FakeClock : public Clock {
 public:
  TimePoint Now() const override { return now; }
  TimePoint now = TimePoint(std::chrono::seconds(1700000000));
};

// Answers every request like the apiserver would on success (the body echoed back),
// or 404 for PATCHes when told to. Close() makes Do wait until Open().
class FakeTransport : public Transport {
 public:
  apiserver::Response Do(apiserver::Request& req) override {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [this] { return open_; });
    requests_.push_back(req);
    cv_.notify_all();
    apiserver::Response r;
    if (req.method == "PATCH" && patch_not_found_) {
      r.code = 404;
      r.body = R"({"kind":"Status","apiVersion":"v1","status":"Failure","reason":"NotFound","code":404,"message":"not found"})";
      return r;
    }
    r.code = req.method == "POST" ? 201 : 200;
    r.body = req.body;
    auto delay = delay_;
    lock.unlock();
    std::this_thread::sleep_for(delay);
    return r;
  }
  // Waits (bounded) until at least n requests arrived.
  bool WaitFor(size_t n) {
    std::unique_lock<std::mutex> lock(mu_);
    return cv_.wait_for(lock, 5s, [&] { return requests_.size() >= n; });
  }
  std::vector<apiserver::Request> requests() {
    std::lock_guard<std::mutex> lock(mu_);
    return requests_;
  }
  void Close() {
    std::lock_guard<std::mutex> lock(mu_);
    open_ = false;
  }
  void Open() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      open_ = true;
    }
    cv_.notify_all();
  }
  void set_patch_not_found(bool v) {
    std::lock_guard<std::mutex> lock(mu_);
    patch_not_found_ = v;
  }
  void set_delay(std::chrono::milliseconds d) {
    std::lock_guard<std::mutex> lock(mu_);
    delay_ = d;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<apiserver::Request> requests_;
  bool open_ = true;
  bool patch_not_found_ = false;
  std::chrono::milliseconds delay_{0};
};

Json Pod(const std::string& name = "web") {
  return {{"apiVersion", "v1"}, {"kind", "Pod"},
          {"metadata", {{"name", name}, {"namespace", "team"}, {"uid", name == "web" ? "u-1" : "u-" + name}, {"resourceVersion", "42"}}}};
}

Json Body(const apiserver::Request& r) { return Json::parse(r.body); }

class EventRecorderTest : public ::testing::Test {
 protected:
  FakeTransport transport_;
  Client client_{&transport_};
  FakeClock clock_;
};

TEST_F(EventRecorderTest, FirstOccurrenceCreatesAnEventInTheObjectsNamespace) {
  {
    EventRecorder r(&client_, "default-scheduler", "node-1", clock_);
    r.Event(Pod(), "Warning", "FailedScheduling", "0/1 nodes are available");
    ASSERT_TRUE(transport_.WaitFor(1));
  }
  auto reqs = transport_.requests();
  ASSERT_EQ(reqs.size(), 1u);
  EXPECT_EQ(reqs[0].method, "POST");
  EXPECT_EQ(reqs[0].path, "/api/v1/namespaces/team/events");
  Json ev = Body(reqs[0]);
  EXPECT_EQ(ev["metadata"]["name"], "web.17979cfe362a0000");  // 1700000000 s in ns, hex
  EXPECT_EQ(ev["metadata"]["namespace"], "team");
  EXPECT_EQ(ev["involvedObject"], Json({{"kind", "Pod"}, {"namespace", "team"}, {"name", "web"}, {"uid", "u-1"},
                                        {"apiVersion", "v1"}, {"resourceVersion", "42"}}));
  EXPECT_EQ(ev["reason"], "FailedScheduling");
  EXPECT_EQ(ev["message"], "0/1 nodes are available");
  EXPECT_EQ(ev["type"], "Warning");
  EXPECT_EQ(ev["count"], 1);
  EXPECT_EQ(ev["firstTimestamp"], "2023-11-14T22:13:20Z");
  EXPECT_EQ(ev["lastTimestamp"], "2023-11-14T22:13:20Z");
  EXPECT_EQ(ev["source"], Json({{"component", "default-scheduler"}, {"host", "node-1"}}));
  EXPECT_EQ(ev["reportingComponent"], "default-scheduler");
  EXPECT_EQ(ev["reportingInstance"], "node-1");
}

TEST_F(EventRecorderTest, NamespaceAndReferenceFollowTheObject) {
  struct Case {
    std::string name;
    Json object;
    std::string field_path;
    std::string want_path;
    Json want_ref;
  };
  Json node = {{"apiVersion", "v1"}, {"kind", "Node"}, {"metadata", {{"name", "n1"}, {"uid", "u-n"}}}};
  std::vector<Case> cases = {
      {"cluster-scoped object → default", node, "", "/api/v1/namespaces/default/events",
       {{"kind", "Node"}, {"name", "n1"}, {"uid", "u-n"}, {"apiVersion", "v1"}}},
      {"field path", Pod(), "spec.containers{app}", "/api/v1/namespaces/team/events",
       {{"kind", "Pod"}, {"namespace", "team"}, {"name", "web"}, {"uid", "u-1"}, {"apiVersion", "v1"},
        {"resourceVersion", "42"}, {"fieldPath", "spec.containers{app}"}}},
  };
  size_t n = 0;
  EventRecorder r(&client_, "kubelet", "", clock_);
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    r.Event(c.object, c.field_path, "Normal", "Pulled", "done");
    ASSERT_TRUE(transport_.WaitFor(++n));
    auto req = transport_.requests().back();
    EXPECT_EQ(req.path, c.want_path);
    Json ev = Body(req);
    EXPECT_EQ(ev["involvedObject"], c.want_ref);
    EXPECT_EQ(ev["source"], Json({{"component", "kubelet"}}));
    EXPECT_FALSE(ev.contains("reportingInstance"));
  }
}

TEST_F(EventRecorderTest, RepeatsWithinTenMinutesPatchTheCount) {
  EventRecorder r(&client_, "default-scheduler", "", clock_);
  TimePoint t0 = clock_.now;
  r.Event(Pod(), "Warning", "FailedScheduling", "no fit");
  ASSERT_TRUE(transport_.WaitFor(1));
  std::string name = Body(transport_.requests()[0])["metadata"]["name"];

  clock_.now = t0 + 5min;
  r.Event(Pod(), "Warning", "FailedScheduling", "no fit");
  ASSERT_TRUE(transport_.WaitFor(2));
  auto patch = transport_.requests()[1];
  EXPECT_EQ(patch.method, "PATCH");
  EXPECT_EQ(patch.path, "/api/v1/namespaces/team/events/" + name);
  EXPECT_EQ(patch.Header("content-type"), "application/strategic-merge-patch+json");
  EXPECT_EQ(Body(patch), Json({{"count", 2}, {"lastTimestamp", FormatRFC3339(t0 + 5min)}, {"message", "no fit"}}));

  // Another message is another event.
  r.Event(Pod(), "Warning", "FailedScheduling", "other");
  ASSERT_TRUE(transport_.WaitFor(3));
  EXPECT_EQ(transport_.requests()[2].method, "POST");

  // 11 minutes after the last repeat the window has passed: a new event.
  clock_.now = t0 + 16min;
  r.Event(Pod(), "Warning", "FailedScheduling", "no fit");
  ASSERT_TRUE(transport_.WaitFor(4));
  auto fresh = transport_.requests()[3];
  EXPECT_EQ(fresh.method, "POST");
  EXPECT_NE(Body(fresh)["metadata"]["name"], name);
  EXPECT_EQ(Body(fresh)["count"], 1);
}

TEST_F(EventRecorderTest, PatchOfAnExpiredEventCreatesItAgain) {
  EventRecorder r(&client_, "default-scheduler", "", clock_);
  TimePoint t0 = clock_.now;
  r.Event(Pod(), "Normal", "Scheduled", "assigned");
  ASSERT_TRUE(transport_.WaitFor(1));
  std::string name = Body(transport_.requests()[0])["metadata"]["name"];
  transport_.set_patch_not_found(true);
  clock_.now = t0 + 1min;
  r.Event(Pod(), "Normal", "Scheduled", "assigned");
  ASSERT_TRUE(transport_.WaitFor(3));
  auto reqs = transport_.requests();
  EXPECT_EQ(reqs[1].method, "PATCH");
  EXPECT_EQ(reqs[2].method, "POST");
  Json ev = Body(reqs[2]);
  EXPECT_EQ(ev["metadata"]["name"], name);
  EXPECT_EQ(ev["count"], 2);
  EXPECT_EQ(ev["firstTimestamp"], FormatRFC3339(t0));
  EXPECT_EQ(ev["lastTimestamp"], FormatRFC3339(t0 + 1min));
}

TEST_F(EventRecorderTest, NeverBlocksAndDropsWhenTheQueueIsFull) {
  transport_.Close();  // every write hangs
  auto start = std::chrono::steady_clock::now();
  {
    EventRecorder r(&client_, "default-scheduler", "", clock_);
    // Many objects: one object's events stop at its budget of 25 (the correlator).
    for (int i = 0; i < 3000; ++i) r.Event(Pod("p" + std::to_string(i)), "Normal", "Tick", "tick");
    EXPECT_LT(std::chrono::steady_clock::now() - start, 1s);
    transport_.Open();
  }  // flushes what is queued (fast now)
  size_t written = transport_.requests().size();
  // 1000 queued, plus perhaps one the writer had already taken when the queue filled.
  EXPECT_GE(written, EventRecorder::kMaxQueuedEvents);
  EXPECT_LE(written, EventRecorder::kMaxQueuedEvents + 1);
}

TEST_F(EventRecorderTest, AnObjectsEventsStopAtItsBudget) {
  {
    EventRecorder r(&client_, "kubelet", "node-1", clock_);
    for (int i = 0; i < 40; ++i) r.Event(Pod(), "Warning", "Unhealthy", "Readiness probe failed");
  }
  // One Event created, then its count raised until the budget of 25 was spent.
  auto requests = transport_.requests();
  ASSERT_EQ(requests.size(), 25u);
  EXPECT_EQ(requests[0].method, "POST");
  EXPECT_EQ(Body(requests.back())["count"], 25);
}

TEST_F(EventRecorderTest, ShutdownFlushesPendingEventsForUpToOneSecond) {
  transport_.set_delay(1ms);
  {
    EventRecorder r(&client_, "default-scheduler", "", clock_);
    for (int i = 0; i < 20; ++i) r.Event(Pod("p" + std::to_string(i)), "Normal", "Tick", "tick");
  }
  EXPECT_EQ(transport_.requests().size(), 20u);  // everything written before the destructor returned

  transport_.set_delay(200ms);
  auto start = std::chrono::steady_clock::now();
  {
    EventRecorder r(&client_, "default-scheduler", "", clock_);
    for (int i = 0; i < 50; ++i) r.Event(Pod("q" + std::to_string(i)), "Normal", "Slow", "slow");
  }
  auto took = std::chrono::steady_clock::now() - start;
  EXPECT_LT(took, 2s);  // 1 s of flushing plus the write in progress
  size_t slow = transport_.requests().size() - 20;
  EXPECT_GT(slow, 0u);
  EXPECT_LT(slow, 50u);  // the rest was dropped
}

}  // namespace
}  // namespace kubes::client
