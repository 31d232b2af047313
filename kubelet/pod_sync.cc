// SyncPod: bring one pod's containers in line with its spec (upstream:
// kubelet.go SyncPod / SyncTerminatingPod, kuberuntime_manager.go computePodActions
// and startContainer).
#include <signal.h>
#include <poll.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "client/resources.h"
#include "apimachinery/resource/quantity.h"
#include "kubelet/env.h"
#include "kubelet/kubelet.h"
#include "kubelet/pod_status.h"
#include "kubelet/volumes.h"
#include "runtime/cgroups.h"
#include "runtime/images/reference.h"
#include "util/files.h"
#include "util/strings.h"

namespace kubes::kubelet {
namespace {

using client::kConfigMaps;
using client::kPersistentVolumeClaims;
using client::kPersistentVolumes;
using client::kPods;
using client::kSecrets;
using client::kServiceAccounts;

namespace fs = std::filesystem;
using runtime::ContainerState;
using runtime::ContainerStatus;


constexpr auto kResync = std::chrono::seconds(60);

std::string Base64Decode(const std::string& in) {
  static const std::string chars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  int val = 0, bits = -8;
  for (unsigned char c : in) {
    if (c == '=') break;
    auto pos = chars.find(static_cast<char>(c));
    if (pos == std::string::npos) continue;
    val = (val << 6) + static_cast<int>(pos);
    bits += 6;
    if (bits >= 0) {
      out.push_back(static_cast<char>((val >> bits) & 0xFF));
      bits -= 8;
    }
  }
  return out;
}

// The last lines of a CRI log as plain text (FallbackToLogsOnError).
std::string LogTail(const std::string& path, size_t max_lines, size_t max_bytes) {
  std::ifstream in(path);
  std::vector<std::string> lines;
  std::string line;
  while (std::getline(in, line)) {
    // "<time> <stream> <P|F> <text>"
    size_t p = 0;
    for (int i = 0; i < 3 && p != std::string::npos; ++i) p = line.find(' ', p == 0 && i == 0 ? 0 : p + 1);
    std::string text = p == std::string::npos ? "" : line.substr(p + 1);
    bool partial = line.find(" P ") != std::string::npos && line.find(" P ") < p;
    if (!lines.empty() && lines.back().size() && lines.back().back() == '\r') lines.back().pop_back();
    lines.push_back(text + (partial ? "" : "\n"));
    if (lines.size() > max_lines) lines.erase(lines.begin());
  }
  std::string out;
  for (const auto& l : lines) out += l;
  if (out.size() > max_bytes) out = out.substr(out.size() - max_bytes);
  return out;
}

int SignalNumber(const std::string& name) {
  static const std::map<std::string, int> names = {
      {"SIGTERM", SIGTERM}, {"SIGQUIT", SIGQUIT}, {"SIGINT", SIGINT}, {"SIGKILL", SIGKILL},
      {"SIGHUP", SIGHUP},   {"SIGUSR1", SIGUSR1}, {"SIGUSR2", SIGUSR2}, {"SIGWINCH", SIGWINCH}};
  auto it = names.find(name);
  if (it != names.end()) return it->second;
  int n = std::atoi(name.c_str());
  return n > 0 ? n : SIGTERM;
}

// uid/gid of a user name in the image's /etc/passwd (top layer first).
bool LookupUser(const std::vector<std::string>& layers, const std::string& user, uint32_t* uid, uint32_t* gid) {
  for (auto it = layers.rbegin(); it != layers.rend(); ++it) {
    std::ifstream in(*it + "/etc/passwd");
    if (!in) continue;
    std::string line;
    while (std::getline(in, line)) {
      std::vector<std::string> f;
      std::stringstream ss(line);
      std::string part;
      while (std::getline(ss, part, ':')) f.push_back(part);
      if (f.size() >= 4 && f[0] == user) {
        *uid = static_cast<uint32_t>(std::stoul(f[2]));
        *gid = static_cast<uint32_t>(std::stoul(f[3]));
        return true;
      }
    }
    return false;
  }
  return false;
}

// status.image: the spec's image as a full reference ("busybox" →
// "docker.io/library/busybox:latest"), as containerd reports it.
std::string NormalizedImage(const std::string& image) {
  auto ref = runtime::images::ParseReference(image);
  return ref.ok() ? ref->String() : image;
}

bool IsNumber(const std::string& s) { return !s.empty() && std::all_of(s.begin(), s.end(), ::isdigit); }

struct Instances {
  std::vector<ContainerStatus> all;  // of one container name, oldest attempt first
  const ContainerStatus* current() const { return all.empty() ? nullptr : &all.back(); }
  const ContainerStatus* previous() const { return all.size() < 2 ? nullptr : &all[all.size() - 2]; }
};

bool Running(const ContainerStatus* s) {
  return s && (s->state == ContainerState::kRunning || s->state == ContainerState::kCreated);
}
bool Exited(const ContainerStatus* s) {
  return s && (s->state == ContainerState::kExited || s->state == ContainerState::kUnknown);
}
bool Succeeded(const ContainerStatus* s) {
  return s && s->state == ContainerState::kExited && s->exit_code == 0 && s->start_error.empty();
}

}  // namespace

// ---- the per-pod sync --------------------------------------------------------------

// Everything one SyncPod run works with.
class PodSync {
 public:
  PodSync(Kubelet* k, Json pod) : k_(k), pod_(std::move(pod)) {
    uid_ = pod_["metadata"].value("uid", "");
    ns_ = pod_["metadata"].value("namespace", "");
    name_ = pod_["metadata"].value("name", "");
    now_ = k_->clock_.Now();
    for (auto& c : k_->runtime_->List()) {
      if (c.labels.pod_uid == uid_) by_name_[c.labels.container_name].all.push_back(std::move(c));
    }
    for (auto& [n, inst] : by_name_) {
      std::sort(inst.all.begin(), inst.all.end(), [](const ContainerStatus& a, const ContainerStatus& b) {
        return a.labels.attempt != b.labels.attempt ? a.labels.attempt < b.labels.attempt : a.created_at < b.created_at;
      });
    }
  }

