#include "runtime/images/store.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <thread>

#include "runtime/images/testing.h"

namespace kubes::runtime::images {
namespace {

namespace fs = std::filesystem;
using testing::BuildTar;
using testing::TempDir;

// Two layers: the base, and one that deletes a file and hides a directory's contents.
std::vector<std::string> Layers() {
  return {BuildTar({{"bin", 'd', "", 0755},
                    {"bin/busybox", 'f', "ELF", 0755},
                    {"bin/sh", 'l', "busybox"},
                    {"bin/ls", 'h', "bin/busybox"},
                    {"etc", 'd', "", 0755},
                    {"etc/motd", 'f', "hello"},
                    {"var/lib", 'd', "", 0755},
                    {"var/lib/old", 'f', "old"}}),
          BuildTar({{"etc/.wh.motd", 'f', ""}, {"var/lib/.wh..wh..opq", 'f', ""}, {"var/lib/new", 'f', "new"}})};
}

class StoreTest : public ::testing::Test {
 protected:
  std::string Archive(const std::string& name, const std::string& bytes) {
    const std::string path = dir_.path() + "/" + name;
    testing::WriteFile(path, bytes);
    return path;
  }
  size_t Count(const std::string& sub) const {
    std::error_code ec;
    size_t n = 0;
    for ([[maybe_unused]] const auto& e : fs::directory_iterator(root_ + "/" + sub, ec)) ++n;
    return n;
  }

