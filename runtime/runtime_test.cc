// Runs real containers (root, conmon and crun/runc needed; skipped otherwise) from a
// one-layer busybox root filesystem made from the host's busybox-static.
#include "runtime/runtime.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "runtime/cgroups.h"
#include "runtime/oci_spec.h"
#include "util/files.h"

namespace kubes::runtime {
namespace {

namespace fs = std::filesystem;

class RuntimeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (geteuid() != 0) GTEST_SKIP() << "needs root";
    if (access("/bin/busybox", X_OK) != 0) GTEST_SKIP() << "needs busybox-static";
    char tmpl[] = "/tmp/kubes-runtime-test-XXXXXX";
    dir_ = mkdtemp(tmpl);
    layer_ = dir_ + "/layer";
    fs::create_directories(layer_ + "/bin");
    fs::create_directories(layer_ + "/tmp");
    fs::copy_file("/bin/busybox", layer_ + "/bin/busybox");
    for (const char* applet : {"sh", "echo", "sleep", "cat", "head", "tr"}) {
      fs::create_symlink("busybox", layer_ + "/bin/" + applet);
    }
    auto rt = Runtime::Open({dir_ + "/containers", "/run/kubes-runtime-test-" + std::to_string(getpid()), "", "conmon"});
    if (!rt.ok()) GTEST_SKIP() << rt.status().message();
    rt_ = std::move(rt).value();
  }
  void TearDown() override {
    if (rt_) {
      for (const auto& c : rt_->List()) (void)rt_->Remove(c.id);
      (void)RemoveCgroup(cgroup_);
      fs::remove_all("/run/kubes-runtime-test-" + std::to_string(getpid()));
    }
    if (!dir_.empty()) fs::remove_all(dir_);
  }

  ContainerConfig Config(std::vector<std::string> args) {
    ContainerConfig c;
    c.id = NewContainerID();
    c.labels.pod_uid = "uid-1";
    c.labels.pod_name = "p";
    c.labels.container_name = "c";
    c.args = std::move(args);
    c.env = {"PATH=/bin"};
    c.layers = {layer_};
    c.hostname = "p";
    c.cgroup_parent = cgroup_;
    c.log_path = dir_ + "/logs/c/0.log";
    return c;
  }

