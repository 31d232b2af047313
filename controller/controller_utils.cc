#include "controller/controller_utils.h"

#include <algorithm>
#include <tuple>

#include "client/resources.h"

namespace kubes::controller {

// ---- controller references ----

std::optional<Json> GetControllerOf(const Json& obj) {
  auto meta = obj.find("metadata");
  if (meta == obj.end()) return std::nullopt;
  auto refs = meta->find("ownerReferences");
  if (refs == meta->end() || !refs->is_array()) return std::nullopt;
  for (const auto& ref : *refs) {
    if (ref.value("controller", false)) return ref;
  }
  return std::nullopt;
}

Json ControllerRef(const Json& owner) {
  return {{"apiVersion", owner.value("apiVersion", "")},
          {"kind", owner.value("kind", "")},
          {"name", NameOf(owner)},
          {"uid", UidOf(owner)},
          {"controller", true},
          {"blockOwnerDeletion", true}};
}

labels::Labels LabelsOf(const Json& obj) {
  labels::Labels out;
  auto meta = obj.find("metadata");
  if (meta == obj.end()) return out;
  auto l = meta->find("labels");
  if (l == meta->end() || !l->is_object()) return out;
  for (auto it = l->begin(); it != l->end(); ++it) {
    if (it.value().is_string()) out[it.key()] = it.value().get<std::string>();
  }
  return out;
}

namespace {
std::string MetaString(const Json& obj, const char* field) {
  auto meta = obj.find("metadata");
  if (meta == obj.end() || !meta->is_object()) return "";
  return meta->value(field, "");
}
}  // namespace

std::string UidOf(const Json& obj) { return MetaString(obj, "uid"); }
std::string NameOf(const Json& obj) { return MetaString(obj, "name"); }
std::string NamespaceOf(const Json& obj) { return MetaString(obj, "namespace"); }
bool IsBeingDeleted(const Json& obj) { return !MetaString(obj, "deletionTimestamp").empty(); }

std::string ControllerKey(const Json& obj, const std::string& api_version, const std::string& kind) {
  auto ref = GetControllerOf(obj);
  if (!ref || ref->value("kind", "") != kind || ref->value("apiVersion", "") != api_version) return "";
  return NamespaceOf(obj) + "/" + ref->value("name", "");
}

namespace {

// Rewrites the object's ownerReferences (and finalizers, when given) with a merge
// patch; the resourceVersion in the patch makes it conditional, so an ownerReference
// written meanwhile is not lost.
Status PatchOwnerReferences(client::Client* client, const client::Resource& resource, const Json& obj,
                            const Json& refs, const Json* finalizers = nullptr) {
  Json patch = {{"metadata",
                 {{"ownerReferences", refs},
                  {"uid", UidOf(obj)},
                  {"resourceVersion", obj["metadata"].value("resourceVersion", "")}}}};
  if (finalizers) patch["metadata"]["finalizers"] = *finalizers;
  return client->Patch(resource, NamespaceOf(obj), NameOf(obj), "application/merge-patch+json", patch).status();
}

// The object's finalizers with `add` added (true) or removed (false); nullopt when
// that changes nothing.
std::optional<Json> ChangedFinalizers(const Json& obj, const std::vector<std::string>& names, bool add) {
  Json list = obj["metadata"].value("finalizers", Json::array());
  bool changed = false;
  for (const auto& f : names) {
    auto it = std::find(list.begin(), list.end(), f);
    if (add && it == list.end()) {
      list.push_back(f);
      changed = true;
    } else if (!add && it != list.end()) {
      list.erase(it);
      changed = true;
    }
  }
  if (!changed) return std::nullopt;
  return list;
}

}  // namespace

std::vector<Json> ControlledOrOrphans(const client::Informer& informer, const Json& owner) {
  std::vector<Json> out;
  for (const std::string& value : {UidOf(owner), client::Informer::OrphansOf(NamespaceOf(owner))}) {
    for (const auto& obj : informer.ByIndex(client::Informer::kControllerIndex, value)) {
      if (NamespaceOf(*obj) == NamespaceOf(owner)) out.push_back(*obj);
    }
  }
  return out;
}

std::vector<Json> InNamespace(const client::Informer& informer, const std::string& ns) {
  std::vector<Json> out;
  for (const auto& obj : informer.ByIndex(client::Informer::kNamespaceIndex, ns)) out.push_back(*obj);
  return out;
}

Result<std::vector<Json>> ClaimObjects(client::Client* client, const client::Resource& resource, const Json& owner,
                                       const labels::Selector& selector, const std::vector<Json>& candidates,
                                       const std::vector<std::string>& finalizers) {
  std::vector<Json> claimed;
  const std::string owner_uid = UidOf(owner);
  for (const Json& obj : candidates) {
    bool matches = selector.Matches(LabelsOf(obj));
    auto ref = GetControllerOf(obj);
    if (ref) {
      if (ref->value("uid", "") != owner_uid) continue;  // someone else's
      if (matches) {
        claimed.push_back(obj);
        continue;
      }
      if (IsBeingDeleted(obj)) continue;
      // Release: keep every other ownerReference.
      Json refs = Json::array();
      for (const auto& r : obj["metadata"]["ownerReferences"]) {
        if (r.value("uid", "") != owner_uid) refs.push_back(r);
      }
      auto kept = ChangedFinalizers(obj, finalizers, false);
      Status s = PatchOwnerReferences(client, resource, obj, refs, kept ? &*kept : nullptr);
      if (!s.ok() && s.code() != Code::kNotFound) return s;
      continue;
    }
    if (!matches || IsBeingDeleted(obj) || IsBeingDeleted(owner)) continue;
    // Adopt.
    Json refs = obj["metadata"].value("ownerReferences", Json::array());
    refs.push_back(ControllerRef(owner));
    auto added = ChangedFinalizers(obj, finalizers, true);
    Status s = PatchOwnerReferences(client, resource, obj, refs, added ? &*added : nullptr);
    if (s.code() == Code::kNotFound) continue;
    if (!s.ok()) return s;
    Json adopted = obj;
    adopted["metadata"]["ownerReferences"] = refs;
    if (added) adopted["metadata"]["finalizers"] = *added;
    claimed.push_back(std::move(adopted));
  }
  return claimed;
}

// ---- expectations ----

bool Expectations::Satisfied(const std::string& key) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = entries_.find(key);
  if (it == entries_.end()) return true;
  if (it->second.adds <= 0 && it->second.deletes.empty()) return true;
  return clock_.Now() - it->second.set_at > kTimeout;
}

