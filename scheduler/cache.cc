#include "scheduler/cache.h"

namespace kubes::scheduler {
namespace {

bool Finished(const Json& pod) {
  std::string phase = StringAt(pod, {"status", "phase"});
  return phase == "Succeeded" || phase == "Failed";
}

}  // namespace

void Cache::AddOrUpdateNode(const Json& node) {
  std::string name = StringAt(node, {"metadata", "name"});
  std::lock_guard<std::mutex> lock(mu_);
  nodes_[name].SetNode(node);
}

void Cache::RemoveNode(const std::string& name) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = nodes_.find(name);
  if (it == nodes_.end()) return;
  // Its pods stay known: they count again if the node comes back.
  if (it->second.num_pods() == 0) nodes_.erase(it);
  else it->second.ClearNode();
}

void Cache::AddOrUpdatePod(std::shared_ptr<const Json> shared) {
  const Json& pod = *shared;
  std::string uid = PodUID(pod);
  std::string node = StringAt(pod, {"spec", "nodeName"});
  std::lock_guard<std::mutex> lock(mu_);
  auto it = pods_.find(uid);
  if (node.empty()) {
    // Not bound as far as the informer knows. If we assumed it, the informer is behind.
    if (it != pods_.end() && !it->second.assumed) RemovePodLocked(uid);
    return;
  }
  if (Finished(pod)) return RemovePodLocked(uid);
  if (it != pods_.end() && it->second.node != node) RemovePodLocked(uid);
  nodes_[node].AddPod(std::move(shared));  // replaces an older version
  pods_[uid] = PodState{node, false};
}

void Cache::RemovePod(const Json& pod) {
  std::lock_guard<std::mutex> lock(mu_);
  RemovePodLocked(PodUID(pod));
}

void Cache::AssumePod(const Json& pod, const std::string& node) {
  if (!pod.is_object()) return;
  Json bound = pod;
  if (!bound["spec"].is_object()) bound["spec"] = Json::object();
  bound["spec"]["nodeName"] = node;
  std::string uid = PodUID(pod);
  std::lock_guard<std::mutex> lock(mu_);
  RemovePodLocked(uid);
  nodes_[node].AddPod(std::make_shared<const Json>(std::move(bound)));
  pods_[uid] = PodState{node, true};
}

void Cache::ForgetPod(const std::string& uid) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = pods_.find(uid);
  if (it != pods_.end() && it->second.assumed) RemovePodLocked(uid);
}

bool Cache::IsAssumed(const std::string& uid) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = pods_.find(uid);
  return it != pods_.end() && it->second.assumed;
}

std::vector<NodeInfo> Cache::Snapshot() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<NodeInfo> out;
  out.reserve(nodes_.size());
  for (const auto& [name, info] : nodes_) {
    if (info.has_node()) out.push_back(info);
  }
  return out;
}

void Cache::RemovePodLocked(const std::string& uid) {
  auto it = pods_.find(uid);
  if (it == pods_.end()) return;
  auto node = nodes_.find(it->second.node);
  if (node != nodes_.end()) {
    node->second.RemovePod(uid);
    if (!node->second.has_node() && node->second.num_pods() == 0) nodes_.erase(node);
  }
  pods_.erase(it);
}

}  // namespace kubes::scheduler