  TempDir dir_;
  std::string root_ = dir_.path() + "/images";
  Store store_{root_};
};

TEST_F(StoreTest, ImportsAnOciArchive) {
  const testing::BuiltImage built =
      testing::BuildOciArchive(Layers(), {"docker.io/library/busybox:latest", "registry.k8s.io/busybox:latest"});
  Result<std::vector<Image>> imported = store_.Import(Archive("busybox.tar", built.archive));
  ASSERT_TRUE(imported.ok()) << imported.status().ToString();
  ASSERT_EQ(imported->size(), 1u);
  const Image& image = (*imported)[0];
  EXPECT_EQ(image.id, built.config_digest);
  EXPECT_EQ(image.repo_tags,
            (std::vector<std::string>{"docker.io/library/busybox:latest", "registry.k8s.io/busybox:latest"}));
  EXPECT_EQ(image.repo_digests, (std::vector<std::string>{"docker.io/library/busybox@" + built.manifest_digest,
                                                          "registry.k8s.io/busybox@" + built.manifest_digest}));
  EXPECT_EQ(image.config.cmd, std::vector<std::string>{"sh"});
  EXPECT_EQ(image.config.labels.at("test"), "yes");
  ASSERT_EQ(image.layer_dirs.size(), 2u);
  EXPECT_EQ(image.layer_dirs[0], root_ + "/layers/" + built.diff_ids[0].substr(7));
  EXPECT_EQ(testing::ReadFile(image.layer_dirs[0] + "/etc/motd"), "hello");
  struct stat st {};
  ASSERT_EQ(lstat((image.layer_dirs[1] + "/etc/motd").c_str(), &st), 0);
  EXPECT_TRUE(S_ISCHR(st.st_mode));
  EXPECT_GT(image.size, 0u);

  for (const std::string& name : std::vector<std::string>{"busybox", "busybox:latest", "docker.io/library/busybox", built.config_digest,
                                  built.config_digest.substr(7, 12), "registry.k8s.io/busybox",
                                  "busybox@" + built.manifest_digest}) {
    Result<Image> got = store_.Get(name);
    ASSERT_TRUE(got.ok()) << name << ": " << got.status().ToString();
    EXPECT_EQ(got->id, built.config_digest) << name;
  }
  EXPECT_EQ(store_.Get("busybox:1.36").status().code(), Code::kNotFound);
  EXPECT_EQ(store_.Get("nginx").status().code(), Code::kNotFound);
  EXPECT_EQ(store_.List().size(), 1u);
}

TEST_F(StoreTest, ImportsADockerSaveArchive) {
  const testing::BuiltImage built = testing::BuildDockerSave(Layers(), {"nginx:1.22", "nginx:stable"}, {"nginx"});
  Result<std::vector<Image>> imported = store_.Import(Archive("nginx.tar", built.archive));
  ASSERT_TRUE(imported.ok()) << imported.status().ToString();
  ASSERT_EQ(imported->size(), 1u);
  EXPECT_EQ((*imported)[0].id, built.config_digest);
  EXPECT_EQ((*imported)[0].repo_tags,
            (std::vector<std::string>{"docker.io/library/nginx:1.22", "docker.io/library/nginx:stable"}));
  EXPECT_EQ((*imported)[0].config.cmd, std::vector<std::string>{"nginx"});
  EXPECT_EQ(testing::ReadFile((*imported)[0].layer_dirs[1] + "/var/lib/new"), "new");
  // The manifest written for it makes the store an OCI layout other tools can read.
  EXPECT_TRUE(fs::exists(root_ + "/oci-layout"));
  EXPECT_NE(testing::ReadFile(root_ + "/index.json").find("docker.io/library/nginx:1.22"), std::string::npos);
}

TEST_F(StoreTest, ImportsGzippedArchivesAndSharesLayers) {
  const std::vector<std::string> layers = Layers();
  ASSERT_TRUE(store_.Import(Archive("a.tar.gz", testing::Gzip(testing::BuildOciArchive(layers, {"a:1"}).archive))).ok());
  ASSERT_TRUE(store_.Import(Archive("b.tar", testing::BuildDockerSave({layers[0]}, {"b:1"}).archive)).ok());
  EXPECT_EQ(Count("layers"), 2u);  // the shared base layer is unpacked once
  EXPECT_EQ(store_.List().size(), 2u);
}

TEST_F(StoreTest, RemoveUntagsAndCollects) {
  const testing::BuiltImage built = testing::BuildOciArchive(Layers(), {"x:1", "x:2"});
  ASSERT_TRUE(store_.Import(Archive("x.tar", built.archive)).ok());
  ASSERT_TRUE(store_.Remove("x:1").ok());
  EXPECT_EQ(store_.Get("x:1").status().code(), Code::kNotFound);
  ASSERT_TRUE(store_.Get("x:2").ok());
  EXPECT_EQ(Count("layers"), 2u);
  EXPECT_EQ(store_.Remove("x:1").code(), Code::kNotFound);

  ASSERT_TRUE(store_.Import(Archive("x.tar", built.archive)).ok());
  ASSERT_TRUE(store_.Remove(built.config_digest).ok());  // by ID: every name goes
  EXPECT_TRUE(store_.List().empty());
  EXPECT_EQ(Count("layers"), 0u);
  EXPECT_EQ(Count("blobs/sha256"), 0u);
  EXPECT_EQ(Count("ingest"), 0u);
}

TEST_F(StoreTest, RetaggingMovesTheName) {
  ASSERT_TRUE(store_.Import(Archive("1.tar", testing::BuildOciArchive({Layers()[0]}, {"app:v"}).archive)).ok());
  const testing::BuiltImage second = testing::BuildOciArchive({Layers()[1]}, {"app:v"}, true, {"other"});
  ASSERT_TRUE(store_.Import(Archive("2.tar", second.archive)).ok());
  EXPECT_EQ(store_.Get("app:v")->id, second.config_digest);
  EXPECT_EQ(store_.List().size(), 1u);  // the first image lost its only name and was collected
  EXPECT_EQ(Count("layers"), 1u);
}

TEST_F(StoreTest, RefusesCorruptArchives) {
  testing::BuiltImage built = testing::BuildOciArchive(Layers(), {"bad:1"}, /*gzip=*/false);
  // Flip a byte inside the first layer's file content.
  const size_t pos = built.archive.find("hello");
  ASSERT_NE(pos, std::string::npos);
  built.archive[pos] = 'j';
  Result<std::vector<Image>> r = store_.Import(Archive("bad.tar", built.archive));
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("is corrupt"), std::string::npos) << r.status().message();
  EXPECT_EQ(store_.Get("bad:1").status().code(), Code::kNotFound);
  EXPECT_EQ(Count("layers"), 0u);

