#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "kubelet/pod_sync.h"

namespace kubes::kubelet {
namespace {

TEST(RestartCountFromLogDirTest, OnePastTheHighestLog) {
  std::string dir = ::testing::TempDir() + "/restart-count-" + std::to_string(::getpid());
  std::filesystem::remove_all(dir);
  EXPECT_EQ(RestartCountFromLogDir(dir), 0) << "no directory";
  std::filesystem::create_directories(dir);
  EXPECT_EQ(RestartCountFromLogDir(dir), 0) << "no logs";
  for (const char* f : {"0.log", "1.log", "3.log.20240101-000000", "12x.log", "7.logs", "notes"}) {
    std::ofstream(dir + "/" + f) << "x";
  }
  EXPECT_EQ(RestartCountFromLogDir(dir), 4);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace kubes::kubelet
