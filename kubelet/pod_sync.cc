// SyncPod: bring one pod's containers in line with its spec (upstream:
// kubelet.go SyncPod / SyncTerminatingPod, kuberuntime_manager.go computePodActions).
#include "kubelet/pod_sync.h"

#include <signal.h>
#include <sys/stat.h>

#include <algorithm>
#include <filesystem>
#include <fstream>

#include "client/resources.h"
#include "kubelet/logs.h"
#include "kubelet/pod_cgroups.h"
#include "runtime/cgroups.h"
#include "runtime/idmap.h"
#include "util/files.h"

namespace kubes::kubelet {
namespace {

using client::kPods;
using runtime::ContainerState;
using runtime::ContainerStatus;

namespace fs = std::filesystem;

constexpr auto kResync = std::chrono::seconds(60);

// Every sync writes the pod's hosts files: only when they would change.
void WriteIfChanged(const std::string& path, const std::string& content) {
  if (ReadFilePrefix(path, content.size() + 1) == content) return;
  std::ofstream(path) << content;
}

}  // namespace

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
  // A new pod cgroup gets the pod's totals; its QoS class's cgroup is updated first
  // (upstream SyncPod: UpdateQOSCgroups, then the pod container manager).
  std::string cgroup = k_->PodCgroup(pod_);
  Status cg = Status::OK();
  if (!runtime::CgroupExists(cgroup)) {
    k_->UpdateQOSCgroups();
    cg = runtime::CreateCgroup(cgroup);
    if (cg.ok()) cg = runtime::SetCgroupResources(cgroup, PodCgroupResources(pod_));
  }
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
    // A pod with its own user namespace gets it first: the network namespace is made
    // inside it.
    std::string owner_userns;
    if (WantsUserNamespace(pod_)) {
      owner_userns = k_->UsernsPin(uid_);
      Status pinned = PinPodUserNamespace(k_->userns_.get(), pod_, owner_userns);
      if (!pinned.ok()) {
        k_->recorder_->Event(pod_, "Warning", "FailedCreatePodSandBox",
                             "Failed to create pod sandbox: " + pinned.message());
        RequeueAt(now_ + std::chrono::seconds(5));
        return false;
      }
    }
    auto ips = k_->network_->SetUp(uid_, {ns_, name_, uid_}, ports, owner_userns);
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

void PodSync::RemoveOldInstances(const std::string& name) {
  auto& inst = by_name_[name];
  // Keep the newest two: the running one and the one `logs --previous` shows.
  while (inst.all.size() > 2) {
    const std::string& id = inst.all.front().id;
    (void)k_->runtime_->Remove(id);
    std::error_code ec;
    fs::remove(k_->PodDir(pod_) + "/containers/" + name + "/" + id, ec);
    {
      std::lock_guard<std::mutex> lock(k_->mu_);
      k_->post_start_.erase(id);
      k_->restart_kills_.erase(id);
    }
    k_->ForgetContainer(uid_, id);
    inst.all.erase(inst.all.begin());
  }
}

Json PodSync::SpecOf(const std::string& name, bool* init) const {
  for (const char* list : {"initContainers", "containers", "ephemeralContainers"}) {
    for (const auto& c : pod_["spec"].value(list, Json::array())) {
      if (c.value("name", "") == name) {
        *init = std::string(list) == "initContainers";
        return c;
      }
    }
  }
  *init = false;
  return Json();
}

void PodSync::StartContainer(const Json& c, bool init, ContainerRecord& rec) {
  std::string cname = c.value("name", "");
  auto image = EnsureImage(c, init, rec);
  if (!image.ok()) return;
  const ContainerStatus* cur = by_name_[cname].current();
  int attempt = cur ? cur->labels.attempt + 1 : RestartCountFromLogDir(k_->PodLogDir(pod_) + "/" + cname);
  auto id = Launch(c, init, attempt, *image, rec, nullptr);
  if (!id) return;
  // The postStart hook runs now; until it is done the container counts as starting.
  if (!id->empty() && c.contains("lifecycle") && c["lifecycle"].is_object() && c["lifecycle"].contains("postStart")) {
    k_->RunPostStartHook(pod_, c, *id, pod_ips_.empty() ? "" : pod_ips_[0]);
  }
  RemoveOldInstances(cname);
  rec = Record(c, init);
  rec.image_ref = NormalizedImage(c.value("image", ""));
}

std::optional<std::string> PodSync::Launch(const Json& c, bool init, int attempt, const runtime::images::Image& image,
                                           ContainerRecord& rec,
                                           const std::function<void(runtime::ContainerConfig&)>& adjust) {
  std::string cname = c.value("name", "");
  auto cfg = MakeConfig(c, init, attempt, image);
  if (!cfg.ok()) {
    rec.waiting_reason = "CreateContainerConfigError";
    rec.waiting_message = cfg.status().message();
    Event(c, init, "Warning", "Failed", "Error: " + cfg.status().message());
    RequeueAt(now_ + std::chrono::seconds(10));
    return std::nullopt;
  }
  if (adjust) adjust(*cfg);
  k_->IndexContainer(uid_, cfg->id);
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
  return s.ok() ? cfg->id : std::string();
}

void PodSync::HandleExited(const Json& c, bool init, bool restart, ContainerRecord& rec) {
  const ContainerStatus* cur = rec.current;
  if (!restart) return;
  std::string key = Key(c.value("name", ""));
  // An exit whose time the runtime lost (state Unknown) counts from now.
  TimePoint finished = cur->finished_at == TimePoint{} ? now_ : cur->finished_at;
  bool probe_kill;
  {
    std::lock_guard<std::mutex> lock(k_->mu_);
    probe_kill = k_->restart_kills_.count(cur->id) > 0;
  }
  if (probe_kill) {
    // Upstream restarts a container it killed for a failed probe in the same sync, so
    // the back-off looks at the instance before it: none means no back-off at all.
    if (!rec.previous) {
      StartContainer(c, init, rec);
      return;
    }
    finished = rec.previous->finished_at;
  }
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
    LogOptions tail;
    tail.tail_lines = 80;  // upstream: the last 80 lines, at most 2048 bytes
    msg = ReadLog(s.log_path, tail, nullptr);
    if (msg.size() > 2048) msg = msg.substr(msg.size() - 2048);
  }
  return msg;
}