void Expectations::ExpectCreations(const std::string& key, int adds) {
  std::lock_guard<std::mutex> lock(mu_);
  Entry& e = entries_[key];
  e.adds = adds;
  e.deletes.clear();
  e.set_at = clock_.Now();
}

void Expectations::Expect(const std::string& key, int adds, const std::vector<std::string>& delete_uids) {
  std::lock_guard<std::mutex> lock(mu_);
  Entry& e = entries_[key];
  e.adds = adds;
  e.deletes = std::set<std::string>(delete_uids.begin(), delete_uids.end());
  e.set_at = clock_.Now();
}

void Expectations::ExpectDeletions(const std::string& key, const std::vector<std::string>& uids) {
  std::lock_guard<std::mutex> lock(mu_);
  Entry& e = entries_[key];
  e.adds = 0;
  e.deletes = std::set<std::string>(uids.begin(), uids.end());
  e.set_at = clock_.Now();
}

void Expectations::CreationObserved(const std::string& key) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = entries_.find(key);
  if (it != entries_.end() && it->second.adds > 0) --it->second.adds;
}

void Expectations::DeletionObserved(const std::string& key, const std::string& uid) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = entries_.find(key);
  if (it != entries_.end()) it->second.deletes.erase(uid);
}

void Expectations::LowerCreations(const std::string& key, int n) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = entries_.find(key);
  if (it != entries_.end()) it->second.adds = std::max(0, it->second.adds - n);
}

void Expectations::Delete(const std::string& key) {
  std::lock_guard<std::mutex> lock(mu_);
  entries_.erase(key);
}

// ---- pods ----

namespace {
std::string PhaseOf(const Json& pod) {
  auto st = pod.find("status");
  return st != pod.end() && st->is_object() ? st->value("phase", "") : "";
}
}  // namespace

