#include "kubelet/prober/prober_manager.h"

#include <gtest/gtest.h>

#include <set>

#include "kubelet/prober/testing.h"

namespace kubes::kubelet::prober {
namespace {

using namespace std::chrono_literals;

// Polls cond until it holds or `within` passes.
template <typename F>
bool Eventually(F cond, std::chrono::milliseconds within = 3000ms) {
  auto deadline = std::chrono::steady_clock::now() + within;
  while (std::chrono::steady_clock::now() < deadline) {
    if (cond()) return true;
    std::this_thread::sleep_for(5ms);
  }
  return cond();
}

struct Fixture {
  std::atomic<int> calls{0};
  std::atomic<int> exit_code{0};
  std::mutex mu;
  std::multiset<std::string> updates;
  std::unique_ptr<Manager> manager;

  Fixture() {
    ManagerOptions o;
    o.prober.exec = [this](const std::string&, const std::vector<std::string>&,
                           std::chrono::milliseconds) -> Result<ExecResult> {
      ++calls;
      return ExecResult{exit_code.load(), "", false};
    };
    manager = std::make_unique<Manager>(o, [this](const std::string& uid) {
      std::lock_guard<std::mutex> lock(mu);
      updates.insert(uid);
    });
  }
  static Json Container(const char* field, Json extra = Json::object()) {
    Json probe = {{"exec", {{"command", {"check"}}}}, {"periodSeconds", 1}};
    probe.update(extra);
    return {{"name", "app"}, {field, probe}};
  }
  static PodView Pod(const std::string& uid, const Json& container, const std::string& id = "c1") {
    PodView v;
    v.pod = std::make_shared<const Json>(Json{{"metadata", {{"name", uid}, {"namespace", "default"}, {"uid", uid}}},
                                              {"spec", {{"containers", {container}}}}});
    v.containers["app"] = {id, true, false, RealClock::Get().Now() - std::chrono::seconds(1)};
    return v;
  }
  size_t Updates(const std::string& uid) {
    std::lock_guard<std::mutex> lock(mu);
    return updates.count(uid);
  }
};

TEST(ManagerTest, ReadinessIsProbedAtOnceWhenTheKubeletAsks) {
  Fixture f;
  Json c = Fixture::Container("readinessProbe", {{"periodSeconds", 60}});
  f.manager->UpdatePod("u1", Fixture::Pod("u1", c), true);
  EXPECT_FALSE(f.manager->IsReady(c, "c1"));
  // The next sync sees a started container that is not ready: probed now, not in 60 s.
  f.manager->UpdatePod("u1", Fixture::Pod("u1", c), true);
  EXPECT_TRUE(Eventually([&] { return f.manager->IsReady(c, "c1"); }, 500ms));
  EXPECT_GE(f.Updates("u1"), 1u);
  EXPECT_TRUE(f.manager->IsReady(Json{{"name", "other"}}, "x"));  // no probe: ready
}

TEST(ManagerTest, LivenessFailureIsReported) {
  Fixture f;
  f.exit_code = 1;
  Json c = Fixture::Container("livenessProbe", {{"failureThreshold", 2}});
  f.manager->UpdatePod("u1", Fixture::Pod("u1", c), true);
  // Jittered first run (the manager just started), then one period: under 3 s.
  EXPECT_TRUE(Eventually([&] { return f.manager->LivenessFailed("c1"); }));
  int after = f.calls;
  std::this_thread::sleep_for(1200ms);
  EXPECT_EQ(f.calls, after);  // on hold until a new container
  f.exit_code = 0;
  f.manager->UpdatePod("u1", Fixture::Pod("u1", c, "c2"), true);
  EXPECT_TRUE(Eventually([&] { return f.calls > after; }));
  EXPECT_FALSE(f.manager->LivenessFailed("c2"));
}

TEST(ManagerTest, RemovePodStopsItsWorkers) {
  Fixture f;
  Json c = Fixture::Container("livenessProbe");
  c["readinessProbe"] = c["livenessProbe"];
  f.manager->UpdatePod("u1", Fixture::Pod("u1", c), true);
  EXPECT_EQ(f.manager->workers(), 2u);
  EXPECT_TRUE(Eventually([&] { return f.calls >= 2; }));
  f.manager->RemovePod("u1");
  EXPECT_EQ(f.manager->workers(), 0u);
  std::this_thread::sleep_for(100ms);  // a probe already running may finish
  int after = f.calls;
  std::this_thread::sleep_for(1200ms);
  EXPECT_EQ(f.calls, after);
  EXPECT_FALSE(f.manager->IsReady(c, "c1"));  // its result is gone
}

TEST(ManagerTest, TerminatingPodsGetNoNewWorkers) {
  Fixture f;
  Json c = Fixture::Container("livenessProbe");
  f.manager->UpdatePod("u1", Fixture::Pod("u1", c), false);
  EXPECT_EQ(f.manager->workers(), 0u);
}

TEST(ManagerTest, HTTPAndTCPProbesOnTheLoop) {
  testing::Server server([](int fd) {
    testing::ReadUntil(fd, "\r\n\r\n");
    testing::WriteAll(fd, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
  });
  Fixture f;
  Json http = {{"name", "app"},
               {"readinessProbe", {{"httpGet", {{"path", "/ready"}, {"port", server.port()}}}, {"periodSeconds", 1}}}};
  Json tcp = {{"name", "app"},
              {"readinessProbe", {{"tcpSocket", {{"port", testing::UnusedPort()}}}, {"periodSeconds", 1}}}};
  PodView a = Fixture::Pod("u1", http), b = Fixture::Pod("u2", tcp, "c2");
  a.pod_ip = b.pod_ip = "127.0.0.1";
  f.manager->UpdatePod("u1", a, true);
  f.manager->UpdatePod("u2", b, true);
  EXPECT_TRUE(Eventually([&] { return f.manager->IsReady(http, "c1"); }));
  std::this_thread::sleep_for(1500ms);
  EXPECT_FALSE(f.manager->IsReady(tcp, "c2"));  // nothing listens there
  EXPECT_GE(f.Updates("u1"), 1u);
  EXPECT_EQ(f.calls, 0);  // no exec
}

TEST(ManagerTest, ManyPodsOnAFewThreads) {
  Fixture f;
  Json c = Fixture::Container("readinessProbe");
  for (int i = 0; i < 300; ++i) {
    std::string uid = "u" + std::to_string(i);
    f.manager->UpdatePod(uid, Fixture::Pod(uid, c, "c" + std::to_string(i)), true);
  }
  EXPECT_EQ(f.manager->workers(), 300u);
  EXPECT_TRUE(Eventually([&] {
    for (int i = 0; i < 300; ++i) {
      if (!f.manager->IsReady(c, "c" + std::to_string(i))) return false;
    }
    return true;
  }));
  // Every probe ran about once per period since.
  int before = f.calls;
  std::this_thread::sleep_for(2000ms);
  int per_second = (f.calls - before) / 2;
  EXPECT_GE(per_second, 250);
  EXPECT_LE(per_second, 350);
}

}  // namespace
}  // namespace kubes::kubelet::prober
