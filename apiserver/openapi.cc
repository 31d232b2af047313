#include "apiserver/openapi.h"

#include <algorithm>
#include <functional>
#include <set>

#include "apiserver/endpoints/endpoints.h"

namespace kubes::apiserver {
namespace {

using Json = nlohmann::json;
using api::FieldSchema;
using api::TypeRef;
using api::TypeSchema;
using api::ValueKind;

const char* kRefPrefix = "#/components/schemas/";

// Built-in value types get shared component schemas, as upstream has them.
const char* BuiltinSchemaName(ValueKind k) {
  switch (k) {
    case ValueKind::kQuantity: return "io.k8s.apimachinery.pkg.api.resource.Quantity";
    case ValueKind::kIntOrString: return "io.k8s.apimachinery.pkg.util.intstr.IntOrString";
    case ValueKind::kTime: return "io.k8s.apimachinery.pkg.apis.meta.v1.Time";
    case ValueKind::kMicroTime: return "io.k8s.apimachinery.pkg.apis.meta.v1.MicroTime";
    case ValueKind::kRawExtension: return "io.k8s.apimachinery.pkg.runtime.RawExtension";
    default: return nullptr;
  }
}

Json BuiltinSchema(ValueKind k) {
  switch (k) {
    case ValueKind::kQuantity:
      return {{"type", "string"}, {"description", "A fixed-point number with an optional unit suffix, such as 500m (half a CPU) or 1Gi."}};
    case ValueKind::kIntOrString:
      return {{"type", "string"}, {"format", "int-or-string"}, {"x-kubernetes-int-or-string", true},
              {"description", "A number or a string, such as 8080 or \"http\" or \"25%\"."}};
    case ValueKind::kTime:
      return {{"type", "string"}, {"format", "date-time"}, {"description", "A time in RFC 3339 form, in UTC, to the second."}};
    case ValueKind::kMicroTime:
      return {{"type", "string"}, {"format", "date-time"}, {"description", "A time in RFC 3339 form, to the microsecond."}};
    case ValueKind::kRawExtension:
      return {{"type", "object"}, {"x-kubernetes-preserve-unknown-fields", true}, {"description", "An embedded object of any kind."}};
    default: return Json::object();
  }
}

class DocBuilder {
 public:
  Json& schemas() { return schemas_; }

  // The schema of a value of type t; named types are added to components.
  Json Value(const TypeRef& t) {
    switch (t.kind) {
      case ValueKind::kString: return {{"type", "string"}};
      case ValueKind::kBytes: return {{"type", "string"}, {"format", "byte"}};
      case ValueKind::kBool: return {{"type", "boolean"}};
      case ValueKind::kInt32: return {{"type", "integer"}, {"format", "int32"}};
      case ValueKind::kInt64: return {{"type", "integer"}, {"format", "int64"}};
      case ValueKind::kDouble: return {{"type", "number"}, {"format", "double"}};
      case ValueKind::kDuration: return {{"type", "string"}};
      case ValueKind::kAny: return {{"x-kubernetes-preserve-unknown-fields", true}};
      case ValueKind::kList: return {{"type", "array"}, {"items", Value(*t.elem)}};
      case ValueKind::kMap: return {{"type", "object"}, {"additionalProperties", Value(*t.elem)}};
      case ValueKind::kObject:
        if (!t.object) return {{"type", "object"}};
        AddType(*t.object);
        return {{"allOf", Json::array({{{"$ref", kRefPrefix + t.object->OpenAPIName()}}})}};
      default: {
        const char* name = BuiltinSchemaName(t.kind);
        if (!schemas_.contains(name)) schemas_[name] = BuiltinSchema(t.kind);
        return {{"allOf", Json::array({{{"$ref", std::string(kRefPrefix) + name}}})}};
      }
    }
  }

