#include "kubelet/user_namespaces.h"

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "network/netns.h"
#include "runtime/idmap.h"
#include "util/files.h"

namespace kubes::kubelet {
namespace {

namespace fs = std::filesystem;
using Json = nlohmann::json;

constexpr uint64_t kDefaultFirstID = uint64_t{1} << 31;  // upstream's default without a "kubelet" user

std::vector<std::string> Split(const std::string& s, char sep) {
  std::vector<std::string> out;
  std::stringstream ss(s);
  for (std::string part; std::getline(ss, part, sep);) out.push_back(part);
  return out;
}

// The "start:count" of `user` (by name or number) in subuid/subgid text; "" when absent.
std::string SubordinateRange(const std::string& text, const std::string& name, const std::string& uid) {
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    auto f = Split(line, ':');
    if (f.size() == 3 && (f[0] == name || f[0] == uid)) return f[1] + ":" + f[2];
  }
  return "";
}

Status WriteAtomically(const std::string& path, const std::string& data) {
  std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << data;
    if (!out) return Internal("write " + tmp);
  }
  std::error_code ec;
  fs::rename(tmp, path, ec);
  if (ec) return Internal("rename " + tmp + ": " + ec.message());
  return Status::OK();
}

}  // namespace

Result<KubeletMapping> ParseKubeletMapping(const std::string& passwd, const std::string& subuid,
                                           const std::string& subgid) {
  std::string uid;
  std::istringstream in(passwd);
  for (std::string line; std::getline(in, line);) {
    auto f = Split(line, ':');
    if (f.size() >= 3 && f[0] == "kubelet") uid = f[2];
  }
  if (uid.empty()) return KubeletMapping{static_cast<uint32_t>(kDefaultFirstID), static_cast<uint32_t>(kDefaultFirstID)};
  std::string uids = SubordinateRange(subuid, "kubelet", uid), gids = SubordinateRange(subgid, "kubelet", uid);
  if (uids.empty()) return Invalid("user \"kubelet\" has no subordinate IDs in /etc/subuid");
  if (uids != gids) return Invalid("kubelet's subuid range " + uids + " and subgid range " + gids + " differ");
  auto f = Split(uids, ':');
  char* end = nullptr;
  uint64_t first = std::strtoull(f[0].c_str(), &end, 10);
  bool ok = !f[0].empty() && *end == 0;
  uint64_t length = std::strtoull(f[1].c_str(), &end, 10);
  ok = ok && !f[1].empty() && *end == 0;
  if (!ok || first + length > (uint64_t{1} << 32)) return Invalid("bad subordinate ID range \"" + uids + "\" of kubelet");
  if (first % kUserNamespaceLength != 0) {
    return Invalid("kubelet user assigned ID " + f[0] + " is not a multiple of " + std::to_string(kUserNamespaceLength));
  }
  if (length % kUserNamespaceLength != 0 || length == 0) {
    return Invalid("kubelet user assigned IDs length " + f[1] + " is not a multiple of " +
                   std::to_string(kUserNamespaceLength));
  }
  return KubeletMapping{static_cast<uint32_t>(first), static_cast<uint32_t>(length)};
}

Result<KubeletMapping> ReadKubeletMapping() {
  return ParseKubeletMapping(ReadFileOrEmpty("/etc/passwd"), ReadFileOrEmpty("/etc/subuid"),
                             ReadFileOrEmpty("/etc/subgid"));
}

Json UserNamespaceJson(const UserNamespace& ns) {
  Json m = Json::array({{{"hostId", ns.host_id}, {"containerId", 0}, {"length", ns.length}}});
  return {{"uidMappings", m}, {"gidMappings", m}};
}

Result<UserNamespace> ParseUserNamespaceJson(const std::string& text) {
  Json j = Json::parse(text, nullptr, false);
  if (!j.is_object()) return Invalid("not a JSON object");
  auto one = [](const Json& list, UserNamespace* ns) {
    if (!list.is_array() || list.size() != 1 || !list[0].is_object()) return false;
    const Json& m = list[0];
    for (const char* k : {"hostId", "containerId", "length"}) {
      if (!m.contains(k) || !m[k].is_number_unsigned()) return false;
    }
    if (m["containerId"].get<uint64_t>() != 0) return false;
    ns->host_id = m["hostId"].get<uint32_t>();
    ns->length = m["length"].get<uint32_t>();
    return true;
  };
  UserNamespace uids, gids;
  if (!one(j.value("uidMappings", Json()), &uids) || !one(j.value("gidMappings", Json()), &gids)) {
    return Invalid("want one uid and one gid mapping from container ID 0");
  }
  if (!(uids == gids)) return Invalid("uid and gid mappings differ");
  return uids;
}

bool WantsUserNamespace(const Json& pod) {
  const Json& spec = pod.value("spec", Json::object());
  return spec.contains("hostUsers") && spec["hostUsers"].is_boolean() && !spec["hostUsers"].get<bool>();
}

UserNamespaceManager::UserNamespaceManager(KubeletMapping mapping, std::string pods_dir)
    : mapping_(mapping), pods_dir_(std::move(pods_dir)), used_(mapping.length / kUserNamespaceLength) {
  // A range ending at 2^32 would include (uid_t)-1, which the kernel refuses to map.
  if (uint64_t{mapping.first_id} + mapping.length == (uint64_t{1} << 32) && !used_.empty()) used_.pop_back();
}

