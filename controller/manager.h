// ControllerManager — starts the controllers of `kubes server` on their own threads,
// each with a client that talks to the apiserver in-process (upstream:
// kube-controller-manager).
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "client/client.h"
#include "client/informer.h"
#include "client/shared_informers.h"

namespace kubes::scheduler {
class Scheduler;
}  // namespace kubes::scheduler

namespace kubes::controller {
namespace podautoscaler {
class HorizontalController;
}  // namespace podautoscaler

class DaemonSetController;
class CronJobController;
class DeploymentController;
class DisruptionController;
class GarbageCollector;
class JobController;
class LocalPathController;
class NodeLifecycleController;
class ReplicaSetController;
class StatefulSetController;
class TTLAfterFinishedController;

// Settings of kube-controller-manager that kubes exposes as `kubes server` flags.
struct ControllerOptions {
  std::vector<std::string> cluster_cidrs = {"10.42.0.0/16"};  // node IPAM cuts per-node blocks from these
  int node_cidr_mask_size = 24;
  std::chrono::seconds node_monitor_grace_period{40};  // a silent node is NotReady after this
  std::string local_storage_path = "/var/lib/kubes/storage";  // where local-path volumes live on nodes
  // The HorizontalPodAutoscaler: how often each HPA is synced, and how long a scale-down
  // waits for higher recommendations (--horizontal-pod-autoscaler-sync-period,
  // --horizontal-pod-autoscaler-downscale-stabilization).
  std::chrono::seconds horizontal_pod_autoscaler_sync_period{15};
  std::chrono::seconds horizontal_pod_autoscaler_downscale_stabilization{300};
};

class ControllerManager {
 public:
  // handler: the apiserver's request handler (APIServer::Handle).
  // ca_pem: the cluster CA, published into every namespace.
  ControllerManager(client::LocalTransport::Handler handler, std::string ca_pem, ControllerOptions options = {});
  ~ControllerManager();
  void Start();
  void Stop();

 private:
  // Runs `run` on a thread of its own, named (at most 15 characters) for ps/top, once
  // Start has started the shared informers and they have synced.
  void Spawn(const std::string& name, std::function<void()> run);
  std::vector<std::pair<std::string, std::function<void()>>> pending_;
  client::LocalTransport::Handler handler_;
  std::string ca_pem_;
  ControllerOptions options_;
  std::vector<std::unique_ptr<client::LocalTransport>> transports_;
  std::vector<std::unique_ptr<client::Client>> clients_;
  std::unique_ptr<client::SharedInformers> informers_;
  // The components on shared informers (their handlers live as long as they do).
  std::unique_ptr<GarbageCollector> gc_;
  std::unique_ptr<scheduler::Scheduler> scheduler_;
  std::unique_ptr<NodeLifecycleController> lifecycle_;
  std::unique_ptr<LocalPathController> local_path_;
  std::unique_ptr<ReplicaSetController> replicaset_;
  std::unique_ptr<DeploymentController> deployment_;
  std::unique_ptr<DisruptionController> disruption_;
  std::unique_ptr<DaemonSetController> daemonset_;
  std::unique_ptr<StatefulSetController> statefulset_;
  std::unique_ptr<JobController> job_;
  std::unique_ptr<CronJobController> cronjob_;
  std::unique_ptr<TTLAfterFinishedController> ttl_after_finished_;
  std::unique_ptr<podautoscaler::HorizontalController> horizontal_;
  std::vector<std::thread> threads_;
  std::atomic<bool> stop_{false};
};

}  // namespace kubes::controller
