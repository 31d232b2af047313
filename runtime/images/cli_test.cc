#include "runtime/images/cli.h"

#include <gtest/gtest.h>

#include <sstream>

#include "runtime/images/testing.h"

namespace kubes::runtime::images {
namespace {

struct CliRun {
  int rc;
  std::string out, err;
};

CliRun Cli(const std::vector<std::string>& args, const std::string& data_dir) {
  std::ostringstream out, err;
  const int rc = RunImageCommand(args, data_dir, out, err);
  return {rc, out.str(), err.str()};
}

TEST(ImageCli, UsageErrorsExitTwo) {
  testing::TempDir dir;
  for (const std::vector<std::string>& args : std::vector<std::vector<std::string>>{
           {}, {"frobnicate"}, {"import"}, {"pull"}, {"pull", "a", "b"}, {"rm"}, {"ls", "extra"}}) {
    const CliRun r = Cli(args, dir.path());
    EXPECT_EQ(r.rc, 2) << (args.empty() ? "" : args[0]);
    EXPECT_NE(r.err.find("Usage:"), std::string::npos);
  }
  EXPECT_EQ(Cli({"--help"}, dir.path()).rc, 0);
}

TEST(ImageCli, ImportListRemove) {
  testing::TempDir dir;
  const testing::BuiltImage built =
      testing::BuildOciArchive({testing::BuildTar({{"bin/sh", 'f', "x", 0755}})},
                               {"docker.io/library/busybox:latest", "registry.k8s.io/pause:3.9"});
  testing::WriteFile(dir.path() + "/busybox.tar", built.archive);
  CliRun r = Cli({"import", dir.path() + "/busybox.tar"}, dir.path());
  ASSERT_EQ(r.rc, 0) << r.err;
  EXPECT_NE(r.out.find("Imported docker.io/library/busybox:latest, registry.k8s.io/pause:3.9 (" + built.config_digest),
            std::string::npos)
      << r.out;

  r = Cli({"ls"}, dir.path());
  ASSERT_EQ(r.rc, 0);
  const std::string id = built.config_digest.substr(7, 13);
  std::istringstream lines(r.out);
  std::string header, first, second;
  std::getline(lines, header);
  std::getline(lines, first);
  std::getline(lines, second);
  EXPECT_EQ(header.substr(0, 5), "IMAGE");
  EXPECT_EQ(header.find("TAG"), 28u);  // "docker.io/library/busybox" + 3 spaces
  EXPECT_NE(header.find("IMAGE ID"), std::string::npos);
  EXPECT_EQ(first.rfind("docker.io/library/busybox   latest", 0), 0u) << first;
  EXPECT_NE(first.find(id), std::string::npos);
  EXPECT_EQ(second.rfind("registry.k8s.io/pause", 0), 0u) << second;
  EXPECT_NE(second.find("3.9"), std::string::npos);

  r = Cli({"rm", "busybox", "nosuch"}, dir.path());
  EXPECT_EQ(r.rc, 1);
  EXPECT_NE(r.out.find("Deleted: busybox"), std::string::npos);
  EXPECT_NE(r.err.find("image \"nosuch\": not found"), std::string::npos);
  EXPECT_EQ(Cli({"ls"}, dir.path()).out.find("busybox"), std::string::npos);

  r = Cli({"import", dir.path() + "/missing.tar"}, dir.path());
  EXPECT_EQ(r.rc, 1);
  EXPECT_NE(r.err.find("missing.tar"), std::string::npos);
}

TEST(ImageCli, PullReportsRegistryErrors) {
  testing::TempDir dir;
  // A mirror that refuses connections and no default endpoint: nothing leaves the machine.
  testing::WriteFile(dir.path() + "/registries.yaml", "mirrors:\n  docker.io:\n    endpoint: [\"http://127.0.0.1:" +
                                                          std::to_string(testing::FreePort()) + "\"]\n");
  testing::WriteFile(dir.path() + "/bad/registries.yaml", "mirrors: [");
  CliRun r = Cli({"pull", "127.0.0.1:" + std::to_string(testing::FreePort()) + "/x:1"}, dir.path());
  EXPECT_EQ(r.rc, 1);
  EXPECT_NE(r.err.find("failed to pull and unpack image"), std::string::npos) << r.err;
  r = Cli({"pull", "busybox"}, dir.path() + "/bad");
  EXPECT_EQ(r.rc, 1);
  EXPECT_NE(r.err.find("registries.yaml"), std::string::npos) << r.err;
}

TEST(HumanSize, LikeDocker) {
  const struct {
    uint64_t in;
    const char* want;
  } cases[] = {{0, "0B"}, {999, "999B"}, {1000, "1kB"}, {1234, "1.23kB"}, {4261550, "4.26MB"},
               {187000000, "187MB"}, {1500000000, "1.5GB"}};
  for (const auto& c : cases) EXPECT_EQ(HumanSize(c.in), c.want) << c.in;
}

}  // namespace
}  // namespace kubes::runtime::images
