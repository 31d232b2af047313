// Finding and creating the new ReplicaSet, scaling, history cleanup and status
// (upstream: pkg/controller/deployment/sync.go and progress.go).
#include <algorithm>

#include "client/resources.h"
#include "controller/deployment/deployment_controller.h"
#include "controller/deployment/deployment_util.h"

namespace kubes::controller {

using namespace deployment;  // NOLINT: the helpers of this controller

namespace {

using client::kDeployments;
using client::kReplicaSets;

// Annotations of the Deployment that are not copied onto its ReplicaSets.
bool SkipCopyAnnotation(const std::string& key) {
  return key == "kubectl.kubernetes.io/last-applied-configuration" || key == kRevisionAnnotation ||
         key == kRevisionHistoryAnnotation || key == kDesiredReplicasAnnotation || key == kMaxReplicasAnnotation ||
         key == "deployment.kubernetes.io/error-selector-overlapping-with" ||
         key == "deployment.kubernetes.io/selector-updated-at";
}

Json& Annotations(Json& obj) {
  Json& meta = obj["metadata"];
  if (!meta.contains("annotations") || !meta["annotations"].is_object()) meta["annotations"] = Json::object();
  return meta["annotations"];
}

// Sets desired-replicas and max-replicas; true when something changed.
bool SetReplicasAnnotations(Json& rs, int32_t desired, int32_t max) {
  Json& ann = Annotations(rs);
  bool changed = false;
  for (auto [key, value] : {std::pair{kDesiredReplicasAnnotation, desired}, std::pair{kMaxReplicasAnnotation, max}}) {
    std::string v = std::to_string(value);
    if (ann.value(key, "") != v) {
      ann[key] = v;
      changed = true;
    }
  }
  return changed;
}

// Upstream SetNewReplicaSetAnnotations: the Deployment's own annotations, the revision
// (raised to new_revision; a raised revision is remembered in revision-history, which
// is what a rollback to an old ReplicaSet looks like), and for a ReplicaSet about to be
// created the replica annotations. True when something changed.
bool SetNewReplicaSetAnnotations(const Json& d, Json& rs, int64_t new_revision, bool exists) {
  bool changed = false;
  Json& ann = Annotations(rs);
  const Json& d_ann = d["metadata"].value("annotations", Json::object());
  for (auto it = d_ann.begin(); it != d_ann.end(); ++it) {
    if (SkipCopyAnnotation(it.key()) || ann.value(it.key(), Json()) == it.value()) continue;
    ann[it.key()] = it.value();
    changed = true;
  }
  bool had_revision = ann.contains(kRevisionAnnotation);
  int64_t old_revision = Revision(rs);
  if (old_revision < new_revision) {
    ann[kRevisionAnnotation] = std::to_string(new_revision);
    changed = true;
    if (had_revision) {
      std::string history = ann.value(kRevisionHistoryAnnotation, "");
      ann[kRevisionHistoryAnnotation] =
          history.empty() ? std::to_string(old_revision) : history + "," + std::to_string(old_revision);
    }
  }
  if (!exists && SetReplicasAnnotations(rs, Replicas(d), Replicas(d) + MaxSurge(d))) changed = true;
  return changed;
}

void OmitZeros(Json& status) {
  for (const char* f : {"replicas", "updatedReplicas", "readyReplicas", "availableReplicas", "unavailableReplicas",
                        "observedGeneration"}) {
    if (status.contains(f) && status[f] == 0) status.erase(f);
  }
}

}  // namespace

Result<DeploymentController::ReplicaSets> DeploymentController::GetAllReplicaSetsAndSyncRevision(
    Json& d, const std::vector<Json>& rss, bool create_new) {
  std::vector<Json> sorted = rss;
  SortByCreation(sorted);
  const Json tmpl = d["spec"]["template"];  // a copy: d is replaced as it is written
  ReplicaSets out;
  bool found = false;
  for (Json& rs : sorted) {
    if (!found && EqualIgnoreHash(rs["spec"].value("template", Json::object()), tmpl)) {
      found = true;
      continue;
    }
    out.old.push_back(rs);
  }
  auto new_rs = GetNewReplicaSet(d, sorted, out.old, create_new);
  if (!new_rs.ok()) return new_rs.status();
  out.new_rs = std::move(*new_rs);
  return out;
}

Result<std::optional<Json>> DeploymentController::GetNewReplicaSet(Json& d, const std::vector<Json>& rss,
                                                                   const std::vector<Json>& old, bool create_new) {
  const Json tmpl = d["spec"]["template"];  // a copy: d is replaced as it is written
  int64_t new_revision = MaxRevision(old) + 1;
  TimePoint now = clock_.Now();
  for (const Json& existing : rss) {
    if (!EqualIgnoreHash(existing["spec"].value("template", Json::object()), tmpl)) continue;
    Json rs = existing;
    bool annotations_changed = SetNewReplicaSetAnnotations(d, rs, new_revision, true);
    int min_ready = d["spec"].value("minReadySeconds", 0);
    if (annotations_changed || rs["spec"].value("minReadySeconds", 0) != min_ready) {
      if (min_ready == 0) rs["spec"].erase("minReadySeconds");
      else rs["spec"]["minReadySeconds"] = min_ready;
      auto updated = client_->Update(kReplicaSets, NamespaceOf(rs), rs);
      if (!updated.ok()) return updated.status();
      return std::optional<Json>(*updated);
    }
    // The Deployment shows the revision of its new ReplicaSet.
    std::string revision = rs["metadata"]["annotations"].value(kRevisionAnnotation, "");
    if (d["metadata"].value("annotations", Json::object()).value(kRevisionAnnotation, "") != revision) {
      Json patch = {{"metadata", {{"annotations", {{kRevisionAnnotation, revision}}}}}};
      auto patched = client_->Patch(kDeployments, NamespaceOf(d), NameOf(d), "application/merge-patch+json", patch);
      if (!patched.ok()) return patched.status();
      d = *patched;
    }
    if (HasProgressDeadline(d) && !FindCondition(d.value("status", Json::object()), "Progressing")) {
      Json status = d.value("status", Json::object());
      SetCondition(status, "Progressing", "True", "FoundNewReplicaSet",
                   "Found new replica set \"" + NameOf(rs) + "\"", now, true);
      KUBES_RETURN_IF_ERROR(UpdateStatus(&d, status));
    }
    return std::optional<Json>(rs);
  }
  if (!create_new) return std::optional<Json>();

  // A new ReplicaSet named after the template's hash, so a retry finds the same one.
  Json status = d.value("status", Json::object());
  int32_t collisions = status.value("collisionCount", 0);
  Json rs_template = tmpl;
  std::string hash = ComputeHash(tmpl, collisions);
  rs_template["metadata"]["labels"][kPodTemplateHashLabel] = hash;
  Json selector = d["spec"]["selector"];
  selector["matchLabels"][kPodTemplateHashLabel] = hash;
  Json rs = {{"apiVersion", "apps/v1"},
             {"kind", "ReplicaSet"},
             {"metadata",
              {{"name", NameOf(d) + "-" + hash},
               {"namespace", NamespaceOf(d)},
               {"labels", rs_template["metadata"]["labels"]},
               {"ownerReferences", Json::array({ControllerRef(d)})}}},
             {"spec", {{"replicas", 0}, {"selector", selector}, {"template", rs_template}}}};
  if (int min_ready = d["spec"].value("minReadySeconds", 0); min_ready > 0) rs["spec"]["minReadySeconds"] = min_ready;
  std::vector<Json> all = rss;
  all.push_back(rs);
  int32_t replicas = NewRSNewReplicas(d, all, rs);
  rs["spec"]["replicas"] = replicas;
  SetNewReplicaSetAnnotations(d, rs, new_revision, false);

  auto created = client_->Create(kReplicaSets, NamespaceOf(d), rs);
  bool already_exists = false;
  if (created.status().code() == Code::kAlreadyExists) {
    // A slow cache, or a hash collision with somebody else's ReplicaSet.
    auto current = client_->Get(kReplicaSets, NamespaceOf(d), NameOf(rs));
    if (!current.ok()) return current.status();
    auto ref = GetControllerOf(*current);
    if (ref && ref->value("uid", "") == UidOf(d) &&
        EqualIgnoreHash((*current)["spec"].value("template", Json::object()), tmpl)) {
      created = *current;
      already_exists = true;
    } else {
      status["collisionCount"] = collisions + 1;
      Status s = UpdateStatus(&d, status);
      if (!s.ok()) return s;
      return Status(Code::kAlreadyExists, "replica set " + NameOf(rs) + " exists and is not ours; hash collision");
    }
  } else if (!created.ok()) {
    std::string msg = "Failed to create new replica set \"" + NameOf(rs) + "\": " + created.status().message();
    if (HasProgressDeadline(d)) {
      SetCondition(status, "Progressing", "False", "ReplicaSetCreateError", msg, now, true);
      (void)UpdateStatus(&d, status);
    }
    recorder_.Event(d, "Warning", "ReplicaSetCreateError", msg);
    return created.status();
  }
  if (!already_exists && replicas > 0) {
    recorder_.Event(d, "Normal", "ScalingReplicaSet",
                    "Scaled up replica set " + NameOf(*created) + " from 0 to " + std::to_string(replicas));
  }
  std::string revision = std::to_string(new_revision);
  if (d["metadata"].value("annotations", Json::object()).value(kRevisionAnnotation, "") != revision) {
    Json patch = {{"metadata", {{"annotations", {{kRevisionAnnotation, revision}}}}}};
    auto patched = client_->Patch(kDeployments, NamespaceOf(d), NameOf(d), "application/merge-patch+json", patch);
    if (!patched.ok()) return patched.status();
    d = *patched;
  }
  if (!already_exists && HasProgressDeadline(d)) {
    Json st = d.value("status", Json::object());
    SetCondition(st, "Progressing", "True", "NewReplicaSetCreated",
                 "Created new replica set \"" + NameOf(*created) + "\"", now, true);
    KUBES_RETURN_IF_ERROR(UpdateStatus(&d, st));
  }
  return std::optional<Json>(*created);
}

Result<bool> DeploymentController::ScaleReplicaSet(Json* rs, int32_t new_scale, const Json& d,
                                                   const std::string& operation) {
  int32_t old_scale = Replicas(*rs);
  if (operation.empty() && old_scale == new_scale) return false;
  std::string op = !operation.empty() ? operation : (old_scale < new_scale ? "up" : "down");
  Json copy = *rs;
  bool annotations_changed = SetReplicasAnnotations(copy, Replicas(d), Replicas(d) + MaxSurge(d));
  if (old_scale == new_scale && !annotations_changed) return false;
  copy["spec"]["replicas"] = new_scale;
  auto updated = client_->Update(kReplicaSets, NamespaceOf(copy), copy);
  if (!updated.ok()) return updated.status();
  *rs = *updated;
  if (old_scale == new_scale) return false;
  recorder_.Event(d, "Normal", "ScalingReplicaSet",
                  "Scaled " + op + " replica set " + NameOf(*rs) + " to " + std::to_string(new_scale) + " from " +
                      std::to_string(old_scale));
  return true;
}

namespace {

// Saturated: the new ReplicaSet alone runs every wanted pod, all available.
bool IsSaturated(const Json& d, const std::optional<Json>& new_rs) {
  if (!new_rs) return false;
  std::string desired = (*new_rs)["metadata"].value("annotations", Json::object()).value(kDesiredReplicasAnnotation, "");
  return desired == std::to_string(Replicas(d)) && Replicas(*new_rs) == Replicas(d) &&
         StatusInt(*new_rs, "availableReplicas") == Replicas(d);
}

std::string CreatedOf(const Json& rs) { return rs["metadata"].value("creationTimestamp", ""); }

}  // namespace

Status DeploymentController::Scale(const Json& d, ReplicaSets& rss) {
  std::vector<Json> all = rss.All();
  int new_index = rss.new_rs ? static_cast<int>(all.size()) - 1 : -1;
  if (int i = FindActiveOrLatest(all, new_index); i >= 0) {
    if (Replicas(all[i]) == Replicas(d)) return Status::OK();
    return ScaleReplicaSet(&all[i], Replicas(d), d).status();
  }
  if (IsSaturated(d, rss.new_rs)) {
    for (Json& old : rss.old) {
      if (Replicas(old) > 0) KUBES_RETURN_IF_ERROR(ScaleReplicaSet(&old, 0, d).status());
    }
    return Status::OK();
  }
  if (d["spec"]["strategy"].value("type", "RollingUpdate") != "RollingUpdate") return Status::OK();

  // Several active ReplicaSets: spread the change in proportion to their sizes.
  std::vector<Json> active;
  for (const Json& rs : all) {
    if (Replicas(rs) > 0) active.push_back(rs);
  }
  int32_t allowed = Replicas(d) > 0 ? Replicas(d) + MaxSurge(d) : 0;
  int32_t to_add = allowed - SumSpecReplicas(active);
  std::string op;
  if (to_add != 0) {
    // Larger first; among equals, newer first when growing and older first when shrinking.
    bool up = to_add > 0;
    op = up ? "up" : "down";
    std::stable_sort(active.begin(), active.end(), [up](const Json& a, const Json& b) {
      if (Replicas(a) != Replicas(b)) return Replicas(a) > Replicas(b);
      return up ? CreatedOf(a) > CreatedOf(b) : CreatedOf(a) < CreatedOf(b);
    });
  }
  std::vector<int32_t> sizes;
  int32_t added = 0;
  for (const Json& rs : active) {
    int32_t p = to_add != 0 ? Proportion(rs, d, to_add, added) : 0;
    sizes.push_back(Replicas(rs) + p);
    added += p;
  }
  for (size_t i = 0; i < active.size(); ++i) {
    if (i == 0 && to_add != 0) sizes[0] = std::max(0, sizes[0] + to_add - added);  // leftovers to the largest
    KUBES_RETURN_IF_ERROR(ScaleReplicaSet(&active[i], sizes[i], d, op.empty() ? "up" : op).status());
  }
  return Status::OK();
}

Status DeploymentController::Sync(Json& d, const std::vector<Json>& claimed) {
  auto rss = GetAllReplicaSetsAndSyncRevision(d, claimed, false);
  if (!rss.ok()) return rss.status();
  KUBES_RETURN_IF_ERROR(Scale(d, *rss));
  if (d["spec"].value("paused", false)) KUBES_RETURN_IF_ERROR(CleanupDeployment(d, rss->old));
  return SyncDeploymentStatus(d, *rss);
}

bool DeploymentController::IsScalingEvent(Json& d, const std::vector<Json>& claimed) {
  auto rss = GetAllReplicaSetsAndSyncRevision(d, claimed, false);
  if (!rss.ok()) return false;
  for (const Json& rs : rss->All()) {
    if (Replicas(rs) == 0) continue;
    std::string desired = rs["metadata"].value("annotations", Json::object()).value(kDesiredReplicasAnnotation, "");
    if (!desired.empty() && desired != std::to_string(Replicas(d))) return true;
  }
  return false;
}

Status DeploymentController::CheckPausedConditions(Json& d) {
  if (!HasProgressDeadline(d)) return Status::OK();
  Json status = d.value("status", Json::object());
  const Json* cond = FindCondition(status, "Progressing");
  std::string reason = cond ? cond->value("reason", "") : "";
  if (reason == "ProgressDeadlineExceeded") return Status::OK();
  bool paused = d["spec"].value("paused", false);
  TimePoint now = clock_.Now();
  if (paused && reason != "DeploymentPaused") {
    SetCondition(status, "Progressing", "Unknown", "DeploymentPaused", "Deployment is paused", now, true);
  } else if (!paused && reason == "DeploymentPaused") {
    SetCondition(status, "Progressing", "Unknown", "DeploymentResumed", "Deployment is resumed", now, true);
  } else {
    return Status::OK();
  }
  return UpdateStatus(&d, status);
}

Status DeploymentController::CleanupDeployment(const Json& d, const std::vector<Json>& old) {
  const Json& spec = d["spec"];
  if (!spec.contains("revisionHistoryLimit") || !spec["revisionHistoryLimit"].is_number_integer()) {
    return Status::OK();
  }
  int limit = spec["revisionHistoryLimit"].get<int>();
  std::vector<Json> cleanable;
  for (const Json& rs : old) {
    if (!IsBeingDeleted(rs)) cleanable.push_back(rs);
  }
  int diff = static_cast<int>(cleanable.size()) - limit;
  if (diff <= 0) return Status::OK();
  std::stable_sort(cleanable.begin(), cleanable.end(), [](const Json& a, const Json& b) {
    if (Revision(a) != Revision(b)) return Revision(a) < Revision(b);
    return CreatedOf(a) < CreatedOf(b);
  });
  for (int i = 0; i < diff; ++i) {
    const Json& rs = cleanable[i];
    // Only ReplicaSets that are fully scaled down and settled may go.
    if (StatusInt(rs, "replicas") != 0 || Replicas(rs) != 0 ||
        rs["metadata"].value("generation", 0) > rs.value("status", Json::object()).value("observedGeneration", 0)) {
      continue;
    }
    Status s = client_->Delete(kReplicaSets, NamespaceOf(rs), NameOf(rs));
    if (!s.ok() && s.code() != Code::kNotFound) return s;
  }
  return Status::OK();
}

Json DeploymentController::CalculateStatus(const Json& d, const ReplicaSets& rss) {
  std::vector<Json> all = rss.All();
  int32_t available = SumStatus(all, "availableReplicas");
  Json status = d.value("status", Json::object());
  status["observedGeneration"] = d["metadata"].value("generation", 0);
  status["replicas"] = SumStatus(all, "replicas");
  status["updatedReplicas"] = rss.new_rs ? StatusInt(*rss.new_rs, "replicas") : 0;
  status["readyReplicas"] = SumStatus(all, "readyReplicas");
  status["availableReplicas"] = available;
  status["unavailableReplicas"] = std::max(0, SumSpecReplicas(all) - available);
  TimePoint now = clock_.Now();
  if (available >= Replicas(d) - MaxUnavailable(d)) {
    SetCondition(status, "Available", "True", "MinimumReplicasAvailable", "Deployment has minimum availability.", now,
                 true);
  } else {
    SetCondition(status, "Available", "False", "MinimumReplicasUnavailable",
                 "Deployment does not have minimum availability.", now, true);
  }
  OmitZeros(status);
  return status;
}

Status DeploymentController::SyncDeploymentStatus(const Json& d, const ReplicaSets& rss) {
  Json status = CalculateStatus(d, rss);
  if (status == d.value("status", Json::object())) return Status::OK();
  Json copy = d;
  return UpdateStatus(&copy, status);
}

Status DeploymentController::SyncRolloutStatus(const Json& d, const ReplicaSets& rss) {
  Json status = CalculateStatus(d, rss);
  if (!HasProgressDeadline(d)) RemoveCondition(status, "Progressing");
  const Json old_status = d.value("status", Json::object());
  const Json* current = FindCondition(old_status, "Progressing");
  std::string current_reason = current ? current->value("reason", "") : "";
  auto count = [&status](const char* f) { return status.value(f, 0); };
  bool complete = count("replicas") == count("updatedReplicas") && current_reason == "NewReplicaSetAvailable";
  TimePoint now = clock_.Now();
  std::string subject = rss.new_rs ? "ReplicaSet \"" + NameOf(*rss.new_rs) + "\"" : "Deployment \"" + NameOf(d) + "\"";
  if (HasProgressDeadline(d) && !complete) {
    if (DeploymentComplete(d, status)) {
      SetCondition(status, "Progressing", "True", "NewReplicaSetAvailable", subject + " has successfully progressed.",
                   now, true);
    } else if (DeploymentProgressing(d, status)) {
      // Progress refreshes lastUpdateTime (the deadline counts from it) even when the
      // reason stays the same.
      std::string transition = FormatRFC3339(now);
      if (current && current->value("status", "") == "True") {
        transition = current->value("lastTransitionTime", transition);
      }
      RemoveCondition(status, "Progressing");
      SetCondition(status, "Progressing", "True", "ReplicaSetUpdated", subject + " is progressing.", now, true);
      for (auto& c : status["conditions"]) {
        if (c["type"] == "Progressing") c["lastTransitionTime"] = transition;
      }
    } else if (DeploymentTimedOut(d, status, now)) {
      SetCondition(status, "Progressing", "False", "ProgressDeadlineExceeded", subject + " has timed out progressing.",
                   now, true);
    }
  }
  // A ReplicaSet that cannot create or delete pods shows on its Deployment.
  std::optional<Json> failure;
  for (const Json& rs : rss.All()) {
    const Json rs_status = rs.value("status", Json::object());
    if (const Json* c = FindCondition(rs_status, "ReplicaFailure")) {
      if (!failure || (rss.new_rs && UidOf(rs) == UidOf(*rss.new_rs))) failure = *c;
    }
  }
  if (failure) {
    SetCondition(status, "ReplicaFailure", failure->value("status", "True"), failure->value("reason", ""),
                 failure->value("message", ""), now, true);
  } else {
    RemoveCondition(status, "ReplicaFailure");
  }

  if (status == old_status) {
    // Nothing new: look again when the progress deadline would pass.
    const Json* cond = FindCondition(status, "Progressing");
    if (HasProgressDeadline(d) && cond && cond->value("reason", "") != "NewReplicaSetAvailable" &&
        cond->value("reason", "") != "ProgressDeadlineExceeded") {
      if (auto from = ParseRFC3339(cond->value("lastUpdateTime", ""))) {
        auto due = *from + std::chrono::seconds(d["spec"]["progressDeadlineSeconds"].get<int64_t>()) + std::chrono::seconds(1);
        auto wait = std::chrono::duration_cast<std::chrono::milliseconds>(due - now);
        queue_.AddAfter(client::Informer::KeyOf(d), std::max(wait, std::chrono::milliseconds(0)));
      }
    }
    return Status::OK();
  }
  Json copy = d;
  return UpdateStatus(&copy, status);
}

Status DeploymentController::UpdateStatus(Json* d, const Json& status) {
  Json copy = *d;
  copy["status"] = status;
  auto updated = client_->Update(kDeployments, NamespaceOf(copy), copy, "status");
  if (updated.status().code() == Code::kNotFound) return Status::OK();
  if (!updated.ok()) return updated.status();
  *d = std::move(*updated);
  return Status::OK();
}

}  // namespace kubes::controller
