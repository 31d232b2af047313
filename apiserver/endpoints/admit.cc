// The write pipeline shared by create, update and patch: decoding checks,
// defaulting, status rules, admission and validation (upstream: the
// serializer's strict decoding, rest.BeforeCreate / rest.BeforeUpdate, the
// NamespaceLifecycle admission plugin, and each strategy's Validate).
#include "api/decode.h"
#include "apiserver/crd/defaulting.h"
#include "apiserver/crd/pruning.h"
#include "apiserver/crd/validation.h"
#include "apimachinery/validation/names.h"
#include "apiserver/endpoints/target.h"
#include "util/random.h"

namespace kubes::apiserver {
namespace {

using validation::ErrorList;
using validation::Path;

// Fields of metadata that only the server sets.
void ResetServerFields(Json& meta) {
  for (const char* f : {"uid", "resourceVersion", "creationTimestamp", "deletionTimestamp",
                        "deletionGracePeriodSeconds", "selfLink", "generation"}) {
    meta.erase(f);
  }
}

// Empty lists and maps of metadata are not stored: Go's ObjectMeta leaves them out
// (omitempty), so a patch that removes the last finalizer leaves no `finalizers: []`.
void OmitEmptyMetadata(Json& meta) {
  for (const char* f : {"labels", "annotations", "finalizers", "ownerReferences"}) {
    auto it = meta.find(f);
    if (it != meta.end() && (it->is_null() || ((it->is_array() || it->is_object()) && it->empty()))) meta.erase(it);
  }
}

// fieldValidation: Strict turns unknown fields into a 400; Warn (the default) into
// warnings; Ignore says nothing. Wrong JSON types are always a 400.
// Unknown fields of a custom resource: pruned as its CRD's schema says (upstream's
// structural pruning), with the same Strict/Warn/Ignore handling.
api::DecodeReport PruneCustomResource(Json& obj, const Json& schema) {
  api::DecodeReport report;
  if (!schema.is_object()) return report;
  report.unknown_fields = crd::Prune(obj, schema);
  crd::PruneNonNullableNullsWithoutDefaults(obj, &schema);
  return report;
}

Status CheckDecode(const Request& req, const ResourceInfo& r, Json& obj, std::vector<std::string>& warnings) {
  api::DecodeReport report = r.schema ? api::DecodeCheck(obj, *r.schema) : PruneCustomResource(obj, r.crd_schema);
  std::string prefix = r.kind + " in version \"" + r.version + "\" cannot be handled as a " + r.kind + ": ";
  if (!report.type_error.empty()) return NewBadRequest(prefix + report.type_error);
  std::string mode = req.Query("fieldValidation");
  if (!report.unknown_fields.empty()) {
    if (mode == "Strict") {
      std::string msg = "strict decoding error: ";
      for (size_t i = 0; i < report.unknown_fields.size(); ++i) {
        msg += (i ? ", " : "") + std::string("unknown field \"") + report.unknown_fields[i] + "\"";
      }
      return NewBadRequest(prefix + msg);
    }
    if (mode != "Ignore") {
      for (const auto& f : report.unknown_fields) warnings.push_back("unknown field \"" + f + "\"");
    }
  }
  for (const auto& f : report.unimplemented) {
    warnings.push_back(f + ": accepted and stored, but kubes does not act on this field (see the README's feature table)");
  }
  return Status::OK();
}

void Default(const ResourceInfo& r, Json& obj) {
  if (r.default_object) r.default_object(obj);
  if (r.schema) api::ApplySchemaDefaults(obj, *r.schema);
  if (!r.schema && r.crd_schema.is_object()) crd::ApplyDefaults(obj, r.crd_schema);
}

Status Validate(const ResourceInfo& r, const Json& obj, const Json* old) {
  ErrorList errs;
  validation::ValidateObjectMeta(obj.value("metadata", Json::object()), r.namespaced, r.name_rule, Path("metadata"), errs);
  if (r.schema) {
    api::ValidateSchema(obj, *r.schema, Path(), errs);
    if (old) api::ValidateImmutable(obj, *old, *r.schema, Path(), errs);
  } else if (r.crd_schema.is_object()) {
    crd::Validate(obj, r.crd_schema, Path(), errs);
  }
  if (r.validate) r.validate(obj, old, errs);
  if (errs.empty()) return Status::OK();
  return validation::NewInvalid(r.QualifiedKind(), obj["metadata"].value("name", ""), errs);
}

// An object being deleted may lose finalizers but not gain any (ValidateObjectMetaUpdate).
Status CheckNoNewFinalizers(const ResourceInfo& r, const Json& obj, const Json& old) {
  if (!old["metadata"].contains("deletionTimestamp")) return Status::OK();
  const Json& before = old["metadata"].value("finalizers", Json::array());
  std::vector<std::string> added;
  for (const auto& f : obj["metadata"].value("finalizers", Json::array())) {
    if (std::find(before.begin(), before.end(), f) == before.end() && f.is_string()) added.push_back(f.get<std::string>());
  }
  if (added.empty()) return Status::OK();
  std::string list = "[]string{";
  for (size_t i = 0; i < added.size(); ++i) list += (i ? ", " : "") + Json(added[i]).dump();
  list += "}";
  return validation::NewInvalid(r.QualifiedKind(), obj["metadata"].value("name", ""),
                                {validation::Forbidden(Path("metadata").Child("finalizers"),
                                                       "no new finalizers can be added if the object is being deleted, "
                                                       "found new finalizers " + list)});
}

// Everything but metadata and status: a change here is a new generation.
Json SpecPart(const Json& obj) {
  Json copy = obj;
  copy.erase("metadata");
  copy.erase("status");
  return copy;
}

}  // namespace

Result<Json> Endpoints::AdmitCreate(const Request& req, const Target& t, Json obj, std::vector<std::string>& warnings) {
  const ResourceInfo& r = *t.resource;
  KUBES_RETURN_IF_ERROR(CheckDecode(req, r, obj, warnings));
  Json& meta = obj["metadata"];
  if (!meta.is_object()) meta = Json::object();
  if (r.namespaced) {
    std::string body_ns = meta.value("namespace", "");
    if (!body_ns.empty() && body_ns != t.namespace_) {
      return NewBadRequest("the namespace of the provided object does not match the namespace sent on the request");
    }
    meta["namespace"] = t.namespace_;
  } else {
    meta.erase("namespace");
  }
  ResetServerFields(meta);
  OmitEmptyMetadata(meta);
  if (meta.value("name", "").empty() && !meta.value("generateName", "").empty()) {
    meta["name"] = meta["generateName"].get<std::string>() + RandomSuffix(5);
  }
  meta["uid"] = NewUID();
  meta["creationTimestamp"] = FormatRFC3339(clock_->Now());
  if (r.tracks_generation) meta["generation"] = 1;
  if (r.HasSubresource("status")) obj.erase("status");
  Default(r, obj);
  admission::Attributes attrs{r, "CREATE", t.namespace_, meta.value("name", ""), t.subresource, nullptr};
  KUBES_RETURN_IF_ERROR(admission_.Admit(attrs, obj, reader_));
  if (r.prepare_for_create) r.prepare_for_create(obj);
  // A kind with a status starts with an empty one, as Go's zero-value struct prints.
  if (r.HasSubresource("status") && !obj.contains("status")) obj["status"] = Json::object();
  KUBES_RETURN_IF_ERROR(Validate(r, obj, nullptr));
  KUBES_RETURN_IF_ERROR(admission_.Validate(attrs, obj, reader_));
  if (r.warnings) r.warnings(obj, warnings);
  return obj;
}

Result<Json> Endpoints::AdmitUpdate(const Request& req, const Target& t, Json obj, const Json& old,
                                    std::vector<std::string>& warnings) {
  const ResourceInfo& r = *t.resource;
  KUBES_RETURN_IF_ERROR(CheckDecode(req, r, obj, warnings));
  if (!obj["metadata"].is_object()) obj["metadata"] = Json::object();
  Json& meta = obj["metadata"];
  const Json& old_meta = old["metadata"];
  std::string name = meta.value("name", "");
  if (!name.empty() && name != t.name) {
    return NewBadRequest("the name of the object (" + name + ") does not match the name on the URL (" + t.name + ")");
  }
  meta["name"] = t.name;
  if (r.namespaced) {
    std::string ns = meta.value("namespace", "");
    if (!ns.empty() && ns != t.namespace_) {
      return NewBadRequest("the namespace of the provided object does not match the namespace sent on the request");
    }
    meta["namespace"] = t.namespace_;
  }
  // Fields the server owns are carried over from the stored object.
  for (const char* f : {"uid", "creationTimestamp", "deletionTimestamp", "deletionGracePeriodSeconds", "generation"}) {
    if (old_meta.contains(f)) meta[f] = old_meta[f];
    else meta.erase(f);
  }
  meta.erase("selfLink");
  OmitEmptyMetadata(meta);
  bool has_status = r.HasSubresource("status");
  if (t.subresource == "status") {
    // A status write changes status only (ResetObjectMetaForStatus keeps the rest).
    Json status = obj.contains("status") ? obj["status"] : Json();
    Json managed = meta.contains("managedFields") ? meta["managedFields"] : Json();
    obj = old;
    if (status.is_null()) obj.erase("status");
    else obj["status"] = status;
    if (!managed.is_null()) obj["metadata"]["managedFields"] = managed;
  } else if (t.subresource == "ephemeralcontainers") {
    // pods/ephemeralcontainers changes spec.ephemeralContainers only.
    Json eph = obj.value("spec", Json::object()).value("ephemeralContainers", Json());
    obj = old;
    if (eph.is_null()) obj["spec"].erase("ephemeralContainers");
    else obj["spec"]["ephemeralContainers"] = eph;
  } else if (t.subresource == "finalize") {
    // A namespace's finalize subresource changes spec.finalizers only.
    Json finalizers = obj.value("spec", Json::object()).value("finalizers", Json::array());
    obj = old;
    obj["spec"]["finalizers"] = finalizers;
  } else if (has_status) {
    if (old.contains("status")) obj["status"] = old["status"];
    else obj.erase("status");
  }
  if (t.subresource.empty() && r.HasSubresource("ephemeralcontainers") && obj["spec"].is_object()) {
    // … and a plain update leaves them as they are (as it leaves status).
    Json eph = old.value("spec", Json::object()).value("ephemeralContainers", Json());
    if (eph.is_null()) obj["spec"].erase("ephemeralContainers");
    else obj["spec"]["ephemeralContainers"] = eph;
  }
  Default(r, obj);
  admission::Attributes attrs{r, "UPDATE", t.namespace_, t.name, t.subresource, &old};
  KUBES_RETURN_IF_ERROR(admission_.Admit(attrs, obj, reader_));
  if (r.prepare_for_update && t.subresource != "finalize") r.prepare_for_update(obj, old);
  if (r.tracks_generation && SpecPart(obj) != SpecPart(old)) {
    obj["metadata"]["generation"] = old_meta.value("generation", 0) + 1;
  }
  KUBES_RETURN_IF_ERROR(Validate(r, obj, &old));
  KUBES_RETURN_IF_ERROR(CheckNoNewFinalizers(r, obj, old));
  KUBES_RETURN_IF_ERROR(admission_.Validate(attrs, obj, reader_));
  if (r.warnings) r.warnings(obj, warnings);
  return obj;
}

}  // namespace kubes::apiserver
