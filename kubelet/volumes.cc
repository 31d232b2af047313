#include "kubelet/volumes.h"

#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <random>
#include <set>

#include "apimachinery/resource/quantity.h"
#include "util/random.h"

namespace kubes::kubelet {
namespace {

namespace fs = std::filesystem;

bool IsMountPoint(const std::string& path) {
  struct stat a, b;
  if (stat(path.c_str(), &a) != 0 || stat((path + "/..").c_str(), &b) != 0) return false;
  return a.st_dev != b.st_dev;
}

Status MountTmpfs(const std::string& dir, const std::string& size) {
  if (IsMountPoint(dir)) return Status::OK();
  std::string options = "mode=0777";
  if (!size.empty()) options += ",size=" + std::to_string(resource::ValueOf(size));
  if (mount("tmpfs", dir.c_str(), "tmpfs", MS_NOSUID | MS_NODEV, options.c_str()) != 0) {
    return Internal("mount tmpfs on " + dir + ": " + strerror(errno));
  }
  return Status::OK();
}

int ModeOf(const Json& j, int fallback) { return j.is_number_integer() ? j.get<int>() : fallback; }

// Keys of a ConfigMap/Secret projected into files: all keys, or just `items`.
Status ProjectKeys(const std::map<std::string, std::string>& data, const Json& items, int mode, bool optional,
                   const std::string& what, std::map<std::string, VolumeFile>* files) {
  if (items.is_array() && !items.empty()) {
    for (const auto& item : items) {
      std::string key = item.value("key", "");
      auto it = data.find(key);
      if (it == data.end()) {
        if (optional) continue;
        return NotFound("configmap references non-existent config key: " + key);
      }
      (*files)[item.value("path", key)] = {it->second, ModeOf(item.value("mode", Json()), mode)};
    }
    return Status::OK();
  }
  for (const auto& [k, v] : data) (*files)[k] = {v, mode};
  (void)what;
  return Status::OK();
}

Status DownwardFiles(const Json& pod, const Json& items, int mode, const Json& allocatable,
                     std::map<std::string, VolumeFile>* files) {
  for (const auto& item : items) {
    std::string path = item.value("path", "");
    int m = ModeOf(item.value("mode", Json()), mode);
    if (item.contains("fieldRef")) {
      auto v = PodFieldValue(pod, item["fieldRef"].value("fieldPath", ""));
      if (!v.ok()) return v.status();
      (*files)[path] = {*v, m};
    } else if (item.contains("resourceFieldRef")) {
      const Json& ref = item["resourceFieldRef"];
      Json target = Json::object();
      for (const auto& c : pod["spec"].value("containers", Json::array())) {
        if (c.value("name", "") == ref.value("containerName", "")) target = c;
      }
      auto v = ResourceFieldValue(target, ref, allocatable);
      if (!v.ok()) return v.status();
      (*files)[path] = {*v, m};
    }
  }
  return Status::OK();
}

// The files of one configMap/secret/downwardAPI/projected volume.
Status VolumeFiles(const Json& pod, const Json& volume, const VolumeSources& sources,
                   std::map<std::string, VolumeFile>* files) {
  if (volume.contains("configMap")) {
    const Json& cm = volume["configMap"];
    bool optional = cm.value("optional", false);
    auto data = sources.objects.config_map(cm.value("name", ""));
    if (!data.ok()) {
      if (optional && data.status().code() == Code::kNotFound) return Status::OK();
      return data.status();
    }
    return ProjectKeys(*data, cm.value("items", Json::array()), ModeOf(cm.value("defaultMode", Json()), 0644),
                       optional, "configmap", files);
  }
  if (volume.contains("secret")) {
    const Json& s = volume["secret"];
    bool optional = s.value("optional", false);
    auto data = sources.objects.secret(s.value("secretName", ""));
    if (!data.ok()) {
      if (optional && data.status().code() == Code::kNotFound) return Status::OK();
      return data.status();
    }
    return ProjectKeys(*data, s.value("items", Json::array()), ModeOf(s.value("defaultMode", Json()), 0644),
                       optional, "secret", files);
  }
  if (volume.contains("downwardAPI")) {
    const Json& d = volume["downwardAPI"];
    return DownwardFiles(pod, d.value("items", Json::array()), ModeOf(d.value("defaultMode", Json()), 0644),
                         sources.node_allocatable, files);
  }
  const Json& p = volume["projected"];
  int mode = ModeOf(p.value("defaultMode", Json()), 0644);
  for (const auto& src : p.value("sources", Json::array())) {
    Status s = Status::OK();
    if (src.contains("serviceAccountToken")) {
      const Json& t = src["serviceAccountToken"];
      auto token = sources.token(t.value("audience", ""), t.value("expirationSeconds", int64_t{3600}));
      if (!token.ok()) return token.status();
      (*files)[t.value("path", "token")] = {*token, mode};
    } else if (src.contains("configMap")) {
      Json v = {{"configMap", src["configMap"]}};
      v["configMap"]["defaultMode"] = mode;
      s = VolumeFiles(pod, v, sources, files);
    } else if (src.contains("secret")) {
      Json v = {{"secret", src["secret"]}};
      v["secret"]["secretName"] = src["secret"].value("name", "");
      v["secret"]["defaultMode"] = mode;
      s = VolumeFiles(pod, v, sources, files);
    } else if (src.contains("downwardAPI")) {
      s = DownwardFiles(pod, src["downwardAPI"].value("items", Json::array()), mode, sources.node_allocatable, files);
    }
    if (!s.ok()) return s;
  }
  return Status::OK();
}

Status HostPathCheck(const std::string& path, const std::string& type) {
  std::error_code ec;
  auto st = fs::status(path, ec);
  auto fail = [&](const std::string& what) {
    return Invalid("hostPath type check failed: " + path + " is not a " + what);
  };
  if (type.empty()) return Status::OK();
  if (type == "DirectoryOrCreate") {
    if (!fs::exists(st)) {
      fs::create_directories(path, ec);
      if (ec) return Internal("create " + path + ": " + ec.message());
      chmod(path.c_str(), 0755);
      return Status::OK();
    }
    return fs::is_directory(st) ? Status::OK() : fail("directory");
  }
  if (type == "FileOrCreate") {
    if (!fs::exists(st)) {
      fs::create_directories(fs::path(path).parent_path(), ec);
      std::ofstream(path).close();
      chmod(path.c_str(), 0644);
      return Status::OK();
    }
    return fs::is_regular_file(st) ? Status::OK() : fail("file");
  }
  if (type == "Directory") return fs::is_directory(st) ? Status::OK() : fail("directory");
  if (type == "File") return fs::is_regular_file(st) ? Status::OK() : fail("file");
  if (type == "Socket") return fs::is_socket(st) ? Status::OK() : fail("socket file");
  if (type == "CharDevice") return fs::is_character_file(st) ? Status::OK() : fail("character device");
  if (type == "BlockDevice") return fs::is_block_file(st) ? Status::OK() : fail("block device");
  return Invalid("hostPath type " + type + " is not supported");
}

}  // namespace

namespace {

// Whether dir/..data holds exactly `files` already (upstream's AtomicWriter writes
// nothing then: every sync sets volumes up again, and most of them changed nothing).
bool Unchanged(const std::string& dir, const std::map<std::string, VolumeFile>& files) {
  std::error_code ec;
  std::string data = dir + "/..data";
  if (!fs::is_symlink(data, ec)) return false;
  size_t present = 0;
  for (auto it = fs::recursive_directory_iterator(data + "/", ec); !ec && it != fs::recursive_directory_iterator();
       it.increment(ec)) {
    if (it->is_regular_file(ec)) ++present;
  }
  if (ec || present != files.size()) return false;
  for (const auto& [rel, f] : files) {
    std::string path = data + "/" + rel;
    struct stat st {};
    if (stat(path.c_str(), &st) != 0 || (st.st_mode & 07777) != (f.mode & 07777) ||
        static_cast<size_t>(st.st_size) != f.content.size()) {
      return false;
    }
    std::ifstream in(path, std::ios::binary);
    std::string content((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (content != f.content) return false;
  }
  return true;
}

}  // namespace

Status AtomicWriteFiles(const std::string& dir, const std::map<std::string, VolumeFile>& files) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  for (const auto& [rel, f] : files) {
    if (rel.empty() || rel[0] == '/' || rel.find("..") != std::string::npos) return Invalid("invalid path " + rel);
  }
  if (Unchanged(dir, files)) return Status::OK();
  // Named after the time, as upstream's AtomicWriter names it: ..2006_01_02_15_04_05.<digits>
  std::time_t t = std::time(nullptr);
  std::tm utc{};
  gmtime_r(&t, &utc);
  char when[32];
  std::strftime(when, sizeof(when), "..%Y_%m_%d_%H_%M_%S.", &utc);
  std::string stamp = when + std::to_string(std::random_device{}());
  std::string target = dir + "/" + stamp;
  fs::create_directories(target, ec);
  if (ec) return Internal("create " + target + ": " + ec.message());
  chmod(target.c_str(), 0755);
  for (const auto& [rel, f] : files) {
    if (rel.empty() || rel[0] == '/' || rel.find("..") != std::string::npos) return Invalid("invalid path " + rel);
    fs::path p = fs::path(target) / rel;
    fs::create_directories(p.parent_path(), ec);
    std::ofstream out(p, std::ios::binary | std::ios::trunc);
    out << f.content;
    out.close();
    chmod(p.c_str(), f.mode & 07777);
  }
  // Switch ..data to the new directory in one rename, then make sure each top-level
  // name is a symlink through ..data.
  std::string link_tmp = dir + "/..data_tmp";
  fs::remove(link_tmp, ec);
  fs::create_symlink(stamp, link_tmp, ec);
  if (ec) return Internal("symlink " + link_tmp + ": " + ec.message());
  std::string old_target;
  if (fs::is_symlink(dir + "/..data", ec)) old_target = fs::read_symlink(dir + "/..data", ec).string();
  if (rename(link_tmp.c_str(), (dir + "/..data").c_str()) != 0) return Internal("rename ..data: " + std::string(strerror(errno)));
  std::set<std::string> top;
  for (const auto& [rel, f] : files) top.insert(rel.substr(0, rel.find('/')));
  for (const auto& name : top) {
    std::string link = dir + "/" + name;
    if (!fs::is_symlink(link, ec)) fs::create_symlink("..data/" + name, link, ec);
  }
  // Names no longer present go away, with the old directory.
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    std::string name = e.path().filename().string();
    if (name.rfind("..", 0) == 0) continue;
    if (!top.count(name)) fs::remove_all(e.path(), ec);
  }
  if (!old_target.empty() && old_target != stamp) fs::remove_all(dir + "/" + old_target, ec);
  return Status::OK();
}

Result<std::map<std::string, std::string>> SetUpVolumes(const Json& pod, const std::string& pod_dir,
                                                        const VolumeSources& sources) {
  std::map<std::string, std::string> out;
  for (const auto& volume : pod["spec"].value("volumes", Json::array())) {
    std::string name = volume.value("name", "");
    auto failed = [&](const Status& s) {
      return Status(s.code(), "MountVolume.SetUp failed for volume \"" + name + "\" : " + s.message());
    };
    std::error_code ec;
    if (volume.contains("persistentVolumeClaim")) {
      if (!sources.claim_volume) return failed(Invalid("persistentVolumeClaim volumes are not supported here"));
      auto pv = sources.claim_volume(volume["persistentVolumeClaim"].value("claimName", ""));
      if (!pv.ok()) return failed(pv.status());
      const Json& pv_spec = (*pv)["spec"];
      std::string path = pv_spec.contains("hostPath") ? pv_spec["hostPath"].value("path", "")
                         : pv_spec.contains("local") ? pv_spec["local"].value("path", "")
                                                      : "";
      if (path.empty()) {
        return failed(Invalid("volume " + (*pv)["metadata"].value("name", "") +
                              " has a type kubes cannot mount (hostPath and local only)"));
      }
      Status s = HostPathCheck(path, pv_spec.contains("hostPath") ? pv_spec["hostPath"].value("type", "") : "Directory");
      if (!s.ok()) return failed(s);
      chmod(path.c_str(), 0777);  // like local-path-provisioner: any container user may write
      out[name] = path;
      continue;
    }
    if (volume.contains("hostPath")) {
      std::string path = volume["hostPath"].value("path", "");
      Status s = HostPathCheck(path, volume["hostPath"].value("type", ""));
      if (!s.ok()) return failed(s);
      out[name] = path;
      continue;
    }
    std::string kind = volume.contains("emptyDir") ? "kubernetes.io~empty-dir"
                       : volume.contains("configMap") ? "kubernetes.io~configmap"
                       : volume.contains("secret") ? "kubernetes.io~secret"
                       : volume.contains("projected") ? "kubernetes.io~projected"
                       : volume.contains("downwardAPI") ? "kubernetes.io~downward-api"
                                                        : "";
    if (kind.empty()) {
      std::string type;
      for (const auto& [k, v] : volume.items()) {
        if (k != "name") type = k;
      }
      return failed(Invalid("volume type " + type + " is not supported by kubes yet"));
    }
    std::string dir = pod_dir + "/volumes/" + kind + "/" + name;
    fs::create_directories(dir, ec);
    if (ec) return failed(Internal("create " + dir + ": " + ec.message()));
    if (volume.contains("emptyDir")) {
      chmod(dir.c_str(), 0777);
      if (volume["emptyDir"].value("medium", "") == "Memory") {
        Status s = MountTmpfs(dir, volume["emptyDir"].value("sizeLimit", ""));
        if (!s.ok()) return failed(s);
      }
      out[name] = dir;
      continue;
    }
    // Secrets stay in memory, never on the node's disk.
    if (volume.contains("secret") || volume.contains("projected")) {
      Status s = MountTmpfs(dir, "");
      if (!s.ok()) return failed(s);
    }
    std::map<std::string, VolumeFile> files;
    Status s = VolumeFiles(pod, volume, sources, &files);
    if (!s.ok()) return failed(s);
    s = AtomicWriteFiles(dir, files);
    if (!s.ok()) return failed(s);
    out[name] = dir;
  }
  return out;
}

Status TearDownVolumes(const std::string& pod_dir) {
  std::error_code ec;
  std::string root = pod_dir + "/volumes";
  if (!fs::exists(root, ec)) return Status::OK();
  for (const auto& kind : fs::directory_iterator(root, ec)) {
    for (const auto& v : fs::directory_iterator(kind.path(), ec)) {
      std::string p = v.path().string();
      if (IsMountPoint(p) && umount2(p.c_str(), MNT_DETACH) != 0) {
        return Internal("unmount " + p + ": " + strerror(errno));
      }
    }
  }
  fs::remove_all(root, ec);
  if (ec) return Internal("remove " + root + ": " + ec.message());
  return Status::OK();
}

Result<std::vector<runtime::Mount>> ContainerMounts(const Json& pod, const Json& container,
                                                    const std::map<std::string, std::string>& volumes) {
  std::vector<runtime::Mount> mounts;
  for (const auto& vm : container.value("volumeMounts", Json::array())) {
    std::string name = vm.value("name", "");
    auto it = volumes.find(name);
    if (it == volumes.end()) return NotFound("volume \"" + name + "\" is not set up");
    std::string source = it->second;
    std::string sub = vm.value("subPath", "");
    if (sub.empty() && vm.contains("subPathExpr")) {
      sub = ExpandReferences(vm["subPathExpr"].get<std::string>(), [&](const std::string& var, std::string* out) {
        for (const auto& e : container.value("env", Json::array())) {
          if (e.value("name", "") != var) continue;
          if (e.contains("value")) *out = e["value"];
          else if (e.contains("valueFrom") && e["valueFrom"].contains("fieldRef")) {
            auto v = PodFieldValue(pod, e["valueFrom"]["fieldRef"].value("fieldPath", ""));
            if (v.ok()) *out = *v;
          }
          return true;
        }
        return false;
      });
    }
    if (!sub.empty()) {
      if (sub[0] == '/' || sub.find("..") != std::string::npos) return Invalid("invalid subPath " + sub);
      source += "/" + sub;
      std::error_code ec;
      if (!fs::exists(source, ec)) {
        fs::create_directories(source, ec);
        chmod(source.c_str(), 0777);
      }
    }
    runtime::Mount m;
    m.destination = vm.value("mountPath", "");
    m.source = source;
    m.options = {"rbind", vm.value("readOnly", false) ? "ro" : "rw"};
    mounts.push_back(m);
  }
  return mounts;
}

}  // namespace kubes::kubelet
