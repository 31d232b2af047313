#include "kubelet/volumes.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

namespace kubes::kubelet {
namespace {

namespace fs = std::filesystem;

std::string Read(const std::string& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

TEST(VolumesTest, AtomicWriterSwapsWholeSets) {
  std::string dir = "/tmp/kubes-volumes-test-" + std::to_string(getpid());
  ASSERT_TRUE(AtomicWriteFiles(dir, {{"a", {"1", 0644}}, {"sub/b", {"2", 0600}}}).ok());
  EXPECT_EQ(Read(dir + "/a"), "1");
  EXPECT_EQ(Read(dir + "/sub/b"), "2");
  EXPECT_TRUE(fs::is_symlink(dir + "/a"));
  struct stat st;
  ASSERT_EQ(stat((dir + "/sub/b").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  ASSERT_TRUE(AtomicWriteFiles(dir, {{"a", {"3", 0644}}}).ok());
  EXPECT_EQ(Read(dir + "/a"), "3");
  EXPECT_FALSE(fs::exists(dir + "/sub")) << "a key that went away disappears";
  int dirs = 0;
  for (const auto& e : fs::directory_iterator(dir)) {
    std::string name = e.path().filename().string();
    // Upstream's timestamped name: ..2006_01_02_15_04_05.<digits>
    if (name.rfind("..", 0) == 0 && name != "..data") {
      ++dirs;
      EXPECT_EQ(name.size() > 22 && name[6] == '_' && name[21] == '.', true) << name;
    }
  }
  EXPECT_EQ(dirs, 1) << "the old generation is removed";
  // The same files again: nothing is written (..data keeps its target).
  std::string before = fs::read_symlink(dir + "/..data").string();
  ASSERT_TRUE(AtomicWriteFiles(dir, {{"a", {"3", 0644}}}).ok());
  EXPECT_EQ(fs::read_symlink(dir + "/..data").string(), before);
  ASSERT_TRUE(AtomicWriteFiles(dir, {{"a", {"3", 0600}}}).ok());  // a mode change is a change
  EXPECT_NE(fs::read_symlink(dir + "/..data").string(), before);
  EXPECT_FALSE(AtomicWriteFiles(dir, {{"../escape", {"x", 0644}}}).ok());
  fs::remove_all(dir);
}

TEST(VolumesTest, ConfigMapSecretDownwardAndMissing) {
  std::string dir = "/tmp/kubes-volumes-test2-" + std::to_string(getpid());
  Json pod = Json::parse(R"({"metadata":{"name":"p","namespace":"ns","uid":"u","labels":{"b":"2","a":"1"}},
    "spec":{"containers":[{"name":"c"}],"volumes":[
      {"name":"cfg","configMap":{"name":"cfg","items":[{"key":"k","path":"renamed"}]}},
      {"name":"scratch","emptyDir":{}},
      {"name":"info","downwardAPI":{"items":[{"path":"labels","fieldRef":{"fieldPath":"metadata.labels"}}]}}]}})");
  VolumeSources src;
  src.objects.config_map = [](const std::string& n) -> Result<std::map<std::string, std::string>> {
    if (n == "cfg") return std::map<std::string, std::string>{{"k", "v"}, {"other", "o"}};
    return NotFound("configmap \"" + n + "\" not found");
  };
  src.objects.secret = src.objects.config_map;
  auto vols = SetUpVolumes(pod, dir, src);
  ASSERT_TRUE(vols.ok()) << vols.status().message();
  EXPECT_EQ(Read((*vols)["cfg"] + "/renamed"), "v");
  EXPECT_FALSE(fs::exists((*vols)["cfg"] + "/other"));
  EXPECT_EQ(Read((*vols)["info"] + "/labels"), "a=\"1\"\nb=\"2\"");
  EXPECT_TRUE(fs::is_directory((*vols)["scratch"]));
  pod["spec"]["volumes"].push_back({{"name", "gone"}, {"configMap", {{"name", "missing"}}}});
  auto failed = SetUpVolumes(pod, dir, src);
  ASSERT_FALSE(failed.ok());
  EXPECT_EQ(failed.status().message(), "MountVolume.SetUp failed for volume \"gone\" : configmap \"missing\" not found");
  EXPECT_TRUE(TearDownVolumes(dir).ok());
  fs::remove_all(dir);
}

}  // namespace
}  // namespace kubes::kubelet
