#include "runtime/runtime.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>
#include <sstream>
#include <thread>

#include "runtime/cgroups.h"
#include "runtime/embedded_monitor.h"
#include "runtime/idmap.h"
#include "runtime/oci_spec.h"
#include "util/files.h"
#include "util/subprocess.h"

namespace kubes::runtime {
namespace {

namespace fs = std::filesystem;
using Json = nlohmann::json;

Status WriteFile(const std::string& path, const std::string& data) {
  std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << data;
    if (!out) return Internal("write " + tmp + ": " + strerror(errno));
  }
  if (rename(tmp.c_str(), path.c_str()) != 0) return Internal("rename " + tmp + ": " + strerror(errno));
  return Status::OK();
}

std::string FindProgram(const std::string& name) {
  if (name.find('/') != std::string::npos) return access(name.c_str(), X_OK) == 0 ? name : "";
  for (const char* dir : {"/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin"}) {
    std::string p = std::string(dir) + "/" + name;
    if (access(p.c_str(), X_OK) == 0) return p;
  }
  return "";
}

Json LabelsJson(const ContainerLabels& l) {
  return {{"podUID", l.pod_uid}, {"podNamespace", l.pod_namespace}, {"podName", l.pod_name},
          {"containerName", l.container_name}, {"containerType", l.container_type}, {"attempt", l.attempt},
          {"image", l.image}, {"imageRef", l.image_ref}, {"imageID", l.image_id}, {"specHash", l.spec_hash},
          {"terminationMessagePath", l.termination_message_path},
          {"terminationMessagePolicy", l.termination_message_policy}};
}

ContainerLabels LabelsFromJson(const Json& j) {
  ContainerLabels l;
  l.pod_uid = j.value("podUID", "");
  l.pod_namespace = j.value("podNamespace", "");
  l.pod_name = j.value("podName", "");
  l.container_name = j.value("containerName", "");
  l.container_type = j.value("containerType", "");
  l.attempt = j.value("attempt", 0);
  l.image = j.value("image", "");
  l.image_ref = j.value("imageRef", "");
  l.image_id = j.value("imageID", "");
  l.spec_hash = j.value("specHash", "");
  l.termination_message_path = j.value("terminationMessagePath", "");
  l.termination_message_policy = j.value("terminationMessagePolicy", "");
  return l;
}

TimePoint FileTime(const std::string& path) {
  struct stat st;
  if (stat(path.c_str(), &st) != 0) return TimePoint{};
  return TimePoint(std::chrono::duration_cast<TimePoint::duration>(std::chrono::seconds(st.st_mtim.tv_sec) +
                                                                   std::chrono::nanoseconds(st.st_mtim.tv_nsec)));
}

TimePoint ParseNanos(const std::string& s) {
  if (s.empty()) return TimePoint{};
  return TimePoint(std::chrono::duration_cast<TimePoint::duration>(std::chrono::nanoseconds(std::stoll(s))));
}

std::string Nanos(TimePoint t) {
  return std::to_string(std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count());
}

// A process that is alive and not a zombie.
bool Alive(int pid) {
  if (pid <= 0) return false;
  std::string stat = ReadFileOrEmpty("/proc/" + std::to_string(pid) + "/stat");
  if (stat.empty()) return false;
  auto close_paren = stat.rfind(')');
  return close_paren != std::string::npos && close_paren + 2 < stat.size() && stat[close_paren + 2] != 'Z';
}

// runc and crun log errors as `time="…" level=error msg="…"`: keep the message.
std::string RuntimeErrorText(const std::string& raw) {
  auto at = raw.find("msg=\"");
  if (at == std::string::npos) {
    std::string s = raw;
    while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
    return s;
  }
  std::string out;
  for (size_t i = at + 5; i < raw.size() && raw[i] != '"'; ++i) {
    if (raw[i] == '\\' && i + 1 < raw.size()) ++i;
    out += raw[i];
  }
  return out + ": unknown";
}

// For a container in a user namespace: idmapped clones of its image layers (as
// <bundle>/idmap/layer<i>) and of the sources of its bind mounts (<bundle>/idmap/m<i>),
// so the container's root sees what the host's root owns as its own (idmap.h). Returns
// the overlay's lower dirs and rewrites `mounts` to the clones. A bind source on a
// filesystem without idmap support (some hostPath) stays as it is.
Result<std::vector<std::string>> IdmapForUserNamespace(const ContainerConfig& c, const std::string& bundle,
                                                       std::vector<Mount>* mounts) {
  auto userns = UserNamespaceFd(c.userns_host_id, c.userns_size);
  if (!userns.ok()) return userns.status();
  std::vector<std::string> lowers;
  Status failed = Status::OK();
  for (size_t i = 0; i < c.layers.size() && failed.ok(); ++i) {
    std::string target = bundle + "/idmap/layer" + std::to_string(i);
    std::error_code ec;
    fs::create_directories(target, ec);
    failed = IdmappedBind(c.layers[i], target, *userns, false);
    lowers.push_back(target);
  }
  for (size_t i = 0; i < mounts->size() && failed.ok(); ++i) {
    Mount& m = (*mounts)[i];
    if (m.type != "bind") continue;
    std::string target = bundle + "/idmap/m" + std::to_string(i);
    std::error_code ec;
    if (fs::is_directory(m.source, ec)) fs::create_directories(target, ec);
    else std::ofstream(target).close();
    bool recursive = std::find(m.options.begin(), m.options.end(), "rbind") != m.options.end();
    Status s = IdmappedBind(m.source, target, *userns, recursive);
    if (s.ok()) {
      m.source = target;
      // Flags of the source mount are locked for a user namespace: the runtime's
      // read-only remount must repeat them, or the kernel refuses it (EPERM).
      struct statvfs vfs;
      if (statvfs(target.c_str(), &vfs) == 0) {
        for (auto [flag, option] : {std::pair{ST_NOSUID, "nosuid"}, {ST_NODEV, "nodev"}, {ST_NOEXEC, "noexec"}}) {
          if ((vfs.f_flag & flag) && std::find(m.options.begin(), m.options.end(), option) == m.options.end()) {
            m.options.push_back(option);
          }
        }
      }
    } else {
      std::fprintf(stderr, "runtime: container %s: %s: mounting it without an idmapping\n", c.id.c_str(),
                   s.message().c_str());
      fs::remove(target, ec);
    }
  }
  close(*userns);
  if (!failed.ok()) return failed;
  return lowers;
}

// The OCI runtime mounts a user-namespaced container's rootfs and volumes from inside
// its user namespace, where root is an unprivileged host ID: every directory above the
// bundles must let others through (search only, as containerd's 0711 root), or the
// mount fails with "permission denied". A data dir made by mkdtemp is 0700.
void EnsureTraversable(const std::string& dir) {
  for (fs::path p = fs::path(dir); !p.empty() && p != p.root_path(); p = p.parent_path()) {
    struct stat st;
    if (stat(p.c_str(), &st) != 0 || (st.st_mode & S_IXOTH)) continue;
    if (chmod(p.c_str(), (st.st_mode & 07777) | S_IXOTH) == 0) {
      std::fprintf(stderr, "runtime: %s: added search permission for others (user namespaces need it)\n", p.c_str());
    }
  }
}

// Unmounts the idmapped clones IdmapForUserNamespace made (none for other containers).
void UnmountIdmapped(const std::string& bundle) {
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(bundle + "/idmap", ec)) umount2(e.path().c_str(), MNT_DETACH);
}

