// The kubelet's background loops besides the pod workers (upstream: the PLEG, the pod
// workers' housekeeping and the volume manager's cleanup): container exits wake their
// pod's sync, leftovers of pods that are gone are removed, deleted local volumes of this
// node are emptied.
#include <poll.h>
#include <sys/inotify.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <set>

#include "client/resources.h"
#include "kubelet/kubelet.h"
#include "kubelet/pod_cgroups.h"
#include "runtime/cgroups.h"

namespace kubes::kubelet {
namespace {

using client::kPersistentVolumes;
namespace fs = std::filesystem;

}  // namespace

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

std::string Kubelet::PodCgroup(const Json& pod) const { return PodCgroupPath(CgroupRoot(), pod); }

void Kubelet::UpdateQOSCgroups() {
  std::string burstable = QOSCgroup(CgroupRoot(), "Burstable"), besteffort = QOSCgroup(CgroupRoot(), "BestEffort");
  runtime::CgroupResources min_shares;
  min_shares.cpu_shares = kMinShares;
  // The pods that still run (upstream: the active pods).
  auto pods = pods_.Snapshot();
  std::vector<const Json*> views;
  for (const auto& p : pods) {
    std::string phase = p->value("status", Json::object()).value("phase", "");
    if (phase != "Succeeded" && phase != "Failed") views.push_back(p.get());
  }
  for (const auto& [path, resources] : {std::pair{besteffort, min_shares}, std::pair{burstable, BurstableCgroupResources(views)}}) {
    if (!runtime::CgroupExists(path)) (void)runtime::CreateCgroup(path);
    (void)runtime::SetCgroupResources(path, resources);
  }
}

void Kubelet::Housekeeping() {
  if (!pods_.HasSynced()) return;
  std::set<std::string> known;
  for (const auto& p : pods_.Snapshot()) known.insert((*p)["metadata"].value("uid", ""));
  std::set<std::string> orphans;
  for (const auto& c : runtime_->List()) {
    IndexContainer(c.labels.pod_uid, c.id);  // keeps the index whole, whoever made the container
    if (!known.count(c.labels.pod_uid)) orphans.insert(c.labels.pod_uid);
  }
  for (const auto& s : network_->Sandboxes()) {
    if (!known.count(s)) orphans.insert(s);
  }
  for (const char* qos : {"Guaranteed", "Burstable", "BestEffort"}) {
    for (const auto& child : runtime::ListCgroupChildren(QOSCgroup(CgroupRoot(), qos))) {
      if (child.rfind("pod", 0) == 0 && !known.count(child.substr(3))) orphans.insert(child.substr(3));
    }
  }
  UpdateQOSCgroups();
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
  // A container's monitor writes <exit dir>/<container id> when the container exits: that is the
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
