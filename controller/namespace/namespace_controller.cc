#include "controller/namespace/namespace_controller.h"

#include <thread>

#include "controller/discovery.h"

namespace kubes::controller {
namespace {

const client::Resource kNamespaces{"", "v1", "namespaces", false, "Namespace"};
// While objects are still going away, look again this often.
constexpr auto kRecheck = std::chrono::milliseconds(500);

// A namespace waiting for its content to go: the error that requeues it.
Status ContentRemaining(size_t n) {
  return Status(Code::kConflict, "namespace still has " + std::to_string(n) + " objects");
}

}  // namespace

NamespaceController::NamespaceController(client::Client* c) : client_(c), namespaces_(c, kNamespaces) {
  auto enqueue = [this](const Json& ns) {
    if (ns["metadata"].contains("deletionTimestamp")) queue_.Add(ns["metadata"].value("name", ""));
  };
  namespaces_.AddHandlers({enqueue, [enqueue](const Json&, const Json& n) { enqueue(n); }, nullptr});
}

Status NamespaceController::SyncNamespace(const std::string& name) {
  auto ns = client_->Get(kNamespaces, "", name);
  if (!ns.ok()) return ns.status().code() == Code::kNotFound ? Status::OK() : ns.status();
  if (!(*ns)["metadata"].contains("deletionTimestamp")) return Status::OK();

  auto resources = DiscoverResources(*client_);
  if (!resources.ok()) return resources.status();
  size_t remaining = 0;
  for (const auto& d : *resources) {
    if (!d.resource.namespaced || !d.Can("list") || !d.Can("delete")) continue;
    auto list = client_->List(d.resource, name);
    if (!list.ok()) continue;
    for (const auto& item : (*list)["items"]) {
      ++remaining;
      if (item["metadata"].contains("deletionTimestamp")) continue;
      Status s = client_->Delete(d.resource, name, item["metadata"].value("name", ""),
                                 Json{{"propagationPolicy", "Background"}});
      if (!s.ok() && s.code() != Code::kNotFound) return s;
    }
  }
  if (remaining > 0) return ContentRemaining(remaining);

  // Empty: drop our finalizer; the apiserver removes the namespace once none is left.
  Json obj = *ns;
  Json kept = Json::array();
  for (const auto& f : obj["spec"].value("finalizers", Json::array())) {
    if (f != "kubernetes") kept.push_back(f);
  }
  obj["spec"]["finalizers"] = kept;
  auto done = client_->Update(kNamespaces, "", obj, "finalize");
  if (!done.ok() && done.status().code() != Code::kNotFound) return done.status();
  return Status::OK();
}

void NamespaceController::Run(const std::atomic<bool>& stop) {
  std::thread informer([&] { namespaces_.Run(stop); });
  std::thread stopper([&] {
    while (!stop) std::this_thread::sleep_for(std::chrono::milliseconds(200));
    queue_.ShutDown();
  });
  while (auto key = queue_.Get()) {
    Status s = SyncNamespace(*key);
    if (s.ok()) {
      queue_.Forget(*key);
    } else if (s.code() == Code::kConflict) {
      queue_.AddAfter(*key, kRecheck);
    } else {
      queue_.AddRateLimited(*key);
    }
    queue_.Done(*key);
  }
  informer.join();
  stopper.join();
}

}  // namespace kubes::controller