bool MountedNoExec(const std::string& dir) {
  struct statvfs vfs;
  return statvfs(dir.c_str(), &vfs) == 0 && (vfs.f_flag & ST_NOEXEC);
}

// Writes the monitor kubes carries to `path` unless the file there already holds the
// same bytes. A new file replaces the old by rename: monitors that are running keep
// the file they were started from (its inode lives on until the last one exits).
Status InstallMonitor(const std::string& path) {
  std::string_view program = EmbeddedMonitor();
  if (MountedNoExec(fs::path(path).parent_path())) {
    return Status(Code::kServiceUnavailable, "the container monitor cannot run from " + path +
                                                 ": its file system is mounted noexec");
  }
  if (access(path.c_str(), X_OK) == 0 && ReadFileOrEmpty(path) == program) return Status::OK();
  std::string tmp = path + "." + std::to_string(getpid()) + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out.write(program.data(), static_cast<std::streamsize>(program.size()));
    if (out.flush(); !out) {
      unlink(tmp.c_str());
      return Internal("write " + tmp + ": " + strerror(errno));
    }
  }
  if (chmod(tmp.c_str(), 0755) != 0 || rename(tmp.c_str(), path.c_str()) != 0) {
    std::string err = strerror(errno);
    unlink(tmp.c_str());
    return Internal("install the container monitor as " + path + ": " + err);
  }
  return Status::OK();
}

