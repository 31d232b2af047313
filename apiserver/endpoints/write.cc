// CREATE, UPDATE and PATCH (upstream handlers/create.go, update.go, patch.go and the
// generic registry Store's Create/Update).
#include "api/protobuf.h"
#include "api/yaml.h"
#include "apiserver/endpoints/target.h"
#include "apiserver/fieldmanager/fieldmanager.h"
#include "apiserver/patch/json_patch.h"
#include "apiserver/patch/merge_patch.h"
#include "apiserver/patch/strategic_merge_patch.h"

namespace kubes::apiserver {
namespace {

constexpr int kMaxPatchRetries = 5;

std::string MediaType(const Request& req) {
  std::string ct = req.Header("content-type");
  if (auto semi = ct.find(';'); semi != std::string::npos) ct = ct.substr(0, semi);
  while (!ct.empty() && ct.back() == ' ') ct.pop_back();
  return ct;
}

Status UnsupportedMediaType(const std::string& type, const std::string& accepted) {
  return Status(Code::kUnsupportedMediaType, "the body of the request was in an unknown format - accepted media types include: " + accepted);
}

// How Go's encoding/json describes the first problem in a malformed document.
std::string JsonErrorText(const std::string& body) {
  try {
    (void)Json::parse(body);
  } catch (const Json::parse_error& e) {
    size_t at = e.byte > 0 ? e.byte - 1 : 0;
    if (at >= body.size()) return "unexpected end of JSON input";
    return std::string("invalid character '") + body[at] + "' looking for beginning of value";
  } catch (...) {
  }
  return "unexpected end of JSON input";
}

// The first 30 bytes of a body for an error message (upstream summarizeData).
std::string SummarizeBody(const std::string& body) {
  if (body.empty()) return "<empty>";
  if (body[0] == '{') return body.size() > 30 ? body.substr(0, 30) + " ..." : body;
  static const char* kHex = "0123456789abcdef";
  std::string hex;
  for (size_t i = 0; i < std::min<size_t>(body.size(), 30); ++i) {
    hex += kHex[static_cast<unsigned char>(body[i]) >> 4];
    hex += kHex[static_cast<unsigned char>(body[i]) & 15];
  }
  return body.size() > 30 ? hex + " ..." : hex;
}

}  // namespace

namespace endpoints {

Result<Json> DecodeBody(const Request& req, const ResourceInfo& r, const api::SchemaRegistry& schemas) {
  std::string type = MediaType(req);
  Result<Json> obj = Json();
  if (type.empty() || type == "application/json" || type == "*/*") {
    Json j = Json::parse(req.body, nullptr, false);
    if (j.is_discarded()) {
      return NewBadRequest("the object provided is unrecognized (must be of type " + r.kind +
                           "): couldn't get version/kind; json parse error: " + JsonErrorText(req.body) + " (" +
                           SummarizeBody(req.body) + ")");
    }
    obj = std::move(j);
  } else if (type == "application/yaml") {
    obj = api::YamlToJson(req.body);
  } else if (type == api::kProtobufContentType) {
    obj = api::DecodeProtobufObject(req.body, schemas);
  } else {
    return UnsupportedMediaType(type, "application/json, application/yaml, application/vnd.kubernetes.protobuf");
  }
  if (!obj.ok()) return obj.status();
  if (!obj->is_object()) return NewBadRequest("Object 'Kind' is missing in '" + req.body.substr(0, 100) + "'");
  Json& o = *obj;
  std::string api_version = o.value("apiVersion", "");
  std::string kind = o.value("kind", "");
  if (!api_version.empty() && api_version != r.GroupVersion()) {
    return NewBadRequest("the API version in the data (" + api_version + ") does not match the expected API version (" +
                         r.GroupVersion() + ")");
  }
  if (!kind.empty() && kind != r.kind) {
    return NewBadRequest("the kind in the data (" + kind + ") does not match the expected kind (" + r.kind + ")");
  }
  o["apiVersion"] = r.GroupVersion();
  o["kind"] = r.kind;
  return obj;
}

}  // namespace endpoints

namespace {
using endpoints::DecodeBody;

bool DryRun(const Request& req) { return req.Query("dryRun") == "All"; }

Response WithWarnings(Response resp, const std::vector<std::string>& warnings) {
  for (const auto& w : warnings) resp.AddWarning(w);
  return resp;
}

// The object without its resourceVersion, to spot no-op updates. (managedFields
// count: a new co-owner is a real change; the field manager leaves them alone when a
// write changes nothing.)
Json Comparable(const Json& obj) {
  Json c = obj;
  if (c.contains("metadata")) c["metadata"].erase("resourceVersion");
  return c;
}

bool FinalizersEmpty(const ResourceInfo& r, const Json& obj) {
  if (!obj["metadata"].value("finalizers", Json::array()).empty()) return false;
  // A namespace also waits for spec.finalizers (the namespace controller's).
  if (r.kind == "Namespace" && r.group.empty()) {
    return obj.value("spec", Json::object()).value("finalizers", Json::array()).empty();
  }
  return true;
}

// Services take cluster IPs and node ports from shared pools: their writes go one at
// a time so two never pick the same free address.
bool AllocatesFromPool(const ResourceInfo& r) { return r.group.empty() && r.kind == "Service"; }

int64_t UnixSeconds(const Clock& c) {
  return std::chrono::duration_cast<std::chrono::seconds>(c.Now().time_since_epoch()).count();
}

// Who made a non-apply change: ?fieldManager=, else the User-Agent's program name.
std::string Manager(const Request& req) {
  return fieldmanager::ManagerOrUserAgent(req.Query("fieldManager"), req.Header("user-agent"));
}

}  // namespace

// Records in metadata.managedFields which fields this write set (operation Update).
Json Endpoints::TrackChange(const Request& req, const Target& t, const Json* old, const Json& obj) {
  return fieldmanager::UpdateManagedFields(old, obj, Manager(req), fieldmanager::kOperationUpdate,
                                           t.resource->GroupVersion(), t.tracked_as.empty() ? t.subresource : t.tracked_as,
                                           UnixSeconds(*clock_),
                                           t.resource->schema);
}

Result<ObjectPtr> Endpoints::StoreUpdate(const Target& t, Json obj, const ObjectPtr& old) {
  const ResourceInfo& r = *t.resource;
  // An object waiting only for its finalizers goes once the last one is removed. A
  // pod in graceful deletion (grace period > 0) stays: its kubelet deletes it.
  bool deleting = obj["metadata"].contains("deletionTimestamp") &&
                  obj["metadata"].value("deletionGracePeriodSeconds", int64_t{0}) == 0;
  if (deleting && FinalizersEmpty(r, obj)) {
    auto gone = cacher_->Delete(t.Key(), old->revision);
    if (!gone.ok() && gone.status().code() == Code::kConflict) {
      return NewConflict(r, t.name, "the object has been modified; please apply your changes to the latest version and try again");
    }
    return gone;
  }
  if (Comparable(obj) == Comparable(old->object)) return old;  // nothing changed: no write, no event
  auto updated = cacher_->Update(t.Key(), std::move(obj), old->revision);
  if (!updated.ok() && updated.status().code() == Code::kConflict) {
    return NewConflict(r, t.name, "the object has been modified; please apply your changes to the latest version and try again");
  }
  if (!updated.ok() && updated.status().code() == Code::kNotFound) return NewNotFound(r, t.name);
  return updated;
}

Response Endpoints::Create(const Request& req, const Target& t) {
  const ResourceInfo& r = *t.resource;
  if (!t.name.empty() && t.subresource.empty()) {
    return ErrorResponse(Status(Code::kMethodNotAllowed, "the server does not allow this method on the requested resource"));
  }
  if (r.resource == "pods" && r.group.empty() && t.subresource == "binding") return Bind(req, t);
  if (r.resource == "pods" && r.group.empty() && t.subresource == "eviction") return Evict(req, t);
  if (!t.subresource.empty()) {
    return ErrorResponse(Status(Code::kMethodNotAllowed, r.resource + "/" + t.subresource + ": create is not supported yet by kubes"));
  }
  auto body = DecodeBody(req, r, *schemas_);
  if (!body.ok()) return ErrorResponse(body.status());
  std::unique_lock<std::mutex> serial(allocation_mu_, std::defer_lock);
  if (AllocatesFromPool(r)) serial.lock();
  std::vector<std::string> warnings;
  auto obj = AdmitCreate(req, t, std::move(body).value(), warnings);
  if (!obj.ok()) return WithWarnings(ErrorResponse(obj.status()), warnings);
  *obj = TrackChange(req, t, nullptr, *obj);
  std::string name = (*obj)["metadata"].value("name", "");
  Target target = t;
  target.name = name;
  if (DryRun(req)) {
    if (cacher_->Get(target.Key()).ok()) return ErrorResponse(NewAlreadyExists(r, name));
    return WithWarnings(JsonResponse(201, obj->dump()), warnings);
  }
  auto stored = cacher_->Create(target.Key(), endpoints::ToStorage(r, std::move(obj).value()));
  if (!stored.ok()) {
    if (stored.status().code() == Code::kAlreadyExists) return ErrorResponse(NewAlreadyExists(r, name));
    return ErrorResponse(stored.status());
  }
  return WithWarnings(JsonResponse(201, endpoints::Encode(r, **stored)), warnings);
}

Response Endpoints::Update(const Request& req, const Target& t) {
  const ResourceInfo& r = *t.resource;
  if (t.subresource == "scale") {
    Json scale = Json::parse(req.body, nullptr, false);
    if (!scale.is_object()) return ErrorResponse(NewBadRequest("invalid Scale body"));
    // A Scale update is a patch of spec.replicas on the object itself.
    Request patch = req;
    patch.headers["content-type"] = "application/merge-patch+json";
    patch.body = Json({{"spec", {{"replicas", scale.value("spec", Json::object()).value("replicas", 0)}}}}).dump();
    Target main = t;
    main.subresource = "";
    main.tracked_as = "scale";
    Response resp = Patch(patch, main);
    if (resp.code != 200) return resp;
    return Get(req, t);
  }
  auto body = DecodeBody(req, r, *schemas_);
  if (!body.ok()) return ErrorResponse(body.status());
  std::unique_lock<std::mutex> serial(allocation_mu_, std::defer_lock);
  if (AllocatesFromPool(r)) serial.lock();
  std::string rv = (*body)["metadata"].value("resourceVersion", "");
  // Without a resourceVersion the update is unconditional: a race with another writer
  // is retried against the new state (upstream GuaranteedUpdate).
  for (int attempt = 0; attempt < kMaxPatchRetries; ++attempt) {
    auto existing = cacher_->Get(t.Key());
    if (!existing.ok()) return ErrorResponse(NewNotFound(r, t.name));
    if (!rv.empty() && rv != std::to_string((*existing)->revision)) {
      return ErrorResponse(NewConflict(r, t.name, "the object has been modified; please apply your changes to the latest version and try again"));
    }
    std::vector<std::string> warnings;
    Json holder;
    const Json& old = endpoints::View(r, (*existing)->object, holder);
    auto obj = AdmitUpdate(req, t, *body, old, warnings);
    if (!obj.ok()) return WithWarnings(ErrorResponse(obj.status()), warnings);
    *obj = TrackChange(req, t, &old, *obj);
    if (DryRun(req)) return WithWarnings(JsonResponse(200, obj->dump()), warnings);
    auto stored = StoreUpdate(t, endpoints::ToStorage(r, std::move(obj).value()), *existing);
    if (stored.ok()) return WithWarnings(JsonResponse(200, endpoints::Encode(r, **stored)), warnings);
    if (stored.status().code() != Code::kConflict || !rv.empty()) return ErrorResponse(stored.status());
  }
  return ErrorResponse(NewConflict(r, t.name, "the object has been modified; please apply your changes to the latest version and try again"));
}

Response Endpoints::Patch(const Request& req, const Target& t) {
  const ResourceInfo& r = *t.resource;
  std::string type = MediaType(req);
  bool is_crd = r.schema == nullptr;
  if (type == "application/apply-patch+yaml") return Apply(req, t);
  if (type != "application/json-patch+json" && type != "application/merge-patch+json" &&
      type != "application/strategic-merge-patch+json") {
    return ErrorResponse(UnsupportedMediaType(type, "application/json-patch+json, application/merge-patch+json, application/strategic-merge-patch+json, application/apply-patch+yaml"));
  }
  if (type == "application/strategic-merge-patch+json" && is_crd) {
    return ErrorResponse(UnsupportedMediaType(type, "application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml"));
  }
  Json patch = Json::parse(req.body, nullptr, false);
  if (patch.is_discarded()) return ErrorResponse(NewBadRequest("error decoding patch: invalid JSON"));
  if (t.subresource == "scale") {
    // Patch the Scale view, then write its spec.replicas into the object.
    Request get = req;
    get.method = "GET";
    Response current = Get(get, t);
    if (current.code != 200) return current;
    Json scale = Json::parse(current.body);
    Result<Json> patched = type == "application/json-patch+json" ? patch::ApplyJsonPatch(scale, patch)
                                                                 : patch::MergePatch(scale, patch);
    if (!patched.ok()) return ErrorResponse(patched.status());
    Request inner = req;
    inner.headers["content-type"] = "application/merge-patch+json";
    inner.body = Json({{"spec", {{"replicas", patched->value("spec", Json::object()).value("replicas", 0)}}}}).dump();
    Target main = t;
    main.subresource = "";
    main.tracked_as = "scale";
    Response resp = Patch(inner, main);
    if (resp.code != 200) return resp;
    return Get(get, t);
  }
  std::unique_lock<std::mutex> serial(allocation_mu_, std::defer_lock);
  if (AllocatesFromPool(r)) serial.lock();
  std::vector<std::string> warnings;
  for (int attempt = 0; attempt < kMaxPatchRetries; ++attempt) {
    auto existing = cacher_->Get(t.Key());
    if (!existing.ok()) return ErrorResponse(NewNotFound(r, t.name));
    Json holder;
    const Json& original = endpoints::View(r, (*existing)->object, holder);
    Result<Json> patched = Json();
    if (type == "application/json-patch+json") patched = patch::ApplyJsonPatch(original, patch);
    else if (type == "application/merge-patch+json") patched = patch::MergePatch(original, patch);
    else patched = patch::StrategicMergePatch(original, patch, *r.schema);
    if (!patched.ok()) return ErrorResponse(patched.status());
    // A resourceVersion in the patch is a precondition; otherwise the patch is applied to
    // whatever is current.
    std::string rv = patched->value("metadata", Json::object()).value("resourceVersion", "");
    bool precondition = !rv.empty() && rv != original["metadata"].value("resourceVersion", "");
    if (precondition) {
      return ErrorResponse(NewConflict(r, t.name, "the object has been modified; please apply your changes to the latest version and try again"));
    }
    warnings.clear();
    auto obj = AdmitUpdate(req, t, std::move(patched).value(), original, warnings);
    if (!obj.ok()) return WithWarnings(ErrorResponse(obj.status()), warnings);
    *obj = TrackChange(req, t, &original, *obj);
    if (DryRun(req)) return WithWarnings(JsonResponse(200, obj->dump()), warnings);
    auto stored = StoreUpdate(t, endpoints::ToStorage(r, std::move(obj).value()), *existing);
    if (stored.ok()) return WithWarnings(JsonResponse(200, endpoints::Encode(r, **stored)), warnings);
    if (stored.status().code() != Code::kConflict) return ErrorResponse(stored.status());
  }
  return ErrorResponse(NewConflict(r, t.name, "the object has been modified; please apply your changes to the latest version and try again"));
}

// Server-side apply: PATCH with application/apply-patch+yaml. The body is the user's
// configuration; fieldmanager::Apply merges it into the live object by field
// ownership (or makes a new object), and the result goes through the same admission
// as any create or update.
Response Endpoints::Apply(const Request& req, const Target& t) {
  const ResourceInfo& r = *t.resource;
  std::string manager = req.Query("fieldManager");
  if (manager.empty()) {
    return ErrorResponse(validation::NewInvalid("PatchOptions.meta.k8s.io", "",
                                                {validation::Required(validation::Path("fieldManager"),
                                                                      "is required for apply patch")}));
  }
  auto config = api::YamlToJson(req.body);
  if (!config.ok()) return ErrorResponse(config.status());
  if (!config->is_object()) return ErrorResponse(NewBadRequest("the apply configuration must be an object"));
  bool force = req.QueryBool("force");
  int64_t now = UnixSeconds(*clock_);
  std::unique_lock<std::mutex> serial(allocation_mu_, std::defer_lock);
  if (AllocatesFromPool(r)) serial.lock();
  std::vector<std::string> warnings;
  for (int attempt = 0; attempt < kMaxPatchRetries; ++attempt) {
    auto existing = cacher_->Get(t.Key());
    Json holder;
    const Json* live = existing.ok() ? &endpoints::View(r, (*existing)->object, holder) : nullptr;
    auto applied = fieldmanager::Apply(live, *config, manager, force, r.schema, r.GroupVersion(), now, t.subresource);
    if (!applied.ok()) return ErrorResponse(applied.status());
    warnings.clear();
    if (!live) {
      // Apply to a missing object creates it.
      Json obj = std::move(applied->object);
      obj["metadata"]["name"] = t.name;
      auto admitted = AdmitCreate(req, t, std::move(obj), warnings);
      if (!admitted.ok()) return WithWarnings(ErrorResponse(admitted.status()), warnings);
      if (DryRun(req)) return WithWarnings(JsonResponse(201, admitted->dump()), warnings);
      auto stored = cacher_->Create(t.Key(), endpoints::ToStorage(r, std::move(admitted).value()));
      if (stored.ok()) return WithWarnings(JsonResponse(201, endpoints::Encode(r, **stored)), warnings);
      if (stored.status().code() != Code::kAlreadyExists) return ErrorResponse(stored.status());
      continue;  // created meanwhile: apply to it
    }
    bool ownership_changed = applied->object["metadata"].value("managedFields", Json()) !=
                             live->value("metadata", Json::object()).value("managedFields", Json());
    if (!applied->changed && !ownership_changed && !DryRun(req)) {
      return WithWarnings(JsonResponse(200, endpoints::Encode(r, **existing)), warnings);
    }
    auto admitted = AdmitUpdate(req, t, std::move(applied->object), *live, warnings);
    if (!admitted.ok()) return WithWarnings(ErrorResponse(admitted.status()), warnings);
    if (DryRun(req)) return WithWarnings(JsonResponse(200, admitted->dump()), warnings);
    auto stored = StoreUpdate(t, endpoints::ToStorage(r, std::move(admitted).value()), *existing);
    if (stored.ok()) return WithWarnings(JsonResponse(200, endpoints::Encode(r, **stored)), warnings);
    if (stored.status().code() != Code::kConflict) return ErrorResponse(stored.status());
  }
  return ErrorResponse(NewConflict(r, t.name, "the object has been modified; please apply your changes to the latest version and try again"));
}

}  // namespace kubes::apiserver
