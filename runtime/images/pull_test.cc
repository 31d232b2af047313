// Pulls from a real registry: Debian's docker-registry (Distribution 2.8) started on
// 127.0.0.1 with its own storage under a temporary directory, images pushed into it with
// skopeo. Skipped when either program is missing.
#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <map>
#include <memory>
#include <filesystem>
#include <thread>

#include "runtime/images/store.h"
#include "runtime/images/testing.h"

extern char** environ;

namespace kubes::runtime::images {
namespace {

namespace fs = std::filesystem;
using testing::BuildTar;

constexpr char kRegistryBinary[] = "/usr/bin/docker-registry";
constexpr char kSkopeo[] = "/usr/bin/skopeo";

// Starts argv with stdout and stderr going to log; returns its PID (or -1).
pid_t Spawn(const std::vector<std::string>& argv, const std::string& log, const std::vector<std::string>& extra_env = {}) {
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 1, log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
  posix_spawn_file_actions_adddup2(&actions, 1, 2);
  std::vector<char*> args;
  for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  std::vector<std::string> env_strings(extra_env);
  for (char** e = environ; *e != nullptr; ++e) env_strings.push_back(*e);
  std::vector<char*> env;
  for (std::string& e : env_strings) env.push_back(e.data());
  env.push_back(nullptr);
  pid_t pid = -1;
  if (posix_spawn(&pid, args[0], &actions, nullptr, args.data(), env.data()) != 0) pid = -1;
  posix_spawn_file_actions_destroy(&actions);
  return pid;
}

int Wait(pid_t pid) {
  int status = 0;
  if (waitpid(pid, &status, 0) != pid) return -1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

bool Listening(int port) {
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(port));
  const bool ok = connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  close(fd);
  return ok;
}

class PullTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (access(kRegistryBinary, X_OK) != 0 || access(kSkopeo, X_OK) != 0) return;
    dir_ = new testing::TempDir();
    port_ = testing::FreePort();
    const std::string config = dir_->path() + "/config.yml";
    testing::WriteFile(config, "version: 0.1\n"
                               "log: {level: error, accesslog: {disabled: true}}\n"
                               "storage: {filesystem: {rootdirectory: " + dir_->path() + "/storage}, delete: {enabled: true}}\n"
                               "http: {addr: 127.0.0.1:" + std::to_string(port_) + "}\n");
    pid_ = Spawn({kRegistryBinary, "serve", config}, dir_->path() + "/registry.log");
    for (int i = 0; i < 200 && pid_ > 0 && !Listening(port_); ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(25));
    }
    image_ = testing::BuildOciArchive(
        {BuildTar({{"bin", 'd', "", 0755}, {"bin/hello", 'f', "hello from the registry", 0755}, {"etc/motd", 'f', "x"}}),
         BuildTar({{"etc/.wh.motd", 'f', ""}})},
        {}, /*gzip=*/true, {"/bin/hello"});
    pushed_ = Push(image_.archive, "library/x:1");
  }

  static void TearDownTestSuite() {
    if (pid_ > 0) {
      kill(pid_, SIGTERM);
      Wait(pid_);
      pid_ = -1;
    }
    delete dir_;
    dir_ = nullptr;
  }

  // skopeo copy oci-archive → the registry. skopeo runs in a private mount namespace
  // with a tmpfs on /var/lib, so its blob-info cache leaves no trace on the machine.
  static bool Push(const std::string& archive, const std::string& name) {
    const std::string path = dir_->path() + "/push-" + std::to_string(pushes_++) + ".tar";
    testing::WriteFile(path, archive);
    const std::string script = "mount -t tmpfs tmpfs /var/lib && exec " + std::string(kSkopeo) +
                               " copy --quiet --insecure-policy --dest-tls-verify=false oci-archive:" + path +
                               " docker://127.0.0.1:" + std::to_string(port_) + "/" + name;
    const pid_t pid = Spawn({"/usr/bin/unshare", "--mount", "--propagation", "private", "/bin/sh", "-c", script},
                            dir_->path() + "/skopeo.log", {"TMPDIR=" + dir_->path()});
    return pid > 0 && Wait(pid) == 0;
  }

  void SetUp() override {
    if (pid_ <= 0) GTEST_SKIP() << "needs " << kRegistryBinary << " and " << kSkopeo;
    ASSERT_TRUE(Listening(port_)) << testing::ReadFile(dir_->path() + "/registry.log");
    ASSERT_TRUE(pushed_) << testing::ReadFile(dir_->path() + "/skopeo.log");
    mirror_.mirrors["docker.io"].endpoints = {"http://127.0.0.1:" + std::to_string(port_)};
    mirror_.disable_default_endpoint = true;  // never reach for the internet
  }

  PullOptions ViaMirror() const { return {&mirror_, {}}; }

  static testing::TempDir* dir_;
  static int port_;
  static pid_t pid_;
  static testing::BuiltImage image_;
  static bool pushed_;
  static int pushes_;

  testing::TempDir store_dir_;
  Store store_{store_dir_.path() + "/images"};
  RegistriesConfig mirror_;
};