  void Run();
  void Terminate();  // the pod is being deleted
  void Cleanup();    // remove every trace of the pod on the node

 private:
  std::string Key(const std::string& container) const { return uid_ + "/" + container; }
  std::string FieldPath(const Json& c, bool init) const {
    return std::string(init ? "spec.initContainers{" : "spec.containers{") + c.value("name", "") + "}";
  }
  void Event(const Json& c, bool init, const std::string& type, const std::string& reason, const std::string& msg) {
    k_->recorder_->Event(pod_, FieldPath(c, init), type, reason, msg);
  }
  bool SetUpSandbox();
  bool SetUpVolumesOnce();
  // Starts (or restarts) container `c`; on failure fills the record's waiting reason.
  void StartContainer(const Json& c, bool init, ContainerRecord& rec);
  // Decides about an exited container: restart now, wait out the back-off, or leave it.
  void HandleExited(const Json& c, bool init, bool restart, ContainerRecord& rec);
  Result<runtime::images::Image> EnsureImage(const Json& c, bool init, ContainerRecord& rec);
  Result<runtime::ContainerConfig> MakeConfig(const Json& c, bool init, int attempt,
                                              const runtime::images::Image& image);
  ContainerRecord Record(const Json& c);
  std::string TerminationMessage(const ContainerStatus& s, const Json& c);
  void WriteStatus(const std::vector<ContainerRecord>& init, const std::vector<ContainerRecord>& app);
  void RemoveOldInstances(const std::string& name);
  void RequeueAt(TimePoint t) {
    auto d = std::chrono::duration_cast<std::chrono::milliseconds>(t - now_);
    k_->EnqueueAfter(uid_, std::max(d, std::chrono::milliseconds(50)));
  }
  VolumeSources Sources();