// The monitor's answer on the sync pipe: "ok <pid>" or "error <text>", then end of
// file. It comes once the OCI runtime's `create` has finished.
std::string ReadMonitorAnswer(int fd) {
  std::string answer;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (true) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    pollfd p{fd, POLLIN, 0};
    int ready = left.count() > 0 ? poll(&p, 1, static_cast<int>(left.count())) : 0;
    if (ready < 0 && errno == EINTR) continue;
    if (ready <= 0) break;  // no answer in time
    char buf[4096];
    ssize_t n = read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    answer.append(buf, n);
  }
  return answer;
}

}  // namespace

std::string NewContainerID() {
  thread_local std::mt19937_64 rng(std::random_device{}());
  static const char* hex = "0123456789abcdef";
  std::string id;
  for (int i = 0; i < 64; ++i) id += hex[rng() % 16];
  return id;
}

std::string PickOCIRuntime(std::string* why) {
  std::string crun = FindProgram("crun"), runc = FindProgram("runc");
  const CgroupLayout& l = DetectCgroups();
  bool hybrid_with_controllers = false;
  if (!l.unified) {
    std::string unified = ReadFileOrEmpty(l.root + "/unified/cgroup.controllers");
    hybrid_with_controllers = unified.find_first_not_of(" \n") != std::string::npos;
  }
  if (!crun.empty() && !hybrid_with_controllers) {
    *why = "crun";
    return crun;
  }
  if (!runc.empty()) {
    *why = crun.empty() ? "runc (crun is not installed)"
                        : "runc (crun refuses this hybrid cgroup layout: the unified hierarchy has controllers)";
    return runc;
  }
  *why = crun.empty() ? "neither crun nor runc is installed" : "crun cannot run on this cgroup layout and runc is missing";
  return "";
}

Runtime::Runtime(RuntimeOptions o) : options_(std::move(o)) {}

Result<std::unique_ptr<Runtime>> Runtime::Open(RuntimeOptions options) {
  std::unique_ptr<Runtime> rt(new Runtime(options));
  std::string why;
  rt->oci_runtime_ = options.oci_runtime.empty() ? PickOCIRuntime(&why) : FindProgram(options.oci_runtime);
  if (rt->oci_runtime_.empty()) {
    return Status(Code::kServiceUnavailable, "no OCI runtime: " + (options.oci_runtime.empty() ? why : options.oci_runtime + " not found"));
  }
  rt->state_dir_ = options.run_dir + "/" + fs::path(rt->oci_runtime_).filename().string();
  rt->exit_dir_ = options.root + "/exits";
  std::error_code ec;
  for (const auto& d : {options.root, rt->exit_dir_, rt->state_dir_}) {
    fs::create_directories(d, ec);
    if (ec) return Internal("create " + d + ": " + ec.message());
  }
  // In the run dir, unless it is mounted noexec (systemd mounts /run so on some
  // distributions): then beside the bundles.
  rt->monitor_ = (MountedNoExec(options.run_dir) ? options.root : options.run_dir) + "/kubes-monitor";
  Status s = InstallMonitor(rt->monitor_);
  if (!s.ok()) return s;
  return rt;
}