testing::TempDir* PullTest::dir_ = nullptr;
int PullTest::port_ = 0;
pid_t PullTest::pid_ = -1;
testing::BuiltImage PullTest::image_;
bool PullTest::pushed_ = false;
int PullTest::pushes_ = 0;

TEST_F(PullTest, PullsThroughAMirrorForDockerHub) {
  Result<Image> image = store_.Pull("x:1", ViaMirror());
  ASSERT_TRUE(image.ok()) << image.status().ToString();
  EXPECT_EQ(image->id, image_.config_digest);
  EXPECT_EQ(image->repo_tags, std::vector<std::string>{"docker.io/library/x:1"});
  EXPECT_EQ(image->repo_digests, std::vector<std::string>{"docker.io/library/x@" + image_.manifest_digest});
  EXPECT_EQ(image->config.cmd, std::vector<std::string>{"/bin/hello"});
  ASSERT_EQ(image->layer_dirs.size(), 2u);
  EXPECT_EQ(testing::ReadFile(image->layer_dirs[0] + "/bin/hello"), "hello from the registry");
  EXPECT_TRUE(fs::is_character_file(image->layer_dirs[1] + "/etc/motd"));
  // A second pull finds everything in place.
  ASSERT_TRUE(store_.Pull("docker.io/library/x:1", ViaMirror()).ok());
  EXPECT_EQ(store_.List().size(), 1u);
}

TEST_F(PullTest, MissingImageSaysWhatContainerdSays) {
  Result<Image> image = store_.Pull("nosuch", ViaMirror());
  ASSERT_FALSE(image.ok());
  EXPECT_EQ(image.status().code(), Code::kNotFound);
  EXPECT_EQ(image.status().message(),
            "failed to pull and unpack image \"docker.io/library/nosuch:latest\": failed to resolve reference "
            "\"docker.io/library/nosuch:latest\": docker.io/library/nosuch:latest: not found");
  EXPECT_EQ(store_.Pull("x:2", ViaMirror()).status().code(), Code::kNotFound);
}

TEST_F(PullTest, PullsByDigestDirectlyFromALoopbackRegistry) {
  const std::string ref = "127.0.0.1:" + std::to_string(port_) + "/library/x@" + image_.manifest_digest;
  Result<Image> image = store_.Pull(ref, {});
  ASSERT_TRUE(image.ok()) << image.status().ToString();
  EXPECT_TRUE(image->repo_tags.empty());
  EXPECT_EQ(image->repo_digests,
            std::vector<std::string>{"127.0.0.1:" + std::to_string(port_) + "/library/x@" + image_.manifest_digest});
  ASSERT_TRUE(store_.Get(ref).ok());
}

TEST_F(PullTest, ConcurrentPullsShareTheWork) {
  std::vector<std::thread> threads;
  std::atomic<int> ok{0};
  for (int i = 0; i < 4; ++i) {
    threads.emplace_back([&] {
      if (store_.Pull("x:1", ViaMirror()).ok()) ++ok;
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok.load(), 4);
  EXPECT_EQ(store_.List().size(), 1u);
}

TEST_F(PullTest, UnreachableMirrorIsUnavailable) {
  RegistriesConfig dead;
  dead.mirrors["docker.io"].endpoints = {"http://127.0.0.1:" + std::to_string(testing::FreePort())};
  dead.disable_default_endpoint = true;
  Result<Image> image = store_.Pull("x:1", {&dead, {}});
  ASSERT_FALSE(image.ok());
  EXPECT_EQ(image.status().code(), Code::kServiceUnavailable);
  EXPECT_EQ(image.status().message().rfind("failed to pull and unpack image \"docker.io/library/x:1\": failed to "
                                           "resolve reference \"docker.io/library/x:1\": failed to do request: ",
                                           0),
            0u)
      << image.status().message();
  // A dead mirror first, the live one next: the pull still succeeds.
  dead.mirrors["docker.io"].endpoints.push_back("http://127.0.0.1:" + std::to_string(port_));
  EXPECT_TRUE(store_.Pull("x:1", {&dead, {}}).ok());
}

TEST_F(PullTest, InvalidReference) {
  Result<Image> image = store_.Pull("Nope", ViaMirror());
  EXPECT_EQ(image.status().code(), Code::kInvalid);
  EXPECT_EQ(image.status().message(),
            "failed to parse image reference \"Nope\": invalid reference format: repository name (library/Nope) must be "
            "lowercase");
}

}  // namespace
}  // namespace kubes::runtime::images

