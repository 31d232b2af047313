#include "runtime/images/unpack.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <filesystem>

#include "runtime/images/testing.h"

namespace kubes::runtime::images {
namespace {

namespace fs = std::filesystem;
using testing::BuildTar;
using testing::Digest;
using testing::TarEntry;
using testing::TempDir;

// A layer with everything the unpacker must keep or convert.
std::string RichLayer() {
  return BuildTar({
      {"./", 'd', "", 0755},
      {"bin", 'd', "", 0755},
      {"bin/tool", 'f', "#!/bin/sh\necho hi\n", 04755, 0, 0},
      {"bin/alias", 'h', "bin/tool"},
      {"bin/sh", 'l', "tool"},
      {"home/user/notes", 'f', "mine", 0600, 1000, 1000},
      {"etc/.wh.gone", 'f', ""},
      {"var/cache/.wh..wh..opq", 'f', ""},
      {"var/cache/fresh", 'f', "new"},
      {"data", 'f', "tagged", 0644, 0, 0, {{"user.kubes", "yes"}}},
  });
}

class UnpackTest : public ::testing::Test {
 protected:
  std::string Blob(const std::string& bytes) {
    const std::string path = dir_.path() + "/blob-" + std::to_string(n_++);
    testing::WriteFile(path, bytes);
    return path;
  }
  std::string Target() const { return dir_.path() + "/layers/target"; }
  // Nothing but the finished target may remain in layers/.
  std::vector<std::string> LayerDirEntries() const {
    std::vector<std::string> out;
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(dir_.path() + "/layers", ec)) out.push_back(e.path().filename());
    return out;
  }

