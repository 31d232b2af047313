// ServiceAccountsController and the root CA publisher — what every namespace needs
// before Pods can run in it (upstream: pkg/controller/serviceaccount
// ServiceAccountsController, and pkg/controller/certificates/rootcacertpublisher).
//
// For every active namespace it makes sure the "default" ServiceAccount exists (Pods
// run as it unless they name another) and the ConfigMap "kube-root-ca.crt" holds the
// cluster CA (mounted into every Pod's token volume). Deleting either brings it back.
#pragma once

#include <atomic>
#include <string>

#include "client/client.h"
#include "client/informer.h"
#include "client/workqueue.h"

namespace kubes::controller {

class ServiceAccountsController {
 public:
  ServiceAccountsController(client::Client* c, std::string ca_pem);
  void Run(const std::atomic<bool>& stop);
  // Ensures namespace ns has its default ServiceAccount and CA ConfigMap.
  Status SyncNamespace(const std::string& ns);

 private:
  client::Client* client_;
  std::string ca_pem_;
  client::Informer namespaces_, accounts_, configmaps_;
  client::WorkQueue queue_;
};

}  // namespace kubes::controller
