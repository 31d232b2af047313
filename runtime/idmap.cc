#include "runtime/idmap.h"

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <linux/magic.h>
#include <sys/mount.h>
#include <sys/syscall.h>
#include <sys/vfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

namespace kubes::runtime {
namespace {

std::string Errno(const std::string& what) { return what + ": " + strerror(errno); }

bool WriteAll(const std::string& path, const std::string& data) {
  int fd = open(path.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0) return false;
  bool ok = write(fd, data.data(), data.size()) == static_cast<ssize_t>(data.size());
  close(fd);
  return ok;
}

// mountinfo escapes space, tab, newline and backslash as \ooo.
std::string Unescape(const std::string& s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\' && i + 3 < s.size()) {
      out += static_cast<char>(std::stoi(s.substr(i + 1, 3), nullptr, 8));
      i += 3;
    } else {
      out += s[i];
    }
  }
  return out;
}

}  // namespace

Result<int> UserNamespaceFd(uint32_t host_id, uint32_t size) {
  // The child makes the namespace and waits; the parent writes its maps (a process
  // privileged in the parent namespace may, without denying setgroups), keeps a
  // reference to it through /proc/<child>/ns/user, and ends the child.
  int ready[2], done[2];
  if (pipe2(ready, O_CLOEXEC) != 0) return Internal(Errno("pipe"));
  if (pipe2(done, O_CLOEXEC) != 0) {
    close(ready[0]);
    close(ready[1]);
    return Internal(Errno("pipe"));
  }
  pid_t pid = fork();
  if (pid < 0) return Internal(Errno("fork"));
  if (pid == 0) {
    close(ready[0]);
    close(done[1]);  // else the read below never sees the parent's end close
    char ok = unshare(CLONE_NEWUSER) == 0 ? 1 : 0;
    (void)!write(ready[1], &ok, 1);
    char ignored;
    (void)!read(done[0], &ignored, 1);  // returns when the parent closes its end
    _exit(0);
  }
  close(ready[1]);
  close(done[0]);
  char ok = 0;
  bool unshared = read(ready[0], &ok, 1) == 1 && ok == 1;
  close(ready[0]);
  Result<int> result = Internal("create a user namespace: unshare failed");
  if (unshared) {
    std::string map = "0 " + std::to_string(host_id) + " " + std::to_string(size) + "\n";
    std::string proc = "/proc/" + std::to_string(pid);
    if (!WriteAll(proc + "/uid_map", map) || !WriteAll(proc + "/gid_map", map)) {
      result = Internal(Errno("write the user namespace's id maps"));
    } else {
      int fd = open((proc + "/ns/user").c_str(), O_RDONLY | O_CLOEXEC);
      result = fd >= 0 ? Result<int>(fd) : Result<int>(Internal(Errno("open " + proc + "/ns/user")));
    }
  }
  close(done[1]);
  while (waitpid(pid, nullptr, 0) < 0 && errno == EINTR) {
  }
  return result;
}

Status IdmappedBind(const std::string& source, const std::string& target, int userns_fd, bool recursive) {
  unsigned clone_flags = OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | (recursive ? AT_RECURSIVE : 0);
  int tree = open_tree(AT_FDCWD, source.c_str(), clone_flags);
  if (tree < 0) return Internal(Errno("open_tree " + source));
  mount_attr attr{};
  attr.attr_set = MOUNT_ATTR_IDMAP;
  attr.userns_fd = static_cast<uint64_t>(userns_fd);
  Status s = Status::OK();
  if (mount_setattr(tree, "", AT_EMPTY_PATH | (recursive ? AT_RECURSIVE : 0), &attr, sizeof attr) != 0) {
    s = Internal(Errno("idmap a mount of " + source));
  } else if (move_mount(tree, "", AT_FDCWD, target.c_str(), MOVE_MOUNT_F_EMPTY_PATH) != 0) {
    s = Internal(Errno("mount " + source + " on " + target));
  }
  close(tree);  // a detached tree that was not moved goes away with its last fd
  return s;
}

bool IsPinnedNamespace(const std::string& path) {
  struct statfs st;
  return statfs(path.c_str(), &st) == 0 && st.f_type == NSFS_MAGIC;
}

Status PinUserNamespace(uint32_t host_id, uint32_t size, const std::string& path) {
  if (IsPinnedNamespace(path)) return Status::OK();
  auto fd = UserNamespaceFd(host_id, size);
  if (!fd.ok()) return fd.status();
  int file = open(path.c_str(), O_RDONLY | O_CREAT | O_CLOEXEC, 0644);
  Status s = Status::OK();
  if (file < 0) {
    s = Internal(Errno("create " + path));
  } else {
    close(file);
    std::string self = "/proc/self/fd/" + std::to_string(*fd);
    if (mount(self.c_str(), path.c_str(), nullptr, MS_BIND, nullptr) != 0) {
      s = Internal(Errno("pin the user namespace at " + path));
      unlink(path.c_str());
    }
  }
  close(*fd);
  return s;
}

Status UnpinNamespace(const std::string& path) {
  if (umount2(path.c_str(), MNT_DETACH) != 0 && errno != EINVAL && errno != ENOENT) {
    return Internal(Errno("unmount " + path));
  }
  if (unlink(path.c_str()) != 0 && errno != ENOENT) return Internal(Errno("remove " + path));
  return Status::OK();
}

bool HasMountsAtOrBelow(const std::string& path) {
  std::ifstream in("/proc/self/mountinfo");
  std::string prefix = path.back() == '/' ? path : path + "/";
  for (std::string line; std::getline(in, line);) {
    std::istringstream fields(line);
    std::string id, parent, dev, root, mount_point;
    fields >> id >> parent >> dev >> root >> mount_point;
    mount_point = Unescape(mount_point);
    if (mount_point == path || mount_point.rfind(prefix, 0) == 0) return true;
  }
  return false;
}

}  // namespace kubes::runtime
