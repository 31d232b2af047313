// The pods/eviction subresource: a delete that respects PodDisruptionBudgets
// (upstream: pkg/registry/core/pod/storage/eviction.go). `kubectl drain` evicts every
// pod of a node this way and retries while the answer is 429.
//
//   pod Pending, Succeeded, Failed or already being deleted → deleted, no budget asked
//   no budget selects the pod                                → deleted
//   more than one budget selects it                          → 500, not supported
//   the budget has not seen its latest spec yet              → 429 (still being processed)
//   the pod is not ready and the budget allows that          → deleted (it was not
//     (unhealthyPodEvictionPolicy AlwaysAllow, or the budget   counted as healthy)
//      is met anyway)
//   status.disruptionsAllowed == 0                           → 429 with the budget's numbers
//   otherwise                                                → disruptionsAllowed-1, the pod
//                                                              noted in disruptedPods, deleted
// A pod that is deleted gets the DisruptionTarget condition (EvictionByEvictionAPI) first.
#include "apiserver/endpoints/target.h"
#include "apimachinery/labels/selector.h"

namespace kubes::apiserver {
namespace {

bool IsReady(const Json& pod) {
  for (const auto& c : pod.value("status", Json::object()).value("conditions", Json::array())) {
    if (c.value("type", "") == "Ready") return c.value("status", "") == "True";
  }
  return false;
}

Status TooManyRequests(const std::string& cause, int retry_after) {
  Details details;
  details.retry_after_seconds = retry_after;
  return Status(Code::kTooManyRequests, "Cannot evict pod as it would violate the pod's disruption budget.")
      .WithDetails(details)
      .WithCauses({{"DisruptionBudget", cause, ""}});
}

Response SuccessResponse() {
  return JsonResponse(201, Json({{"kind", "Status"}, {"apiVersion", "v1"}, {"metadata", Json::object()},
                                 {"status", "Success"}, {"code", 201}})
                               .dump());
}

}  // namespace

Response Endpoints::Evict(const Request& req, const Target& t) {
  ResourceInfo eviction_kind;
  eviction_kind.group = "policy";
  eviction_kind.version = "v1";
  eviction_kind.kind = "Eviction";
  auto eviction = endpoints::DecodeBody(req, eviction_kind, *schemas_);
  if (!eviction.ok()) return ErrorResponse(eviction.status());
  if ((*eviction).value("metadata", Json::object()).value("name", "") != t.name) {
    return ErrorResponse(NewBadRequest("name in URL does not match name in Eviction object"));
  }
  Json options = (*eviction).value("deleteOptions", Json::object());
  if (!options.is_object()) options = Json::object();
  bool dry_run = req.Query("dryRun") == "All" || options.value("dryRun", Json::array()).dump().find("All") != std::string::npos;
  bool caller_rv = options.value("preconditions", Json::object()).contains("resourceVersion");

  ResourcePtr pdbs_resource = registry_->Find("policy", "v1", "poddisruptionbudgets");
  bool budget_taken = false;  // a retry after a lost race must not take a second disruption
  for (int attempt = 0; attempt < 20; ++attempt) {
    auto existing = cacher_->Get(t.Key());
    if (!existing.ok()) return ErrorResponse(NewNotFound(*t.resource, t.name));
    const Json& pod = (*existing)->object;
    std::string phase = pod.value("status", Json::object()).value("phase", "");
    bool terminating = pod["metadata"].contains("deletionTimestamp");
    Json delete_options = options;
    // Delete only the pod that was checked: one that turned ready meanwhile counts.
    auto pin_version = [&] {
      if (!caller_rv) delete_options["preconditions"]["resourceVersion"] = pod["metadata"].value("resourceVersion", "");
    };

    bool checked = phase == "Succeeded" || phase == "Failed" || phase == "Pending" || terminating;
    if (budget_taken) {
      pin_version();
    } else if (!checked) {
      // The budgets that select this pod.
      std::vector<ObjectPtr> budgets;
      int64_t rev = 0;
      labels::Labels pod_labels;
      const Json label_map = pod["metadata"].value("labels", Json::object());
      for (const auto& [k, v] : label_map.items()) {
        if (v.is_string()) pod_labels[k] = v.get<std::string>();
      }
      for (const auto& b : cacher_->List(pdbs_resource->KeyPrefix() + t.namespace_ + "/", &rev)) {
        auto sel = labels::SelectorFromLabelSelector(b->object.value("spec", Json::object()).value("selector", Json()));
        if (sel.ok() && !sel->Empty() && sel->Matches(pod_labels)) budgets.push_back(b);
      }
      if (budgets.size() > 1) {
        return ErrorResponse(Status(Code::kInternal,
                                    "This pod has more than one PodDisruptionBudget, which the eviction subresource does not support."));
      }
      if (budgets.size() == 1) {
        Json pdb = budgets[0]->object;
        const std::string pdb_name = pdb["metadata"].value("name", "");
        const Json st = pdb.value("status", Json::object());
        bool ready = IsReady(pod);
        std::string policy = pdb.value("spec", Json::object()).value("unhealthyPodEvictionPolicy", "IfHealthyBudget");
        int64_t healthy = st.value("currentHealthy", 0), desired = st.value("desiredHealthy", 0);
        if (!ready && (policy == "AlwaysAllow" || (healthy >= desired && desired > 0))) {
          pin_version();  // an unready pod may be evicted without using up the budget
        } else {
          if (st.value("observedGeneration", int64_t{0}) < pdb["metadata"].value("generation", int64_t{0})) {
            return ErrorResponse(
                TooManyRequests("The disruption budget " + pdb_name + " is still being processed by the server.", 10));
          }
          int64_t allowed = st.value("disruptionsAllowed", 0);
          if (allowed < 0) {
            return ErrorResponse(Status(Code::kForbidden, "poddisruptionbudgets.policy \"" + pdb_name +
                                                              "\" is forbidden: pdb disruptions allowed is negative"));
          }
          if (allowed == 0) {
            return ErrorResponse(TooManyRequests("The disruption budget " + pdb_name + " needs " +
                                                     std::to_string(desired) + " healthy pods and has " +
                                                     std::to_string(healthy) + " currently",
                                                 0));
          }
          if (!dry_run) {
            // Take one disruption from the budget; the disruption controller counts the
            // pod as gone from now on.
            pdb["status"]["disruptionsAllowed"] = allowed - 1;
            pdb["status"]["disruptedPods"][t.name] = FormatRFC3339(clock_->Now());
            if (allowed - 1 == 0) {
              for (auto& c : pdb["status"]["conditions"]) {
                if (c.value("type", "") == "DisruptionAllowed" && c.value("status", "") == "True") {
                  c["status"] = "False";
                  c["reason"] = "InsufficientPods";
                  c["lastTransitionTime"] = FormatRFC3339(clock_->Now());
                }
              }
            }
            auto written = cacher_->Update(budgets[0]->key, std::move(pdb), budgets[0]->revision);
            if (!written.ok() && written.status().code() == Code::kConflict) continue;  // budget changed: look again
            if (!written.ok()) return ErrorResponse(written.status());
            budget_taken = true;
          }
          pin_version();
        }
      }
    } else if (phase != "Succeeded" && phase != "Failed" && !terminating) {
      pin_version();
    }
    if (dry_run) return SuccessResponse();

    // Say why the pod goes, then delete it.
    ObjectPtr target = *existing;
    if (!terminating) {
      Json marked = pod;
      Json& conditions = marked["status"]["conditions"];
      if (!conditions.is_array()) conditions = Json::array();
      bool has = false;
      for (const auto& c : conditions) has |= c.value("type", "") == "DisruptionTarget" && c.value("status", "") == "True";
      if (!has) {
        Json c = {{"type", "DisruptionTarget"}, {"status", "True"}, {"lastProbeTime", nullptr},
                  {"lastTransitionTime", FormatRFC3339(clock_->Now())}, {"reason", "EvictionByEvictionAPI"},
                  {"message", "Eviction API: evicting"}};
        conditions.push_back(c);
        auto updated = cacher_->Update(t.Key(), std::move(marked), (*existing)->revision);
        if (!updated.ok() && updated.status().code() == Code::kConflict) {
          if (caller_rv) return ErrorResponse(NewConflict(*t.resource, t.name, "the object has been modified"));
          continue;
        }
        if (!updated.ok()) return ErrorResponse(updated.status());
        target = *updated;
        if (delete_options.contains("preconditions") && delete_options["preconditions"].contains("resourceVersion")) {
          delete_options["preconditions"]["resourceVersion"] = std::to_string(target->revision);
        }
      }
    }
    bool deleted_now = false;
    auto result = DeleteObject(t, target, delete_options, false, &deleted_now);
    if (!result.ok()) {
      if (result.status().code() == Code::kConflict && !caller_rv) continue;
      return ErrorResponse(result.status());
    }
    return SuccessResponse();
  }
  return ErrorResponse(Status(Code::kTimeout, "couldn't update PodDisruptionBudget due to conflicts"));
}

}  // namespace kubes::apiserver
