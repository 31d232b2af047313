// Kubelet — the node agent: registers the Node, keeps its Lease fresh, and runs the
// pods bound to it as real containers (upstream: pkg/kubelet).
//
// The shape follows upstream, much reduced:
//   pod informer (spec.nodeName = this node) ─┐
//   container exits (PLEG: monitors' exit files)├─> work queue of pod UIDs ─> SyncPod
//   timers (back-off ends, grace periods)     ─┘
// SyncPod (pod_sync.cc) is level-triggered: it compares the pod's spec with the
// containers the runtime has for it, starts, restarts or stops what differs, and
// writes the pod's status (pod_status.cc). Probes (prober/) and lifecycle hooks
// (lifecycle.cc) run on the prober's threads and wake the pod's sync when they have
// news. Little is remembered that cannot be rebuilt from the API and the runtime
// (probe results, hooks in progress), so a restarted kubes adopts running pods.
//
// Thread-safety: a few worker threads run SyncPod; one pod is synced by one worker at
// a time (the work queue guarantees it).
#pragma once

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "apiserver/request.h"
#include "client/client.h"
#include "client/informer.h"
#include "client/record.h"
#include "client/workqueue.h"
#include "kubelet/backoff.h"
#include "kubelet/eviction.h"
#include "kubelet/lifecycle.h"
#include "kubelet/prober/prober_manager.h"
#include "kubelet/stats.h"
#include "kubelet/user_namespaces.h"
#include "kubelet/streaming/remotecommand.h"
#include "network/pod_network.h"
#include "network/routes.h"
#include "runtime/images/store.h"
#include "runtime/runtime.h"
#include "util/time.h"

namespace kubes::kubelet {

using Json = nlohmann::json;

// "1.32" from "v1.32.0": the version in the kubelet's User-Agents (kube-probe/1.32).
std::string UserAgentVersion(const std::string& version);

struct KubeletOptions {
  std::string node_name;
  std::string data_dir;        // pods/, containers/, images/ live here
  std::string instance;        // short id naming host-level things: bridge, cgroup, netns dir
  std::vector<std::string> cluster_cidrs;  // kept unreachable off the machine
  std::vector<std::string> service_cidrs;
  std::string node_ip;         // "" = detect
  std::map<std::string, std::string> labels;  // extra node labels (zone, role)
  std::vector<Json> taints;
  int kubelet_port = 10250;    // reported in status.daemonEndpoints
  std::string oci_runtime;     // "" = crun or runc
  bool disable_default_registry_endpoint = false;  // pull only from registries.yaml's mirrors
  int max_pods = 110;
  int64_t container_log_max_size = 10 << 20;  // rotate a container's log past this (containerLogMaxSize)
  int container_log_max_files = 5;            // files kept per container, the current one included
  int workers = 4;
  // --eviction-hard's memory.available threshold (upstream's default 100Mi) and
  // --system-reserved memory, which allocatable leaves out (eviction.h).
  MemoryThreshold eviction_memory{100 << 20, 0, "100Mi"};
  int64_t system_reserved_memory = 0;
  std::string version = "v1.32.0";
};

class Kubelet {
 public:
  Kubelet(client::Client* client, KubeletOptions options);
  ~Kubelet();

  // Opens the runtime and network, registers the node and runs until stop is set.
  // Returns early with an error when the node cannot work here (no OCI runtime, no
  // CNI plugins, not root).
  Status Run(const std::atomic<bool>& stop);

  // The kubelet's streaming endpoints (upstream: the kubelet server on :10250):
  //   GET /containerLogs/{ns}/{pod}/{container}   (logs)
  //   GET /exec/{ns}/{pod}/{container}?command=…   (WebSocket upgrade)
  //   GET /attach/{ns}/{pod}/{container}
  //   GET /portForward/{ns}/{pod}
  //   GET /stats/summary                           (CPU and memory use, stats.cc)
  // The apiserver's pods/log, exec, attach and portforward proxy here; metrics/ reads
  // /stats/summary for metrics.k8s.io.
  apiserver::Response Serve(apiserver::Request& req);

