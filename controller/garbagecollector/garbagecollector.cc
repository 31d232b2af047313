#include "controller/garbagecollector/garbagecollector.h"

#include <thread>

#include "controller/worker.h"

namespace kubes::controller {
namespace {

constexpr auto kRecheck = std::chrono::milliseconds(500);
const client::Resource kCustomResourceDefinitions{"apiextensions.k8s.io", "v1", "customresourcedefinitions", false,
                                                  "CustomResourceDefinition"};
constexpr int kRediscoverMillis = 30000;
Status Waiting(const std::string& what) { return Status(Code::kConflict, what); }

}  // namespace

GarbageCollector::GarbageCollector(client::Client* c, client::SharedInformers* informers) : client_(c) {
  // A new or changed CRD means new kinds to follow: look again soon.
  informers->For(kCustomResourceDefinitions)
      ->AddHandlers({.on_add = [this](const Json&) { crd_changed_ = true; },
                     .on_update = [this](const Json&, const Json&) { crd_changed_ = true; },
                     .on_delete = nullptr});
}

void GarbageCollector::Observe(const DiscoveredResource* r, const Json& obj, bool deleted) {
  const Json& meta = obj.value("metadata", Json::object());
  std::string uid = meta.value("uid", "");
  if (uid.empty()) return;
  std::vector<std::string> wake;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto old = nodes_.find(uid);
    if (old != nodes_.end()) {
      for (const auto& ref : old->second.owners) dependents_[ref.value("uid", "")].erase(uid);
    }
    if (deleted) {
      nodes_.erase(uid);
      // Its dependents may now be orphans.
      for (const auto& d : dependents_[uid]) wake.push_back(d);
    } else {
      Node n;
      n.resource = r;
      n.namespace_ = meta.value("namespace", "");
      n.name = meta.value("name", "");
      n.uid = uid;
      n.owners = meta.value("ownerReferences", Json::array());
      n.deleting = meta.contains("deletionTimestamp");
      for (const auto& f : meta.value("finalizers", Json::array())) n.finalizers.insert(f.get<std::string>());
      for (const auto& ref : n.owners) dependents_[ref.value("uid", "")].insert(uid);
      bool interesting = !n.owners.empty() || (n.deleting && (n.finalizers.count("foregroundDeletion") ||
                                                              n.finalizers.count("orphan")));
      nodes_[uid] = std::move(n);
      if (interesting) wake.push_back(uid);
      // An owner in the foreground waits for its dependents: tell it about changes.
      for (const auto& ref : nodes_[uid].owners) wake.push_back(ref.value("uid", ""));
    }
    if (deleted) {
      // A deleted dependent may unblock its owners' foreground deletion.
      for (const auto& ref : meta.value("ownerReferences", Json::array())) wake.push_back(ref.value("uid", ""));
    }
  }
  for (const auto& u : wake) {
    if (!u.empty()) queue_.Add(u);
  }
}

std::vector<GarbageCollector::Node> GarbageCollector::DependentsOf(const std::string& uid) {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<Node> out;
  for (const auto& d : dependents_[uid]) {
    auto it = nodes_.find(d);
    if (it != nodes_.end()) out.push_back(it->second);
  }
  return out;
}

Result<bool> GarbageCollector::OwnerExists(const Json& ref, const std::string& ns) {
  std::string uid = ref.value("uid", "");
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (nodes_.count(uid)) return true;
  }
  // Not in the graph: ask the apiserver, the informer may simply be behind.
  const DiscoveredResource* r = nullptr;
  {
    std::lock_guard<std::mutex> lock(resources_mu_);
    std::string api_version = ref.value("apiVersion", ""), kind = ref.value("kind", "");
    std::string group = api_version.find('/') == std::string::npos ? "" : api_version.substr(0, api_version.find('/'));
    for (const auto& d : resources_) {
      if (d->resource.group == group && d->resource.kind == kind) r = d.get();
    }
  }
  if (!r) return false;  // a kind nobody serves cannot own anything
  auto owner = client_->Get(r->resource, r->resource.namespaced ? ns : "", ref.value("name", ""));
  if (!owner.ok()) {
    if (owner.status().code() == Code::kNotFound) return false;
    return owner.status();
  }
  return (*owner)["metadata"].value("uid", "") == uid;
}

Status GarbageCollector::AttemptToDelete(const Node& n) {
  if (n.owners.empty() || n.deleting) return Status::OK();
  std::set<std::string> gone;
  bool foreground = false;
  for (const auto& ref : n.owners) {
    auto exists = OwnerExists(ref, n.namespace_);
    if (!exists.ok()) return exists.status();
    if (!*exists) {
      gone.insert(ref.value("uid", ""));
      continue;
    }
    // An owner being deleted in the foreground that this dependent blocks.
    std::lock_guard<std::mutex> lock(mu_);
    auto it = nodes_.find(ref.value("uid", ""));
    if (it != nodes_.end() && it->second.deleting && it->second.finalizers.count("foregroundDeletion") &&
        ref.value("blockOwnerDeletion", false)) {
      foreground = true;
    }
  }
  if (gone.empty()) return Status::OK();
  if (gone.size() < n.owners.size()) return RemoveOwnerRefs(n, gone);  // other owners still live
  Json options = {{"propagationPolicy", foreground ? "Foreground" : "Background"},
                  {"preconditions", {{"uid", n.uid}}}};
  Status s = client_->Delete(n.resource->resource, n.namespace_, n.name, options);
  return s.code() == Code::kNotFound ? Status::OK() : s;
}