  EXPECT_FALSE(store_.Import(Archive("junk.tar", "not an archive at all")).ok());
  EXPECT_FALSE(store_.Import(Archive("empty.tar", BuildTar({{"hello", 'f', "x"}}))).ok());
  EXPECT_FALSE(store_.Import(dir_.path() + "/missing.tar").ok());
}

TEST_F(StoreTest, LayerThatDoesNotMatchItsDiffIdIsRefused) {
  // The blob is what the manifest says, but the config claims another diff ID.
  const std::vector<std::string> layers = Layers();
  testing::BuiltImage built = testing::BuildDockerSave({layers[0]}, {"liar:1"});
  const std::string wrong = testing::Digest("not the layer");
  const size_t pos = built.archive.find(built.diff_ids[0], built.archive.find("\"diff_ids\""));
  ASSERT_NE(pos, std::string::npos);
  built.archive.replace(pos, wrong.size(), wrong);
  // The config file changed, so its name no longer matches its digest; docker save does
  // not care, and neither does the import: the diff ID check is what fails.
  Result<std::vector<Image>> r = store_.Import(Archive("liar.tar", built.archive));
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("failed to unpack layer " + wrong), std::string::npos) << r.status().message();
  EXPECT_EQ(Count("layers"), 0u);
}

TEST_F(StoreTest, ImportFolderImportsEachArchiveOnce) {
  const std::string folder = dir_.path() + "/folder";
  testing::WriteFile(folder + "/a.tar", testing::BuildOciArchive(Layers(), {"a:1"}).archive);
  testing::WriteFile(folder + "/b.tar.gz", testing::Gzip(testing::BuildDockerSave({Layers()[0]}, {"b:1"}).archive));
  testing::WriteFile(folder + "/README.md", "not an image");
  ASSERT_TRUE(store_.ImportFolder(folder).ok());
  EXPECT_EQ(store_.List().size(), 2u);
  ASSERT_TRUE(store_.Remove("a:1").ok());
  ASSERT_TRUE(store_.ImportFolder(folder).ok());
  EXPECT_EQ(store_.Get("a:1").status().code(), Code::kNotFound) << "an archive is imported only once";

  testing::WriteFile(folder + "/c.tar", "garbage");
  Status s = store_.ImportFolder(folder);
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find("c.tar"), std::string::npos) << s.message();
  EXPECT_TRUE(store_.ImportFolder(dir_.path() + "/no-such-folder").ok());
}

TEST_F(StoreTest, ConcurrentImportsAndASecondStoreAgree) {
  const testing::BuiltImage built = testing::BuildOciArchive(Layers(), {"c:1"});
  const std::string path = Archive("c.tar", built.archive);
  Store other(root_);  // as `kubes image` next to a running server
  std::vector<std::thread> threads;
  std::atomic<int> ok{0};
  for (int i = 0; i < 6; ++i) {
    threads.emplace_back([&, i] {
      Store& s = i % 2 ? store_ : other;
      if (s.Import(path).ok()) ++ok;
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok.load(), 6);
  EXPECT_EQ(other.Get("c:1")->id, built.config_digest);
  EXPECT_EQ(Count("layers"), 2u);
  EXPECT_EQ(Count("ingest"), 0u);
}

TEST_F(StoreTest, ImportsThisPlatformFromAnIndex) {
  const testing::BuiltImage built =
      testing::BuildOciArchive(Layers(), {"multi:1"}, /*gzip=*/true, {"sh"}, /*in_index=*/true);
  Result<std::vector<Image>> r = store_.Import(Archive("multi.tar", built.archive));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ((*r)[0].id, built.config_digest);
  EXPECT_EQ((*r)[0].repo_digests, std::vector<std::string>{"docker.io/library/multi@" + built.index_digest});
  ASSERT_TRUE(store_.Get("multi@" + built.index_digest).ok());
  // Garbage collection keeps the index and the manifest it chose.
  ASSERT_TRUE(store_.Import(Archive("other.tar", testing::BuildOciArchive({Layers()[0]}, {"other:1"}).archive)).ok());
  ASSERT_TRUE(store_.Remove("other:1").ok());
  EXPECT_TRUE(store_.Get("multi:1").ok());
  EXPECT_EQ(Count("layers"), 2u);
}

TEST_F(StoreTest, UnnamedImagesAreKeptById) {
  const testing::BuiltImage built = testing::BuildOciArchive(Layers(), {});
  Result<std::vector<Image>> r = store_.Import(Archive("anon.tar", built.archive));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_TRUE((*r)[0].repo_tags.empty());
  ASSERT_TRUE(store_.Get(built.config_digest).ok());
  ASSERT_TRUE(store_.Remove(built.config_digest).ok());
  EXPECT_TRUE(store_.List().empty());
}

}  // namespace
}  // namespace kubes::runtime::images