  const std::string& node_name() const { return options_.node_name; }

  // Removes every container, pod network, volume and cgroup the node of this data dir
  // made, and its bridge and routes (`kubes server --cleanup`, with the server stopped).
  static Status Cleanup(const KubeletOptions& options);
  bool ready() const { return ready_; }

 private:
  friend class PodSync;
  friend class StatusWriter;

  // node_status.cc
  Json BuildNode() const;
  Status RegisterNode();
  void HeartbeatLoop(const std::atomic<bool>& stop);
  Status RenewLease();
  Status UpdateNodeStatus();
  // Waits for the node IPAM controller to assign spec.podCIDRs.
  Result<std::vector<std::string>> WaitForPodCIDRs(const std::atomic<bool>& stop);
  // Routes to the pod CIDRs of the other nodes (node_status.cc).
  void SyncRoutes();

  // pod_sync.cc
  void Worker(const std::atomic<bool>& stop);
  void SyncPod(const std::string& uid);
  void Housekeeping();  // containers and sandboxes of pods that are gone
  void RotateLogs();    // container logs past their size (logs.cc)
  void RemoveReleasedLocalVolumes();  // local-path volumes deleted by their controller
  void WatchExits(const std::atomic<bool>& stop);

  // Lifecycle hooks on the prober's threads (container_start.cc, container_stop.cc):
  // each ends by setting its state under mu_ and enqueueing the pod.
  void RunPostStartHook(const Json& pod, const Json& container, const std::string& id, const std::string& pod_ip);
  void RunPreStopHook(const Json& pod, const Json& container, const std::string& id, const std::string& pod_ip,
                      int64_t grace);
  HookOptions HookOptionsFor(const Json& pod, std::chrono::milliseconds timeout);
  std::unique_ptr<prober::Manager> NewProber();  // kubelet.cc
  // A command in a running container, for exec probes and hooks (the runtime's exec).
  Result<prober::ExecResult> ExecInContainer(const std::string& id, const std::vector<std::string>& command,
                                             std::chrono::milliseconds timeout);

  // server.cc
  apiserver::Response ServeLogs(const apiserver::Request& req, const std::vector<std::string>& parts);
  apiserver::Response ServeExec(const apiserver::Request& req, const std::vector<std::string>& parts, bool attach);
  apiserver::Response ServePortForward(const apiserver::Request& req, const std::vector<std::string>& parts);
  // stats.cc: the pods and cgroups to measure, the collection loop, /stats/summary.
  std::vector<PodStatsRef> StatsPods() const;
  void StatsLoop(const std::atomic<bool>& stop);
  // eviction.cc: MemoryPressure and the eviction of one pod, from the stats just read.
  void EnforceEviction(const std::vector<PodStatsRef>& pods);
  apiserver::Response ServeStatsSummary(const apiserver::Request& req);
  // A session on a container's own stdio through its monitor's attach socket (attach.cc).
  Result<streaming::Process> AttachProcess(const std::string& id, const streaming::Options& o);
  // The runtime container that runs `container` of a pod now (or ran it last).
  Result<runtime::ContainerStatus> FindContainer(const std::string& ns, const std::string& pod,
                                                 const std::string& container, bool previous);

  std::string PodDir(const Json& pod) const;
  std::string PodLogDir(const Json& pod) const;
  // The node's cgroup and a pod's cgroup below it (kubelet/pod_cgroups.h).
  std::string CgroupRoot() const { return "/kubes-" + options_.instance; }
  std::string PodCgroup(const Json& pod) const;
  // The QoS class cgroups (burstable, besteffort) exist and carry their shares.
  void UpdateQOSCgroups();
  void Enqueue(const std::string& uid) { queue_.Add(uid); }
  void EnqueueAfter(const std::string& uid, std::chrono::milliseconds d) { queue_.AddAfter(uid, d); }
  // The pod informer's object of this uid (null when none).
  client::ObjectPtr PodByUID(const std::string& uid) const;