std::vector<std::string> Runtime::RuntimeArgs(std::vector<std::string> tail) const {
  std::vector<std::string> argv = {oci_runtime_, "--root", state_dir_};
  argv.insert(argv.end(), tail.begin(), tail.end());
  return argv;
}

Status Runtime::Create(const ContainerConfig& c) {
  if (c.layers.empty()) return Invalid("container " + c.id + " has no image layers");
  std::string bundle = BundleDir(c.id);
  std::string rootfs = bundle + "/rootfs";
  std::error_code ec;
  for (const auto& d : {rootfs, bundle + "/upper", bundle + "/work"}) {
    fs::create_directories(d, ec);
    if (ec) return Internal("create " + d + ": " + ec.message());
  }
  std::vector<std::string> layers = c.layers;
  ContainerConfig spec = c;  // with the mounts' sources idmapped, in a user namespace
  if (c.userns_size > 0) {
    EnsureTraversable(bundle);
    auto lowers = IdmapForUserNamespace(c, bundle, &spec.mounts);
    if (!lowers.ok()) {
      (void)Remove(c.id);
      return Internal("idmap the container's layers and volumes: " + lowers.status().message());
    }
    layers = *lowers;
    // The upper dir is not idmapped: what the container's root writes there is owned
    // by its host ID, so its own root dir must be too.
    chown((bundle + "/upper").c_str(), c.userns_host_id, c.userns_host_id);
  }
  // overlayfs lists lower dirs top first.
  std::string lower;
  for (auto it = layers.rbegin(); it != layers.rend(); ++it) lower += (lower.empty() ? "" : ":") + *it;
  std::string data = "lowerdir=" + lower + ",upperdir=" + bundle + "/upper,workdir=" + bundle + "/work";
  if (mount("overlay", rootfs.c_str(), "overlay", 0, data.c_str()) != 0) {
    std::string err = strerror(errno);
    (void)Remove(c.id);
    return Internal("mount the container's root filesystem: " + err);
  }
  Json meta = {{"labels", LabelsJson(c.labels)}, {"createdAt", Nanos(std::chrono::system_clock::now())}, {"logPath", c.log_path},
               {"cgroup", c.cgroup_parent + "/" + c.id}};
  Status s = WriteFile(bundle + "/config.json", BuildOCISpec(spec, rootfs).dump());
  if (s.ok()) s = WriteFile(bundle + "/kubes.json", meta.dump());
  fs::create_directories(fs::path(c.log_path).parent_path(), ec);
  if (!s.ok()) {
    (void)Remove(c.id);
    return s;
  }

  int sync[2];
  if (pipe2(sync, O_CLOEXEC) != 0) return Internal(std::string("pipe: ") + strerror(errno));
  std::vector<std::string> argv = {monitor_, "--id", c.id, "--bundle", bundle, "--runtime", oci_runtime_,
                                   "--runtime-root", state_dir_, "--exit-dir", exit_dir_, "--log", c.log_path,
                                   "--oom-file", CgroupOOMFile(c.cgroup_parent + "/" + c.id),
                                   "--sync-fd", std::to_string(sync[1])};
  if (c.tty) argv.push_back("--tty");
  if (c.stdin) argv.push_back("--stdin");
  if (c.stdin && c.stdin_once) argv.push_back("--stdin-once");
  CommandOptions opts;
  opts.keep_fds = {sync[1]};
  opts.timeout = std::chrono::seconds(30);
  // The monitor forks itself away and returns at once; its answer comes on the pipe.
  auto ran = RunCommand(argv, opts);
  close(sync[1]);
  std::string answer = ran.ok() && ran->exit_code == 0 ? ReadMonitorAnswer(sync[0]) : "";
  close(sync[0]);
  if (!ran.ok()) {
    (void)Remove(c.id);
    return ran.status();
  }
  if (answer.rfind("ok ", 0) == 0) return Status::OK();
  std::string msg;
  if (answer.rfind("error ", 0) == 0) msg = RuntimeErrorText(answer.substr(6));
  else if (ran->exit_code != 0) msg = "the container monitor exited with " + std::to_string(ran->exit_code) + ": " + ran->err;
  else msg = "the container monitor ended without an answer";
  (void)Remove(c.id);
  return Internal(msg);
}

