#include "kubelet/user_namespaces.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>

#include "util/files.h"

namespace kubes::kubelet {
namespace {

namespace fs = std::filesystem;
using Json = nlohmann::json;

TEST(ParseKubeletMappingTest, Table) {
  struct Case {
    std::string name, passwd, subuid, subgid;
    bool ok;
    uint32_t first, length;
  };
  const std::string kubelet = "root:x:0:0::/root:/bin/sh\nkubelet:x:998:998::/:/bin/false\n";
  std::vector<Case> cases = {
      {"no kubelet user: upstream default", "root:x:0:0::/root:/bin/sh\n", "", "", true, 1u << 31, 1u << 31},
      {"by name", kubelet, "kubelet:65536:655360\n", "kubelet:65536:655360\n", true, 65536, 655360},
      {"by uid", kubelet, "998:131072:65536\n", "998:131072:65536\n", true, 131072, 65536},
      {"user without subordinate IDs", kubelet, "other:65536:65536\n", "", false, 0, 0},
      {"uid and gid ranges differ", kubelet, "kubelet:65536:65536\n", "kubelet:131072:65536\n", false, 0, 0},
      {"start not aligned", kubelet, "kubelet:100000:65536\n", "kubelet:100000:65536\n", false, 0, 0},
      {"length not aligned", kubelet, "kubelet:65536:1000\n", "kubelet:65536:1000\n", false, 0, 0},
      {"not a number", kubelet, "kubelet:x:65536\n", "kubelet:x:65536\n", false, 0, 0},
      {"past 2^32", kubelet, "kubelet:4294901760:131072\n", "kubelet:4294901760:131072\n", false, 0, 0},
  };
  for (const auto& c : cases) {
    auto m = ParseKubeletMapping(c.passwd, c.subuid, c.subgid);
    EXPECT_EQ(m.ok(), c.ok) << c.name << ": " << (m.ok() ? "" : m.status().message());
    if (m.ok() && c.ok) {
      EXPECT_EQ(m->first_id, c.first) << c.name;
      EXPECT_EQ(m->length, c.length) << c.name;
    }
  }
}

TEST(UserNamespaceJsonTest, RoundTripAndRejects) {
  UserNamespace ns{196608};
  auto back = ParseUserNamespaceJson(UserNamespaceJson(ns).dump());
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(*back, ns);
  for (const char* bad : {"", "[]", "{\"uidMappings\":[]}",
                          R"({"uidMappings":[{"hostId":65536,"containerId":0,"length":65536}],
                              "gidMappings":[{"hostId":131072,"containerId":0,"length":65536}]})",
                          R"({"uidMappings":[{"hostId":65536,"containerId":1,"length":65536}],
                              "gidMappings":[{"hostId":65536,"containerId":1,"length":65536}]})"}) {
    EXPECT_FALSE(ParseUserNamespaceJson(bad).ok()) << bad;
  }
}

class UserNamespaceManagerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/kubes-userns-test-XXXXXX";
    dir_ = mkdtemp(tmpl);
  }
  void TearDown() override { fs::remove_all(dir_); }
  void MakePod(const std::string& uid) { fs::create_directories(dir_ + "/" + uid); }
  std::unique_ptr<UserNamespaceManager> Open(KubeletMapping m) {
    auto mgr = UserNamespaceManager::Open(m, dir_);
    EXPECT_TRUE(mgr.ok()) << (mgr.ok() ? "" : mgr.status().message());
    return mgr.ok() ? std::move(mgr).value() : nullptr;
  }
  std::string dir_;
};

