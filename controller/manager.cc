#include "controller/manager.h"

#include <pthread.h>

#include "client/resources.h"
#include "controller/cronjob/cronjob_controller.h"
#include "controller/daemon/daemon_set.h"
#include "controller/deployment/deployment_controller.h"
#include "controller/disruption/disruption.h"
#include "controller/garbagecollector/garbagecollector.h"
#include "controller/job/job_controller.h"
#include "controller/replicaset/replica_set.h"
#include "controller/statefulset/stateful_set.h"
#include "controller/localpath/local_path_controller.h"
#include "controller/namespace/namespace_controller.h"
#include "controller/nodeipam/nodeipam_controller.h"
#include "controller/nodelifecycle/node_lifecycle_controller.h"
#include "controller/podautoscaler/horizontal.h"
#include "controller/serviceaccount/serviceaccounts_controller.h"
#include "controller/ttlafterfinished/ttl_after_finished_controller.h"
#include "scheduler/scheduler.h"

namespace kubes::controller {

ControllerManager::ControllerManager(client::LocalTransport::Handler handler, std::string ca_pem,
                                     ControllerOptions options)
    : handler_(std::move(handler)), ca_pem_(std::move(ca_pem)), options_(std::move(options)) {}

ControllerManager::~ControllerManager() { Stop(); }

void ControllerManager::Start() {
  auto client_for = [this](const std::string& name) {
    transports_.push_back(std::make_unique<client::LocalTransport>(
        handler_, apiserver::UserInfo{"system:serviceaccount:kube-system:" + name, "",
                                      {"system:serviceaccounts", "system:authenticated"}}));
    clients_.push_back(std::make_unique<client::Client>(transports_.back().get()));
    return clients_.back().get();
  };
  // One informer per resource for the controllers and the scheduler (upstream's shared
  // informer factory), reading as kube-controller-manager itself. It starts at the end,
  // once every component has added its handlers.
  transports_.push_back(std::make_unique<client::LocalTransport>(
      handler_, apiserver::UserInfo{"system:kube-controller-manager", "", {"system:authenticated"}}));
  clients_.push_back(std::make_unique<client::Client>(transports_.back().get()));
  informers_ = std::make_unique<client::SharedInformers>(clients_.back().get());
  client::Client* ns_client = client_for("namespace-controller");
  Spawn("namespace", [this, ns_client] { NamespaceController(ns_client).Run(stop_); });
  client::Client* sa_client = client_for("service-account-controller");
  Spawn("serviceaccount", [this, sa_client] { ServiceAccountsController(sa_client, ca_pem_).Run(stop_); });
  gc_ = std::make_unique<GarbageCollector>(client_for("generic-garbage-collector"), informers_.get());
  Spawn("garbagecollect", [this] { gc_->Run(stop_); });
  // kube-scheduler runs in the same process, with its own identity.
  transports_.push_back(std::make_unique<client::LocalTransport>(
      handler_, apiserver::UserInfo{"system:kube-scheduler", "", {"system:authenticated"}}));
  clients_.push_back(std::make_unique<client::Client>(transports_.back().get()));
  client::Client* scheduler_client = clients_.back().get();
  scheduler_ = std::make_unique<scheduler::Scheduler>(scheduler_client, informers_.get());
  Spawn("scheduler", [this] { scheduler_->Run(stop_); });
  lifecycle_ = std::make_unique<NodeLifecycleController>(client_for("node-controller"), informers_.get(),
                                                         options_.node_monitor_grace_period);
  Spawn("nodelifecycle", [this] { lifecycle_->Run(stop_); });
  local_path_ = std::make_unique<LocalPathController>(client_for("persistentvolume-binder"), informers_.get(),
                                                      options_.local_storage_path);
  Spawn("localpath", [this] { local_path_->Run(stop_); });
  client::Client* ipam_client = client_for("node-ipam-controller");
  Spawn("nodeipam", [this, ipam_client] { NodeIPAMController(ipam_client, options_.cluster_cidrs, options_.node_cidr_mask_size).Run(stop_); });

  // The workload controllers share their informers (with the others, too).
  client::Informer* pods = informers_->For(client::kPods);
  client::Informer* replicasets = informers_->For(client::kReplicaSets);
  client::Informer* deployments = informers_->For(client::kDeployments);
  replicaset_ = std::make_unique<ReplicaSetController>(client_for("replicaset-controller"), *pods, *replicasets);
  deployment_ = std::make_unique<DeploymentController>(client_for("deployment-controller"), *deployments,
                                                       *replicasets, *pods);
  Spawn("replicaset", [this] { replicaset_->Run(stop_); });
  Spawn("deployment", [this] { deployment_->Run(stop_); });
  disruption_ = std::make_unique<DisruptionController>(client_for("disruption-controller"), *pods,
                                                       *informers_->For(client::kPodDisruptionBudgets));
  Spawn("disruption", [this] { disruption_->Run(stop_); });
  daemonset_ = std::make_unique<DaemonSetController>(
      client_for("daemon-set-controller"), *informers_->For(client::kDaemonSets), *pods,
      *informers_->For(client::kNodes), *informers_->For(client::kControllerRevisions));
  Spawn("daemonset", [this] { daemonset_->Run(stop_); });
  statefulset_ = std::make_unique<StatefulSetController>(client_for("statefulset-controller"),
                                                         *informers_->For(client::kStatefulSets), *pods,
                                                         *informers_->For(client::kControllerRevisions));
  Spawn("statefulset", [this] { statefulset_->Run(stop_); });
  client::Informer* jobs = informers_->For(client::kJobs);
  job_ = std::make_unique<JobController>(client_for("job-controller"), *pods, *jobs);
  Spawn("job", [this] { job_->Run(stop_); });
  cronjob_ = std::make_unique<CronJobController>(client_for("cronjob-controller"), *jobs,
                                                 *informers_->For(client::kCronJobs));
  Spawn("cronjob", [this] { cronjob_->Run(stop_); });
  ttl_after_finished_ = std::make_unique<TTLAfterFinishedController>(client_for("ttl-after-finished-controller"), *jobs);
  Spawn("ttlafterfinish", [this] { ttl_after_finished_->Run(stop_); });
  // The HPA reads pod metrics through the API (metrics.k8s.io), as upstream's does.
  client::Client* hpa_client = client_for("horizontal-pod-autoscaler");
  horizontal_ = std::make_unique<podautoscaler::HorizontalController>(
      hpa_client, *informers_->For(podautoscaler::kHorizontalPodAutoscalers), *pods,
      std::make_unique<podautoscaler::RestMetricsClient>(hpa_client),
      podautoscaler::HorizontalOptions{options_.horizontal_pod_autoscaler_sync_period,
                                       options_.horizontal_pod_autoscaler_downscale_stabilization, {}});
  Spawn("podautoscaler", [this] { horizontal_->Run(stop_); });

  // Every component has its handlers: the shared informers can list and watch. The
  // components start once the caches are filled (upstream WaitForCacheSync): a
  // controller that acted on a half-listed cache would, say, count no nodes for a
  // DaemonSet and report it rolled out.
  informers_->Start(stop_);
  for (auto& [name, run] : pending_) {
    threads_.emplace_back([this, run = std::move(run)] {
      if (informers_->WaitForSync(stop_)) run();
    });
    // Named threads: `top -H` and /proc/PID/task/*/comm tell the components apart.
    pthread_setname_np(threads_.back().native_handle(), name.substr(0, 15).c_str());
  }
  pending_.clear();
}

void ControllerManager::Spawn(const std::string& name, std::function<void()> run) {
  pending_.emplace_back(name, std::move(run));
}

void ControllerManager::Stop() {
  stop_ = true;
  for (auto& t : threads_) {
    if (t.joinable()) t.join();
  }
  threads_.clear();
  // The components stay until the destructor: no handler of theirs runs after this.
  if (informers_) informers_->Join();
}

}  // namespace kubes::controller
