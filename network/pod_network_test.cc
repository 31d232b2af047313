// Wires real network namespaces with the CNI plugins (root and
// containernetworking-plugins needed; skipped otherwise). Addresses are in a range
// of the test's own, on a bridge of its own, and everything is removed afterwards.
#include "network/pod_network.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <filesystem>

#include "network/netns.h"

namespace kubes::network {
namespace {

namespace fs = std::filesystem;

class PodNetworkTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (geteuid() != 0) GTEST_SKIP() << "needs root";
    char tmpl[] = "/tmp/kubes-network-test-XXXXXX";
    dir_ = mkdtemp(tmpl);
    int octet = 100 + getpid() % 100;
    NetworkOptions o;
    o.bridge = "kubestest" + std::to_string(getpid() % 100000);
    o.pod_cidrs = {"10.213." + std::to_string(octet) + ".0/24"};
    o.unreachable = {"10.213." + std::to_string(octet) + ".0/24"};
    o.state_dir = dir_ + "/state";
    o.netns_dir = "/run/kubes-network-test-" + std::to_string(getpid());
    auto n = PodNetwork::Open(o);
    if (!n.ok()) GTEST_SKIP() << n.status().message();
    net_ = std::move(n).value();
  }
  void TearDown() override {
    if (net_) {
      for (const auto& s : net_->Sandboxes()) (void)net_->TearDown(s, {"default", s, s});
      (void)net_->RemoveHostState();
      fs::remove_all("/run/kubes-network-test-" + std::to_string(getpid()));
    }
    if (!dir_.empty()) fs::remove_all(dir_);
  }
  std::string dir_;
  std::unique_ptr<PodNetwork> net_;
};

TEST_F(PodNetworkTest, PodsGetAddressesAndReachEachOther) {
  auto a = net_->SetUp("sandbox-a", {"default", "a", "uid-a"}, {});
  ASSERT_TRUE(a.ok()) << a.status().message();
  auto b = net_->SetUp("sandbox-b", {"default", "b", "uid-b"}, {});
  ASSERT_TRUE(b.ok()) << b.status().message();
  ASSERT_EQ(a->size(), 1u);
  EXPECT_NE((*a)[0], (*b)[0]);
  EXPECT_EQ(net_->Addresses("sandbox-a"), *a);

  // A listens inside its namespace; B connects to A's pod IP from inside its own.
  int listener = -1;
  ASSERT_TRUE(RunInNetns(net_->NetnsPath("sandbox-a"), [&]() -> Status {
                listener = socket(AF_INET, SOCK_STREAM, 0);
                sockaddr_in addr{};
                addr.sin_family = AF_INET;
                addr.sin_port = htons(8080);
                if (bind(listener, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) return Internal("bind");
                return listen(listener, 1) == 0 ? Status::OK() : Internal("listen");
              }).ok());
  int conn = -1;
  Status dialed = RunInNetns(net_->NetnsPath("sandbox-b"), [&]() -> Status {
    conn = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(8080);
    inet_pton(AF_INET, (*a)[0].c_str(), &addr.sin_addr);
    return connect(conn, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 ? Status::OK() : Internal("connect");
  });
  EXPECT_TRUE(dialed.ok()) << dialed.message();
  // port-forward's path: a dial to localhost inside A's namespace.
  auto local = DialInNetns(net_->NetnsPath("sandbox-a"), 8080);
  EXPECT_TRUE(local.ok());
  if (local.ok()) close(*local);
  close(conn);
  close(listener);

  ASSERT_TRUE(net_->TearDown("sandbox-a", {"default", "a", "uid-a"}).ok());
  EXPECT_FALSE(fs::exists(net_->NetnsPath("sandbox-a")));
  EXPECT_TRUE(net_->Addresses("sandbox-a").empty());
  EXPECT_TRUE(net_->TearDown("sandbox-a", {"default", "a", "uid-a"}).ok()) << "tearing down twice is fine";
}

TEST(FirstAddressTest, Gateways) {
  EXPECT_EQ(FirstAddress("10.42.0.0/24"), "10.42.0.1");
  EXPECT_EQ(FirstAddress("fd42::/64"), "fd42::1");
}

}  // namespace
}  // namespace kubes::network