Status GarbageCollector::ProcessForeground(const Node& n) {
  std::vector<Node> deps = DependentsOf(n.uid);
  for (const auto& d : deps) {
    if (d.deleting) continue;
    Status s = client_->Delete(d.resource->resource, d.namespace_, d.name,
                               {{"propagationPolicy", "Foreground"}, {"preconditions", {{"uid", d.uid}}}});
    if (!s.ok() && s.code() != Code::kNotFound && s.code() != Code::kConflict) return s;
  }
  if (!deps.empty()) return Waiting("waiting for dependents of " + n.name);
  return RemoveFinalizer(n, "foregroundDeletion");
}

Status GarbageCollector::ProcessOrphan(const Node& n) {
  for (const auto& d : DependentsOf(n.uid)) KUBES_RETURN_IF_ERROR(RemoveOwnerRefs(d, {n.uid}));
  return RemoveFinalizer(n, "orphan");
}

Status GarbageCollector::RemoveFinalizer(const Node& n, const std::string& finalizer) {
  auto obj = client_->Get(n.resource->resource, n.namespace_, n.name);
  if (!obj.ok()) return obj.status().code() == Code::kNotFound ? Status::OK() : obj.status();
  if ((*obj)["metadata"].value("uid", "") != n.uid) return Status::OK();
  Json kept = Json::array();
  for (const auto& f : (*obj)["metadata"].value("finalizers", Json::array())) {
    if (f != finalizer) kept.push_back(f);
  }
  (*obj)["metadata"]["finalizers"] = kept;
  auto updated = client_->Update(n.resource->resource, n.namespace_, *obj);
  if (!updated.ok() && updated.status().code() != Code::kNotFound) return updated.status();
  return Status::OK();
}

Status GarbageCollector::RemoveOwnerRefs(const Node& dependent, const std::set<std::string>& owner_uids) {
  auto obj = client_->Get(dependent.resource->resource, dependent.namespace_, dependent.name);
  if (!obj.ok()) return obj.status().code() == Code::kNotFound ? Status::OK() : obj.status();
  Json kept = Json::array();
  for (const auto& ref : (*obj)["metadata"].value("ownerReferences", Json::array())) {
    if (!owner_uids.count(ref.value("uid", ""))) kept.push_back(ref);
  }
  if (kept.empty()) (*obj)["metadata"].erase("ownerReferences");
  else (*obj)["metadata"]["ownerReferences"] = kept;
  auto updated = client_->Update(dependent.resource->resource, dependent.namespace_, *obj);
  if (!updated.ok() && updated.status().code() != Code::kNotFound) return updated.status();
  return Status::OK();
}

Status GarbageCollector::SyncObject(const std::string& uid) {
  Node n;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = nodes_.find(uid);
    if (it == nodes_.end()) return Status::OK();
    n = it->second;
  }
  if (n.deleting && n.finalizers.count("orphan")) return ProcessOrphan(n);
  if (n.deleting && n.finalizers.count("foregroundDeletion")) return ProcessForeground(n);
  return AttemptToDelete(n);
}

// Starts an informer for every listable, watchable, deletable resource not yet
// followed. Called at start and then periodically, so kinds added later (CRDs) are
// garbage collected too, as upstream's GC re-runs discovery.
void GarbageCollector::FollowNewResources(const std::atomic<bool>& stop, std::vector<std::thread>& threads) {
  auto found = DiscoverResources(*client_);
  if (!found.ok()) return;
  std::lock_guard<std::mutex> lock(resources_mu_);
  for (auto& r : *found) {
    if (!r.Can("list") || !r.Can("watch") || !r.Can("delete")) continue;
    bool known = false;
    for (const auto& have : resources_) {
      known = known || (have->resource.group == r.resource.group && have->resource.resource == r.resource.resource &&
                        have->resource.version == r.resource.version);
    }
    if (known) continue;
    resources_.push_back(std::make_unique<DiscoveredResource>(r));
    const DiscoveredResource* rp = resources_.back().get();
    auto inf = std::make_unique<client::Informer>(client_, rp->resource);
    inf->SetTransform(client::KeepMetadataOnly);
    inf->AddHandlers({[this, rp](const Json& o) { Observe(rp, o, false); },
                      [this, rp](const Json&, const Json& o) { Observe(rp, o, false); },
                      [this, rp](const Json& o) { Observe(rp, o, true); }});
    client::Informer* raw = inf.get();
    informers_.push_back(std::move(inf));
    threads.emplace_back([raw, &stop] { raw->Run(stop); });
  }
}

void GarbageCollector::Run(const std::atomic<bool>& stop) {
  std::vector<std::thread> threads;
  std::thread discovery([&] {
    // Discovery can fail while the apiserver is starting: retry quickly, then every 30 s.
    auto next = std::chrono::steady_clock::now();
    while (!stop) {
      if (crd_changed_.exchange(false)) next = std::min(next, std::chrono::steady_clock::now() + std::chrono::milliseconds(300));
      if (std::chrono::steady_clock::now() >= next) {
        size_t before = informers_.size();
        FollowNewResources(stop, threads);
        next = std::chrono::steady_clock::now() + (informers_.size() == before && before == 0
                                                       ? std::chrono::milliseconds(200)
                                                       : std::chrono::milliseconds(kRediscoverMillis));
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  });
  RunWorker(queue_, stop, kRecheck, [this](const std::string& uid) { return SyncObject(uid); });
  discovery.join();
  for (auto& t : threads) t.join();
}

}  // namespace kubes::controller
