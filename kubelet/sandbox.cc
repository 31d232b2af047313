// The pod sandbox, and starting over in a new one when it is gone (upstream:
// kuberuntime_manager.go computePodActions with podSandboxChanged, SyncPod's
// killPodWithSyncResult and purgeInitContainers, kuberuntime_container.go
// calcRestartCountByLogDir).
//
// Upstream's sandbox is what a CRI runtime keeps for a pod besides its containers: the
// pause container holding the pod's namespaces, its network set up by CNI, its cgroup.
// kubes has no pause container; the sandbox is
//   - the pod's network namespace, pinned under /run/kubes/<instance>/netns/<uid> and
//     wired by CNI (network/pod_network.h), with the addresses recorded for it, and
//   - for a hostNetwork pod, which shares the node's namespace, its pod cgroup.
// It is gone when the pod has had one — the runtime still knows containers of the pod,
// or addresses are recorded for it — but the namespace is no longer pinned (or, for a
// hostNetwork pod, the cgroup no longer exists). That is what a reboot leaves: /run and
// the cgroups are empty again while the data dir still holds the pod's containers and
// addresses. Removing the namespace under a running pod has the same effect.
//
// Then, as upstream: the SandboxChanged event; every container left is stopped (in
// termination order, with the pod's grace period); the old network is released; the
// init containers are removed, so they run again from the first one; a new sandbox
// (with a new IP) is set up by the rest of SyncPod, which runs the init containers and
// then the app containers. New instances continue the restart counts: the app
// containers' from their last instance, the init containers' from their log files.
// A pod that would not run anything again (restartPolicy Never, or OnFailure with every
// app container succeeded) gets no new sandbox: its containers are stopped and its
// status says how they ended.
#include <algorithm>
#include <cctype>
#include <filesystem>

#include "kubelet/pod_cgroups.h"
#include "kubelet/pod_sync.h"
#include "runtime/idmap.h"

namespace kubes::kubelet {
namespace {

namespace fs = std::filesystem;

}  // namespace

int RestartCountFromLogDir(const std::string& dir) {
  int next = 0;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    // "<n>.log", or a rotated "<n>.log.<time>".
    std::string name = e.path().filename().string();
    size_t digits = 0;
    while (digits < name.size() && std::isdigit(static_cast<unsigned char>(name[digits]))) ++digits;
    if (digits == 0 || digits > 9 || name.compare(digits, 4, ".log") != 0) continue;
    if (name.size() > digits + 4 && name[digits + 4] != '.') continue;
    next = std::max(next, std::stoi(name.substr(0, digits)) + 1);
  }
  return next;
}

bool PodSync::SandboxChanged() {
  bool had_sandbox = !by_name_.empty() || !k_->network_->Addresses(uid_).empty();
  bool gone = false;
  if (had_sandbox) {
    if (pod_["spec"].value("hostNetwork", false)) {
      auto candidates = PodCgroupCandidates(k_->CgroupRoot(), uid_);
      gone = std::none_of(candidates.begin(), candidates.end(), runtime::CgroupExists);
    } else {
      gone = !runtime::IsPinnedNamespace(k_->network_->NetnsPath(uid_));
    }
  }
  if (!gone) {
    std::lock_guard<std::mutex> lock(k_->mu_);
    k_->sandbox_changed_.erase(uid_);
  }
  return gone;
}

bool PodSync::PrepareNewSandbox() {
  const Json& spec = pod_["spec"];
  std::string policy = spec.value("restartPolicy", "Always");
  // Would anything run again? Not in a Never pod that ran containers, nor once every
  // app container that OnFailure would restart has succeeded.
  bool recreate = policy != "Never" || by_name_.empty();
  if (recreate) {
    bool to_start = false, created = false;
    for (const auto& c : spec.value("containers", Json::array())) {
      const runtime::ContainerStatus* cur = by_name_[c.value("name", "")].current();
      created = created || cur;
      if (!(policy == "OnFailure" && Succeeded(cur))) to_start = true;
    }
    recreate = to_start || !created;
  }
  bool first;
  {
    std::lock_guard<std::mutex> lock(k_->mu_);
    first = k_->sandbox_changed_.insert(uid_).second;
  }
  if (first && recreate) {
    k_->recorder_->Event(pod_, "Normal", "SandboxChanged", "Pod sandbox changed, it will be killed and re-created.");
  }

  // Whatever still runs stops first, as when the pod is deleted.
  UpdateProbes(false);
  TimePoint next;
  if (!KillPod(spec.value("terminationGracePeriodSeconds", int64_t{30}), &next)) {
    RequeueAt(next);
    return false;
  }
  // The old network goes (its lease released), so SetUpSandbox makes a new one.
  Status down = k_->network_->TearDown(uid_, {ns_, name_, uid_});
  if (!down.ok()) {
    k_->recorder_->Event(pod_, "Warning", "FailedKillPod", "error killing pod: " + down.message());
    RequeueAt(now_ + std::chrono::seconds(5));
    return false;
  }
  if (!recreate) {
    std::vector<ContainerRecord> init, app;
    for (const auto& c : spec.value("initContainers", Json::array())) init.push_back(Record(c, true));
    for (const auto& c : spec.value("containers", Json::array())) app.push_back(Record(c, false));
    WriteStatus(init, app);
    return false;
  }
  // Init containers run again from the first: their instances go (their logs stay).
  for (const auto& c : spec.value("initContainers", Json::array())) {
    std::string cname = c.value("name", "");
    auto it = by_name_.find(cname);
    if (it == by_name_.end()) continue;
    for (const auto& inst : it->second.all) {
      (void)k_->runtime_->Remove(inst.id);
      std::error_code ec;
      fs::remove(k_->PodDir(pod_) + "/containers/" + cname + "/" + inst.id, ec);
      {
        std::lock_guard<std::mutex> lock(k_->mu_);
        k_->post_start_.erase(inst.id);
        k_->restart_kills_.erase(inst.id);
      }
      k_->ForgetContainer(uid_, inst.id);
    }
    by_name_.erase(it);
  }
  return true;
}

}  // namespace kubes::kubelet