  client::Client* client_;
  KubeletOptions options_;
  const Clock& clock_ = RealClock::Get();
  std::unique_ptr<runtime::Runtime> runtime_;
  std::unique_ptr<network::PodNetwork> network_;
  std::unique_ptr<runtime::images::Store> images_;
  std::unique_ptr<runtime::images::RegistriesConfig> registries_;  // <data dir>/registries.yaml
  std::unique_ptr<client::EventRecorder> recorder_;
  std::unique_ptr<StatsCollector> stats_;
  std::unique_ptr<prober::Manager> probes_;  // probes, and the threads hooks run on
  std::unique_ptr<UserNamespaceManager> userns_;  // pods with hostUsers: false (null: unavailable)
  // Where a hostUsers: false pod's user namespace is pinned (beside the netns pins).
  std::string UsernsPin(const std::string& uid) const { return "/run/kubes/" + options_.instance + "/userns/" + uid; }
  client::Informer pods_;
  client::Informer nodes_;  // other nodes' pod CIDRs → routes to them
  network::NodeRoutes routes_;
  std::atomic<bool> routes_dirty_{true};
  client::WorkQueue queue_;
  std::atomic<bool> ready_{false};
  std::atomic<bool> memory_pressure_{false};  // below the eviction threshold (eviction.cc)
  std::string node_ip_;

  // uid → "ns/name" for pods the informer knows.
  mutable std::mutex mu_;
  std::map<std::string, std::string> uid_to_key_;
  void ScheduleResync(const std::string& uid);
  // The runtime's container IDs by pod UID (their labels never change), so a sync
  // inspects only its own pod's containers instead of listing the node's (pod_sync.cc).
  // Filled from a full listing at start and at every housekeeping pass, and with every
  // container the kubelet creates; an ID that no longer inspects is dropped.
  std::map<std::string, std::set<std::string>> containers_by_pod_;
  void IndexContainer(const std::string& uid, const std::string& id) {
    std::lock_guard<std::mutex> lock(mu_);
    containers_by_pod_[uid].insert(id);
  }
  void ForgetContainer(const std::string& uid, const std::string& id) {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = containers_by_pod_.find(uid);
    if (it == containers_by_pod_.end()) return;
    it->second.erase(id);
    if (it->second.empty()) containers_by_pod_.erase(it);
  }
  std::vector<std::string> ContainerIDsOf(const std::string& uid) const {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = containers_by_pod_.find(uid);
    if (it == containers_by_pod_.end()) return {};
    return {it->second.begin(), it->second.end()};
  }
  // Containers being stopped, by pod UID and container ID: how far each kill got
  // (container_stop.cc).
  struct Stopping {
    TimePoint begun;         // the Killing event; the preStop hook started
    int64_t grace = 0;       // seconds for the whole stop, hook included
    bool hook_running = false;
    TimePoint signalled{};   // the stop signal went out (epoch: not yet)
    TimePoint kill_at{};     // SIGKILL is due
  };
  std::map<std::string, std::map<std::string, Stopping>> stopping_;
  // postStart hooks still running or failed, by container ID; none means done (or none).
  struct PostStart {
    bool running = true;
    std::string failure;  // upstream's message when it failed
  };
  std::map<std::string, PostStart> post_start_;
  // Containers killed to be restarted at once (a failed liveness or startup probe):
  // their restart's back-off counts from the instance before, as upstream's.
  std::set<std::string> restart_kills_;
  // Pods whose sandbox is being re-created (sandbox.cc): SandboxChanged went out.
  std::set<std::string> sandbox_changed_;
  // The resourceVersion of each pod's last status write, so an unchanged status is
  // not written again (see PodSync::WriteStatus).
  std::map<std::string, int64_t> written_status_;
  // Service account tokens of projected volumes: "uid/audience/seconds" → token.
  struct CachedToken {
    std::string token;
    std::chrono::steady_clock::time_point refresh_at;
  };
  std::map<std::string, CachedToken> tokens_;
  Backoff crash_backoff_{std::chrono::seconds(10), std::chrono::seconds(300)};
  Backoff pull_backoff_{std::chrono::seconds(10), std::chrono::seconds(300)};
};

}  // namespace kubes::kubelet
