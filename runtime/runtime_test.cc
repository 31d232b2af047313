// Runs real containers (root and crun/runc needed; skipped otherwise) from a one-layer
// busybox root filesystem made from the host's busybox-static, each under the
// kubes-monitor that kubes carries (runtime/monitor).
#include "runtime/runtime.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
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
    for (const char* applet : {"sh", "echo", "sleep", "cat", "head", "tr", "stty"}) {
      fs::create_symlink("busybox", layer_ + "/bin/" + applet);
    }
    // KUBES_TEST_OCI_RUNTIME picks the OCI runtime (default: as kubes picks it).
    const char* oci = getenv("KUBES_TEST_OCI_RUNTIME");
    auto rt = Runtime::Open({dir_ + "/containers", RunDir(), oci ? oci : ""});
    if (!rt.ok()) GTEST_SKIP() << rt.status().message();
    rt_ = std::move(rt).value();
  }
  void TearDown() override {
    if (rt_) {
      for (const auto& c : rt_->List()) (void)rt_->Remove(c.id);
      (void)RemoveCgroup(cgroup_);
      fs::remove_all(RunDir());
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

  // Polls `done` for up to 10 s.
  static bool WaitFor(const std::function<bool()>& done) {
    for (int i = 0; i < 500; ++i) {
      if (done()) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return done();
  }

  // A client of the container's attach socket, connected as kubelet/attach.cc does
  // (through /proc/self/fd: the path is longer than a socket address allows).
  int Attach(const std::string& id) {
    std::string path = rt_->AttachSocket(id);
    int dir = open(path.substr(0, path.rfind('/')).c_str(), O_PATH | O_CLOEXEC);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::snprintf(addr.sun_path, sizeof addr.sun_path, "/proc/self/fd/%d/attach", dir);
    int sock = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
    int rc = connect(sock, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
    close(dir);
    EXPECT_EQ(rc, 0) << strerror(errno);
    return sock;
  }

  // Reads attach packets until `out` (stream byte 2 → stdout, 3 → stderr) satisfies
  // `done`, the socket ends, or 10 s pass. False on the latter two.
  static bool ReadAttach(int sock, std::string* out, std::string* err, const std::function<bool()>& done) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (!done()) {
      pollfd p{sock, POLLIN, 0};
      if (std::chrono::steady_clock::now() > deadline || poll(&p, 1, 100) < 0) return false;
      if (!(p.revents & (POLLIN | POLLHUP))) continue;
      char buf[8193];
      ssize_t n = recv(sock, buf, sizeof buf, 0);
      if (n <= 0) return done();
      (buf[0] == 3 ? err : out)->append(buf + 1, n - 1);
    }
    return true;
  }

  void WriteControl(const std::string& id, const std::string& line) {
    int fd = open(rt_->ControlFifo(id).c_str(), O_WRONLY | O_NONBLOCK | O_CLOEXEC);
    ASSERT_GE(fd, 0) << strerror(errno);
    EXPECT_EQ(write(fd, line.data(), line.size()), static_cast<ssize_t>(line.size()));
    close(fd);
  }

  // Computed once: a forked child must use the same directories.
  std::string RunDir() const { return run_dir_; }

  std::string dir_, layer_;
  std::string run_dir_ = "/run/kubes-runtime-test-" + std::to_string(getpid());
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
  auto again = Runtime::Open({dir_ + "/containers", RunDir(), ""});
  ASSERT_TRUE(again.ok());
  auto list = (*again)->List();
  ASSERT_EQ(list.size(), 1u);
  EXPECT_EQ(list[0].id, c.id);
  EXPECT_EQ(list[0].state, ContainerState::kRunning);
  EXPECT_EQ(list[0].labels.pod_uid, "uid-1");
}

TEST_F(RuntimeTest, ExitCodes) {
  struct Case {
    std::vector<std::string> args;
    int want;
  } cases[] = {
      {{"sh", "-c", "exit 0"}, 0},
      {{"sh", "-c", "exit 3"}, 3},
      {{"sh", "-c", "exit 255"}, 255},
  };
  for (const auto& tc : cases) {
    ContainerConfig c = Config(tc.args);
    ASSERT_TRUE(rt_->Create(c).ok());
    ASSERT_TRUE(rt_->Start(c.id).ok());
    EXPECT_EQ(WaitExited(c.id).exit_code, tc.want) << tc.args.back();
    EXPECT_TRUE(rt_->Remove(c.id).ok());
  }
}

TEST_F(RuntimeTest, ALongLineIsLoggedInPiecesThatJoinAgain) {
  ContainerConfig c = Config({"sh", "-c", "head -c 20000 /dev/zero | tr '\\0' a; echo; echo short >&2"});
  ASSERT_TRUE(rt_->Create(c).ok());
  ASSERT_TRUE(rt_->Start(c.id).ok());
  EXPECT_EQ(WaitExited(c.id).exit_code, 0);
  // <time> <stream> <P|F> <text>: the stdout pieces are P… then one F.
  std::istringstream log(ReadFileOrEmpty(c.log_path));
  std::string line, joined, tags, errors;
  while (std::getline(log, line)) {
    size_t a = line.find(' '), b = line.find(' ', a + 1);
    ASSERT_NE(b, std::string::npos) << line;
    std::string stream = line.substr(a + 1, b - a - 1);
    if (stream == "stderr") {
      errors += line.substr(b + 1) + "\n";
      continue;
    }
    ASSERT_EQ(stream, "stdout");
    tags += line[b + 1];
    joined += line.substr(b + 3);
  }
  EXPECT_EQ(joined, std::string(20000, 'a'));
  ASSERT_GE(tags.size(), 3u) << "20000 bytes need at least 3 pieces of at most 8192";
  EXPECT_EQ(tags.back(), 'F');
  EXPECT_EQ(tags.find('F'), tags.size() - 1) << tags;
  EXPECT_EQ(errors, "F short\n");
}

TEST_F(RuntimeTest, AttachCarriesStdinAndBothOutputs) {
  ContainerConfig c = Config({"sh", "-c", "cat; echo bye >&2"});
  c.stdin = true;
  c.stdin_once = true;
  ASSERT_TRUE(rt_->Create(c).ok());
  ASSERT_TRUE(rt_->Start(c.id).ok());
  int sock = Attach(c.id);
  std::string out, err;
  ASSERT_EQ(send(sock, "hello\n", 6, 0), 6);
  EXPECT_TRUE(ReadAttach(sock, &out, &err, [&] { return out == "hello\n"; })) << out;
  // End of the client's input closes the container's stdin (stdinOnce): cat ends.
  shutdown(sock, SHUT_WR);
  EXPECT_TRUE(ReadAttach(sock, &out, &err, [&] { return err == "bye\n"; })) << err;
  EXPECT_EQ(WaitExited(c.id).exit_code, 0);
  // The monitor hangs up once the container has ended.
  char buf[16];
  pollfd p{sock, POLLIN, 0};
  ASSERT_EQ(poll(&p, 1, 10000), 1);
  EXPECT_EQ(recv(sock, buf, sizeof buf, 0), 0);
  close(sock);
  std::string log = ReadFileOrEmpty(c.log_path);
  EXPECT_NE(log.find(" stdout F hello\n"), std::string::npos) << log;
  EXPECT_NE(log.find(" stderr F bye\n"), std::string::npos) << log;
}

TEST_F(RuntimeTest, StdinStaysOpenWithoutStdinOnce) {
  ContainerConfig c = Config({"sh", "-c", "while read x; do echo got $x; done; echo eof"});
  c.stdin = true;
  ASSERT_TRUE(rt_->Create(c).ok());
  ASSERT_TRUE(rt_->Start(c.id).ok());
  std::string out, err;
  int first = Attach(c.id);
  ASSERT_EQ(send(first, "1\n", 2, 0), 2);
  EXPECT_TRUE(ReadAttach(first, &out, &err, [&] { return out == "got 1\n"; })) << out;
  close(first);
  // A second client is heard: the first one leaving did not close stdin.
  int second = Attach(c.id);
  out.clear();
  ASSERT_EQ(send(second, "2\n", 2, 0), 2);
  EXPECT_TRUE(ReadAttach(second, &out, &err, [&] { return out == "got 2\n"; })) << out;
  close(second);
  ASSERT_TRUE(rt_->Signal(c.id, SIGKILL).ok());
  EXPECT_EQ(WaitExited(c.id).exit_code, 137);
}

TEST_F(RuntimeTest, TerminalSizeComesFromTheControlFifo) {
  ContainerConfig c = Config({"sh", "-c", "while read x; do stty size; done"});
  c.tty = true;
  c.stdin = true;
  ASSERT_TRUE(rt_->Create(c).ok());
  ASSERT_TRUE(rt_->Start(c.id).ok());
  WriteControl(c.id, "1 33 77\n");
  int sock = Attach(c.id);
  std::string out, err;
  // The resize and the input travel separately: ask again until the size shows.
  bool seen = WaitFor([&] {
    if (send(sock, "\n", 1, 0) != 1) return false;
    ReadAttach(sock, &out, &err, [&] { return out.find("\n", out.find("\n") + 1) != std::string::npos; });
    return out.find("33 77") != std::string::npos;
  });
  EXPECT_TRUE(seen) << out;
  EXPECT_EQ(err, "") << "a terminal has one output";
  close(sock);
  ASSERT_TRUE(rt_->Signal(c.id, SIGKILL).ok());
  EXPECT_EQ(WaitExited(c.id).exit_code, 137);
  EXPECT_NE(ReadFileOrEmpty(c.log_path).find(" stdout "), std::string::npos) << "terminal output is logged as stdout";
}

TEST_F(RuntimeTest, LogIsReopenedAfterRotation) {
  ContainerConfig c = Config({"sh", "-c", "while true; do echo tick; sleep 0.05; done"});
  ASSERT_TRUE(rt_->Create(c).ok());
  ASSERT_TRUE(rt_->Start(c.id).ok());
  ASSERT_TRUE(WaitFor([&] { return ReadFileOrEmpty(c.log_path).find("tick") != std::string::npos; }));
  // As the kubelet rotates: rename, then message 2 on the control FIFO.
  fs::rename(c.log_path, c.log_path + ".1");
  WriteControl(c.id, "2 0 0\n");
  EXPECT_TRUE(WaitFor([&] { return ReadFileOrEmpty(c.log_path).find(" stdout F tick\n") != std::string::npos; }));
  size_t rotated = ReadFileOrEmpty(c.log_path + ".1").size();
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  EXPECT_EQ(ReadFileOrEmpty(c.log_path + ".1").size(), rotated) << "the old file is no longer written";
  ASSERT_TRUE(rt_->Signal(c.id, SIGKILL).ok());
  EXPECT_EQ(WaitExited(c.id).exit_code, 137);
}

TEST_F(RuntimeTest, TheRuntimesErrorReachesTheCaller) {
  ContainerConfig c = Config({"/nope"});
  Status s = rt_->Create(c);
  if (s.ok()) s = rt_->Start(c.id);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("/nope"), std::string::npos) << s.message();
  EXPECT_EQ(s.message().find("time="), std::string::npos) << "the message, not the runtime's log line: " << s.message();
}

TEST_F(RuntimeTest, ContainersOutliveWhoStartedThem) {
  // A child process starts the container and is killed with its whole process group,
  // as kill -9 of kubes would: the container runs on, and its exit is still recorded.
  int ids[2];
  ASSERT_EQ(pipe(ids), 0);
  ContainerConfig c = Config({"sh", "-c", "sleep 60"});
  pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    setpgid(0, 0);
    auto rt = Runtime::Open({dir_ + "/containers", RunDir(), ""});
    bool ok = rt.ok() && (*rt)->Create(c).ok() && (*rt)->Start(c.id).ok();
    (void)!write(ids[1], ok ? "y" : "n", 1);
    pause();
    _exit(0);
  }
  close(ids[1]);
  char ok = 0;
  ASSERT_EQ(read(ids[0], &ok, 1), 1);
  close(ids[0]);
  kill(-child, SIGKILL);
  waitpid(child, nullptr, 0);
  ASSERT_EQ(ok, 'y');
  auto st = rt_->Inspect(c.id);
  ASSERT_TRUE(st.ok());
  EXPECT_EQ(st->state, ContainerState::kRunning);
  int monitor = std::atoi(ReadFileOrEmpty(dir_ + "/containers/" + c.id + "/monitor.pid").c_str());
  ASSERT_GT(monitor, 0);
  EXPECT_EQ(kill(monitor, 0), 0) << "the monitor is alive";
  EXPECT_EQ(getsid(monitor), monitor) << "the monitor leads its own session";
  ASSERT_TRUE(rt_->Signal(c.id, SIGKILL).ok());
  EXPECT_EQ(WaitExited(c.id).exit_code, 137);
}

