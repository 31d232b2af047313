#include "controller/manager.h"

#include "client/resources.h"
#include "controller/deployment/deployment_controller.h"
#include "controller/garbagecollector/garbagecollector.h"
#include "controller/replicaset/replica_set.h"
#include "controller/localpath/local_path_controller.h"
#include "controller/namespace/namespace_controller.h"
#include "controller/nodeipam/nodeipam_controller.h"
#include "controller/nodelifecycle/node_lifecycle_controller.h"
#include "controller/serviceaccount/serviceaccounts_controller.h"
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
  client::Client* ns_client = client_for("namespace-controller");
  threads_.emplace_back([this, ns_client] { NamespaceController(ns_client).Run(stop_); });
  client::Client* sa_client = client_for("service-account-controller");
  threads_.emplace_back([this, sa_client] { ServiceAccountsController(sa_client, ca_pem_).Run(stop_); });
  client::Client* gc_client = client_for("generic-garbage-collector");
  threads_.emplace_back([this, gc_client] { GarbageCollector(gc_client).Run(stop_); });
  // kube-scheduler runs in the same process, with its own identity.
  transports_.push_back(std::make_unique<client::LocalTransport>(
      handler_, apiserver::UserInfo{"system:kube-scheduler", "", {"system:authenticated"}}));
  clients_.push_back(std::make_unique<client::Client>(transports_.back().get()));
  client::Client* scheduler_client = clients_.back().get();
  threads_.emplace_back([this, scheduler_client] { scheduler::Scheduler(scheduler_client).Run(stop_); });
  client::Client* lifecycle_client = client_for("node-controller");
  threads_.emplace_back([this, lifecycle_client] {
    NodeLifecycleController(lifecycle_client, options_.node_monitor_grace_period).Run(stop_);
  });
  client::Client* pv_client = client_for("persistentvolume-binder");
  threads_.emplace_back([this, pv_client] { LocalPathController(pv_client, options_.local_storage_path).Run(stop_); });
  client::Client* ipam_client = client_for("node-ipam-controller");
  threads_.emplace_back([this, ipam_client] { NodeIPAMController(ipam_client, options_.cluster_cidrs, options_.node_cidr_mask_size).Run(stop_); });

  // The workload controllers share their informers.
  client::Client* workload_informers = client_for("workload-informers");
  auto informer = [&](const client::Resource& r) {
    workload_informers_.push_back(std::make_unique<client::Informer>(workload_informers, r));
    return workload_informers_.back().get();
  };
  client::Informer* pods = informer(client::kPods);
  client::Informer* replicasets = informer(client::kReplicaSets);
  client::Informer* deployments = informer(client::kDeployments);
  replicaset_ = std::make_unique<ReplicaSetController>(client_for("replicaset-controller"), *pods, *replicasets);
  deployment_ = std::make_unique<DeploymentController>(client_for("deployment-controller"), *deployments,
                                                       *replicasets, *pods);
  for (auto& inf : workload_informers_) {
    client::Informer* raw = inf.get();
    threads_.emplace_back([this, raw] { raw->Run(stop_); });
  }
  threads_.emplace_back([this] { replicaset_->Run(stop_); });
  threads_.emplace_back([this] { deployment_->Run(stop_); });
}

void ControllerManager::Stop() {
  stop_ = true;
  for (auto& t : threads_) {
    if (t.joinable()) t.join();
  }
  threads_.clear();
}

}  // namespace kubes::controller