TEST_F(UserNamespaceManagerTest, AllocatesDistinctAlignedRangesAndReleases) {
  auto mgr = Open({65536, 3 * 65536});
  ASSERT_TRUE(mgr);
  for (const char* uid : {"a", "b", "c", "d"}) MakePod(uid);
  auto a = mgr->Allocate("a");
  auto b = mgr->Allocate("b");
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(a->host_id, 65536u);
  EXPECT_EQ(b->host_id, 131072u);
  EXPECT_EQ(a->length, kUserNamespaceLength);
  // Asking again gives the same range.
  EXPECT_EQ(mgr->Allocate("a")->host_id, 65536u);
  EXPECT_EQ(ParseUserNamespaceJson(ReadFileOrEmpty(dir_ + "/a/userns"))->host_id, 65536u);
  // Full after the third; a release frees its slot (and file) for the next pod.
  ASSERT_TRUE(mgr->Allocate("c").ok());
  auto full = mgr->Allocate("d");
  ASSERT_FALSE(full.ok());
  EXPECT_EQ(full.status().code(), Code::kServiceUnavailable);
  EXPECT_EQ(full.status().message(), "could not find an empty slot to allocate a user namespace");
  mgr->Release("a");
  EXPECT_FALSE(fs::exists(dir_ + "/a/userns"));
  EXPECT_FALSE(mgr->Get("a").has_value());
  auto d = mgr->Allocate("d");
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->host_id, 65536u);
  mgr->Release("never-allocated");  // no error
}

TEST_F(UserNamespaceManagerTest, RecoversAllocationsFromDisk) {
  {
    auto mgr = Open({65536, 4 * 65536});
    ASSERT_TRUE(mgr);
    for (const char* uid : {"a", "b", "c"}) {
      MakePod(uid);
      ASSERT_TRUE(mgr->Allocate(uid).ok());
    }
    mgr->Release("a");  // frees slot 0
  }
  MakePod("no-userns");  // a pod directory without a file is a pod with hostUsers
  auto mgr = Open({65536, 4 * 65536});
  ASSERT_TRUE(mgr);
  EXPECT_EQ(mgr->Get("b")->host_id, 131072u);
  EXPECT_EQ(mgr->Get("c")->host_id, 196608u);
  EXPECT_EQ(mgr->Allocate("b")->host_id, 131072u);
  MakePod("e");
  MakePod("f");
  EXPECT_EQ(mgr->Allocate("e")->host_id, 65536u);   // the freed slot
  EXPECT_EQ(mgr->Allocate("f")->host_id, 262144u);  // the one never used
}

TEST_F(UserNamespaceManagerTest, RefusesFilesThatDoNotFit) {
  struct Case {
    std::string name;
    std::vector<std::pair<std::string, uint32_t>> files;  // pod → hostId
  };
  std::vector<Case> cases = {
      {"two pods with one range", {{"a", 65536}, {"b", 65536}}},
      {"outside the kubelet's range", {{"a", 65536 * 10}}},
      {"below the kubelet's range (the host's own IDs)", {{"a", 0}}},
      {"not aligned", {{"a", 70000}}},
  };
  for (const auto& c : cases) {
    fs::remove_all(dir_);
    for (const auto& [uid, host] : c.files) {
      MakePod(uid);
      std::ofstream(dir_ + "/" + uid + "/userns") << UserNamespaceJson({host}).dump();
    }
    EXPECT_FALSE(UserNamespaceManager::Open({65536, 2 * 65536}, dir_).ok()) << c.name;
  }
}

TEST_F(UserNamespaceManagerTest, DefaultMappingLeavesOutTheLastSlot) {
  auto mgr = Open({1u << 31, 1u << 31});
  ASSERT_TRUE(mgr);
  // 32768 slots of 65536, less the one holding (uid_t)-1.
  EXPECT_EQ(mgr->capacity(), 32767u);
  MakePod("a");
  EXPECT_EQ(mgr->Allocate("a")->host_id, 1u << 31);
}

TEST(WantsUserNamespaceTest, OnlyExplicitFalse) {
  EXPECT_TRUE(WantsUserNamespace(Json{{"spec", {{"hostUsers", false}}}}));
  EXPECT_FALSE(WantsUserNamespace(Json{{"spec", {{"hostUsers", true}}}}));
  EXPECT_FALSE(WantsUserNamespace(Json{{"spec", Json::object()}}));
  EXPECT_FALSE(WantsUserNamespace(Json::object()));
}

}  // namespace
}  // namespace kubes::kubelet
