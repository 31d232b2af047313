// APIServer — kube-apiserver in one object: storage, watch cache, resource registry,
// REST endpoints, discovery, OpenAPI, authentication and the HTTPS listener.
//
// Request path (Handle): health/version paths answer anyone → authentication (client
// certificate from TLS, or a bearer token: the admin token or a service account JWT) →
// authorization (allow-all until RBAC lands) → discovery / OpenAPI / review APIs /
// resource endpoints. The same Handle serves in-process callers (controllers), so a
// component never needs a side door.
//
// Thread-safety: Handle is called concurrently from every connection thread.
#pragma once

#include <future>
#include <memory>
#include <string>

#include "apiserver/cacher.h"
#include "apiserver/customresources.h"
#include "apiserver/discovery.h"
#include "apiserver/endpoints/endpoints.h"
#include "apiserver/openapi.h"
#include "apiserver/registry/resource.h"
#include "apiserver/server.h"
#include "controller/manager.h"
#include "storage/interface.h"
#include "util/time.h"

namespace kubes::pki {
class ServiceAccountKey;
}
namespace kubes::metrics {
class ResourceMetricsAPI;
}

namespace kubes::apiserver {

struct APIServerOptions {
  std::string data_dir;
  std::string address = "127.0.0.1";
  int port = 6443;
  std::string write_kubeconfig;  // extra kubeconfig path, "" for none
  std::vector<std::string> extra_sans;
  size_t watch_history = 10000;
  bool run_controllers = true;
  std::string service_cidr = "10.43.0.0/16";
  controller::ControllerOptions controllers;  // cluster CIDRs, node CIDR size, node grace period
  std::chrono::seconds compaction_interval{300};
};

class APIServer {
 public:
  explicit APIServer(APIServerOptions options);
  ~APIServer();

  // Opens the store, creates certificates and kubeconfig, starts listening.
  Status Start();
  void Stop();

  // Serves one request (network or in-process).
  Response Handle(Request& req);

  int port() const;
  const std::string& kubeconfig_path() const { return kubeconfig_path_; }
  Endpoints& endpoints() { return *endpoints_; }
  // Connects pods' streaming subresources to their node's kubelet (before Start).
  void SetNodeProxy(Endpoints::NodeProxy proxy) { node_proxy_ = std::move(proxy); }
  Cacher& cacher() { return *cacher_; }

  // Who in-process controllers act as.
  static UserInfo SystemUser(const std::string& component);

 private:
  Status EnsureDefaultNamespaces();
  // The `kubernetes` Service in `default`, with Endpoints and an EndpointSlice that
  // point at this apiserver (upstream: the apiserver's "kubernetes" service reconciler).
  Status EnsureKubernetesService();
  Status EnsureDefaultStorageClass();
  // Creates obj at path, or replaces it when it exists and differs.
  Status Reconcile(const std::string& collection_path, const std::string& name, const Json& obj);
  Response HandleUnsafe(Request& req);
  Response HandleReview(Request& req, const RequestInfo& info);
  Response HandleTokenRequest(Request& req, const RequestInfo& info);
  // metrics.k8s.io, answered from the kubelets through the node proxy (metrics/).
  Response HandleMetrics(const Request& req, const RequestInfo& info);
  // The stored objects of a resource (version v1), of one namespace or all ("").
  std::vector<Json> ListStored(const std::string& group, const std::string& resource, const std::string& ns);
  bool Authenticate(Request& req);
  void CompactionLoop();

  APIServerOptions options_;
  std::unique_ptr<storage::Interface> store_;
  std::unique_ptr<Cacher> cacher_;
  std::unique_ptr<Registry> registry_;
  std::unique_ptr<Endpoints> endpoints_;
  std::unique_ptr<Discovery> discovery_;
  std::unique_ptr<OpenAPI> openapi_;
  std::unique_ptr<Server> server_;
  std::unique_ptr<controller::ControllerManager> controllers_;
  std::unique_ptr<CustomResources> custom_resources_;
  std::unique_ptr<metrics::ResourceMetricsAPI> metrics_;
  std::thread custom_resources_thread_;
  std::atomic<bool> stop_flag_{false};
  std::shared_future<std::shared_ptr<pki::ServiceAccountKey>> sa_key_;
  std::string admin_token_;
  Endpoints::NodeProxy node_proxy_;
  std::string kubeconfig_path_;
  std::thread compactor_;
  std::mutex stop_mu_;
  std::condition_variable stop_cv_;
  bool stopping_ = false;
};

}  // namespace kubes::apiserver
