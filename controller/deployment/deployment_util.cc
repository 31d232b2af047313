#include "controller/deployment/deployment_util.h"

#include <algorithm>
#include <climits>
#include <cmath>

namespace kubes::controller::deployment {

int32_t Replicas(const Json& obj) {
  auto spec = obj.find("spec");
  if (spec == obj.end() || !spec->is_object()) return 1;
  auto r = spec->find("replicas");
  return r != spec->end() && r->is_number_integer() ? r->get<int32_t>() : 1;
}

int32_t StatusInt(const Json& obj, const char* field) {
  auto st = obj.find("status");
  if (st == obj.end() || !st->is_object()) return 0;
  auto v = st->find(field);
  return v != st->end() && v->is_number_integer() ? v->get<int32_t>() : 0;
}

int32_t ScaledValue(const Json& v, int32_t total, bool round_up) {
  if (v.is_number_integer()) return v.get<int32_t>();
  if (!v.is_string()) return 0;
  std::string s = v.get<std::string>();
  if (s.empty() || s.back() != '%') return 0;
  int pct = 0;
  try {
    pct = std::stoi(s.substr(0, s.size() - 1));
  } catch (...) {
    return 0;
  }
  double scaled = static_cast<double>(pct) * total / 100.0;
  return static_cast<int32_t>(round_up ? std::ceil(scaled) : std::floor(scaled));
}

namespace {

bool IsRollingUpdate(const Json& d) {
  const Json& strategy = d.value("spec", Json::object()).value("strategy", Json::object());
  return strategy.value("type", "RollingUpdate") == "RollingUpdate";
}

// Upstream ResolveFenceposts: surge rounds up, unavailability down, and both 0 is not
// allowed to stall a rollout.
std::pair<int32_t, int32_t> Fenceposts(const Json& d) {
  const Json ru =
      d.value("spec", Json::object()).value("strategy", Json::object()).value("rollingUpdate", Json::object());
  int32_t replicas = Replicas(d);
  int32_t surge = ScaledValue(ru.value("maxSurge", Json("25%")), replicas, true);
  int32_t unavailable = ScaledValue(ru.value("maxUnavailable", Json("25%")), replicas, false);
  if (surge == 0 && unavailable == 0) unavailable = 1;
  return {surge, unavailable};
}

}  // namespace

int32_t MaxSurge(const Json& d) {
  if (!IsRollingUpdate(d)) return 0;
  return Fenceposts(d).first;
}

int32_t MaxUnavailable(const Json& d) {
  if (!IsRollingUpdate(d) || Replicas(d) == 0) return 0;
  return std::min(Fenceposts(d).second, Replicas(d));
}

int64_t Revision(const Json& obj) {
  const Json& ann = obj.value("metadata", Json::object()).value("annotations", Json::object());
  std::string v = ann.value(kRevisionAnnotation, "");
  if (v.empty()) return 0;
  try {
    return std::stoll(v);
  } catch (...) {
    return 0;
  }
}

int64_t MaxRevision(const std::vector<Json>& replica_sets) {
  int64_t max = 0;
  for (const auto& rs : replica_sets) max = std::max(max, Revision(rs));
  return max;
}

namespace {

// What upstream's semantic equality ignores once JSON is decoded into Go types: a null
// field is the same as an absent one (kubectl rollout undo sends the template with
// "creationTimestamp": null), and so is an empty list.
void DropNulls(Json& v) {
  if (v.is_object()) {
    for (auto it = v.begin(); it != v.end();) {
      DropNulls(it.value());
      if (it.value().is_null() || (it.value().is_array() && it.value().empty())) it = v.erase(it);
      else ++it;
    }
  } else if (v.is_array()) {
    for (auto& x : v) DropNulls(x);
  }
}

}  // namespace

bool EqualIgnoreHash(const Json& a, const Json& b) {
  auto strip = [](Json t) {
    DropNulls(t);
    if (t.contains("metadata") && t["metadata"].is_object()) {
      Json& meta = t["metadata"];
      if (meta.contains("labels") && meta["labels"].is_object()) meta["labels"].erase(kPodTemplateHashLabel);
      for (const char* m : {"labels", "annotations"}) {
        if (meta.contains(m) && meta[m].is_object() && meta[m].empty()) meta.erase(m);
      }
      if (meta.empty()) t.erase("metadata");
    }
    return t;
  };
  return strip(a) == strip(b);
}

int32_t SumSpecReplicas(const std::vector<Json>& rss) {
  int32_t n = 0;
  for (const auto& rs : rss) n += Replicas(rs);
  return n;
}

int32_t SumStatus(const std::vector<Json>& rss, const char* field) {
  int32_t n = 0;
  for (const auto& rs : rss) n += StatusInt(rs, field);
  return n;
}

int32_t NewRSNewReplicas(const Json& d, const std::vector<Json>& all_rss, const Json& new_rs) {
  if (!IsRollingUpdate(d)) return Replicas(d);
  int32_t current = SumSpecReplicas(all_rss);
  int32_t max_total = Replicas(d) + MaxSurge(d);
  int32_t now = Replicas(new_rs);
  if (current >= max_total) return now;
  int32_t up = std::min(max_total - current, Replicas(d) - now);
  return now + up;
}

int FindActiveOrLatest(const std::vector<Json>& rss, int new_rs_index) {
  if (rss.empty()) return -1;
  int active = -1, count = 0;
  for (int i = 0; i < static_cast<int>(rss.size()); ++i) {
    if (Replicas(rss[i]) > 0) {
      active = i;
      ++count;
    }
  }
  if (count == 1) return active;
  if (count > 1) return -1;
  if (new_rs_index >= 0) return new_rs_index;
  // The newest old one.
  int newest = -1;
  std::string newest_time;
  for (int i = 0; i < static_cast<int>(rss.size()); ++i) {
    std::string t = rss[i]["metadata"].value("creationTimestamp", "");
    if (newest < 0 || t > newest_time) {
      newest = i;
      newest_time = t;
    }
  }
  return newest;
}

int32_t Proportion(const Json& rs, const Json& d, int32_t to_add, int32_t added) {
  if (Replicas(rs) == 0 || to_add == 0 || to_add == added) return 0;
  int32_t fraction;
  if (Replicas(d) == 0) {
    fraction = -Replicas(rs);
  } else {
    int32_t max_now = Replicas(d) + MaxSurge(d);
    int32_t max_before = 0;
    const Json& ann = rs["metadata"].value("annotations", Json::object());
    try {
      max_before = std::stoi(ann.value(kMaxReplicasAnnotation, "0"));
    } catch (...) {
      max_before = 0;
    }
    if (max_before == 0) max_before = StatusInt(d, "replicas");
    if (max_before == 0) return 0;
    double size = static_cast<double>(Replicas(rs)) / max_before * max_now;
    fraction = static_cast<int32_t>(std::lround(size)) - Replicas(rs);
  }
  int32_t allowed = to_add - added;
  return to_add > 0 ? std::min(fraction, allowed) : std::max(fraction, allowed);
}

namespace {
int32_t IntOf(const Json& status, const char* field) {
  auto v = status.find(field);
  return v != status.end() && v->is_number_integer() ? v->get<int32_t>() : 0;
}
}  // namespace

bool DeploymentComplete(const Json& d, const Json& s) {
  int32_t want = Replicas(d);
  return IntOf(s, "updatedReplicas") == want && IntOf(s, "replicas") == want && IntOf(s, "availableReplicas") == want &&
         s.value("observedGeneration", int64_t{0}) >= d["metadata"].value("generation", int64_t{0});
}

bool DeploymentProgressing(const Json& d, const Json& s) {
  const Json& old = d.value("status", Json::object());
  int32_t old_old = IntOf(old, "replicas") - IntOf(old, "updatedReplicas");
  int32_t new_old = IntOf(s, "replicas") - IntOf(s, "updatedReplicas");
  return IntOf(s, "updatedReplicas") > IntOf(old, "updatedReplicas") || new_old < old_old ||
         IntOf(s, "readyReplicas") > IntOf(old, "readyReplicas") ||
         IntOf(s, "availableReplicas") > IntOf(old, "availableReplicas");
}

bool HasProgressDeadline(const Json& d) {
  const Json& spec = d.value("spec", Json::object());
  auto p = spec.find("progressDeadlineSeconds");
  return p != spec.end() && p->is_number_integer() && p->get<int64_t>() != INT32_MAX;
}

bool DeploymentTimedOut(const Json& d, const Json& s, TimePoint now) {
  if (!HasProgressDeadline(d)) return false;
  auto conds = s.find("conditions");
  if (conds == s.end() || !conds->is_array()) return false;
  for (const auto& c : *conds) {
    if (c.value("type", "") != "Progressing") continue;
    std::string reason = c.value("reason", "");
    if (reason == "NewReplicaSetAvailable") return false;
    if (reason == "ProgressDeadlineExceeded") return true;
    auto from = ParseRFC3339(c.value("lastUpdateTime", ""));
    if (!from) return false;
    return *from + std::chrono::seconds(d["spec"]["progressDeadlineSeconds"].get<int64_t>()) < now;
  }
  return false;
}

void SortByCreation(std::vector<Json>& rss) {
  std::stable_sort(rss.begin(), rss.end(), [](const Json& a, const Json& b) {
    std::string ta = a["metadata"].value("creationTimestamp", ""), tb = b["metadata"].value("creationTimestamp", "");
    if (ta != tb) return ta < tb;
    return a["metadata"].value("name", "") < b["metadata"].value("name", "");
  });
}

}  // namespace kubes::controller::deployment