Result<std::unique_ptr<UserNamespaceManager>> UserNamespaceManager::Open(KubeletMapping mapping, std::string pods_dir) {
  if (mapping.first_id % kUserNamespaceLength != 0 || mapping.length % kUserNamespaceLength != 0) {
    return Invalid("the kubelet's ID range must be aligned to " + std::to_string(kUserNamespaceLength));
  }
  std::unique_ptr<UserNamespaceManager> m(new UserNamespaceManager(mapping, std::move(pods_dir)));
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(m->pods_dir_, ec)) {
    std::string uid = e.path().filename().string();
    std::string text = ReadFileOrEmpty(m->FileOf(uid));
    if (text.empty()) continue;
    auto ns = ParseUserNamespaceJson(text);
    if (!ns.ok()) return Invalid("pod " + uid + ": user namespace file " + m->FileOf(uid) + ": " + ns.status().message());
    std::lock_guard<std::mutex> lock(m->mu_);
    Status s = m->Record(uid, *ns);
    if (!s.ok()) return Invalid("pod " + uid + ": " + s.message());
  }
  return m;
}

Status UserNamespaceManager::Record(const std::string& pod_uid, const UserNamespace& ns) {
  if (ns.length != kUserNamespaceLength) return Invalid("wrong user namespace length " + std::to_string(ns.length));
  if (ns.host_id % kUserNamespaceLength != 0) {
    return Invalid("user namespace offset " + std::to_string(ns.host_id) + " is not a multiple of " +
                   std::to_string(kUserNamespaceLength));
  }
  if (ns.host_id < mapping_.first_id || (ns.host_id - mapping_.first_id) / kUserNamespaceLength >= used_.size()) {
    return Invalid("host ID " + std::to_string(ns.host_id) + " is outside the kubelet's range");
  }
  uint32_t slot = (ns.host_id - mapping_.first_id) / kUserNamespaceLength;
  auto it = by_pod_.find(pod_uid);
  if (it != by_pod_.end()) {
    if (it->second == slot) return Status::OK();
    return Invalid("the pod already has another user namespace");
  }
  if (used_[slot]) return Invalid("host ID " + std::to_string(ns.host_id) + " is already used by another pod");
  used_[slot] = true;
  by_pod_[pod_uid] = slot;
  return Status::OK();
}

Result<UserNamespace> UserNamespaceManager::Allocate(const std::string& pod_uid) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = by_pod_.find(pod_uid);
  if (it != by_pod_.end()) return UserNamespace{mapping_.first_id + it->second * kUserNamespaceLength};
  uint32_t slot = 0;
  while (slot < used_.size() && used_[slot]) ++slot;
  if (slot == used_.size()) return Status(Code::kServiceUnavailable, "could not find an empty slot to allocate a user namespace");
  UserNamespace ns{mapping_.first_id + slot * kUserNamespaceLength};
  // On disk first: an allocation the kubelet could forget in a restart is never used.
  Status s = WriteAtomically(FileOf(pod_uid), UserNamespaceJson(ns).dump());
  if (!s.ok()) return s;
  used_[slot] = true;
  by_pod_[pod_uid] = slot;
  return ns;
}

void UserNamespaceManager::Release(const std::string& pod_uid) {
  std::lock_guard<std::mutex> lock(mu_);
  std::error_code ec;
  fs::remove(FileOf(pod_uid), ec);
  auto it = by_pod_.find(pod_uid);
  if (it == by_pod_.end()) return;
  used_[it->second] = false;
  by_pod_.erase(it);
}

std::optional<UserNamespace> UserNamespaceManager::Get(const std::string& pod_uid) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = by_pod_.find(pod_uid);
  if (it == by_pod_.end()) return std::nullopt;
  return UserNamespace{mapping_.first_id + it->second * kUserNamespaceLength};
}

Status PinPodUserNamespace(UserNamespaceManager* manager, const Json& pod, const std::string& pin) {
  if (!WantsUserNamespace(pod)) return Status::OK();
  if (!manager) return Internal("user namespaces are not available on this node");
  auto ns = manager->Allocate(pod["metadata"].value("uid", ""));
  if (!ns.ok()) return ns.status();
  std::error_code ec;
  std::filesystem::create_directories(std::filesystem::path(pin).parent_path(), ec);
  return runtime::PinUserNamespace(ns->host_id, ns->length, pin);
}

Status ConfigureUserNamespace(UserNamespaceManager* manager, const Json& pod, const std::string& pin,
                              runtime::ContainerConfig* cfg) {
  if (!WantsUserNamespace(pod)) return Status::OK();
  if (!manager) return Internal("user namespaces are not available on this node");
  auto ns = manager->Allocate(pod["metadata"].value("uid", ""));
  if (!ns.ok()) return ns.status();
  cfg->userns_host_id = ns->host_id;
  cfg->userns_size = ns->length;
  if (runtime::IsPinnedNamespace(pin)) {
    cfg->userns_path = pin;
    return Status::OK();
  }
  if (cfg->netns_path.empty()) return Status::OK();  // hostNetwork is refused with hostUsers: false
  return network::RunInNetns(cfg->netns_path, [] {
    std::ofstream out("/proc/sys/net/ipv4/ip_unprivileged_port_start");
    out << "0\n";
    out.flush();
    return out ? Status::OK() : Internal("set net.ipv4.ip_unprivileged_port_start in the pod's network namespace");
  });
}

}  // namespace kubes::kubelet
