#include "client/resources.h"
#include "controller/namespace/namespace_controller.h"

#include <map>
#include <thread>

#include "util/time.h"

#include "controller/discovery.h"
#include "controller/worker.h"

namespace kubes::controller {
namespace {

using client::kNamespaces;

// While objects are still going away, look again this often.
constexpr auto kRecheck = std::chrono::milliseconds(500);

// A namespace waiting for its content to go: the error that requeues it.
Status ContentRemaining(size_t n) {
  return Status(Code::kConflict, "namespace still has " + std::to_string(n) + " objects");
}

// "a has 1 resource instances, b has 2 resource instances" as upstream words it.
std::string Describe(const std::map<std::string, int>& counts, const char* joiner) {
  std::string out;
  for (const auto& [what, n] : counts) {
    out += (out.empty() ? "" : ", ") + what + joiner + std::to_string(n) + " resource instances";
  }
  return out;
}

Json Condition(const std::string& type, bool status, const std::string& reason, const std::string& message,
               const std::string& now) {
  return {{"type", type}, {"status", status ? "True" : "False"}, {"lastTransitionTime", now},
          {"reason", reason}, {"message", message}};
}

}  // namespace

// The conditions `kubectl describe ns` shows while a namespace is terminating
// (upstream namespace controller's status updater).
Status NamespaceController::UpdateConditions(const Json& ns, const std::map<std::string, int>& per_resource,
                                             const std::map<std::string, int>& per_finalizer) {
  std::string now = FormatRFC3339(RealClock::Get().Now());
  Json want = Json::array({
      Condition("NamespaceDeletionDiscoveryFailure", false, "ResourcesDiscovered", "All resources successfully discovered", now),
      Condition("NamespaceDeletionGroupVersionParsingFailure", false, "ParsedGroupVersions", "All legacy kube types successfully parsed", now),
      Condition("NamespaceDeletionContentFailure", false, "ContentDeleted", "All content successfully deleted, may be waiting on finalization", now),
      per_resource.empty()
          ? Condition("NamespaceContentRemaining", false, "ContentRemoved", "All content successfully removed", now)
          : Condition("NamespaceContentRemaining", true, "SomeResourcesRemain",
                      "Some resources are remaining: " + Describe(per_resource, " has "), now),
      per_finalizer.empty()
          ? Condition("NamespaceFinalizersRemaining", false, "ContentHasNoFinalizers", "All content-preserving finalizers finished", now)
          : Condition("NamespaceFinalizersRemaining", true, "SomeFinalizersRemain",
                      "Some content in the namespace has finalizers remaining: " + Describe(per_finalizer, " in "), now),
  });
  // Keep the transition time of conditions whose status did not change.
  const Json& have = ns.value("status", Json::object()).value("conditions", Json::array());
  bool same = have.size() == want.size();
  for (auto& c : want) {
    for (const auto& h : have) {
      if (h.value("type", "") != c["type"]) continue;
      if (h.value("status", "") == c["status"]) c["lastTransitionTime"] = h.value("lastTransitionTime", now);
      same = same && h.value("status", "") == c["status"] && h.value("message", "") == c["message"];
    }
  }
  if (same) return Status::OK();
  Json updated = ns;
  updated["status"]["conditions"] = want;
  auto r = client_->Update(kNamespaces, "", updated, "status");
  if (!r.ok() && r.status().code() != Code::kNotFound && r.status().code() != Code::kConflict) return r.status();
  return Status::OK();
}

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
  std::map<std::string, int> per_resource;    // "configmaps." → objects left
  std::map<std::string, int> per_finalizer;   // "example.com/hold" → objects holding it
  for (const auto& d : *resources) {
    if (!d.resource.namespaced || !d.Can("list") || !d.Can("delete")) continue;
    auto list = client_->List(d.resource, name);
    if (!list.ok()) continue;
    for (const auto& item : (*list)["items"]) {
      ++remaining;
      ++per_resource[d.resource.resource + "." + d.resource.group];
      const Json& meta = item.value("metadata", Json::object());
      for (const auto& f : meta.value("finalizers", Json::array())) {
        if (f.is_string()) ++per_finalizer[f.get<std::string>()];
      }
      if (meta.contains("deletionTimestamp")) continue;
      Status s = client_->Delete(d.resource, name, meta.value("name", ""), Json{{"propagationPolicy", "Background"}});
      if (!s.ok() && s.code() != Code::kNotFound) return s;
    }
  }
  KUBES_RETURN_IF_ERROR(UpdateConditions(*ns, per_resource, per_finalizer));
  if (remaining > 0) return ContentRemaining(remaining);

  // Empty: drop our finalizer; the apiserver removes the namespace once none is left.
  // (Read it again: the condition update above changed its resourceVersion.)
  auto latest = client_->Get(kNamespaces, "", name);
  if (!latest.ok()) return latest.status().code() == Code::kNotFound ? Status::OK() : latest.status();
  Json obj = *latest;
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
  RunWorker(queue_, stop, kRecheck, [this](const std::string& name) { return SyncNamespace(name); });
  informer.join();
}

}  // namespace kubes::controller
