#include "runtime/cgroups.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "util/files.h"

namespace kubes::runtime {
namespace {

namespace fs = std::filesystem;

// Value of `key` in a "key value" per line file (memory.stat, cpu.stat).
std::optional<uint64_t> StatValue(const std::string& text, const std::string& key) {
  std::istringstream in(text);
  std::string k;
  uint64_t v;
  while (in >> k >> v) {
    if (k == key) return v;
  }
  return std::nullopt;
}

// The directories `path` has in each hierarchy.
std::vector<std::string> Dirs(const std::string& path) {
  const CgroupLayout& l = DetectCgroups();
  if (l.unified) return {l.root + path};
  std::vector<std::string> out;
  for (const auto& c : l.v1_controllers) out.push_back(l.root + "/" + c + path);
  return out;
}

// rmdir children first; a cgroup with processes cannot go, so retry briefly while the
// last processes of a container finish exiting.
Status RemoveTree(const std::string& dir) {
  std::error_code ec;
  if (!fs::exists(dir, ec)) return Status::OK();
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    if (e.is_directory(ec) && !e.is_symlink(ec)) {
      Status s = RemoveTree(e.path().string());
      if (!s.ok()) return s;
    }
  }
  for (int i = 0; i < 50; ++i) {
    if (rmdir(dir.c_str()) == 0 || errno == ENOENT) return Status::OK();
    if (errno != EBUSY) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return Internal("remove cgroup " + dir + ": " + strerror(errno));
}

}  // namespace

const CgroupLayout& DetectCgroups() {
  static const CgroupLayout layout = [] {
    CgroupLayout l;
    std::error_code ec;
    if (fs::exists(l.root + "/cgroup.controllers", ec)) {
      l.unified = true;
      return l;
    }
    for (const char* c : {"cpu", "cpuacct", "cpuset", "memory", "pids", "blkio", "devices", "freezer", "hugetlb",
                          "net_cls", "net_prio", "perf_event", "systemd"}) {
      fs::path p = fs::path(l.root) / c;
      if (fs::is_directory(p, ec) && !fs::is_symlink(p, ec)) l.v1_controllers.push_back(c);
    }
    // A unified hierarchy beside v1 (hybrid) gets its own directory too.
    if (fs::exists(l.root + "/unified/cgroup.controllers", ec)) l.v1_controllers.push_back("unified");
    return l;
  }();
  return layout;
}

Status CreateCgroup(const std::string& path) {
  const CgroupLayout& layout = DetectCgroups();
  if (layout.unified) {
    // A child can use a controller only when every ancestor lists it in
    // cgroup.subtree_control. One at a time: a controller the machine lacks must not
    // keep the others off.
    std::string at = layout.root;
    std::stringstream parts(path);
    std::string part;
    while (std::getline(parts, part, '/')) {
      if (part.empty()) continue;
      for (const char* c : {"+cpu", "+memory", "+pids"}) std::ofstream(at + "/cgroup.subtree_control") << c;
      at += "/" + part;
      std::error_code ec;
      fs::create_directory(at, ec);
    }
  }
  for (const auto& d : Dirs(path)) {
    std::error_code ec;
    fs::create_directories(d, ec);
    if (ec) return Internal("create cgroup " + d + ": " + ec.message());
  }
  // cpuset children start empty on v1: copy the parent's cpus and mems down the path.
  const CgroupLayout& l = DetectCgroups();
  if (!l.unified) {
    std::string base = l.root + "/cpuset";
    std::string at = base;
    std::stringstream parts(path);
    std::string part;
    while (std::getline(parts, part, '/')) {
      if (part.empty()) continue;
      std::string parent = at;
      at += "/" + part;
      for (const char* f : {"cpuset.cpus", "cpuset.mems"}) {
        if (!ReadFileOrEmpty(at + "/" + f).empty() && ReadFileOrEmpty(at + "/" + f) != "\n") continue;
        std::ofstream(at + "/" + f) << ReadFileOrEmpty(parent + "/" + f);
      }
    }
  }
  return Status::OK();
}

uint64_t CPUSharesToWeight(uint64_t shares) {
  if (shares < 2) shares = 2;
  if (shares > 262144) shares = 262144;
  return 1 + ((shares - 2) * 9999) / 262142;
}

Status SetCgroupResources(const std::string& path, const CgroupResources& r) {
  const CgroupLayout& l = DetectCgroups();
  std::vector<std::pair<std::string, std::string>> writes;  // file → value
  if (l.unified) {
    std::string dir = l.root + path;
    if (r.cpu_shares) writes.emplace_back(dir + "/cpu.weight", std::to_string(CPUSharesToWeight(*r.cpu_shares)));
    if (r.cpu_quota_us) {
      std::string quota = *r.cpu_quota_us < 0 ? "max" : std::to_string(*r.cpu_quota_us);
      writes.emplace_back(dir + "/cpu.max", quota + " " + std::to_string(r.cpu_period_us));
    }
    if (r.memory_limit) {
      writes.emplace_back(dir + "/memory.max", *r.memory_limit < 0 ? "max" : std::to_string(*r.memory_limit));
    }
  } else {
    std::string cpu = l.root + "/cpu" + path, mem = l.root + "/memory" + path;
    if (r.cpu_shares) writes.emplace_back(cpu + "/cpu.shares", std::to_string(*r.cpu_shares));
    if (r.cpu_quota_us) {
      writes.emplace_back(cpu + "/cpu.cfs_period_us", std::to_string(r.cpu_period_us));
      writes.emplace_back(cpu + "/cpu.cfs_quota_us", std::to_string(*r.cpu_quota_us));
    }
    if (r.memory_limit) writes.emplace_back(mem + "/memory.limit_in_bytes", std::to_string(*r.memory_limit));
  }
  for (const auto& [file, value] : writes) {
    std::ofstream out(file);
    out << value;
    out.flush();
    if (!out) return Internal("write " + value + " to " + file + ": " + strerror(errno));
  }
  return Status::OK();
}

Status RemoveCgroup(const std::string& path) {
  Status first = Status::OK();
  for (const auto& d : Dirs(path)) {
    Status s = RemoveTree(d);
    if (!s.ok() && first.ok()) first = s;
  }
  return first;
}

bool CgroupExists(const std::string& path) {
  const CgroupLayout& l = DetectCgroups();
  std::error_code ec;
  return fs::is_directory(l.unified ? l.root + path : l.root + "/memory" + path, ec);
}

std::vector<std::string> ListCgroupChildren(const std::string& path) {
  const CgroupLayout& l = DetectCgroups();
  std::string dir = l.unified ? l.root + path : l.root + "/memory" + path;
  std::vector<std::string> out;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    if (e.is_directory(ec)) out.push_back(e.path().filename().string());
  }
  return out;
}

