#include "scheduler/nominator.h"

namespace kubes::scheduler {
namespace {

std::string NominatedNodeName(const Json& pod) { return StringAt(pod, {"status", "nominatedNodeName"}); }

// Bound, being deleted or finished: no longer waiting for a node.
bool Waiting(const Json& pod) {
  std::string phase = StringAt(pod, {"status", "phase"});
  return StringAt(pod, {"spec", "nodeName"}).empty() && At(pod, {"metadata", "deletionTimestamp"}).is_null() &&
         phase != "Succeeded" && phase != "Failed";
}

}  // namespace

void Nominator::AddOrUpdate(const Json* old_pod, PodPtr pod) {
  std::string uid = PodUID(*pod);
  std::lock_guard<std::mutex> lock(mu_);
  if (!Waiting(*pod)) {
    by_uid_.erase(uid);
    return;
  }
  std::string node = NominatedNodeName(*pod);
  auto it = by_uid_.find(uid);
  // Neither version names a node but we nominated one: the informer is behind us.
  if (node.empty() && (!old_pod || NominatedNodeName(*old_pod).empty()) && it != by_uid_.end()) {
    node = it->second.node;
  }
  if (node.empty()) by_uid_.erase(uid);
  else by_uid_[uid] = Entry{node, std::move(pod)};
}

void Nominator::Delete(const std::string& uid) {
  std::lock_guard<std::mutex> lock(mu_);
  by_uid_.erase(uid);
}

void Nominator::Nominate(PodPtr pod, const std::string& node) {
  std::string uid = PodUID(*pod);
  std::lock_guard<std::mutex> lock(mu_);
  if (node.empty()) by_uid_.erase(uid);
  else by_uid_[uid] = Entry{node, std::move(pod)};
}

std::string Nominator::NominatedNode(const std::string& uid) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = by_uid_.find(uid);
  return it == by_uid_.end() ? "" : it->second.node;
}

NominatedPods Nominator::Snapshot() const {
  std::lock_guard<std::mutex> lock(mu_);
  NominatedPods out;
  for (const auto& [uid, e] : by_uid_) out[e.node].push_back(e.pod);
  return out;
}

}  // namespace kubes::scheduler