namespace kubes::runtime::images {
namespace {

using testing::FakeHttpServer;

// A registry played by FakeHttpServer: a Docker manifest list with this host's platform
// and another one, Docker v2 media types, gzip layers. Manifest replies are slowed down
// so that concurrent pulls overlap.
class FakeRegistryPullTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::string layer = BuildTar({{"hello", 'f', "from a list"}});
    diff_id_ = testing::Digest(layer);
    const std::string blob = testing::Gzip(layer);
    const Platform host = HostPlatform();
    const std::string config = R"({"architecture":")" + host.architecture + R"(","os":"linux","config":{"Cmd":["hi"]},)"
                               R"("rootfs":{"type":"layers","diff_ids":[")" + diff_id_ + R"("]}})";
    config_digest_ = testing::Digest(config);
    const std::string manifest =
        R"({"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.v2+json",)"
        R"("config":{"mediaType":"application/vnd.docker.container.image.v1+json","size":)" +
        std::to_string(config.size()) + R"(,"digest":")" + config_digest_ + R"("},)"
        R"("layers":[{"mediaType":"application/vnd.docker.image.rootfs.diff.tar.gzip","size":)" +
        std::to_string(blob.size()) + R"(,"digest":")" + testing::Digest(blob) + R"("}]})";
    const std::string list =
        R"({"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.list.v2+json","manifests":[)"
        R"({"mediaType":"application/vnd.docker.distribution.manifest.v2+json","size":1,"digest":"sha256:)" +
        std::string(64, 'e') + R"(","platform":{"architecture":"s390x","os":"linux"}},)"
        R"({"mediaType":"application/vnd.docker.distribution.manifest.v2+json","size":)" +
        std::to_string(manifest.size()) + R"(,"digest":")" + testing::Digest(manifest) +
        R"(","platform":{"architecture":")" + host.architecture + R"(","os":"linux","variant":")" + host.variant +
        R"("}}]})";
    list_digest_ = testing::Digest(list);
    content_ = {{"/v2/library/listed/manifests/1", list},
                {"/v2/library/listed/manifests/" + testing::Digest(manifest), manifest},
                {"/v2/library/listed/blobs/" + config_digest_, config},
                {"/v2/library/listed/blobs/" + testing::Digest(blob), blob}};
    server_ = std::make_unique<FakeHttpServer>([this](const FakeHttpServer::Request& r) -> FakeHttpServer::Response {
      auto it = content_.find(r.target);
      if (it == content_.end()) return {404, {}, R"({"errors":[{"code":"MANIFEST_UNKNOWN"}]})"};
      if (r.target.find("/manifests/") != std::string::npos) {
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
      }
      return {200, {}, it->second};
    });
    config_.mirrors["docker.io"].endpoints = {"http://127.0.0.1:" + std::to_string(server_->port())};
    config_.disable_default_endpoint = true;
  }

  size_t Requests(const std::string& target) {
    size_t n = 0;
    for (const auto& r : server_->requests()) n += r.target == target;
    return n;
  }

  std::string diff_id_, config_digest_, list_digest_;
  std::map<std::string, std::string> content_;
  std::unique_ptr<FakeHttpServer> server_;
  RegistriesConfig config_;
  testing::TempDir dir_;
  Store store_{dir_.path() + "/images"};
};

TEST_F(FakeRegistryPullTest, PicksThisPlatformFromAList) {
  Result<Image> image = store_.Pull("listed:1", {&config_, {}});
  ASSERT_TRUE(image.ok()) << image.status().ToString();
  EXPECT_EQ(image->id, config_digest_);
  EXPECT_EQ(image->repo_digests, std::vector<std::string>{"docker.io/library/listed@" + list_digest_});
  EXPECT_EQ(testing::ReadFile(image->layer_dirs[0] + "/hello"), "from a list");
  EXPECT_EQ(Requests("/v2/library/listed/manifests/sha256:" + std::string(64, 'e')), 0u);
}

TEST_F(FakeRegistryPullTest, ConcurrentPullsOfOneImageRunOnce) {
  std::vector<std::thread> threads;
  std::atomic<int> ok{0};
  for (int i = 0; i < 4; ++i) {
    threads.emplace_back([&] {
      if (store_.Pull("listed:1", {&config_, {}}).ok()) ++ok;
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok.load(), 4);
  EXPECT_EQ(Requests("/v2/library/listed/manifests/1"), 1u);
  EXPECT_EQ(Requests("/v2/library/listed/blobs/" + config_digest_), 1u);
}

}  // namespace
}  // namespace kubes::runtime::images