  ContainerStatus WaitExited(const std::string& id) {
    for (int i = 0; i < 500; ++i) {
      auto s = rt_->Inspect(id);
      if (s.ok() && s->state == ContainerState::kExited) return *s;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    ADD_FAILURE() << "container did not exit";
    return {};
  }

  std::string dir_, layer_;
  std::string cgroup_ = "/kubes-runtime-test-" + std::to_string(getpid());
  std::unique_ptr<Runtime> rt_;
};

TEST_F(RuntimeTest, RunsToCompletionWithExitCodeAndCRILogs) {
  ContainerConfig c = Config({"sh", "-c", "echo out; echo err >&2; exit 3"});
  ASSERT_TRUE(rt_->Create(c).ok());
  auto created = rt_->Inspect(c.id);
  ASSERT_TRUE(created.ok());
  EXPECT_EQ(created->state, ContainerState::kCreated);
  EXPECT_EQ(created->labels.container_name, "c");
  ASSERT_TRUE(rt_->Start(c.id).ok());
  ContainerStatus s = WaitExited(c.id);
  EXPECT_EQ(s.exit_code, 3);
  EXPECT_FALSE(s.oom_killed);
  EXPECT_GE(s.finished_at, s.started_at);
  std::string log = ReadFileOrEmpty(c.log_path);
  EXPECT_NE(log.find(" stdout F out\n"), std::string::npos) << log;
  EXPECT_NE(log.find(" stderr F err\n"), std::string::npos) << log;
  ASSERT_TRUE(rt_->Remove(c.id).ok());
  EXPECT_FALSE(rt_->Inspect(c.id).ok());
  EXPECT_FALSE(fs::exists(dir_ + "/containers/" + c.id));
  EXPECT_TRUE(fs::exists(c.log_path)) << "logs outlive the container";
}

TEST_F(RuntimeTest, SignalStopsARunningContainer) {
  ContainerConfig c = Config({"sleep", "60"});
  ASSERT_TRUE(rt_->Create(c).ok());
  ASSERT_TRUE(rt_->Start(c.id).ok());
  EXPECT_EQ(rt_->Inspect(c.id)->state, ContainerState::kRunning);
  ASSERT_TRUE(rt_->Signal(c.id, SIGKILL).ok());
  EXPECT_EQ(WaitExited(c.id).exit_code, 137);
}

TEST_F(RuntimeTest, MemoryLimitEndsInOOMKill) {
  ContainerConfig c = Config({"sh", "-c", "x=$(head -c 200000000 /dev/zero | tr '\\0' a); echo done"});
  c.resources.memory_limit_bytes = 32 << 20;
  ASSERT_TRUE(rt_->Create(c).ok());
  ASSERT_TRUE(rt_->Start(c.id).ok());
  ContainerStatus s = WaitExited(c.id);
  EXPECT_EQ(s.exit_code, 137);
  EXPECT_TRUE(s.oom_killed);
}

TEST_F(RuntimeTest, ListFindsContainersAgain) {
  ContainerConfig c = Config({"sleep", "60"});
  ASSERT_TRUE(rt_->Create(c).ok());
  ASSERT_TRUE(rt_->Start(c.id).ok());
  // A second Runtime over the same directories (kubes restarted) sees the container.
  auto again = Runtime::Open({dir_ + "/containers", "/run/kubes-runtime-test-" + std::to_string(getpid()), "", "conmon"});
  ASSERT_TRUE(again.ok());
  auto list = (*again)->List();
  ASSERT_EQ(list.size(), 1u);
  EXPECT_EQ(list[0].id, c.id);
  EXPECT_EQ(list[0].state, ContainerState::kRunning);
  EXPECT_EQ(list[0].labels.pod_uid, "uid-1");
}

TEST(OCISpecTest, CapabilitiesFollowDropThenAdd) {
  ContainerConfig c;
  c.id = "x";
  c.drop_capabilities = {"ALL"};
  c.add_capabilities = {"net_admin"};
  auto spec = BuildOCISpec(c, "/r");
  EXPECT_EQ(spec["process"]["capabilities"]["effective"], nlohmann::json({"CAP_NET_ADMIN"}));
  c.drop_capabilities = {"KILL"};
  c.add_capabilities = {};
  spec = BuildOCISpec(c, "/r");
  auto eff = spec["process"]["capabilities"]["effective"];
  EXPECT_EQ(std::find(eff.begin(), eff.end(), "CAP_KILL"), eff.end());
  EXPECT_NE(std::find(eff.begin(), eff.end(), "CAP_CHOWN"), eff.end());
}

TEST(OCISpecTest, NetworkNamespaceAndLimits) {
  ContainerConfig c;
  c.id = "abc";
  c.netns_path = "/run/netns/x";
  c.cgroup_parent = "/kubes/pod1";
  c.resources.memory_limit_bytes = 1 << 20;
  c.resources.cpu_quota_us = 50000;
  auto spec = BuildOCISpec(c, "/r");
  EXPECT_EQ(spec["linux"]["cgroupsPath"], "/kubes/pod1/abc");
  EXPECT_EQ(spec["linux"]["resources"]["memory"]["limit"], 1 << 20);
  EXPECT_EQ(spec["linux"]["resources"]["cpu"]["quota"], 50000);
  bool has_net = false;
  for (const auto& ns : spec["linux"]["namespaces"]) has_net |= ns["type"] == "network" && ns["path"] == "/run/netns/x";
  EXPECT_TRUE(has_net);
}

}  // namespace
}  // namespace kubes::runtime
