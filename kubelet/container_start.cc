// Starting one container (upstream: kuberuntime_container.go startContainer and
// generateContainerConfig, kuberuntime_image.go EnsureImageExists): the image, pulled as
// the pull policy says; the runtime config built from the container's spec, the image's
// config and the pod's volumes; and the sources env and volumes read ConfigMaps,
// Secrets, tokens and claims from.
#include <signal.h>
#include <sys/stat.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "apimachinery/resource/quantity.h"
#include "client/resources.h"
#include "kubelet/env.h"
#include "kubelet/pod_cgroups.h"
#include "kubelet/pod_sync.h"
#include "pki/base64.h"
#include "runtime/images/reference.h"

namespace kubes::kubelet {
namespace {

// The lowest oom_score_adj this process may give its children: -1000 with
// CAP_SYS_RESOURCE, else its own score (the kernel refuses to go lower).
int LowestOOMScoreAdj() {
  static const int lowest = [] {
    std::ifstream status("/proc/self/status");
    std::string line;
    while (std::getline(status, line)) {
      if (line.rfind("CapEff:", 0) != 0) continue;
      uint64_t caps = std::strtoull(line.substr(7).c_str(), nullptr, 16);
      if (caps & (uint64_t{1} << 24)) return -1000;  // CAP_SYS_RESOURCE
    }
    int own = 0;
    std::ifstream("/proc/self/oom_score_adj") >> own;
    return own;
  }();
  return lowest;
}

using client::kConfigMaps;
using client::kPersistentVolumeClaims;
using client::kPersistentVolumes;
using client::kSecrets;
using client::kServiceAccounts;

namespace fs = std::filesystem;

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

bool IsNumber(const std::string& s) { return !s.empty() && std::all_of(s.begin(), s.end(), ::isdigit); }

}  // namespace

// status.image: the spec's image as a full reference ("busybox" →
// "docker.io/library/busybox:latest"), as containerd reports it.
std::string NormalizedImage(const std::string& image) {
  auto ref = runtime::images::ParseReference(image);
  return ref.ok() ? ref->String() : image;
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
    for (const auto& [k, v] : binary.items()) out[k] = v.is_string() ? pki::Base64Decode(v.get<std::string>()).value_or("") : "";
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
    for (const auto& [k, v] : data.items()) out[k] = v.is_string() ? pki::Base64Decode(v.get<std::string>()).value_or("") : "";
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
  s.node_allocatable = NodeStatus()["allocatable"];
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
    std::string config = pki::Base64Decode(secret->value("data", Json::object()).value(".dockerconfigjson", "")).value_or("");
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
  // The downward API sees the addresses the sandbox has now: the pod object from the
  // API gets them only with the status written after this start.
  Json pod = pod_;
  if (!pod_ips_.empty()) {
    pod["status"]["podIP"] = pod_ips_[0];
    pod["status"]["podIPs"] = Json::array();
    for (const auto& ip : pod_ips_) pod["status"]["podIPs"].push_back({{"ip", ip}});
  }
  pod["status"]["hostIP"] = k_->node_ip_;
  pod["status"]["hostIPs"] = Json::array({{{"ip", k_->node_ip_}}});
  auto env = BuildEnvironment(pod, c, image.config.env, Sources().objects, NodeStatus()["allocatable"]);
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
  cfg.cgroup_parent = k_->PodCgroup(pod_);
  cfg.log_path = k_->PodLogDir(pod_) + "/" + cname + "/" + std::to_string(attempt) + ".log";
  // hostUsers: false — the pod's own ID range (user_namespaces.h).
  if (Status s = ConfigureUserNamespace(k_->userns_.get(), pod_, k_->UsernsPin(uid_), &cfg); !s.ok()) return s;
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
  cfg.resources.cpu_shares = MilliCPUToShares(cpu_request);
  int64_t cpu_limit = resource::MilliValueOf(limits.value("cpu", ""));
  if (cpu_limit > 0) cfg.resources.cpu_quota_us = MilliCPUToQuota(cpu_limit, kCPUPeriodUs);
  std::string qos = pod_.value("status", Json::object()).value("qosClass", "BestEffort");
  if (qos == "Guaranteed") {
    cfg.oom_score_adj = -997;
  } else if (qos == "BestEffort") {
    cfg.oom_score_adj = 1000;
  } else {
    int64_t mem_request = resource::ValueOf(requests.value("memory", ""));
    int64_t capacity = resource::ValueOf(NodeStatus()["capacity"].value("memory", "1Gi"));
    int64_t adj = capacity > 0 ? 1000 - (1000 * mem_request) / capacity : 999;
    // Above a Guaranteed container's (1000 - 997), below a BestEffort one's.
    cfg.oom_score_adj = static_cast<int>(std::clamp<int64_t>(adj, 3, 999));
  }
  // Below the kubelet's own score only with CAP_SYS_RESOURCE: without it (some sandboxes
  // and containers drop it) runc fails the start with "Permission denied".
  cfg.oom_score_adj = std::max(cfg.oom_score_adj, LowestOOMScoreAdj());

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

// The postStart hook of a container that just started, on the prober's threads. Until
// it ends the container counts as starting (Record); a failure leaves its message for
// the waiting reason and the pod's next sync kills the container (KillIfUnhealthy).
void Kubelet::RunPostStartHook(const Json& pod, const Json& container, const std::string& id,
                               const std::string& pod_ip) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    post_start_[id] = PostStart{};
  }
  std::string uid = pod["metadata"].value("uid", "");
  probes_->RunAsync([this, pod, container, id, pod_ip, uid] {
    std::string failure = RunLifecycleHandler(container["lifecycle"]["postStart"], {pod, container, id, pod_ip},
                                              HookOptionsFor(pod, std::chrono::hours(24)));
    if (!failure.empty()) {
      // The event does not carry the message: what a hook prints may be a secret.
      recorder_->Event(pod, prober::ContainerFieldPath(pod, container.value("name", "")), "Warning",
                       "FailedPostStartHook", "PostStartHook failed");
      std::fprintf(stderr, "kubelet: %s\n", failure.c_str());
    }
    {
      std::lock_guard<std::mutex> lock(mu_);
      auto it = post_start_.find(id);
      if (it != post_start_.end()) {
        if (failure.empty()) post_start_.erase(it);
        else it->second = PostStart{false, failure};
      }
    }
    Enqueue(uid);
  });
}

}  // namespace kubes::kubelet
