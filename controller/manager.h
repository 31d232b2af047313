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

namespace kubes::controller {

class DeploymentController;
class ReplicaSetController;

// Settings of kube-controller-manager that kubes exposes as `kubes server` flags.
struct ControllerOptions {
  std::vector<std::string> cluster_cidrs = {"10.42.0.0/16"};  // node IPAM cuts per-node blocks from these
  int node_cidr_mask_size = 24;
  std::chrono::seconds node_monitor_grace_period{40};  // a silent node is NotReady after this
  std::string local_storage_path = "/var/lib/kubes/storage";  // where local-path volumes live on nodes
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
  client::LocalTransport::Handler handler_;
  std::string ca_pem_;
  ControllerOptions options_;
  std::vector<std::unique_ptr<client::LocalTransport>> transports_;
  std::vector<std::unique_ptr<client::Client>> clients_;
  std::vector<std::unique_ptr<client::Informer>> workload_informers_;
  std::unique_ptr<ReplicaSetController> replicaset_;
  std::unique_ptr<DeploymentController> deployment_;
  std::vector<std::thread> threads_;
  std::atomic<bool> stop_{false};
};

}  // namespace kubes::controller
