#include "controller/manager.h"

#include "controller/garbagecollector/garbagecollector.h"
#include "controller/namespace/namespace_controller.h"
#include "controller/serviceaccount/serviceaccounts_controller.h"

namespace kubes::controller {

ControllerManager::ControllerManager(client::LocalTransport::Handler handler, std::string ca_pem)
    : handler_(std::move(handler)), ca_pem_(std::move(ca_pem)) {}

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
}

void ControllerManager::Stop() {
  stop_ = true;
  for (auto& t : threads_) {
    if (t.joinable()) t.join();
  }
  threads_.clear();
}

}  // namespace kubes::controller