Status Runtime::Start(const std::string& id) {
  // The start time is taken just before the process is let go: a short-lived one may
  // exit before `start` returns, and its finish must not come before its start.
  std::string started = BundleDir(id) + "/started";
  Status s = WriteFile(started, Nanos(std::chrono::system_clock::now()));
  if (!s.ok()) return s;
  auto argv = RuntimeArgs({"start", id});
  auto r = RunCommand(argv);
  if (r.ok() && r->exit_code == 0) return Status::OK();
  unlink(started.c_str());
  return r.ok() ? CommandError(argv, *r) : r.status();
}

Status Runtime::RecordFailedStart(const ContainerConfig& c, const std::string& error) {
  std::string bundle = BundleDir(c.id);
  std::error_code ec;
  fs::create_directories(bundle, ec);
  if (ec) return Internal("create " + bundle + ": " + ec.message());
  Json meta = {{"labels", LabelsJson(c.labels)}, {"createdAt", Nanos(std::chrono::system_clock::now())},
               {"logPath", c.log_path}};
  Status s = WriteFile(bundle + "/start-error", error);
  if (s.ok()) s = WriteFile(bundle + "/kubes.json", meta.dump());
  return s;
}

Status Runtime::Signal(const std::string& id, int signal) {
  auto st = Inspect(id);
  if (!st.ok()) return st.status();
  if (st->state != ContainerState::kRunning && st->state != ContainerState::kCreated) return Status::OK();
  // Never pid 0 or -1: kill() would signal our whole process group, or everything.
  if (st->pid <= 0) return Status::OK();
  if (kill(st->pid, signal) != 0 && errno != ESRCH) return Internal("kill: " + std::string(strerror(errno)));
  return Status::OK();
}