bool IsPodTerminal(const Json& pod) {
  std::string phase = PhaseOf(pod);
  return phase == "Succeeded" || phase == "Failed";
}

bool IsPodActive(const Json& pod) { return !IsPodTerminal(pod) && !IsBeingDeleted(pod); }

std::optional<TimePoint> ReadySince(const Json& pod) {
  auto st = pod.find("status");
  if (st == pod.end() || !st->is_object()) return std::nullopt;
  const Json* c = FindCondition(*st, "Ready");
  if (!c || c->value("status", "") != "True") return std::nullopt;
  auto t = ParseRFC3339(c->value("lastTransitionTime", ""));
  return t ? *t : TimePoint{};
}

bool IsPodReady(const Json& pod) { return ReadySince(pod).has_value(); }

bool IsPodAvailable(const Json& pod, int min_ready_seconds, TimePoint now) {
  auto since = ReadySince(pod);
  if (!since) return false;
  if (min_ready_seconds <= 0) return true;
  return *since + std::chrono::seconds(min_ready_seconds) <= now;
}

int RestartCount(const Json& pod) {
  int n = 0;
  auto st = pod.find("status");
  if (st == pod.end() || !st->is_object()) return 0;
  auto cs = st->find("containerStatuses");
  if (cs == st->end() || !cs->is_array()) return 0;
  for (const auto& c : *cs) n += c.value("restartCount", 0);
  return n;
}

void SortPodsForDeletion(std::vector<Json>& pods, TimePoint now) {
  // Pods of the same owner per node: deleting from crowded nodes first spreads the rest.
  std::map<std::string, int> per_node;
  for (const auto& p : pods) {
    std::string node = p.value("spec", Json::object()).value("nodeName", "");
    if (!node.empty()) ++per_node[node];
  }
  auto phase_rank = [](const std::string& phase) {
    if (phase == "Pending") return 0;
    if (phase == "Unknown") return 1;
    if (phase == "Running") return 2;
    return 3;
  };
  auto deletion_cost = [](const Json& p) -> long long {
    const Json& ann = p["metadata"].value("annotations", Json::object());
    std::string v = ann.value("controller.kubernetes.io/pod-deletion-cost", "");
    if (v.empty()) return 0;
    try {
      return std::stoll(v);
    } catch (...) {
      return 0;
    }
  };
  struct Key {
    bool assigned;
    int phase;
    bool ready;
    long long cost;
    int colocated;
    TimePoint ready_since;
    int restarts;
    TimePoint created;
    size_t index;
  };
  std::vector<Key> keys;
  keys.reserve(pods.size());
  for (size_t i = 0; i < pods.size(); ++i) {
    const Json& p = pods[i];
    std::string node = p.value("spec", Json::object()).value("nodeName", "");
    auto ready = ReadySince(p);
    auto created = ParseRFC3339(p["metadata"].value("creationTimestamp", ""));
    keys.push_back({!node.empty(), phase_rank(PhaseOf(p)), ready.has_value(), deletion_cost(p),
                    node.empty() ? 0 : per_node[node], ready.value_or(now), RestartCount(p),
                    created.value_or(now), i});
  }
  std::stable_sort(keys.begin(), keys.end(), [](const Key& a, const Key& b) {
    if (a.assigned != b.assigned) return !a.assigned;
    if (a.phase != b.phase) return a.phase < b.phase;
    if (a.ready != b.ready) return !a.ready;
    if (a.cost != b.cost) return a.cost < b.cost;
    if (a.colocated != b.colocated) return a.colocated > b.colocated;
    if (a.ready && a.ready_since != b.ready_since) return a.ready_since > b.ready_since;
    if (a.restarts != b.restarts) return a.restarts > b.restarts;
    return a.created > b.created;
  });
  std::vector<Json> sorted;
  sorted.reserve(pods.size());
  for (const Key& k : keys) sorted.push_back(std::move(pods[k.index]));
  pods = std::move(sorted);
}

Json PodFromTemplate(const Json& tmpl, const Json& owner) {
  const Json& tmeta = tmpl.value("metadata", Json::object());
  Json meta = {{"generateName", NameOf(owner) + "-"},
               {"namespace", NamespaceOf(owner)},
               {"ownerReferences", Json::array({ControllerRef(owner)})}};
  for (const char* field : {"labels", "annotations", "finalizers"}) {
    if (tmeta.contains(field)) meta[field] = tmeta[field];
  }
  return {{"apiVersion", "v1"},
          {"kind", "Pod"},
          {"metadata", meta},
          {"spec", tmpl.value("spec", Json::object())}};
}