  TempDir dir_;
  int n_ = 0;
};

TEST_F(UnpackTest, KeepsMetadataAndConvertsWhiteouts) {
  const std::string tar = RichLayer();
  for (const std::string& blob : {tar, testing::Gzip(tar), testing::Zstd(tar)}) {
    fs::remove_all(Target());
    Status unpacked = UnpackLayer(Blob(blob), Digest(tar), Target());
    ASSERT_TRUE(unpacked.ok()) << unpacked.ToString();
    const std::string t = Target();
    struct stat st {};
    ASSERT_EQ(stat((t + "/bin/tool").c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 07777, 04755u);
    EXPECT_EQ(testing::ReadFile(t + "/bin/tool"), "#!/bin/sh\necho hi\n");
    struct stat alias {};
    ASSERT_EQ(stat((t + "/bin/alias").c_str(), &alias), 0);
    EXPECT_EQ(alias.st_ino, st.st_ino) << "hardlink must share the inode";
    EXPECT_EQ(fs::read_symlink(t + "/bin/sh"), "tool");
    ASSERT_EQ(stat((t + "/home/user/notes").c_str(), &st), 0);
    if (geteuid() == 0) {
      EXPECT_EQ(st.st_uid, 1000u);
    }
    EXPECT_EQ(st.st_mode & 0777, 0600u);
    EXPECT_EQ(st.st_mtime, 1700000000);
    // ".wh.gone" → a 0:0 character device named "gone"; the marker itself is not written.
    ASSERT_EQ(lstat((t + "/etc/gone").c_str(), &st), 0);
    EXPECT_TRUE(S_ISCHR(st.st_mode));
    EXPECT_EQ(st.st_rdev, makedev(0, 0));
    EXPECT_FALSE(fs::exists(t + "/etc/.wh.gone"));
    // ".wh..wh..opq" → trusted.overlay.opaque=y on the directory.
    char value[8] = {0};
    EXPECT_EQ(getxattr((t + "/var/cache").c_str(), "trusted.overlay.opaque", value, sizeof value), 1);
    EXPECT_EQ(std::string(value, 1), "y");
    EXPECT_FALSE(fs::exists(t + "/var/cache/.wh..wh..opq"));
    EXPECT_EQ(testing::ReadFile(t + "/var/cache/fresh"), "new");
    char tag[8] = {0};
    EXPECT_EQ(getxattr((t + "/data").c_str(), "user.kubes", tag, sizeof tag), 3);
    EXPECT_EQ(LayerDirEntries(), std::vector<std::string>{"target"});
  }
}

TEST_F(UnpackTest, ExistingTargetIsLeftAlone) {
  const std::string tar = BuildTar({{"a", 'f', "1"}});
  ASSERT_TRUE(UnpackLayer(Blob(tar), Digest(tar), Target()).ok());
  testing::WriteFile(Target() + "/marker", "");
  ASSERT_TRUE(UnpackLayer(Blob(tar), Digest(tar), Target()).ok());
  EXPECT_TRUE(fs::exists(Target() + "/marker"));
}

TEST_F(UnpackTest, WrongDigestLeavesNothing) {
  const std::string tar = BuildTar({{"a", 'f', "1"}});
  const std::string wrong = Digest("something else");
  Status s = UnpackLayer(Blob(testing::Gzip(tar)), wrong, Target());
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find(wrong), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("digest mismatch"), std::string::npos) << s.message();
  EXPECT_TRUE(LayerDirEntries().empty());
}

TEST_F(UnpackTest, TruncatedOrCorruptLayersFail) {
  std::string big;
  for (int i = 0; i < 2000; ++i) big += "line " + std::to_string(i * 7919 % 1000) + "\n";
  const std::string tar = BuildTar({{"a", 'f', big}, {"b", 'f', big + big}});
  const std::string gz = testing::Gzip(tar);
  std::string flipped = gz;
  flipped[gz.size() / 2] = static_cast<char>(flipped[gz.size() / 2] ^ 0x55);
  for (const std::string& blob : {gz.substr(0, gz.size() / 2), flipped, tar.substr(0, 700)}) {
    Status s = UnpackLayer(Blob(blob), Digest(tar), Target());
    EXPECT_FALSE(s.ok()) << blob.size() << " of " << gz.size();
    EXPECT_NE(s.message().find(Digest(tar)), std::string::npos) << s.message();
    EXPECT_TRUE(LayerDirEntries().empty());
  }
}

TEST_F(UnpackTest, RefusesToLeaveTheLayer) {
  const std::string outside = dir_.path() + "/outside";
  fs::create_directories(outside);
  const std::vector<std::vector<TarEntry>> attacks = {
      {{"../outside/pwned", 'f', "x"}},
      {{"a/../../outside/pwned", 'f', "x"}},
      {{"link", 'l', outside}, {"link/pwned", 'f', "x"}},
      {{"link", 'l', "../../outside"}, {"link/pwned", 'f', "x"}},
      {{"dir", 'd', "", 0755}, {"dir/up", 'l', "../.."}, {"dir/up/outside/pwned", 'f', "x"}},
      {{"hl", 'h', "../outside/victim"}},
      {{"link", 'l', outside}, {"link/.wh.victim", 'f', ""}},
  };
  testing::WriteFile(outside + "/victim", "safe");
  for (const auto& entries : attacks) {
    const std::string tar = BuildTar(entries);
    Status s = UnpackLayer(Blob(tar), Digest(tar), Target());
    EXPECT_FALSE(s.ok()) << entries.back().path;
    EXPECT_FALSE(fs::exists(outside + "/pwned")) << entries.back().path;
    EXPECT_EQ(testing::ReadFile(outside + "/victim"), "safe");
    EXPECT_TRUE(LayerDirEntries().empty());
  }
}

TEST_F(UnpackTest, LaterEntriesReplaceEarlierOnes) {
  const std::string tar = BuildTar({{"x", 'd', "", 0755}, {"x/inner", 'f', "1"}, {"x", 'f', "now a file"},
                                    {"y", 'f', "old"}, {"y", 'l', "x"}});
  ASSERT_TRUE(UnpackLayer(Blob(tar), Digest(tar), Target()).ok());
  EXPECT_EQ(testing::ReadFile(Target() + "/x"), "now a file");
  EXPECT_EQ(fs::read_symlink(Target() + "/y"), "x");
}

TEST_F(UnpackTest, EmptyLayers) {
  const std::string tar = BuildTar({});
  ASSERT_TRUE(UnpackLayer(Blob(testing::Gzip(tar)), Digest(tar), Target()).ok());
  EXPECT_TRUE(fs::is_empty(Target()));
}

}  // namespace
}  // namespace kubes::runtime::images