Status Runtime::Remove(const std::string& id) {
  std::string bundle = BundleDir(id);
  std::error_code ec;
  if (!fs::exists(bundle, ec)) return Status::OK();
  auto st = Inspect(id);
  if (st.ok() && (st->state == ContainerState::kRunning || st->state == ContainerState::kCreated)) {
    if (st->pid > 0) kill(st->pid, SIGKILL);
  }
  (void)RunCommand(RuntimeArgs({"delete", "--force", id}));
  // The monitor ends by itself once the container is gone; end it if it lingers.
  int monitor = std::atoi(ReadFileOrEmpty(bundle + "/monitor.pid").c_str());
  for (int i = 0; i < 100 && Alive(monitor); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  if (monitor > 0 && Alive(monitor)) kill(monitor, SIGKILL);
  std::string rootfs = bundle + "/rootfs";
  if (umount2(rootfs.c_str(), MNT_DETACH) != 0 && errno != EINVAL && errno != ENOENT) {
    return Internal("unmount " + rootfs + ": " + strerror(errno));
  }
  UnmountIdmapped(bundle);
  // Never remove through a mount: an idmapped clone still mounted here would be an
  // image layer or a pod volume.
  if (HasMountsAtOrBelow(bundle)) return Internal("remove " + bundle + ": a mount is still below it");
  Json meta = Json::parse(ReadFileOrEmpty(bundle + "/kubes.json"), nullptr, false);
  if (meta.is_object() && !meta.value("cgroup", "").empty()) (void)RemoveCgroup(meta.value("cgroup", ""));
  fs::remove_all(bundle, ec);
  fs::remove(exit_dir_ + "/" + id, ec);
  if (ec) return Internal("remove " + bundle + ": " + ec.message());
  return Status::OK();
}

Result<ContainerStatus> Runtime::Inspect(const std::string& id) const {
  std::string bundle = BundleDir(id);
  Json meta = Json::parse(ReadFileOrEmpty(bundle + "/kubes.json"), nullptr, false);
  if (!meta.is_object()) return NotFound("container " + id + " not found");
  ContainerStatus s;
  s.id = id;
  s.labels = LabelsFromJson(meta.value("labels", Json::object()));
  s.log_path = meta.value("logPath", "");
  s.created_at = ParseNanos(meta.value("createdAt", ""));
  s.started_at = ParseNanos(ReadFileOrEmpty(bundle + "/started"));
  s.pid = std::atoi(ReadFileOrEmpty(bundle + "/pidfile").c_str());
  std::string start_error = ReadFileOrEmpty(bundle + "/start-error");
  if (!start_error.empty()) {
    s.state = ContainerState::kExited;
    s.exit_code = 128;
    s.start_error = start_error;
    s.started_at = s.finished_at = FileTime(bundle + "/start-error");
    return s;
  }
  std::string exit_file = exit_dir_ + "/" + id;
  // The monitor writes the exit code once the process is gone.
  auto exited = [&] {
    std::string code = ReadFileOrEmpty(exit_file);
    if (code.empty()) return false;
    s.state = ContainerState::kExited;
    s.exit_code = std::atoi(code.c_str());
    s.finished_at = FileTime(exit_file);
    std::error_code ec;
    s.oom_killed = fs::exists(bundle + "/oom", ec);
    return true;
  };
  if (exited()) return s;
  if (Alive(s.pid)) {
    s.state = s.started_at == TimePoint{} ? ContainerState::kCreated : ContainerState::kRunning;
    return s;
  }
  int monitor = std::atoi(ReadFileOrEmpty(bundle + "/monitor.pid").c_str());
  bool monitor_alive = Alive(monitor);
  // The process is gone and the monitor with it: it may have written the exit file and
  // exited since the first look (read it again), or died without writing it (then the
  // code is lost and the state unknown).
  if (!monitor_alive && exited()) return s;
  // Otherwise the monitor is about to write the exit file.
  s.state = monitor_alive && s.pid > 0 ? ContainerState::kRunning : ContainerState::kUnknown;
  if (s.state == ContainerState::kUnknown && s.pid == 0 && monitor_alive) s.state = ContainerState::kCreated;
  return s;
}

std::vector<ContainerStatus> Runtime::List() const {
  std::vector<ContainerStatus> out;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(options_.root, ec)) {
    std::string name = e.path().filename().string();
    if (name.size() != 64) continue;
    auto s = Inspect(name);
    if (s.ok()) out.push_back(std::move(s).value());
  }
  return out;
}

std::vector<std::string> Runtime::ExecCommand(const std::string& id, const std::vector<std::string>& argv,
                                              bool tty) const {
  std::vector<std::string> cmd = RuntimeArgs({"exec"});
  if (tty) cmd.push_back("-t");
  cmd.push_back(id);
  cmd.insert(cmd.end(), argv.begin(), argv.end());
  return cmd;
}

std::string Runtime::AttachSocket(const std::string& id) const { return BundleDir(id) + "/attach"; }
std::string Runtime::ControlFifo(const std::string& id) const { return BundleDir(id) + "/ctl"; }

}  // namespace kubes::runtime