std::optional<CgroupUsage> ReadCgroupUsage(const std::string& path) {
  const CgroupLayout& l = DetectCgroups();
  CgroupUsage u;
  if (l.unified) {
    std::string dir = l.root + path;
    std::string cpu = ReadFileOrEmpty(dir + "/cpu.stat");
    if (cpu.empty()) return std::nullopt;
    u.cpu_usage_ns = StatValue(cpu, "usage_usec").value_or(0) * 1000;
    uint64_t current = std::strtoull(ReadFileOrEmpty(dir + "/memory.current").c_str(), nullptr, 10);
    uint64_t inactive = StatValue(ReadFileOrEmpty(dir + "/memory.stat"), "inactive_file").value_or(0);
    u.memory_working_set_bytes = current > inactive ? current - inactive : 0;
    return u;
  }
  std::string acct = ReadFileOrEmpty(l.root + "/cpuacct" + path + "/cpuacct.usage");
  if (acct.empty()) return std::nullopt;
  u.cpu_usage_ns = std::strtoull(acct.c_str(), nullptr, 10);
  std::string mem = l.root + "/memory" + path;
  uint64_t usage = std::strtoull(ReadFileOrEmpty(mem + "/memory.usage_in_bytes").c_str(), nullptr, 10);
  uint64_t inactive = StatValue(ReadFileOrEmpty(mem + "/memory.stat"), "total_inactive_file").value_or(0);
  u.memory_working_set_bytes = usage > inactive ? usage - inactive : 0;
  return u;
}

std::string CgroupOOMFile(const std::string& path) {
  const CgroupLayout& l = DetectCgroups();
  return l.unified ? l.root + path + "/memory.events" : l.root + "/memory" + path + "/memory.oom_control";
}

bool CgroupOOMKilled(const std::string& path) {
  return StatValue(ReadFileOrEmpty(CgroupOOMFile(path)), "oom_kill").value_or(0) > 0;
}

}  // namespace kubes::runtime