ContainerRecord PodSync::Record(const Json& c, bool init) {
  ContainerRecord r;
  r.name = c.value("name", "");
  r.image = c.value("image", "");
  const Instances& inst = by_name_[r.name];
  r.current = inst.current();
  r.previous = inst.previous();
  if (r.current && Exited(r.current)) r.message = TerminationMessage(*r.current, c);
  if (r.previous) r.previous_message = TerminationMessage(*r.previous, c);
  bool running = r.current && r.current->state == ContainerState::kRunning;
  if (running) {
    std::lock_guard<std::mutex> lock(k_->mu_);
    auto hook = k_->post_start_.find(r.current->id);
    if (hook != k_->post_start_.end()) {
      r.starting = true;
      r.waiting_reason = hook->second.running ? "ContainerCreating" : "PostStartHookError";
      r.waiting_message = hook->second.failure;
    }
  }
  // Started once its startup probe passed (or it has none); ready while its readiness
  // probe passes (or it has none), and only once started.
  r.started = running && !r.starting && k_->probes_->IsStarted(c, r.current->id);
  r.ready = r.started && k_->probes_->IsReady(c, r.current->id);
  // An init container that completed counts as ready (upstream since 1.28).
  if (init && c.value("restartPolicy", "") != "Always" && Succeeded(r.current)) r.ready = true;
  if (r.current) {
    r.image_ref = NormalizedImage(r.image);
  }
  return r;
}