  void AddType(const TypeSchema& t) {
    std::string name = t.OpenAPIName();
    if (schemas_.contains(name)) return;
    schemas_[name] = Json::object();  // placeholder against recursion
    Json s = {{"type", "object"}, {"description", t.description}};
    Json props = Json::object();
    Json required = Json::array();
    for (const FieldSchema& f : t.fields) {
      Json p = (f.name == "apiVersion" || f.name == "kind") && t.is_object ? Json{{"type", "string"}} : Value(f.type);
      std::string desc = f.description;
      if (f.unimplemented) desc += " (kubes stores this field but does not act on it.)";
      if (!desc.empty()) p["description"] = desc;
      if (!f.default_value.empty()) p["default"] = DefaultJson(f);
      if (!f.enum_values.empty()) {
        std::vector<std::string> sorted = f.enum_values;
        std::sort(sorted.begin(), sorted.end());
        if (f.type.kind == ValueKind::kList) p["items"]["enum"] = sorted;
        else p["enum"] = sorted;
      }
      if (!f.merge_key.empty()) p["x-kubernetes-patch-merge-key"] = f.merge_key;
      if (!f.patch_strategy.empty()) p["x-kubernetes-patch-strategy"] = f.patch_strategy;
      if (f.type.kind == ValueKind::kList && !f.list_type.empty()) {
        p["x-kubernetes-list-type"] = f.list_type;
        if (f.list_type == "map") p["x-kubernetes-list-map-keys"] = f.list_keys;
      }
      if (!f.map_type.empty()) p["x-kubernetes-map-type"] = f.map_type;
      if (f.required) required.push_back(f.name);
      props[f.name] = std::move(p);
    }
    s["properties"] = std::move(props);
    if (!required.empty()) s["required"] = required;
    if (t.is_object) {
      s["x-kubernetes-group-version-kind"] = Json::array({{{"group", t.group}, {"kind", t.name}, {"version", t.version}}});
    }
    schemas_[name] = std::move(s);
  }

