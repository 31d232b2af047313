#include "client/resources.h"
#include "controller/serviceaccount/serviceaccounts_controller.h"

#include <thread>

#include "controller/worker.h"

namespace kubes::controller {
namespace {

using client::kConfigMaps;
using client::kNamespaces;
using client::kServiceAccounts;

using Json = nlohmann::json;

constexpr const char* kRootCAConfigMap = "kube-root-ca.crt";

std::string NamespaceOf(const Json& obj) { return obj["metadata"].value("namespace", ""); }
std::string NameOf(const Json& obj) { return obj["metadata"].value("name", ""); }

Status IgnoreExists(const Result<Json>& r) {
  if (r.ok() || r.status().code() == Code::kAlreadyExists) return Status::OK();
  // The namespace is going away: nothing to do.
  if (r.status().code() == Code::kForbidden || r.status().code() == Code::kNotFound) return Status::OK();
  return r.status();
}

}  // namespace

ServiceAccountsController::ServiceAccountsController(client::Client* c, std::string ca_pem)
    : client_(c),
      ca_pem_(std::move(ca_pem)),
      namespaces_(c, kNamespaces),
      accounts_(c, kServiceAccounts),
      configmaps_(c, kConfigMaps) {
  namespaces_.AddHandlers({[this](const Json& ns) { queue_.Add(NameOf(ns)); },
                           [this](const Json&, const Json& ns) { queue_.Add(NameOf(ns)); }, nullptr});
  accounts_.AddHandlers({nullptr, nullptr, [this](const Json& sa) {
                           if (NameOf(sa) == "default") queue_.Add(NamespaceOf(sa));
                         }});
  configmaps_.AddHandlers({nullptr,
                           [this](const Json&, const Json& cm) {
                             if (NameOf(cm) == kRootCAConfigMap) queue_.Add(NamespaceOf(cm));
                           },
                           [this](const Json& cm) {
                             if (NameOf(cm) == kRootCAConfigMap) queue_.Add(NamespaceOf(cm));
                           }});
}

Status ServiceAccountsController::SyncNamespace(const std::string& ns) {
  Json nsobj;
  if (!namespaces_.Get(ns, &nsobj)) return Status::OK();
  if (nsobj["metadata"].contains("deletionTimestamp")) return Status::OK();
  Json sa;
  if (!accounts_.Get(ns + "/default", &sa)) {
    KUBES_RETURN_IF_ERROR(IgnoreExists(client_->Create(
        kServiceAccounts, ns, {{"apiVersion", "v1"}, {"kind", "ServiceAccount"}, {"metadata", {{"name", "default"}}}})));
  }
  Json cm;
  Json want = {{"apiVersion", "v1"},
               {"kind", "ConfigMap"},
               {"metadata", {{"name", kRootCAConfigMap},
                             {"annotations", {{"kubernetes.io/description",
                                               "Contains a CA bundle that can be used to verify the kube-apiserver "
                                               "when using internal endpoints such as the internal service IP or "
                                               "kubernetes.default.svc. No other usage is guaranteed across "
                                               "distributions of Kubernetes clusters."}}}}},
               {"data", {{"ca.crt", ca_pem_}}}};
  if (!configmaps_.Get(ns + "/" + kRootCAConfigMap, &cm)) {
    KUBES_RETURN_IF_ERROR(IgnoreExists(client_->Create(kConfigMaps, ns, want)));
  } else if (cm.value("data", Json::object()).value("ca.crt", "") != ca_pem_) {
    cm["data"] = want["data"];
    auto updated = client_->Update(kConfigMaps, ns, cm);
    if (!updated.ok() && updated.status().code() != Code::kNotFound) return updated.status();
  }
  return Status::OK();
}

void ServiceAccountsController::Run(const std::atomic<bool>& stop) {
  std::vector<std::thread> threads;
  for (client::Informer* inf : {&namespaces_, &accounts_, &configmaps_}) {
    threads.emplace_back([inf, &stop] { inf->Run(stop); });
  }
  RunWorker(queue_, stop, std::chrono::milliseconds(500), [&](const std::string& ns) {
    // Wait until the informers have their first lists, so nothing is created twice.
    while (!stop && !(namespaces_.HasSynced() && accounts_.HasSynced() && configmaps_.HasSynced())) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return SyncNamespace(ns);
  });
  for (auto& t : threads) t.join();
}

}  // namespace kubes::controller