void PodSync::Run() {
  const Json& spec = pod_["spec"];
  std::string policy = spec.value("restartPolicy", "Always");
  std::string phase = pod_.value("status", Json::object()).value("phase", "Pending");
  // The sandbox the containers ran in is gone (sandbox.cc): what is left of the pod stops
  // first, then it starts over in a new one from the first init container.
  if (phase != "Succeeded" && phase != "Failed" && SandboxChanged() && !PrepareNewSandbox()) return;
  std::vector<ContainerRecord> init_recs, app_recs;
  for (const auto& c : spec.value("initContainers", Json::array())) init_recs.push_back(Record(c, true));
  for (const auto& c : spec.value("containers", Json::array())) app_recs.push_back(Record(c, false));

  // A pod that finished stays finished: its containers are not started again, its
  // network is released (upstream keeps the IP in status).
  if (phase == "Succeeded" || phase == "Failed") {
    k_->probes_->RemovePod(uid_);
    for (auto& [n, inst] : by_name_) {
      if (Running(inst.current())) (void)k_->runtime_->Signal(inst.current()->id, SIGKILL);
    }
    (void)k_->network_->TearDown(uid_, {ns_, name_, uid_});
    return;
  }
  // Every regular container has exited for good (restartPolicy Never or OnFailure): the
  // pod is done, and its sidecars are stopped in reverse order instead of restarted
  // (upstream: KillPod when no container is to be kept or started). The phase turns
  // Succeeded or Failed once they have exited.
  if (RegularContainersDone(policy, app_recs)) {
    UpdateProbes(false);
    TimePoint next;
    if (!KillPod(spec.value("terminationGracePeriodSeconds", int64_t{30}), &next)) RequeueAt(next);
    WriteStatus(init_recs, app_recs);
    return;
  }

  // A container the runtime has not created yet waits with this reason (upstream
  // convertToAPIContainerStatuses' default state).
  const std::string not_created = init_recs.empty() ? "ContainerCreating" : "PodInitializing";
  if (!SetUpSandbox() || !SetUpVolumesOnce()) {
    for (auto& r : app_recs) {
      if (!r.current) r.waiting_reason = not_created;
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
  WriteIfChanged(pod_dir + "/etc-hosts", hosts);
  WriteIfChanged(pod_dir + "/etc-hostname", hostname + "\n");
  WriteIfChanged(pod_dir + "/resolv.conf", ReadFilePrefix("/etc/resolv.conf", 65536));

  // Init containers, one at a time, each to completion.
  bool initialized = true;
  // Once an app container was created the pod has been initialized: a sidecar that
  // restarts later holds nothing up (upstream computeInitContainerActions).
  bool app_created = std::any_of(app_recs.begin(), app_recs.end(), [](const ContainerRecord& r) {
    return Running(r.current);
  });
  const Json& inits = spec.value("initContainers", Json::array());
  for (size_t i = 0; i < inits.size(); ++i) {
    const Json& c = inits[i];
    ContainerRecord& rec = init_recs[i];
    bool sidecar = c.value("restartPolicy", "") == "Always";
    if (sidecar) {
      if (!rec.current) StartContainer(c, true, rec);
      else if (Exited(rec.current)) HandleExited(c, true, true, rec);
      else KillIfUnhealthy(c, true, rec, true);
      // The next init container waits until this one has started (startup probe).
      if (!rec.started && !app_created) {
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
  // Upstream writes the status before the runtime acts, so between the last init
  // container and the app containers' first start kubectl shows PodInitializing.
  if (initialized && !init_recs.empty() &&
      std::none_of(app_recs.begin(), app_recs.end(), [](const ContainerRecord& r) { return r.current; })) {
    for (auto& r : app_recs) r.waiting_reason = "PodInitializing";
    WriteStatus(init_recs, app_recs);
  }
  const Json& apps = spec.value("containers", Json::array());
  // Containers start in order, each after the previous one's postStart hook finished
  // (upstream starts them one by one and waits for each hook).
  bool hook_running = false;
  for (size_t i = 0; i < apps.size(); ++i) {
    const Json& c = apps[i];
    ContainerRecord& rec = app_recs[i];
    if (!initialized) {
      if (!rec.current) rec.waiting_reason = "PodInitializing";
      continue;
    }
    if (hook_running && !rec.current) {
      rec.waiting_reason = not_created;
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
    } else {
      KillIfUnhealthy(c, false, rec, policy != "Never");
    }
    hook_running = hook_running || (rec.starting && rec.waiting_reason == "ContainerCreating");
  }
  SyncEphemeralContainers();
  UpdateProbes(true);
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
  in.ephemeral_containers = EphemeralRecords();
  in.now = now_;
  in.pod_is_terminal = pod_is_terminal_;
  Json status = ComputePodStatus(in);
  {
    // Nothing to write when the pod as the informer shows it has this status, and the
    // informer is not behind our last write (which may have said something else).
    std::lock_guard<std::mutex> lock(k_->mu_);
    auto it = k_->written_status_.find(uid_);
    int64_t seen = std::atoll(pod_["metadata"].value("resourceVersion", "0").c_str());
    if (it != k_->written_status_.end() && seen >= it->second && pod_["status"] == status) return;
  }
  Json obj = pod_;
  for (int attempt = 0; attempt < 5; ++attempt) {
    obj["status"] = status;
    auto updated = k_->client_->Update(kPods, ns_, obj, "status");
    if (updated.ok()) {
      std::lock_guard<std::mutex> lock(k_->mu_);
      k_->written_status_[uid_] = std::atoll((*updated)["metadata"].value("resourceVersion", "0").c_str());
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
  pod_ips_ = k_->network_->Addresses(uid_);
  if (pod_["spec"].value("hostNetwork", false)) pod_ips_ = {k_->node_ip_};
  // Readiness probes go on while the pod stops (its Services drop it); liveness and
  // startup probes stop.
  UpdateProbes(false);
  // Regular containers first, then the sidecars one by one in reverse order
  // (container_stop.cc).
  TimePoint next;
  if (!KillPod(grace, &next)) {
    RequeueAt(next);
    return;
  }
  // Every container has stopped: report the final states (a terminal phase, as upstream
  // since 1.27), release the node's resources, then remove the pod object for good
  // (grace period 0).
  pod_is_terminal_ = true;
  std::vector<ContainerRecord> init, app;
  for (const auto& c : pod_["spec"].value("initContainers", Json::array())) init.push_back(Record(c, true));
  for (const auto& c : pod_["spec"].value("containers", Json::array())) app.push_back(Record(c, false));
  WriteStatus(init, app);
  Cleanup();
  Json options = {{"gracePeriodSeconds", 0}, {"preconditions", {{"uid", uid_}}}};
  Status s = k_->client_->Delete(kPods, ns_, name_, options);
  if (!s.ok() && s.code() != Code::kNotFound && s.code() != Code::kConflict) RequeueAt(now_ + std::chrono::seconds(1));
}

void PodSync::Cleanup() {
  if (k_->probes_) k_->probes_->RemovePod(uid_);
  if (k_->userns_) k_->userns_->Release(uid_);
  for (auto& [cname, inst] : by_name_) {
    for (const auto& c : inst.all) {
      (void)k_->runtime_->Remove(c.id);
      std::lock_guard<std::mutex> lock(k_->mu_);
      k_->post_start_.erase(c.id);
      k_->restart_kills_.erase(c.id);
    }
  }
  {
    std::lock_guard<std::mutex> lock(k_->mu_);
    k_->containers_by_pod_.erase(uid_);
  }
  (void)k_->network_->TearDown(uid_, {ns_, name_, uid_});
  (void)runtime::UnpinNamespace(k_->UsernsPin(uid_));
  std::string dir = k_->PodDir(pod_);
  (void)TearDownVolumes(dir);
  std::error_code ec;
  fs::remove_all(dir, ec);
  for (const auto& cgroup : PodCgroupCandidates(k_->CgroupRoot(), uid_)) (void)runtime::RemoveCgroup(cgroup);
  k_->crash_backoff_.ResetPrefix(uid_ + "/");
  std::lock_guard<std::mutex> lock(k_->mu_);
  k_->stopping_.erase(uid_);
  k_->sandbox_changed_.erase(uid_);
  k_->written_status_.erase(uid_);
  for (auto it = k_->tokens_.lower_bound(uid_ + "/"); it != k_->tokens_.end() && it->first.rfind(uid_ + "/", 0) == 0;) {
    it = k_->tokens_.erase(it);
  }
}

// ---- Kubelet's side of the sync ----------------------------------------------------

void Kubelet::SyncPod(const std::string& uid) {
  client::ObjectPtr pod = PodByUID(uid);
  if (!pod) {
    // The pod is gone from the API (deleted with --force, or we deleted it): remove
    // whatever is left of it.
    Json stub = {{"metadata", {{"uid", uid}, {"namespace", ""}, {"name", ""}}}, {"spec", Json::object()}};
    PodSync(this, std::make_shared<const Json>(std::move(stub))).Cleanup();
    return;
  }
  PodSync sync(this, pod);
  if ((*pod)["metadata"].contains("deletionTimestamp")) {
    sync.Terminate();
    return;
  }
  sync.Run();
  ScheduleResync(uid);
}

void Kubelet::ScheduleResync(const std::string& uid) {
  // The work queue keeps one delayed add per pod, the soonest: a requeue for a back-off
  // or a probe replaces this one, and the sync it causes schedules the next resync.
  EnqueueAfter(uid, std::chrono::duration_cast<std::chrono::milliseconds>(kResync));
}

}  // namespace kubes::kubelet