  Kubelet* k_;
  Json pod_;
  std::string uid_, ns_, name_;
  TimePoint now_;
  std::map<std::string, Instances> by_name_;
  std::map<std::string, std::string> volumes_;
  std::vector<std::string> pod_ips_;
  bool sandbox_ready_ = false;
  std::optional<TimePoint> requeue_;
};

VolumeSources PodSync::Sources() {
  VolumeSources s;
  client::Client* cl = k_->client_;
  std::string ns = ns_;
  s.objects.config_map = [cl, ns](const std::string& name) -> Result<std::map<std::string, std::string>> {
    auto cm = cl->Get(kConfigMaps, ns, name);
    if (!cm.ok()) {
      if (cm.status().code() == Code::kNotFound) return NotFound("configmap \"" + name + "\" not found");
      return cm.status();
    }
    std::map<std::string, std::string> out;
    const Json data = cm->value("data", Json::object()), binary = cm->value("binaryData", Json::object());
    for (const auto& [k, v] : data.items()) out[k] = v.is_string() ? v.get<std::string>() : "";
    for (const auto& [k, v] : binary.items()) out[k] = v.is_string() ? Base64Decode(v) : "";
    return out;
  };
  s.objects.secret = [cl, ns](const std::string& name) -> Result<std::map<std::string, std::string>> {
    auto sec = cl->Get(kSecrets, ns, name);
    if (!sec.ok()) {
      if (sec.status().code() == Code::kNotFound) return NotFound("secret \"" + name + "\" not found");
      return sec.status();
    }
    std::map<std::string, std::string> out;
    const Json data = sec->value("data", Json::object()), text = sec->value("stringData", Json::object());
    for (const auto& [k, v] : data.items()) out[k] = v.is_string() ? Base64Decode(v) : "";
    for (const auto& [k, v] : text.items()) out[k] = v.is_string() ? v.get<std::string>() : "";
    return out;
  };
  Json pod = pod_;
  Kubelet* k = k_;
  s.token = [cl, pod, k](const std::string& audience, int64_t expiration) -> Result<std::string> {
    const Json& meta = pod["metadata"];
    // Like the kubelet's token manager: a token is reused until 80% of its lifetime
    // has passed (volumes are refreshed every sync; tokens need not be).
    std::string cache_key = meta.value("uid", "") + "/" + audience + "/" + std::to_string(expiration);
    auto now = std::chrono::steady_clock::now();
    {
      std::lock_guard<std::mutex> lock(k->mu_);
      auto it = k->tokens_.find(cache_key);
      if (it != k->tokens_.end() && now < it->second.refresh_at) return it->second.token;
    }
    std::string sa = pod["spec"].value("serviceAccountName", "default");
    Json req = {{"apiVersion", "authentication.k8s.io/v1"}, {"kind", "TokenRequest"},
                {"spec", {{"expirationSeconds", expiration},
                          {"boundObjectRef", {{"kind", "Pod"}, {"apiVersion", "v1"}, {"name", meta.value("name", "")},
                                              {"uid", meta.value("uid", "")}}}}}};
    if (!audience.empty()) req["spec"]["audiences"] = Json::array({audience});
    auto created = cl->CreateSubresource(kServiceAccounts, meta.value("namespace", ""), sa, "token", req);
    if (!created.ok()) return created.status();
    std::string token = created->value("status", Json::object()).value("token", "");
    std::lock_guard<std::mutex> lock(k->mu_);
    k->tokens_[cache_key] = {token, now + std::chrono::seconds(expiration * 8 / 10)};
    return token;
  };
  s.node_allocatable = k_->BuildNode()["status"]["allocatable"];
  s.claim_volume = [cl, ns](const std::string& claim) -> Result<Json> {
    auto pvc = cl->Get(kPersistentVolumeClaims, ns, claim);
    if (!pvc.ok()) {
      if (pvc.status().code() == Code::kNotFound) return NotFound("persistentvolumeclaim \"" + claim + "\" not found");
      return pvc.status();
    }
    std::string volume = (*pvc)["spec"].value("volumeName", "");
    if (volume.empty() || pvc->value("status", Json::object()).value("phase", "") != "Bound") {
      return Status(Code::kServiceUnavailable, "persistentvolumeclaim \"" + claim + "\" is not bound");
    }
    return cl->Get(kPersistentVolumes, "", volume);
  };
  return s;
}

bool PodSync::SetUpVolumesOnce() {
  auto vols = SetUpVolumes(pod_, k_->PodDir(pod_), Sources());
  if (!vols.ok()) {
    k_->recorder_->Event(pod_, "Warning", "FailedMount", vols.status().message());
    RequeueAt(now_ + std::chrono::seconds(2));
    return false;
  }
  volumes_ = std::move(vols).value();
  return true;
}

bool PodSync::SetUpSandbox() {
  std::error_code ec;
  fs::create_directories(k_->PodDir(pod_), ec);
  Status cg = runtime::CreateCgroup(k_->PodCgroup(uid_));
  if (!cg.ok()) {
    k_->recorder_->Event(pod_, "Warning", "FailedCreatePodSandBox", "Failed to create pod sandbox: " + cg.message());
    RequeueAt(now_ + std::chrono::seconds(5));
    return false;
  }
  if (pod_["spec"].value("hostNetwork", false)) {
    pod_ips_ = {k_->node_ip_};
    sandbox_ready_ = true;
    return true;
  }
  pod_ips_ = k_->network_->Addresses(uid_);
  if (pod_ips_.empty()) {
    std::vector<network::PortMapping> ports;
    for (const auto& c : pod_["spec"].value("containers", Json::array())) {
      for (const auto& p : c.value("ports", Json::array())) {
        if (!p.contains("hostPort") || p.value("hostPort", 0) == 0) continue;
        std::string proto = p.value("protocol", "TCP");
        std::transform(proto.begin(), proto.end(), proto.begin(), ::tolower);
        ports.push_back({p.value("hostPort", 0), p.value("containerPort", 0), proto, p.value("hostIP", "")});
      }
    }
    auto ips = k_->network_->SetUp(uid_, {ns_, name_, uid_}, ports);
    if (!ips.ok()) {
      k_->recorder_->Event(pod_, "Warning", "FailedCreatePodSandBox",
                           "Failed to create pod sandbox: " + ips.status().message());
      RequeueAt(now_ + std::chrono::seconds(5));
      return false;
    }
    pod_ips_ = std::move(ips).value();
  }
  sandbox_ready_ = true;
  return true;
}

Result<runtime::images::Image> PodSync::EnsureImage(const Json& c, bool init, ContainerRecord& rec) {
  std::string image = c.value("image", "");
  std::string policy = c.value("imagePullPolicy", "");
  if (policy.empty()) {
    bool latest = image.find('@') == std::string::npos &&
                  (image.rfind(':') == std::string::npos || image.rfind(':') < image.rfind('/') ||
                   image.substr(image.rfind(':') + 1) == "latest");
    policy = latest ? "Always" : "IfNotPresent";
  }
  auto present = k_->images_->Get(image);
  if (present.ok() && policy != "Always") {
    Event(c, init, "Normal", "Pulled", "Container image \"" + image + "\" already present on machine");
    return present;
  }
  if (policy == "Never") {
    std::string msg = "Container image \"" + image + "\" is not present with pull policy of Never";
    Event(c, init, "Warning", "ErrImageNeverPull", msg);
    rec.waiting_reason = "ErrImageNeverPull";
    rec.waiting_message = msg;
    return NotFound(msg);
  }
  std::string key = "pull/" + uid_ + "/" + image;
  if (k_->pull_backoff_.InBackoffSince(key, now_ - std::chrono::milliseconds(1), now_)) {
    Event(c, init, "Normal", "BackOff", "Back-off pulling image \"" + image + "\"");
    Event(c, init, "Warning", "Failed", "Error: ImagePullBackOff");
    rec.waiting_reason = "ImagePullBackOff";
    rec.waiting_message = "Back-off pulling image \"" + image + "\"";
    RequeueAt(now_ + k_->pull_backoff_.Get(key));
    return Status(Code::kServiceUnavailable, rec.waiting_message);
  }
  Event(c, init, "Normal", "Pulling", "Pulling image \"" + image + "\"");
  runtime::images::PullOptions opts;
  opts.registries = k_->registries_.get();
  for (const auto& ref : pod_["spec"].value("imagePullSecrets", Json::array())) {
    auto secret = k_->client_->Get(kSecrets, ns_, ref.value("name", ""));
    if (!secret.ok()) continue;
    std::string config = Base64Decode(secret->value("data", Json::object()).value(".dockerconfigjson", ""));
    auto creds = runtime::images::ParseDockerConfigJson(config);
    if (creds.ok()) opts.credentials.insert(opts.credentials.end(), creds->begin(), creds->end());
  }
  auto start = std::chrono::steady_clock::now();
  auto pulled = k_->images_->Pull(image, opts);
  if (!pulled.ok()) {
    std::string msg = "Failed to pull image \"" + image + "\": " + pulled.status().message();
    Event(c, init, "Warning", "Failed", msg);
    Event(c, init, "Warning", "Failed", "Error: ErrImagePull");
    k_->pull_backoff_.Next(key, k_->clock_.Now());
    rec.waiting_reason = "ErrImagePull";
    rec.waiting_message = msg;
    RequeueAt(k_->clock_.Now() + k_->pull_backoff_.Get(key));
    return pulled.status();
  }
  k_->pull_backoff_.Reset(key);
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  char took[64];
  std::snprintf(took, sizeof took, "%.3fs", secs);
  Event(c, init, "Normal", "Pulled",
        "Successfully pulled image \"" + image + "\" in " + took + " (" + took +
            " including waiting). Image size: " + std::to_string(pulled->size) + " bytes.");
  return pulled;
}

Result<runtime::ContainerConfig> PodSync::MakeConfig(const Json& c, bool init, int attempt,
                                                     const runtime::images::Image& image) {
  const Json& spec = pod_["spec"];
  runtime::ContainerConfig cfg;
  cfg.id = runtime::NewContainerID();
  std::string cname = c.value("name", "");
  cfg.labels = {uid_, ns_, name_, cname, init ? "init" : "regular", attempt, c.value("image", ""),
                image.repo_digests.empty() ? image.id : image.repo_digests[0], image.id, "",
                c.value("terminationMessagePath", "/dev/termination-log"),
                c.value("terminationMessagePolicy", "File")};
  auto env = BuildEnvironment(pod_, c, image.config.env, Sources().objects, k_->BuildNode()["status"]["allocatable"]);
  if (!env.ok()) return env.status();
  cfg.env = *env;
  if (std::none_of(cfg.env.begin(), cfg.env.end(), [](const std::string& e) { return e.rfind("HOSTNAME=", 0) == 0; })) {
    cfg.env.push_back("HOSTNAME=" + spec.value("hostname", name_));
  }
  auto argv = BuildCommand(c, image.config.entrypoint, image.config.cmd, cfg.env);
  if (!argv.ok()) return argv.status();
  cfg.args = *argv;
  cfg.working_dir = c.value("workingDir", image.config.working_dir.empty() ? "/" : image.config.working_dir);
  cfg.tty = c.value("tty", false);
  cfg.stdin = c.value("stdin", false);
  cfg.stdin_once = c.value("stdinOnce", false);
  cfg.layers = image.layer_dirs;
  cfg.hostname = spec.value("hostname", name_).substr(0, 63);
  if (!spec.value("hostNetwork", false)) cfg.netns_path = k_->network_->NetnsPath(uid_);
  else cfg.hostname = "";
  cfg.cgroup_parent = k_->PodCgroup(uid_);
  cfg.log_path = k_->PodLogDir(pod_) + "/" + cname + "/" + std::to_string(attempt) + ".log";
  if (!image.config.stop_signal.empty()) cfg.stop_signal = SignalNumber(image.config.stop_signal);

  // User: the image's, then the pod's securityContext, then the container's.
  std::string user = image.config.user;
  std::string user_name = user.substr(0, user.find(':'));
  if (IsNumber(user_name)) cfg.uid = static_cast<uint32_t>(std::stoul(user_name));
  else if (!user_name.empty() && !LookupUser(image.layer_dirs, user_name, &cfg.uid, &cfg.gid)) {
    return Invalid("unable to find user " + user_name + ": no matching entries in passwd file");
  }
  if (user.find(':') != std::string::npos && IsNumber(user.substr(user.find(':') + 1))) {
    cfg.gid = static_cast<uint32_t>(std::stoul(user.substr(user.find(':') + 1)));
  }
  Json psc = spec.value("securityContext", Json::object());
  Json csc = c.value("securityContext", Json::object());
  auto pick = [&](const char* field) -> Json {
    if (csc.contains(field)) return csc[field];
    if (psc.contains(field)) return psc[field];
    return Json();
  };
  if (pick("runAsUser").is_number()) cfg.uid = pick("runAsUser").get<uint32_t>();
  if (pick("runAsGroup").is_number()) cfg.gid = pick("runAsGroup").get<uint32_t>();
  if (pick("runAsNonRoot").is_boolean() && pick("runAsNonRoot").get<bool>() && cfg.uid == 0) {
    return Invalid("container has runAsNonRoot and image will run as root (pod: \"" + name_ + "_" + ns_ + "(" +
                   uid_ + ")\", container: " + cname + ")");
  }
  for (const auto& g : psc.value("supplementalGroups", Json::array())) cfg.additional_gids.push_back(g.get<uint32_t>());
  if (psc.contains("fsGroup")) cfg.additional_gids.push_back(psc["fsGroup"].get<uint32_t>());
  cfg.privileged = csc.value("privileged", false);
  cfg.read_only_root = csc.value("readOnlyRootFilesystem", false);
  if (csc.contains("allowPrivilegeEscalation")) cfg.allow_privilege_escalation = csc["allowPrivilegeEscalation"].get<bool>();
  for (const auto& cap : csc.value("capabilities", Json::object()).value("add", Json::array())) {
    cfg.add_capabilities.push_back(cap.get<std::string>());
  }
  for (const auto& cap : csc.value("capabilities", Json::object()).value("drop", Json::array())) {
    cfg.drop_capabilities.push_back(cap.get<std::string>());
  }

  // Resources → cgroup settings, and the OOM score by QoS class (upstream policy.go).
  const Json& res = c.value("resources", Json::object());
  const Json& limits = res.value("limits", Json::object());
  const Json& requests = res.value("requests", Json::object());
  cfg.resources.memory_limit_bytes = resource::ValueOf(limits.value("memory", ""));
  int64_t cpu_request = resource::MilliValueOf(requests.value("cpu", limits.value("cpu", "")));
  cfg.resources.cpu_shares = std::max<int64_t>(2, cpu_request * 1024 / 1000);
  int64_t cpu_limit = resource::MilliValueOf(limits.value("cpu", ""));
  if (cpu_limit > 0) cfg.resources.cpu_quota_us = std::max<int64_t>(1000, cpu_limit * 100000 / 1000);
  std::string qos = pod_.value("status", Json::object()).value("qosClass", "BestEffort");
  if (qos == "Guaranteed") {
    cfg.oom_score_adj = -997;
  } else if (qos == "BestEffort") {
    cfg.oom_score_adj = 1000;
  } else {
    int64_t mem_request = resource::ValueOf(requests.value("memory", ""));
    int64_t capacity = resource::ValueOf(k_->BuildNode()["status"]["capacity"].value("memory", "1Gi"));
    int64_t adj = capacity > 0 ? 1000 - (1000 * mem_request) / capacity : 999;
    cfg.oom_score_adj = static_cast<int>(std::clamp<int64_t>(adj, 2, 999));
  }

  // Mounts: volumes, then the files the kubelet manages for every container.
  auto mounts = ContainerMounts(pod_, c, volumes_);
  if (!mounts.ok()) return mounts.status();
  cfg.mounts = *mounts;
  std::string pod_dir = k_->PodDir(pod_);
  auto has_mount = [&](const std::string& dest) {
    return std::any_of(cfg.mounts.begin(), cfg.mounts.end(), [&](const runtime::Mount& m) { return m.destination == dest; });
  };
  if (!has_mount("/etc/hosts")) cfg.mounts.push_back({"/etc/hosts", pod_dir + "/etc-hosts", "bind", {"rbind", "rw"}});
  if (!has_mount("/etc/hostname")) cfg.mounts.push_back({"/etc/hostname", pod_dir + "/etc-hostname", "bind", {"rbind", "rw"}});
  if (!has_mount("/etc/resolv.conf")) cfg.mounts.push_back({"/etc/resolv.conf", pod_dir + "/resolv.conf", "bind", {"rbind", "rw"}});
  std::string term_dir = pod_dir + "/containers/" + cname;
  std::error_code ec;
  fs::create_directories(term_dir, ec);
  std::string term_file = term_dir + "/" + cfg.id;
  std::ofstream(term_file).close();
  chmod(term_file.c_str(), 0666);
  cfg.mounts.push_back({cfg.labels.termination_message_path, term_file, "bind", {"rbind", "rw"}});
  return cfg;
}

void PodSync::RemoveOldInstances(const std::string& name) {
  auto& inst = by_name_[name];
  // Keep the newest two: the running one and the one `logs --previous` shows.
  while (inst.all.size() > 2) {
    (void)k_->runtime_->Remove(inst.all.front().id);
    std::error_code ec;
    fs::remove(k_->PodDir(pod_) + "/containers/" + name + "/" + inst.all.front().id, ec);
    inst.all.erase(inst.all.begin());
  }
}

void PodSync::StartContainer(const Json& c, bool init, ContainerRecord& rec) {
  std::string cname = c.value("name", "");
  auto image = EnsureImage(c, init, rec);
  if (!image.ok()) return;
  const ContainerStatus* cur = by_name_[cname].current();
  int attempt = cur ? cur->labels.attempt + 1 : 0;
  auto cfg = MakeConfig(c, init, attempt, *image);
  if (!cfg.ok()) {
    rec.waiting_reason = "CreateContainerConfigError";
    rec.waiting_message = cfg.status().message();
    Event(c, init, "Warning", "Failed", "Error: " + cfg.status().message());
    RequeueAt(now_ + std::chrono::seconds(10));
    return;
  }
  Status s = k_->runtime_->Create(*cfg);
  if (s.ok()) {
    Event(c, init, "Normal", "Created", "Created container " + cname);
    s = k_->runtime_->Start(cfg->id);
    if (!s.ok()) (void)k_->runtime_->Remove(cfg->id);
  }
  if (!s.ok()) {
    // Like containerd: the attempt counts, and ends as StartError with exit code 128.
    std::string msg = "failed to create containerd task: failed to create shim task: OCI runtime create failed: " +
                      s.message();
    (void)k_->runtime_->RecordFailedStart(*cfg, msg);
    Event(c, init, "Warning", "Failed", "Error: " + msg);
  } else {
    Event(c, init, "Normal", "Started", "Started container " + cname);
  }
  auto st = k_->runtime_->Inspect(cfg->id);
  if (st.ok()) by_name_[cname].all.push_back(*st);
  RemoveOldInstances(cname);
  rec = Record(c);
  rec.image_ref = NormalizedImage(c.value("image", ""));
}

void PodSync::HandleExited(const Json& c, bool init, bool restart, ContainerRecord& rec) {
  const ContainerStatus* cur = rec.current;
  if (!restart) return;
  std::string key = Key(c.value("name", ""));
  TimePoint finished = cur->finished_at;
  if (k_->crash_backoff_.InBackoffSince(key, finished, now_)) {
    auto d = k_->crash_backoff_.Get(key);
    std::string dur = GoDurationString(std::chrono::duration_cast<std::chrono::nanoseconds>(d).count());
    rec.waiting_reason = "CrashLoopBackOff";
    rec.waiting_message = "back-off " + dur + " restarting failed container=" + c.value("name", "") + " pod=" +
                          name_ + "_" + ns_ + "(" + uid_ + ")";
    Event(c, init, "Warning", "BackOff",
          "Back-off restarting failed container " + c.value("name", "") + " in pod " + name_ + "_" + ns_ + "(" + uid_ + ")");
    RequeueAt(finished + d);
    return;
  }
  k_->crash_backoff_.Next(key, finished);
  StartContainer(c, init, rec);
}

std::string PodSync::TerminationMessage(const ContainerStatus& s, const Json& c) {
  std::string msg = ReadFilePrefix(k_->PodDir(pod_) + "/containers/" + s.labels.container_name + "/" + s.id, 4096);
  if (msg.empty() && s.exit_code != 0 && c.value("terminationMessagePolicy", "File") == "FallbackToLogsOnError") {
    msg = LogTail(s.log_path, 80, 2048);
  }
  return msg;
}

ContainerRecord PodSync::Record(const Json& c) {
  ContainerRecord r;
  r.name = c.value("name", "");
  r.image = c.value("image", "");
  const Instances& inst = by_name_[r.name];
  r.current = inst.current();
  r.previous = inst.previous();
  if (r.current && Exited(r.current)) r.message = TerminationMessage(*r.current, c);
  if (r.previous) r.previous_message = TerminationMessage(*r.previous, c);
  r.started = r.current && r.current->state == ContainerState::kRunning;
  r.ready = r.started;  // probes come with the pod lifecycle work
  if (r.current) {
    r.image_ref = NormalizedImage(r.image);
  }
  return r;
}

void PodSync::Run() {
  const Json& spec = pod_["spec"];
  std::string policy = spec.value("restartPolicy", "Always");
  std::string phase = pod_.value("status", Json::object()).value("phase", "Pending");
  std::vector<ContainerRecord> init_recs, app_recs;
  for (const auto& c : spec.value("initContainers", Json::array())) init_recs.push_back(Record(c));
  for (const auto& c : spec.value("containers", Json::array())) app_recs.push_back(Record(c));

  // A pod that finished stays finished: its containers are not started again, its
  // network is released (upstream keeps the IP in status).
  if (phase == "Succeeded" || phase == "Failed") {
    for (auto& [n, inst] : by_name_) {
      if (Running(inst.current())) (void)k_->runtime_->Signal(inst.current()->id, SIGKILL);
    }
    (void)k_->network_->TearDown(uid_, {ns_, name_, uid_});
    return;
  }

  if (!SetUpSandbox() || !SetUpVolumesOnce()) {
    for (auto& r : app_recs) {
      if (!r.current) r.waiting_reason = "ContainerCreating";
    }
    for (auto& r : init_recs) {
      if (!r.current) r.waiting_reason = "PodInitializing";
    }
    WriteStatus(init_recs, app_recs);
    return;
  }
  // The kubelet-managed files every container mounts.
  std::string pod_dir = k_->PodDir(pod_);
  std::string hostname = spec.value("hostname", name_).substr(0, 63);
  std::string hosts = "# Kubernetes-managed hosts file.\n127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n"
                      "fe00::0\tip6-localnet\nfe00::0\tip6-mcastprefix\nfe00::1\tip6-allnodes\nfe00::2\tip6-allrouters\n";
  if (spec.value("hostNetwork", false)) {
    hosts = ReadFilePrefix("/etc/hosts", 65536);
  } else {
    std::string sub = spec.value("subdomain", "");
    for (const auto& ip : pod_ips_) {
      hosts += ip + "\t" + (sub.empty() ? hostname : hostname + "." + sub + "." + ns_ + ".svc.cluster.local\t" + hostname) + "\n";
    }
  }
  for (const auto& alias : spec.value("hostAliases", Json::array())) {
    std::string line = "\n# Entries added by HostAliases.\n" + alias.value("ip", "");
    for (const auto& h : alias.value("hostnames", Json::array())) line += "\t" + h.get<std::string>();
    hosts += line.substr(1) + "\n";
  }
  std::ofstream(pod_dir + "/etc-hosts") << hosts;
  std::ofstream(pod_dir + "/etc-hostname") << hostname << "\n";
  std::ofstream(pod_dir + "/resolv.conf") << ReadFilePrefix("/etc/resolv.conf", 65536);

  // Init containers, one at a time, each to completion.
  bool initialized = true;
  const Json& inits = spec.value("initContainers", Json::array());
  for (size_t i = 0; i < inits.size(); ++i) {
    const Json& c = inits[i];
    ContainerRecord& rec = init_recs[i];
    bool sidecar = c.value("restartPolicy", "") == "Always";
    if (sidecar) {
      if (!rec.current) StartContainer(c, true, rec);
      else if (Exited(rec.current)) HandleExited(c, true, true, rec);
      if (!rec.started) {
        initialized = false;
        break;
      }
      continue;
    }
    if (Succeeded(rec.current)) continue;
    initialized = false;
    if (Running(rec.current)) break;
    if (Exited(rec.current)) {
      HandleExited(c, true, policy != "Never", rec);
      break;
    }
    StartContainer(c, true, rec);
    break;
  }
  const Json& apps = spec.value("containers", Json::array());
  for (size_t i = 0; i < apps.size(); ++i) {
    const Json& c = apps[i];
    ContainerRecord& rec = app_recs[i];
    if (!initialized) {
      if (!rec.current) rec.waiting_reason = "PodInitializing";
      continue;
    }
    if (!rec.current) {
      StartContainer(c, false, rec);
    } else if (Exited(rec.current)) {
      bool failed = !Succeeded(rec.current);
      bool restart = policy == "Always" || (policy == "OnFailure" && failed);
      HandleExited(c, false, restart, rec);
    } else if (rec.current->state == ContainerState::kCreated) {
      (void)k_->runtime_->Start(rec.current->id);
    }
  }
  WriteStatus(init_recs, app_recs);
}

void PodSync::WriteStatus(const std::vector<ContainerRecord>& init, const std::vector<ContainerRecord>& app) {
  PodStatusInput in;
  in.pod = pod_;
  in.sandbox_ready = sandbox_ready_;
  in.pod_ips = pod_ips_;
  in.host_ip = k_->node_ip_;
  in.init_containers = init;
  in.containers = app;
  in.now = now_;
  Json status = ComputePodStatus(in);
  {
    std::lock_guard<std::mutex> lock(k_->mu_);
    auto it = k_->written_status_.find(uid_);
    if (it != k_->written_status_.end() && it->second == status && pod_["status"] == status) return;
  }
  Json obj = pod_;
  for (int attempt = 0; attempt < 5; ++attempt) {
    obj["status"] = status;
    auto updated = k_->client_->Update(kPods, ns_, obj, "status");
    if (updated.ok()) {
      std::lock_guard<std::mutex> lock(k_->mu_);
      k_->written_status_[uid_] = status;
      return;
    }
    if (updated.status().code() == Code::kNotFound) return;
    if (updated.status().code() != Code::kConflict) break;
    auto fresh = k_->client_->Get(kPods, ns_, name_);
    if (!fresh.ok() || (*fresh)["metadata"].value("uid", "") != uid_) return;
    obj = *fresh;
    // Conditions others own may have changed meanwhile: recompute with them.
    in.pod = *fresh;
    status = ComputePodStatus(in);
  }
  RequeueAt(now_ + std::chrono::seconds(1));
}

void PodSync::Terminate() {
  const Json& meta = pod_["metadata"];
  int64_t grace = meta.value("deletionGracePeriodSeconds", int64_t{30});
  bool all_stopped = true;
  TimePoint next = now_ + std::chrono::seconds(1);
  for (auto& [cname, inst] : by_name_) {
    const ContainerStatus* cur = inst.current();
    if (!Running(cur)) continue;
    all_stopped = false;
    TimePoint signalled;
    {
      std::lock_guard<std::mutex> lock(k_->mu_);
      auto& stopping = k_->stopping_[uid_];
      auto it = stopping.find(cur->id);
      if (it == stopping.end()) {
        stopping[cur->id] = now_;
        signalled = TimePoint{};
      } else {
        signalled = it->second;
      }
    }
    if (signalled == TimePoint{}) {
      int sig = SIGTERM;
      std::ifstream in(std::string());
      Json c;
      for (const char* list : {"containers", "initContainers"}) {
        for (const auto& s : pod_["spec"].value(list, Json::array())) {
          if (s.value("name", "") == cname) c = s;
        }
      }
      auto image = k_->images_->Get(cur->labels.image);
      if (image.ok() && !image->config.stop_signal.empty()) sig = SignalNumber(image->config.stop_signal);
      if (grace <= 0) sig = SIGKILL;
      k_->recorder_->Event(pod_, FieldPath(c, cur->labels.container_type == "init"), "Normal", "Killing",
                           "Stopping container " + cname);
      (void)k_->runtime_->Signal(cur->id, sig);
      next = std::min(next, now_ + std::chrono::seconds(std::max<int64_t>(grace, 0)));
    } else if (now_ - signalled >= std::chrono::seconds(grace)) {
      (void)k_->runtime_->Signal(cur->id, SIGKILL);
    } else {
      next = std::min(next, signalled + std::chrono::seconds(grace));
    }
  }
  if (!all_stopped) {
    RequeueAt(std::min(next, now_ + std::chrono::milliseconds(500)));
    return;
  }
  // Every container has stopped: report the final states, release the node's
  // resources, then remove the pod object for good (grace period 0).
  std::vector<ContainerRecord> init, app;
  for (const auto& c : pod_["spec"].value("initContainers", Json::array())) init.push_back(Record(c));
  for (const auto& c : pod_["spec"].value("containers", Json::array())) app.push_back(Record(c));
  pod_ips_ = k_->network_->Addresses(uid_);
  WriteStatus(init, app);
  Cleanup();
  Json options = {{"gracePeriodSeconds", 0}, {"preconditions", {{"uid", uid_}}}};
  Status s = k_->client_->Delete(kPods, ns_, name_, options);
  if (!s.ok() && s.code() != Code::kNotFound && s.code() != Code::kConflict) RequeueAt(now_ + std::chrono::seconds(1));
}

void PodSync::Cleanup() {
  for (auto& [cname, inst] : by_name_) {
    for (const auto& c : inst.all) (void)k_->runtime_->Remove(c.id);
  }
  (void)k_->network_->TearDown(uid_, {ns_, name_, uid_});
  std::string dir = k_->PodDir(pod_);
  (void)TearDownVolumes(dir);
  std::error_code ec;
  fs::remove_all(dir, ec);
  (void)runtime::RemoveCgroup(k_->PodCgroup(uid_));
  k_->crash_backoff_.ResetPrefix(uid_ + "/");
  std::lock_guard<std::mutex> lock(k_->mu_);
  k_->stopping_.erase(uid_);
  k_->written_status_.erase(uid_);
  for (auto it = k_->tokens_.lower_bound(uid_ + "/"); it != k_->tokens_.end() && it->first.rfind(uid_ + "/", 0) == 0;) {
    it = k_->tokens_.erase(it);
  }
}

// ---- Kubelet's side of the sync ----------------------------------------------------

void Kubelet::SyncPod(const std::string& uid) {
  Json pod;
  if (!PodByUID(uid, &pod)) {
    // The pod is gone from the API (deleted with --force, or we deleted it): remove
    // whatever is left of it.
    Json stub = {{"metadata", {{"uid", uid}, {"namespace", ""}, {"name", ""}}}, {"spec", Json::object()}};
    PodSync(this, stub).Cleanup();
    return;
  }
  PodSync sync(this, pod);
  if (pod["metadata"].contains("deletionTimestamp")) {
    sync.Terminate();
    return;
  }
  sync.Run();
  EnqueueAfter(uid, std::chrono::duration_cast<std::chrono::milliseconds>(kResync));
}

void Kubelet::Worker(const std::atomic<bool>& stop) {
  while (auto key = queue_.Get()) {
    try {
      SyncPod(*key);
    } catch (const std::exception& e) {
      std::fprintf(stderr, "kubelet: sync of pod %s failed: %s\n", key->c_str(), e.what());
      queue_.AddAfter(*key, std::chrono::seconds(1));
    }
    queue_.Done(*key);
    if (stop) break;
  }
}

void Kubelet::Housekeeping() {
  if (!pods_.HasSynced()) return;
  std::set<std::string> known;
  for (const auto& p : pods_.List()) known.insert(p["metadata"].value("uid", ""));
  std::set<std::string> orphans;
  for (const auto& c : runtime_->List()) {
    if (!known.count(c.labels.pod_uid)) orphans.insert(c.labels.pod_uid);
  }
  for (const auto& s : network_->Sandboxes()) {
    if (!known.count(s)) orphans.insert(s);
  }
  for (const auto& child : runtime::ListCgroupChildren("/kubes-" + options_.instance)) {
    if (child.rfind("pod", 0) == 0 && !known.count(child.substr(3))) orphans.insert(child.substr(3));
  }
  for (const auto& uid : orphans) Enqueue(uid);
  RemoveReleasedLocalVolumes();
}

// Deleted local-path volumes of this node: remove their directory, then the finalizer
// that held the PersistentVolume (what local-path-provisioner's helper pod does).
void Kubelet::RemoveReleasedLocalVolumes() {
  auto list = client_->List(kPersistentVolumes, "");
  if (!list.ok()) return;
  for (const auto& pv : (*list)["items"]) {
    const Json& meta = pv["metadata"];
    if (!meta.contains("deletionTimestamp")) continue;
    Json finalizers = meta.value("finalizers", Json::array());
    auto it = std::find(finalizers.begin(), finalizers.end(), "kubes.io/local-path");
    if (it == finalizers.end()) continue;
    std::string node;
    for (const auto& term : pv["spec"].value("nodeAffinity", Json::object()).value("required", Json::object())
                                .value("nodeSelectorTerms", Json::array())) {
      for (const auto& e : term.value("matchExpressions", Json::array())) {
        if (e.value("key", "") == "kubernetes.io/hostname" && !e.value("values", Json::array()).empty()) {
          node = e["values"][0].get<std::string>();
        }
      }
    }
    if (node != options_.node_name) continue;
    std::string path = pv["spec"].value("hostPath", Json::object()).value("path", "");
    std::error_code ec;
    if (!path.empty()) fs::remove_all(path, ec);
    if (ec) continue;
    finalizers.erase(it);
    Json patch = {{"metadata", {{"finalizers", finalizers}, {"resourceVersion", meta.value("resourceVersion", "")}}}};
    (void)client_->Patch(kPersistentVolumes, "", meta.value("name", ""), "application/merge-patch+json", patch);
  }
}

void Kubelet::WatchExits(const std::atomic<bool>& stop) {
  // conmon writes <exit dir>/<container id> when a container exits: that is the
  // kubelet's PLEG here (upstream relists the runtime every second).
  int fd = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
  if (fd < 0) return;
  inotify_add_watch(fd, runtime_->exit_dir().c_str(), IN_CLOSE_WRITE | IN_MOVED_TO | IN_CREATE);
  auto last_housekeeping = std::chrono::steady_clock::now();
  while (!stop) {
    pollfd p{fd, POLLIN, 0};
    poll(&p, 1, 200);
    char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
    ssize_t n;
    while ((n = read(fd, buf, sizeof buf)) > 0) {
      for (char* ptr = buf; ptr < buf + n;) {
        auto* ev = reinterpret_cast<inotify_event*>(ptr);
        if (ev->len > 0) {
          auto st = runtime_->Inspect(ev->name);
          if (st.ok()) Enqueue(st->labels.pod_uid);
        }
        ptr += sizeof(inotify_event) + ev->len;
      }
    }
    if (std::chrono::steady_clock::now() - last_housekeeping > std::chrono::seconds(10)) {
      Housekeeping();
      RotateLogs();
      last_housekeeping = std::chrono::steady_clock::now();
    }
  }
  close(fd);
}

}  // namespace kubes::kubelet