 private:
  static Json DefaultJson(const FieldSchema& f) {
    if (f.type.kind == ValueKind::kInt32 || f.type.kind == ValueKind::kInt64) return std::stoll(f.default_value);
    if (f.type.kind == ValueKind::kBool) return f.default_value == "true";
    return f.default_value;
  }
  Json schemas_ = Json::object();
};

Json GvkExtension(const ResourceInfo& r) {
  return {{"group", r.group}, {"version", r.version}, {"kind", r.kind}};
}

Json QueryParam(const std::string& name, const std::string& description, const char* type = "string") {
  return {{"name", name}, {"in", "query"}, {"description", description}, {"schema", {{"type", type}, {"uniqueItems", true}}}};
}

Json PathParam(const std::string& name, const std::string& description) {
  return {{"name", name}, {"in", "path"}, {"required", true}, {"description", description},
          {"schema", {{"type", "string"}, {"uniqueItems", true}}}};
}

Json Operation(const ResourceInfo& r, const std::string& action, const std::string& op_id, const Json& response_ref,
               Json params = Json::array()) {
  Json op = {{"operationId", op_id},
             {"description", action + " " + r.kind},
             {"tags", Json::array({r.group.empty() ? "core_v1" : r.group + "_" + r.version})},
             {"responses", {{"200", {{"description", "OK"}, {"content", {{"application/json", {{"schema", response_ref}}}}}}}}},
             {"x-kubernetes-action", action},
             {"x-kubernetes-group-version-kind", GvkExtension(r)}};
  if (!params.empty()) op["parameters"] = params;
  return op;
}

Json Ref(const std::string& name) { return {{"$ref", kRefPrefix + name}}; }

}  // namespace

Json BuildGroupVersionDocument(const Registry& registry, const std::string& group, const std::string& version) {
  DocBuilder b;
  Json paths = Json::object();
  std::string base = group.empty() ? "/api/" + version : "/apis/" + group + "/" + version;
  for (const auto& r : registry.All()) {
    if (r->group != group || r->version != version) continue;
    std::string kind_ref;
    if (r->schema) {
      b.AddType(*r->schema);
      kind_ref = r->schema->OpenAPIName();
    } else {
      // A custom resource: its openAPIV3Schema, named like upstream names CRD schemas.
      std::string rg = r->group;
      std::string rev;
      for (size_t i = rg.size(); i > 0;) {
        size_t dot = rg.rfind('.', i - 1);
        size_t start = dot == std::string::npos ? 0 : dot + 1;
        rev += (rev.empty() ? "" : ".") + rg.substr(start, i - start);
        if (dot == std::string::npos) break;
        i = dot;
      }
      kind_ref = rev + "." + r->version + "." + r->kind;
      Json s = r->crd_schema.is_object() ? r->crd_schema : Json{{"type", "object"}, {"x-kubernetes-preserve-unknown-fields", true}};
      s["x-kubernetes-group-version-kind"] = Json::array({GvkExtension(*r)});
      b.schemas()[kind_ref] = s;
    }
    std::string coll = r->namespaced ? base + "/namespaces/{namespace}/" + r->resource : base + "/" + r->resource;
    std::string item = coll + "/{name}";
    Json common = Json::array({PathParam("name", "name of the " + r->kind)});
    if (r->namespaced) common.push_back(PathParam("namespace", "object name and auth scope, such as for teams and projects"));
    Json write_params = Json::array({QueryParam("dryRun", "When present, indicates that modifications should not be persisted."),
                                     QueryParam("fieldManager", "The name of the actor making these changes."),
                                     QueryParam("fieldValidation", "Strict, Warn or Ignore: what to do with unknown or duplicate fields.")});
    Json patch_params = write_params;
    patch_params.push_back(QueryParam("force", "Force is going to \"force\" Apply requests.", "boolean"));
    std::string op_kind = r->kind;
    const bool is_review = std::find(r->verbs.begin(), r->verbs.end(), "get") == r->verbs.end();
    Json coll_path = {{"post", Operation(*r, "post", "create" + op_kind, Ref(kind_ref), write_params)}};
    coll_path["post"]["requestBody"] = {{"content", {{"*/*", {{"schema", Ref(kind_ref)}}}}}, {"required", true}};
    if (!is_review) {
      coll_path["get"] = Operation(*r, "list", "list" + op_kind, {{"type", "object"}});
      coll_path["delete"] = Operation(*r, "deletecollection", "deletecollection" + op_kind, {{"type", "object"}});
    }
    if (r->namespaced) coll_path["parameters"] = Json::array({PathParam("namespace", "object name and auth scope")});
    paths[coll] = coll_path;
    if (is_review) continue;
    Json patch_op = Operation(*r, "patch", "patch" + op_kind, Ref(kind_ref), patch_params);
    Json patch_body = {{"schema", Ref("io.k8s.apimachinery.pkg.apis.meta.v1.Patch")}};
    patch_op["requestBody"] = {{"content",
                                {{"application/json-patch+json", patch_body},
                                 {"application/merge-patch+json", patch_body},
                                 {"application/apply-patch+yaml", patch_body}}},
                               {"required", true}};
    if (r->schema) patch_op["requestBody"]["content"]["application/strategic-merge-patch+json"] = patch_body;
    Json put_op = Operation(*r, "put", "replace" + op_kind, Ref(kind_ref), write_params);
    put_op["requestBody"] = {{"content", {{"*/*", {{"schema", Ref(kind_ref)}}}}}, {"required", true}};
    paths[item] = {{"get", Operation(*r, "get", "read" + op_kind, Ref(kind_ref))},
                   {"put", put_op},
                   {"patch", patch_op},
                   {"delete", Operation(*r, "delete", "delete" + op_kind, {{"type", "object"}})},
                   {"parameters", common}};
    for (const auto& sub : r->subresources) {
      if (sub != "status") continue;
      Json sub_patch = patch_op;
      sub_patch["operationId"] = "patch" + op_kind + "Status";
      paths[item + "/" + sub] = {{"get", Operation(*r, "get", "read" + op_kind + "Status", Ref(kind_ref))},
                                 {"patch", sub_patch},
                                 {"parameters", common}};
    }
  }
  b.schemas()["io.k8s.apimachinery.pkg.apis.meta.v1.Patch"] = {
      {"type", "object"}, {"description", "A patch: JSON Patch, JSON merge patch, strategic merge patch or an apply configuration."}};
  return {{"openapi", "3.0.0"},
          {"info", {{"title", "Kubernetes"}, {"version", "v1.32.0"}}},
          {"paths", paths},
          {"components", {{"schemas", b.schemas()}}}};
}

void OpenAPI::Rebuild() {
  Cache c;
  c.generation = registry_->Generation();
  Json index = {{"paths", Json::object()}};
  for (const auto& [group, versions] : registry_->Groups()) {
    for (const auto& v : versions) {
      std::string key = group.empty() ? "api/" + v : "apis/" + group + "/" + v;
      std::string doc = BuildGroupVersionDocument(*registry_, group, v).dump();
      char hash[32];
      std::snprintf(hash, sizeof hash, "%016zX", std::hash<std::string>{}(doc));
      c.docs[key] = std::move(doc);
      c.hashes[key] = hash;
      index["paths"][key] = {{"serverRelativeURL", "/openapi/v3/" + key + "?hash=" + hash}};
    }
  }
  c.index = index.dump();
  cache_ = std::move(c);
}

Response OpenAPI::Serve(const Request& req) {
  std::lock_guard<std::mutex> lock(mu_);
  if (cache_.generation != registry_->Generation()) Rebuild();
  Response resp;
  if (req.path == "/openapi/v3" || req.path == "/openapi/v3/") {
    resp.body = cache_.index;
    return resp;
  }
  std::string key = req.path.substr(std::string("/openapi/v3/").size());
  auto it = cache_.docs.find(key);
  if (it == cache_.docs.end()) return ErrorResponse(Status(Code::kNotFound, "the server could not find the requested resource"));
  resp.body = it->second;
  resp.headers.emplace_back("Cache-Control", req.HasQuery("hash") ? "public, immutable" : "no-cache, private");
  resp.headers.emplace_back("Etag", "\"" + cache_.hashes[key] + "\"");
  return resp;
}

}  // namespace kubes::apiserver
