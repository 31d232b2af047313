#include "network/netns.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <thread>

namespace kubes::network {
namespace {

Status Errno(const std::string& what) { return Internal(what + ": " + strerror(errno)); }

// Runs fn on a new thread and waits: the thread may change its own namespaces freely,
// and they end with it.
Status OnFreshThread(const std::function<Status()>& fn) {
  Status result = Status::OK();
  std::thread t([&] { result = fn(); });
  t.join();
  return result;
}

}  // namespace

// A network namespace made inside the user namespace pinned at `owner_userns`: only a
// single-threaded process may enter a user namespace, so a forked child does it, makes
// the network namespace and waits while the parent pins it from /proc/<child>/ns/net.
Status CreateOwnedNetns(const std::string& path, const std::string& owner_userns) {
  int userns = open(owner_userns.c_str(), O_RDONLY | O_CLOEXEC);
  if (userns < 0) return Errno("open " + owner_userns);
  int ready[2], done[2];
  if (pipe2(ready, O_CLOEXEC) != 0 || pipe2(done, O_CLOEXEC) != 0) {
    close(userns);
    return Errno("pipe");
  }
  pid_t pid = fork();
  if (pid < 0) {
    close(userns);
    return Errno("fork");
  }
  if (pid == 0) {
    close(ready[0]);
    close(done[1]);
    char ok = setns(userns, CLONE_NEWUSER) == 0 && unshare(CLONE_NEWNET) == 0 ? 1 : 0;
    (void)!write(ready[1], &ok, 1);
    char ignored;
    (void)!read(done[0], &ignored, 1);  // until the parent has pinned the namespace
    _exit(0);
  }
  close(userns);
  close(ready[1]);
  close(done[0]);
  char ok = 0;
  bool made = read(ready[0], &ok, 1) == 1 && ok == 1;
  close(ready[0]);
  Status s = made ? Status::OK() : Internal("create a network namespace in the user namespace " + owner_userns);
  if (made) {
    std::string child = "/proc/" + std::to_string(pid) + "/ns/net";
    if (mount(child.c_str(), path.c_str(), nullptr, MS_BIND, nullptr) != 0) s = Errno("bind-mount " + path);
  }
  close(done[1]);
  while (waitpid(pid, nullptr, 0) < 0 && errno == EINTR) {
  }
  return s;
}

Status CreateNetns(const std::string& path, const std::string& owner_userns) {
  int fd = open(path.c_str(), O_RDONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0) return Errno("create " + path);
  close(fd);
  if (!owner_userns.empty()) {
    Status s = CreateOwnedNetns(path, owner_userns);
    if (!s.ok()) unlink(path.c_str());
    return s;
  }
  Status s = OnFreshThread([&]() -> Status {
    if (unshare(CLONE_NEWNET) != 0) return Errno("unshare(CLONE_NEWNET)");
    std::string self = "/proc/self/task/" + std::to_string(gettid()) + "/ns/net";
    if (mount(self.c_str(), path.c_str(), nullptr, MS_BIND, nullptr) != 0) return Errno("bind-mount " + path);
    return Status::OK();
  });
  if (!s.ok()) unlink(path.c_str());
  return s;
}

Status DeleteNetns(const std::string& path) {
  if (umount2(path.c_str(), MNT_DETACH) != 0 && errno != EINVAL && errno != ENOENT) return Errno("unmount " + path);
  if (unlink(path.c_str()) != 0 && errno != ENOENT) return Errno("remove " + path);
  return Status::OK();
}

Status RunInNetns(const std::string& path, const std::function<Status()>& fn) {
  return OnFreshThread([&]() -> Status {
    // A thread that shares its filesystem attributes with the process cannot setns
    // into a mount namespace, but a network namespace is fine.
    int ns = open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (ns < 0) return Errno("open " + path);
    int rc = setns(ns, CLONE_NEWNET);
    close(ns);
    if (rc != 0) return Errno("enter network namespace " + path);
    return fn();
  });
}

Result<int> DialInNetns(const std::string& path, int port) {
  int fd = -1;
  Status s = RunInNetns(path, [&]() -> Status {
    // Like the kubelet, try IPv4 localhost, then IPv6.
    fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<uint16_t>(port));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0) return Status::OK();
    int err4 = errno;
    close(fd);
    fd = socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in6 a6{};
    a6.sin6_family = AF_INET6;
    a6.sin6_port = htons(static_cast<uint16_t>(port));
    a6.sin6_addr = in6addr_loopback;
    if (connect(fd, reinterpret_cast<sockaddr*>(&a6), sizeof a6) == 0) return Status::OK();
    close(fd);
    fd = -1;
    return Internal("dial tcp4 127.0.0.1:" + std::to_string(port) + ": connect: " + strerror(err4));
  });
  if (!s.ok()) return s;
  return fd;
}

}  // namespace kubes::network
