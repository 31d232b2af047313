// The pods/binding subresource: how the scheduler assigns a pod to a node
// (upstream: pkg/registry/core/pod/storage BindingREST). A Binding sets spec.nodeName
// once, copies the binding's annotations onto the pod and marks it PodScheduled.
#include "apiserver/endpoints/endpoints.h"
#include "apiserver/endpoints/target.h"

namespace kubes::apiserver {

Response Endpoints::Bind(const Request& req, const Target& t) {
  const ResourceInfo& r = *t.resource;
  Json binding = Json::parse(req.body, nullptr, false);
  if (!binding.is_object()) return ErrorResponse(NewBadRequest("the body of a Binding must be a JSON object"));
  const Json& meta = binding.value("metadata", Json::object());
  std::string node = binding.value("target", Json::object()).value("name", "");
  if (meta.value("name", t.name) != t.name) {
    return ErrorResponse(NewBadRequest("name in the Binding (" + meta.value("name", "") + ") does not match the pod (" + t.name + ")"));
  }
  if (node.empty()) {
    return ErrorResponse(Status(Code::kInvalid, "Binding \"" + t.name + "\" is invalid: target.name: Required value")
                             .WithCauses({{"FieldValueRequired", "Required value", "target.name"}}));
  }
  for (int attempt = 0; attempt < 5; ++attempt) {
    auto existing = cacher_->Get(t.Key());
    if (!existing.ok()) return ErrorResponse(NewNotFound(r, t.name));
    Json pod = (*existing)->object;
    if (pod["metadata"].contains("deletionTimestamp")) {
      return ErrorResponse(NewConflict(r, t.name, "pod " + t.name + " is being deleted, cannot be assigned to a host"));
    }
    std::string current = pod["spec"].value("nodeName", "");
    if (!current.empty()) {
      return ErrorResponse(NewConflict(r, t.name, "pod " + t.name + " is already assigned to node \"" + current + "\""));
    }
    pod["spec"]["nodeName"] = node;
    const Json annotations = meta.value("annotations", Json::object());
    for (const auto& [k, v] : annotations.items()) pod["metadata"]["annotations"][k] = v;
    Json& conditions = pod["status"]["conditions"];
    if (!conditions.is_array()) conditions = Json::array();
    Json scheduled = {{"type", "PodScheduled"}, {"status", "True"}, {"lastProbeTime", nullptr},
                      {"lastTransitionTime", FormatRFC3339(clock_->Now())}};
    bool found = false;
    for (Json& c : conditions) {
      if (c.value("type", "") != "PodScheduled") continue;
      found = true;
      if (c.value("status", "") != "True") c = scheduled;
    }
    if (!found) conditions.push_back(scheduled);
    auto stored = cacher_->Update(t.Key(), std::move(pod), (*existing)->revision);
    if (stored.ok()) {
      return JsonResponse(201, Json({{"kind", "Status"}, {"apiVersion", "v1"}, {"metadata", Json::object()},
                                     {"status", "Success"}, {"code", 201}})
                                   .dump());
    }
    if (stored.status().code() != Code::kConflict) return ErrorResponse(stored.status());
  }
  return ErrorResponse(NewConflict(r, t.name, "the object has been modified; please apply your changes to the latest version and try again"));
}

}  // namespace kubes::apiserver
