#include "apiserver/endpoints/endpoints.h"

#include <random>
#include <set>

#include "apiserver/endpoints/target.h"
#include "apiserver/printers/printers.h"

namespace kubes::apiserver {

// ---- errors ---------------------------------------------------------------------

nlohmann::json StatusJson(const Status& s) {
  Json j = {{"kind", "Status"}, {"apiVersion", "v1"}, {"metadata", Json::object()}, {"status", "Failure"},
            {"message", s.message()}, {"reason", s.Reason()}, {"code", s.HttpCode()}};
  if (s.code() == Code::kInternal) j["reason"] = "InternalError";
  Json details = Json::object();
  const Details& d = s.details();
  if (!d.name.empty()) details["name"] = d.name;
  if (!d.group.empty()) details["group"] = d.group;
  if (!d.kind.empty()) details["kind"] = d.kind;
  if (!d.uid.empty()) details["uid"] = d.uid;
  if (d.retry_after_seconds) details["retryAfterSeconds"] = d.retry_after_seconds;
  if (!s.causes().empty()) {
    details["causes"] = Json::array();
    for (const auto& c : s.causes()) {
      Json cause = Json::object();
      if (!c.reason.empty()) cause["reason"] = c.reason;
      if (!c.message.empty()) cause["message"] = c.message;
      if (!c.field.empty()) cause["field"] = c.field;
      details["causes"].push_back(cause);
    }
  }
  if (!details.empty()) j["details"] = details;
  if (s.code() == Code::kExpired) j["reason"] = "Expired";
  return j;
}

Response ErrorResponse(const Status& status) {
  Response r;
  r.code = status.HttpCode();
  r.body = StatusJson(status).dump();
  return r;
}

Response JsonResponse(int code, std::string body) {
  Response r;
  r.code = code;
  r.body = std::move(body);
  return r;
}

Status NewNotFound(const ResourceInfo& r, const std::string& name) {
  return Status(Code::kNotFound, r.QualifiedResource() + " \"" + name + "\" not found")
      .WithDetails({name, r.group, r.resource, "", 0});
}

Status NewAlreadyExists(const ResourceInfo& r, const std::string& name) {
  return Status(Code::kAlreadyExists, r.QualifiedResource() + " \"" + name + "\" already exists")
      .WithDetails({name, r.group, r.resource, "", 0});
}

Status NewConflict(const ResourceInfo& r, const std::string& name, const std::string& why) {
  return Status(Code::kConflict, "Operation cannot be fulfilled on " + r.QualifiedResource() + " \"" + name + "\": " + why)
      .WithDetails({name, r.group, r.resource, "", 0});
}

Status NewBadRequest(const std::string& message) { return Status(Code::kBadRequest, message); }

Status NewMethodNotSupported(const ResourceInfo& r, const std::string& verb) {
  return Status(Code::kMethodNotAllowed, verb + " is not supported on resources of kind \"" + r.QualifiedResource() + "\"")
      .WithDetails({"", r.group, r.resource, "", 0});
}

// ---- shared helpers -----------------------------------------------------------------

namespace endpoints {

Result<int64_t> ParseResourceVersion(const std::string& s) {
  if (s.empty() || s == "0") return int64_t{0};
  char* end = nullptr;
  long long v = std::strtoll(s.c_str(), &end, 10);
  if (*end != '\0' || v < 0) return NewBadRequest("invalid resource version \"" + s + "\"");
  return static_cast<int64_t>(v);
}

Output Negotiate(const Request& req) {
  Output out;
  std::string accept = req.Header("accept");
  out.table = accept.find("as=Table") != std::string::npos;
  std::string include = req.Query("includeObject");
  if (!include.empty()) out.include_object = include;
  return out;
}

bool Filter::Matches(const ResourceInfo& r, const Json& obj) const {
  if (labels.Empty() && fields.Empty()) return true;
  static const Json kEmpty = Json::object();
  auto m = obj.find("metadata");
  const Json& meta = m != obj.end() && m->is_object() ? *m : kEmpty;
  if (!labels.Empty()) {
    labels::Labels l;
    if (auto it = meta.find("labels"); it != meta.end() && it->is_object()) {
      for (auto kv = it->begin(); kv != it->end(); ++kv) {
        if (kv.value().is_string()) l[kv.key()] = kv.value().get<std::string>();
      }
    }
    if (!labels.Matches(l)) return false;
  }
  if (!fields.Empty()) {
    fields::Fields values = {{"metadata.name", meta.value("name", "")}, {"metadata.namespace", meta.value("namespace", "")}};
    if (r.selectable_fields) r.selectable_fields(obj, values);
    if (!fields.Matches(values)) return false;
  }
  return true;
}

Result<Filter> ParseFilter(const Request& req, const ResourceInfo& r) {
  Filter f;
  if (req.HasQuery("labelSelector")) {
    auto sel = labels::Parse(req.Query("labelSelector"));
    if (!sel.ok()) return sel.status();
    f.labels = std::move(sel).value();
  }
  if (req.HasQuery("fieldSelector")) {
    auto sel = fields::ParseSelector(req.Query("fieldSelector"));
    if (!sel.ok()) return sel.status();
    std::set<std::string> supported(r.field_selectors.begin(), r.field_selectors.end());
    supported.insert({"metadata.name", "metadata.namespace"});
    KUBES_RETURN_IF_ERROR(fields::CheckFieldLabels(*sel, supported));
    f.fields = std::move(sel).value();
  }
  return f;
}

std::string EncodeTable(const ResourceInfo& r, const std::vector<const StoredObject*>& objects, const Output& out,
                        const std::string& resource_version, const std::string& continue_token, TimePoint now,
                        bool with_columns) {
  const TablePrinter& printer = r.printer ? *r.printer : DefaultPrinter();
  Json meta = {{"resourceVersion", resource_version}};
  if (!continue_token.empty()) meta["continue"] = continue_token;
  Json cols = Json::array();
  if (with_columns) {
    for (const auto& c : printer.columns) {
      cols.push_back({{"name", c.name}, {"type", c.type}, {"format", c.format}, {"description", c.description},
                      {"priority", c.priority}});
    }
  }
  // Rows are written straight into the text: one cells array and one object each.
  std::string body = "{\"apiVersion\":\"meta.k8s.io/v1\",\"columnDefinitions\":" + cols.dump() +
                     ",\"kind\":\"Table\",\"metadata\":" + meta.dump() + ",\"rows\":[";
  for (size_t i = 0; i < objects.size(); ++i) {
    const StoredObject& obj = *objects[i];
    if (i) body += ',';
    body += "{\"cells\":";
    body += printer.row(obj.object, now).dump();
    if (out.include_object == "Object") {
      body += ",\"object\":";
      body += obj.json;
    } else if (out.include_object != "None") {
      body += ",\"object\":{\"apiVersion\":\"meta.k8s.io/v1\",\"kind\":\"PartialObjectMetadata\",\"metadata\":";
      body += obj.metadata_json;
      body += '}';
    }
    body += '}';
  }
  body += "]}";
  return body;
}

std::string SuccessStatus(const ResourceInfo& r, const Json& obj) {
  const Json& meta = obj.value("metadata", Json::object());
  Json details = {{"name", meta.value("name", "")}, {"kind", r.resource}, {"uid", meta.value("uid", "")}};
  if (!r.group.empty()) details["group"] = r.group;
  return Json({{"kind", "Status"}, {"apiVersion", "v1"}, {"metadata", Json::object()}, {"status", "Success"},
               {"details", details}})
      .dump();
}

const Json& View(const ResourceInfo& r, const Json& stored, Json& holder) {
  if (!r.from_storage) return stored;
  holder = r.from_storage(stored);
  return holder;
}

std::string Encode(const ResourceInfo& r, const StoredObject& stored) {
  if (!r.from_storage) return stored.json;
  if (!stored.lean) return r.from_storage(stored.object).dump();
  // The parsed tree lacks managedFields: convert the whole object, from its text.
  return r.from_storage(Json::parse(stored.json)).dump();
}

Json ToStorage(const ResourceInfo& r, Json obj) { return r.to_storage ? r.to_storage(obj) : obj; }

}  // namespace endpoints

// ---- dispatch -------------------------------------------------------------------------

Response Endpoints::Serve(const Request& req, const RequestInfo& info) {
  ResourcePtr r = registry_->Find(info.group, info.version, info.resource);
  if (!r) return ErrorResponse(Status(Code::kNotFound, "the server could not find the requested resource"));
  Target t{r, r->namespaced ? info.namespace_ : "", info.name, info.subresource};
  if (!r->namespaced && r->resource == "namespaces") t.namespace_ = "";
  if (!t.subresource.empty() && !r->HasSubresource(t.subresource)) {
    return ErrorResponse(Status(Code::kNotFound, "the server could not find the requested resource"));
  }
  const std::string& v = info.verb;
  if (t.subresource == "log" || t.subresource == "exec" || t.subresource == "attach" ||
      t.subresource == "portforward" || t.subresource == "proxy") {
    return ProxyToNode(req, t);
  }
  if (v == "get") return Get(req, t);
  if (v == "list") return List(req, t);
  if (v == "watch") return Watch(req, t);
  if (v == "create") return Create(req, t);
  if (v == "update") return Update(req, t);
  if (v == "patch") return Patch(req, t);
  if (v == "delete") return Delete(req, t);
  if (v == "deletecollection") return DeleteCollection(req, t);
  return ErrorResponse(Status(Code::kMethodNotAllowed, "the server does not allow this method on the requested resource"));
}

Response Endpoints::Get(const Request& req, const Target& t) {
  auto obj = cacher_->Get(t.Key());
  if (!obj.ok()) return ErrorResponse(NewNotFound(*t.resource, t.name));
  if (t.subresource == "scale") {
    const Json& o = (*obj)->object;
    Json scale = {{"kind", "Scale"}, {"apiVersion", "autoscaling/v1"},
                  {"metadata", {{"name", t.name}, {"namespace", t.namespace_},
                                {"uid", o["metadata"].value("uid", "")},
                                {"resourceVersion", o["metadata"].value("resourceVersion", "")},
                                {"creationTimestamp", o["metadata"].value("creationTimestamp", "")}}},
                  {"spec", {{"replicas", o.value("spec", Json::object()).value("replicas", 0)}}},
                  {"status", {{"replicas", o.value("status", Json::object()).value("replicas", 0)}}}};
    // status.selector: the label selector in its text form (what an HPA uses).
    const Json& spec_selector = o.value("spec", Json::object()).value("selector", Json());
    if (spec_selector.is_object()) {
      auto sel = labels::SelectorFromLabelSelector(spec_selector);
      if (sel.ok() && !sel->String().empty()) scale["status"]["selector"] = sel->String();
    } else if (o.value("status", Json::object()).contains("selector")) {
      scale["status"]["selector"] = o["status"]["selector"];
    }
    return JsonResponse(200, scale.dump());
  }
  auto out = endpoints::Negotiate(req);
  if (out.table) {
    return JsonResponse(200, endpoints::EncodeTable(*t.resource, {obj->get()}, out,
                                                    std::to_string((*obj)->revision), "", clock_->Now()));
  }
  return JsonResponse(200, endpoints::Encode(*t.resource, **obj));
}

Response Endpoints::List(const Request& req, const Target& t) {
  auto filter = endpoints::ParseFilter(req, *t.resource);
  if (!filter.ok()) return ErrorResponse(filter.status());
  int64_t limit = 0;
  if (req.HasQuery("limit")) limit = std::atoll(req.Query("limit").c_str());
  std::string start_after;
  if (req.HasQuery("continue") && !req.Query("continue").empty()) {
    // The continue token is the key of the last object returned, hex-encoded.
    const std::string& tok = req.Query("continue");
    for (size_t i = 0; i + 1 < tok.size(); i += 2) {
      start_after += static_cast<char>(std::stoi(tok.substr(i, 2), nullptr, 16));
    }
    if (!start_after.starts_with(t.ListPrefix())) return ErrorResponse(NewBadRequest("invalid continue token"));
  }
  int64_t rev = 0;
  std::vector<ObjectPtr> all = cacher_->List(t.ListPrefix(), &rev);
  std::vector<ObjectPtr> items;
  std::string next;
  int64_t remaining = 0;
  for (const auto& o : all) {
    if (!start_after.empty() && o->key <= start_after) continue;
    if (!filter->Matches(*t.resource, o->object)) continue;
    if (limit > 0 && static_cast<int64_t>(items.size()) == limit) {
      ++remaining;
      continue;
    }
    items.push_back(o);
  }
  if (remaining > 0) {
    static const char* kHex = "0123456789abcdef";
    for (unsigned char c : items.back()->key) {
      next += kHex[c >> 4];
      next += kHex[c & 15];
    }
  }
  auto out = endpoints::Negotiate(req);
  std::string rv = std::to_string(rev);
  if (out.table) {
    std::vector<const StoredObject*> objs;
    for (const auto& o : items) objs.push_back(o.get());
    return JsonResponse(200, endpoints::EncodeTable(*t.resource, objs, out, rv, next, clock_->Now()));
  }
  Json meta = {{"resourceVersion", rv}};
  if (!next.empty()) {
    meta["continue"] = next;
    meta["remainingItemCount"] = remaining;
  }
  std::string list_tail = "],\"kind\":\"" + t.resource->kind + "List\",\"metadata\":" + meta.dump() + "}";
  if (req.share_objects && !t.resource->from_storage) {
    // An in-process client takes the cache's parsed objects themselves (see
    // Request::share_objects): the body is the list without its items.
    Response resp = JsonResponse(200, "{\"apiVersion\":\"" + t.resource->GroupVersion() + "\",\"items\":[" + list_tail);
    resp.items.emplace();
    resp.items->reserve(items.size());
    for (const auto& o : items) {
      // Kinds the cache keeps as text come parsed for this list alone.
      resp.items->push_back(SharedObject{{o, &o->object}, /*cached=*/!cacher_->KeepsText(o->key)});
    }
    return resp;
  }
  // Built from the cached serialized objects: no per-object encoding (unless the
  // version is not the stored one).
  size_t size = 256;
  for (const auto& o : items) size += o->json.size() + 1;
  std::string body;
  body.reserve(size);
  body += "{\"apiVersion\":\"" + t.resource->GroupVersion() + "\",\"items\":[";
  for (size_t i = 0; i < items.size(); ++i) {
    if (i) body += ',';
    body += t.resource->from_storage ? endpoints::Encode(*t.resource, *items[i]) : items[i]->json;
  }
  body += list_tail;
  return JsonResponse(200, std::move(body));
}

}  // namespace kubes::apiserver