TEST_F(RuntimeTest, TheMonitorIsWrittenOnlyWhenMissingOrDifferent) {
  std::string path = RunDir() + "/kubes-monitor";
  struct stat first;
  ASSERT_EQ(stat(path.c_str(), &first), 0);
  EXPECT_EQ(first.st_mode & 07777, 0755u);
  ASSERT_TRUE(Runtime::Open({dir_ + "/containers", RunDir(), ""}).ok());
  struct stat again;
  ASSERT_EQ(stat(path.c_str(), &again), 0);
  EXPECT_EQ(again.st_ino, first.st_ino) << "the same program is not written again";
  std::ofstream(path, std::ios::trunc) << "not the monitor";
  ASSERT_TRUE(Runtime::Open({dir_ + "/containers", RunDir(), ""}).ok());
  struct stat replaced;
  ASSERT_EQ(stat(path.c_str(), &replaced), 0);
  EXPECT_NE(replaced.st_ino, first.st_ino) << "a new file replaces a different one";
  EXPECT_EQ(replaced.st_size, first.st_size);
  EXPECT_EQ(replaced.st_mode & 07777, 0755u);
  // Containers start from the new file.
  ContainerConfig c = Config({"sh", "-c", "exit 7"});
  ASSERT_TRUE(rt_->Create(c).ok());
  ASSERT_TRUE(rt_->Start(c.id).ok());
  EXPECT_EQ(WaitExited(c.id).exit_code, 7);
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