std::string ComputeHash(const Json& obj, int32_t collision_count) {
  uint32_t h = 2166136261u;
  auto feed = [&h](unsigned char b) {
    h ^= b;
    h *= 16777619u;
  };
  for (unsigned char c : obj.dump()) feed(c);
  if (collision_count > 0) {
    uint32_t c = static_cast<uint32_t>(collision_count);
    for (int i = 0; i < 4; ++i) feed(static_cast<unsigned char>(c >> (8 * i)));
  }
  static constexpr char kLetters[] = "bcdfghjklmnpqrstvwxz2456789";
  std::string digits = std::to_string(h);
  std::string out;
  for (unsigned char c : digits) out.push_back(kLetters[c % (sizeof(kLetters) - 1)]);
  return out;
}

// ---- creating and deleting pods ----

Status PodControl::Apply(const std::string& key, const Json& owner, const std::vector<Json>& create,
                         const std::vector<Json>& remove) {
  std::vector<std::string> uids;
  for (const Json& p : remove) uids.push_back(UidOf(p));
  int want = static_cast<int>(create.size());
  expectations_->Expect(key, want, uids);
  int created = 0;
  for (int batch = 1; created < want; batch *= 2) {
    for (int end = std::min(want, created + batch); created < end; ++created) {
      auto made = client_->Create(client::kPods, NamespaceOf(owner), create[created]);
      if (!made.ok()) {
        expectations_->LowerCreations(key, want - created);
        recorder_->Event(owner, "Warning", "FailedCreate", "Error creating: " + made.status().message());
        return made.status();
      }
      recorder_->Event(owner, "Normal", "SuccessfulCreate", "Created pod: " + NameOf(*made));
    }
  }
  for (const Json& pod : remove) {
    Status s = client_->Delete(client::kPods, NamespaceOf(pod), NameOf(pod));
    if (!s.ok()) expectations_->DeletionObserved(key, UidOf(pod));  // it will not be seen going
    if (s.code() == Code::kNotFound) continue;
    if (!s.ok()) {
      recorder_->Event(owner, "Warning", "FailedDelete", "Error deleting: " + s.message());
      return s;
    }
    recorder_->Event(owner, "Normal", "SuccessfulDelete", "Deleted pod: " + NameOf(pod));
  }
  return Status::OK();
}

// ---- conditions ----

const Json* FindCondition(const Json& status, const std::string& type) {
  auto conds = status.find("conditions");
  if (conds == status.end() || !conds->is_array()) return nullptr;
  for (const auto& c : *conds) {
    if (c.value("type", "") == type) return &c;
  }
  return nullptr;
}

void RemoveCondition(Json& status, const std::string& type) {
  if (!status.contains("conditions") || !status["conditions"].is_array()) return;
  Json kept = Json::array();
  for (const auto& c : status["conditions"]) {
    if (c.value("type", "") != type) kept.push_back(c);
  }
  if (kept.empty()) status.erase("conditions");
  else status["conditions"] = kept;
}

void SetCondition(Json& status, const std::string& type, const std::string& cond_status, const std::string& reason,
                  const std::string& message, TimePoint now, bool with_update_time) {
  std::string stamp = FormatRFC3339(now);
  std::string transition = stamp;
  if (const Json* cur = FindCondition(status, type)) {
    if (cur->value("status", "") == cond_status && cur->value("reason", "") == reason) return;
    if (cur->value("status", "") == cond_status) transition = cur->value("lastTransitionTime", stamp);
  }
  RemoveCondition(status, type);
  Json c = {{"type", type}, {"status", cond_status}};
  if (with_update_time) c["lastUpdateTime"] = stamp;
  c["lastTransitionTime"] = transition;
  c["reason"] = reason;
  c["message"] = message;
  if (!status.contains("conditions") || !status["conditions"].is_array()) status["conditions"] = Json::array();
  status["conditions"].push_back(c);
}

}  // namespace kubes::controller
