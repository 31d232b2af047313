#include "kubelet/prober/exec.h"

#include <gtest/gtest.h>

namespace kubes::kubelet::prober {
namespace {

TEST(RunWithTimeoutTest, ExitCodesAndOutput) {
  auto r = RunWithTimeout({"/bin/sh", "-c", "echo err >&2; echo out; exit 3"}, std::chrono::seconds(5));
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->exit_code, 3);
  EXPECT_EQ(r->output, "out\nerr\n");  // stdout first, then stderr, as the CRI returns them
  EXPECT_FALSE(r->timed_out);

  r = RunWithTimeout({"/bin/sh", "-c", "read line; echo \"[$line]\""}, std::chrono::seconds(5));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->output, "[]\n");  // stdin is /dev/null
}

TEST(RunWithTimeoutTest, KillsAtTheTimeout) {
  auto start = std::chrono::steady_clock::now();
  auto r = RunWithTimeout({"/bin/sh", "-c", "echo started; exec sleep 10"}, std::chrono::milliseconds(200));
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->timed_out);
  EXPECT_EQ(r->exit_code, 128 + 9);
  EXPECT_EQ(r->output, "started\n");
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(3));
}

TEST(RunWithTimeoutTest, CancelStopsIt) {
  std::atomic<bool> cancel{true};
  auto r = RunWithTimeout({"/bin/sh", "-c", "exec sleep 10"}, std::chrono::seconds(10), kMaxExecOutput, &cancel);
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->timed_out);
}

TEST(RunWithTimeoutTest, KeepsAtMostTheLimit) {
  auto r = RunWithTimeout({"/bin/sh", "-c", "head -c 100000 /dev/zero | tr '\\0' x"}, std::chrono::seconds(5), 1000);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->exit_code, 0);  // the rest was read and dropped: the command was never blocked
  EXPECT_EQ(r->output, std::string(1000, 'x'));
}

TEST(RunWithTimeoutTest, MissingProgram) {
  auto r = RunWithTimeout({"/nonexistent/program"}, std::chrono::seconds(1));
  EXPECT_FALSE(r.ok());
}

TEST(ExecProbeOutputTest, Verdicts) {
  std::vector<std::string> cmd = {"sh", "-c", "sleep 10"};
  ExecResult ok{0, "fine\n", false}, failed{1, "cat: can't open '/tmp/healthy': No such file or directory\n", false},
      slow{137, "", true};
  EXPECT_EQ(ExecProbeOutput(cmd, ok).result, ProbeResult::kSuccess);
  EXPECT_EQ(ExecProbeOutput(cmd, ok).output, "fine\n");
  EXPECT_EQ(ExecProbeOutput(cmd, failed).result, ProbeResult::kFailure);
  EXPECT_EQ(ExecProbeOutput(cmd, failed).output, "cat: can't open '/tmp/healthy': No such file or directory\n");
  EXPECT_EQ(ExecProbeOutput(cmd, slow).result, ProbeResult::kFailure);
  EXPECT_EQ(ExecProbeOutput(cmd, slow).output, "command \"sh -c sleep 10\" timed out");
  ProbeOutput error = ExecProbeOutput(cmd, Result<ExecResult>(Internal("container not running")));
  EXPECT_EQ(error.result, ProbeResult::kUnknown);
  EXPECT_EQ(error.error.message(), "container not running");
}

}  // namespace
}  // namespace kubes::kubelet::prober
