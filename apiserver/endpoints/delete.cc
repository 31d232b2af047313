// DELETE and DELETECOLLECTION (upstream handlers/delete.go and the generic registry
// Store's Delete: preconditions, graceful deletion, finalizers, propagation policy).
//
// An object is removed from storage at once only when nothing has to happen first.
// Otherwise it gets metadata.deletionTimestamp and stays until:
//   - its finalizers are removed (by the garbage collector for "foregroundDeletion"
//     and "orphan", by the namespace controller for a namespace's "kubernetes"), or
//   - for a pod bound to a node, the node's kubelet has stopped its containers.
#include "apiserver/endpoints/target.h"

namespace kubes::apiserver {
namespace {

std::string PreconditionFailure(const Json& options, const Json& obj) {
  const Json& pre = options.value("preconditions", Json::object());
  const Json& meta = obj["metadata"];
  if (pre.contains("uid") && pre["uid"].is_string() && pre["uid"] != meta.value("uid", "")) {
    return "Precondition failed: UID in precondition: " + pre["uid"].get<std::string>() +
           ", UID in object meta: " + meta.value("uid", "");
  }
  if (pre.contains("resourceVersion") && pre["resourceVersion"].is_string() &&
      pre["resourceVersion"] != meta.value("resourceVersion", "")) {
    return "Precondition failed: ResourceVersion in precondition: " + pre["resourceVersion"].get<std::string>() +
           ", ResourceVersion in object meta: " + meta.value("resourceVersion", "");
  }
  return "";
}

// DeleteOptions from the body (kubectl sends one) and from query parameters.
Result<Json> ParseDeleteOptions(const Request& req) {
  Json options = Json::object();
  if (!req.body.empty()) {
    options = Json::parse(req.body, nullptr, false);
    if (!options.is_object()) return NewBadRequest("invalid DeleteOptions in request body");
  }
  if (req.HasQuery("gracePeriodSeconds")) options["gracePeriodSeconds"] = std::atoll(req.Query("gracePeriodSeconds").c_str());
  if (req.HasQuery("propagationPolicy")) options["propagationPolicy"] = req.Query("propagationPolicy");
  if (req.HasQuery("orphanDependents")) options["orphanDependents"] = req.QueryBool("orphanDependents");
  std::string policy = options.value("propagationPolicy", "");
  if (!policy.empty() && policy != "Foreground" && policy != "Background" && policy != "Orphan") {
    return Status(Code::kInvalid, "DeleteOptions.meta.k8s.io \"\" is invalid: propagationPolicy: Unsupported value: \"" +
                                      policy + "\": supported values: \"Foreground\", \"Background\", \"Orphan\"");
  }
  return options;
}

// What a dry-run deletion would leave: not stored, only shown.
ObjectPtr DryRunObject(const StoredObject& existing, Json obj) {
  auto out = std::make_shared<StoredObject>();
  out->key = existing.key;
  out->revision = existing.revision;
  out->object = std::move(obj);
  out->Encode();
  return out;
}

void AddFinalizer(Json& meta, const std::string& f) {
  Json& list = meta["finalizers"];
  if (!list.is_array()) list = Json::array();
  for (const auto& x : list) {
    if (x == f) return;
  }
  list.push_back(f);
}

}  // namespace

Result<ObjectPtr> Endpoints::DeleteObject(const Target& t, const ObjectPtr& existing, const Json& options,
                                          bool dry_run, bool* deleted_now) {
  const ResourceInfo& r = *t.resource;
  *deleted_now = false;
  std::string failure = PreconditionFailure(options, existing->object);
  if (!failure.empty()) return NewConflict(r, t.name, failure);
  Json obj = existing->object;
  Json& meta = obj["metadata"];
  if (meta.contains("deletionTimestamp") && !(r.kind == "Pod" && options.value("gracePeriodSeconds", -1) == 0)) {
    return existing;  // already being deleted
  }

  std::string policy = options.value("propagationPolicy", "");
  if (policy.empty() && options.value("orphanDependents", false)) policy = "Orphan";
  if (policy == "Foreground") AddFinalizer(meta, "foregroundDeletion");
  if (policy == "Orphan") AddFinalizer(meta, "orphan");

  std::string now = FormatRFC3339(clock_->Now());
  bool is_namespace = r.group.empty() && r.kind == "Namespace";
  // Graceful deletion of a pod that a node runs: the kubelet finishes it.
  if (r.group.empty() && r.kind == "Pod" && !obj.value("spec", Json::object()).value("nodeName", "").empty()) {
    int64_t grace = options.value("gracePeriodSeconds",
                                  obj["spec"].value("terminationGracePeriodSeconds", int64_t{30}));
    std::string phase = obj.value("status", Json::object()).value("phase", "");
    if (grace > 0 && phase != "Succeeded" && phase != "Failed") {
      auto t_end = clock_->Now() + std::chrono::seconds(grace);
      meta["deletionTimestamp"] = FormatRFC3339(t_end);
      meta["deletionGracePeriodSeconds"] = grace;
      if (dry_run) return DryRunObject(*existing, std::move(obj));
      return StoreUpdate(t, std::move(obj), existing);
    }
  }
  bool finalizers = !meta.value("finalizers", Json::array()).empty() ||
                    (is_namespace && !obj.value("spec", Json::object()).value("finalizers", Json::array()).empty());
  if (finalizers) {
    meta["deletionTimestamp"] = now;
    meta["deletionGracePeriodSeconds"] = 0;
    if (is_namespace) obj["status"]["phase"] = "Terminating";
    if (dry_run) return DryRunObject(*existing, std::move(obj));
    auto updated = cacher_->Update(t.Key(), std::move(obj), existing->revision);
    if (!updated.ok() && updated.status().code() == Code::kConflict) {
      return NewConflict(r, t.name, "the object has been modified; please apply your changes to the latest version and try again");
    }
    return updated;
  }
  *deleted_now = true;
  if (dry_run) return existing;
  auto gone = cacher_->Delete(t.Key(), existing->revision);
  if (!gone.ok() && gone.status().code() == Code::kConflict) {
    return NewConflict(r, t.name, "the object has been modified; please apply your changes to the latest version and try again");
  }
  if (!gone.ok() && gone.status().code() == Code::kNotFound) return NewNotFound(r, t.name);
  return gone;
}

Response Endpoints::Delete(const Request& req, const Target& t) {
  if (!t.subresource.empty()) {
    return ErrorResponse(Status(Code::kMethodNotAllowed, "the server does not allow this method on the requested resource"));
  }
  auto options = ParseDeleteOptions(req);
  if (!options.ok()) return ErrorResponse(options.status());
  bool dry_run = req.Query("dryRun") == "All" || options->value("dryRun", Json::array()).dump().find("All") != std::string::npos;
  for (int attempt = 0; attempt < 5; ++attempt) {
    auto existing = cacher_->Get(t.Key());
    if (!existing.ok()) return ErrorResponse(NewNotFound(*t.resource, t.name));
    bool deleted_now = false;
    auto result = DeleteObject(t, *existing, *options, dry_run, &deleted_now);
    if (!result.ok()) {
      // Lost a race with another writer and no precondition was given: try again.
      bool has_preconditions = options->contains("preconditions");
      if (result.status().code() == Code::kConflict && !has_preconditions) continue;
      return ErrorResponse(result.status());
    }
    return JsonResponse(200, endpoints::Encode(*t.resource, **result));
  }
  return ErrorResponse(NewConflict(*t.resource, t.name, "the object has been modified; please apply your changes to the latest version and try again"));
}

Response Endpoints::DeleteCollection(const Request& req, const Target& t) {
  auto filter = endpoints::ParseFilter(req, *t.resource);
  if (!filter.ok()) return ErrorResponse(filter.status());
  auto options = ParseDeleteOptions(req);
  if (!options.ok()) return ErrorResponse(options.status());
  bool dry_run = req.Query("dryRun") == "All";
  int64_t rev = 0;
  std::string body = "{\"apiVersion\":\"" + t.resource->GroupVersion() + "\",\"items\":[";
  bool first = true;
  for (const auto& obj : cacher_->List(t.ListPrefix(), &rev)) {
    if (!filter->Matches(*t.resource, obj->object)) continue;
    Target one = t;
    one.name = obj->object["metadata"].value("name", "");
    one.namespace_ = obj->object["metadata"].value("namespace", "");
    bool deleted_now = false;
    auto result = DeleteObject(one, obj, *options, dry_run, &deleted_now);
    if (!result.ok()) continue;  // changed or gone meanwhile; a later call will see it
    body += (first ? "" : ",") + endpoints::Encode(*t.resource, **result);
    first = false;
  }
  body += "],\"kind\":\"" + t.resource->kind + "List\",\"metadata\":{\"resourceVersion\":\"" +
          std::to_string(cacher_->Revision()) + "\"}}";
  return JsonResponse(200, body);
}

}  // namespace kubes::apiserver
