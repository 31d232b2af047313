#include "apiserver/customresources.h"

#include <map>

#include "apiserver/jsonpath.h"
#include "apiserver/printers/printers.h"

namespace kubes::apiserver {
namespace {

const char* kCRDPrefix = "/registry/apiextensions.k8s.io/customresourcedefinitions/";

// NAME, the CRD's additionalPrinterColumns, and AGE when the CRD defines no columns.
std::shared_ptr<TablePrinter> PrinterFor(const Json& version) {
  auto p = std::make_shared<TablePrinter>();
  const Json& cols = version.value("additionalPrinterColumns", Json::array());
  p->columns.push_back({"Name", "string", "name", "Name must be unique within a namespace.", 0});
  struct Col {
    std::string path, type;
  };
  std::vector<Col> paths;
  for (const auto& c : cols) {
    Column col;
    col.name = c.value("name", "");
    col.type = c.value("type", "string");
    col.format = c.value("format", "");
    col.description = c.value("description", "");
    col.priority = c.value("priority", 0);
    p->columns.push_back(col);
    paths.push_back({c.value("jsonPath", ""), col.type});
  }
  bool default_age = cols.empty();
  if (default_age) p->columns.push_back({"Age", "date", "", "Time since the object was created.", 0});
  p->row = [paths, default_age](const Json& obj, TimePoint now) {
    Json cells = Json::array({printers::Name(obj)});
    for (const auto& c : paths) {
      auto values = EvaluateJsonPath(obj, c.path);
      if (!values.ok() || values->empty()) {
        cells.push_back(nullptr);
      } else if (c.type == "date" && (*values)[0].is_string()) {
        cells.push_back(printers::Since((*values)[0], now));
      } else if ((c.type == "integer" || c.type == "number" || c.type == "boolean") && values->size() == 1) {
        cells.push_back((*values)[0]);
      } else {
        cells.push_back(JsonPathCell(*values));
      }
    }
    if (default_age) cells.push_back(printers::Age(obj, now));
    return cells;
  };
  return p;
}

bool HasFinalizer(const Json& obj, const std::string& f) {
  for (const auto& x : obj["metadata"].value("finalizers", Json::array())) {
    if (x == f) return true;
  }
  return false;
}

}  // namespace

ResourcePtr CustomResources::ResourceFor(const Json& crd, const Json& version) {
  const Json& spec = crd["spec"];
  const Json& names = spec.value("names", Json::object());
  auto r = std::make_shared<ResourceInfo>();
  r->group = spec.value("group", "");
  r->version = version.value("name", "");
  r->kind = names.value("kind", "");
  r->resource = names.value("plural", "");
  r->singular = names.value("singular", "");
  for (const auto& s : names.value("shortNames", Json::array())) r->short_names.push_back(s.get<std::string>());
  for (const auto& c : names.value("categories", Json::array())) r->categories.push_back(c.get<std::string>());
  r->namespaced = spec.value("scope", "Namespaced") == "Namespaced";
  const Json& subs = version.value("subresources", Json::object());
  if (subs.contains("status")) r->subresources.push_back("status");
  if (subs.contains("scale")) r->subresources.push_back("scale");
  r->crd_schema = version.value("schema", Json::object()).value("openAPIV3Schema", Json::object());
  r->tracks_generation = true;
  auto printer = PrinterFor(version);
  r->owned_printer = printer;
  r->printer = printer.get();
  return r;
}

Response CustomResources::Call(const std::string& method, const std::string& path, const Json& body) {
  Request req;
  req.method = method;
  req.path = path;
  req.headers["content-type"] = "application/json";
  req.body = body.is_null() ? "" : body.dump();
  req.user = UserInfo{"system:apiextensions-controller", "", {"system:masters", "system:authenticated"}};
  return handler_(req);
}

bool CustomResources::Cleanup(const Json& crd) {
  const Json& spec = crd["spec"];
  std::string group = spec.value("group", ""), plural = spec["names"].value("plural", "");
  int64_t rev;
  auto objects = cacher_->List("/registry/" + group + "/" + plural + "/", &rev);
  // Each custom resource is deleted through the API, so its own finalizers apply.
  for (const auto& o : objects) {
    if (o->object["metadata"].contains("deletionTimestamp")) continue;
    std::string api_version = o->object.value("apiVersion", "");
    std::string ns = o->object["metadata"].value("namespace", "");
    std::string path = "/apis/" + api_version + (ns.empty() ? "" : "/namespaces/" + ns) + "/" + plural + "/" +
                       o->object["metadata"].value("name", "");
    Call("DELETE", path, Json());
  }
  if (!objects.empty()) return false;
  registry_->Remove(group, plural);
  Json updated = crd;
  Json kept = Json::array();
  for (const auto& f : updated["metadata"].value("finalizers", Json::array())) {
    if (f != kCRDCleanupFinalizer) kept.push_back(f);
  }
  updated["metadata"]["finalizers"] = kept;
  Call("PUT", "/apis/apiextensions.k8s.io/v1/customresourcedefinitions/" + crd["metadata"].value("name", ""), updated);
  return true;
}

bool CustomResources::Sync(const Json& crd) {
  std::string name = crd["metadata"].value("name", "");
  const std::string path = "/apis/apiextensions.k8s.io/v1/customresourcedefinitions/" + name;
  if (crd["metadata"].contains("deletionTimestamp")) return Cleanup(crd);
  if (!HasFinalizer(crd, kCRDCleanupFinalizer)) {
    Json updated = crd;
    updated["metadata"]["finalizers"].push_back(kCRDCleanupFinalizer);
    Call("PUT", path, updated);
    return true;  // the update comes back as an event
  }
  const Json& spec = crd["spec"];
  std::string group = spec.value("group", ""), plural = spec["names"].value("plural", "");
  std::string storage_version;
  for (const auto& v : spec.value("versions", Json::array())) {
    if (v.value("storage", false)) storage_version = v.value("name", "");
  }
  // Register the served versions, then drop the ones no longer served.
  std::vector<std::string> served;
  for (const auto& v : spec.value("versions", Json::array())) {
    if (!v.value("served", true)) continue;
    registry_->Add(ResourceFor(crd, v));
    served.push_back(v.value("name", ""));
  }
  registry_->RemoveOtherVersions(group, plural, served);
  // Status: names accepted and the API established (both at once: there is no HA
  // apiserver here to wait for).
  Json status = crd.value("status", Json::object());
  Json want = status;
  want["acceptedNames"] = spec["names"];
  std::string now = crd["metadata"].value("creationTimestamp", "");
  Json conditions = Json::array();
  for (const char* type : {"NamesAccepted", "Established"}) {
    Json c = {{"type", type}, {"status", "True"}, {"lastTransitionTime", now},
              {"reason", std::string(type) == "NamesAccepted" ? "NoConflicts" : "InitialNamesAccepted"},
              {"message", std::string(type) == "NamesAccepted" ? "no conflicts found" : "the initial names have been accepted"}};
    for (const auto& old : status.value("conditions", Json::array())) {
      if (old.value("type", "") == type && old.value("status", "") == "True") c["lastTransitionTime"] = old["lastTransitionTime"];
    }
    conditions.push_back(c);
  }
  want["conditions"] = conditions;
  Json stored = status.value("storedVersions", Json::array());
  if (!storage_version.empty() && std::find(stored.begin(), stored.end(), storage_version) == stored.end()) {
    stored.push_back(storage_version);
  }
  want["storedVersions"] = stored;
  if (want != status) {
    Json updated = crd;
    updated["status"] = want;
    Call("PUT", path + "/status", updated);
  }
  return true;
}

void CustomResources::Run(const std::atomic<bool>& stop) {
  while (!stop) {
    auto w = cacher_->Watch(kCRDPrefix, 0);
    if (!w.ok()) continue;
    std::map<std::string, bool> pending;  // CRDs whose deletion is still in progress
    while (!stop) {
      auto events = (*w)->Next(std::chrono::milliseconds(500));
      if (!events.ok()) break;  // expired or stopping: start over from the current state
      for (const auto& ev : *events) {
        ObjectPtr parsed = Parsed(ev.object);  // a deletion's state is kept as text only
        const Json& crd = parsed->object;
        std::string name = crd["metadata"].value("name", "");
        if (ev.type == WatchEvent::Type::kDeleted) {
          registry_->Remove(crd["spec"].value("group", ""), crd["spec"]["names"].value("plural", ""));
          pending.erase(name);
          continue;
        }
        if (!Sync(crd)) pending[name] = true;
        else pending.erase(name);
      }
      // Deletions wait for custom resources to go: look again.
      for (auto it = pending.begin(); it != pending.end();) {
        auto obj = cacher_->Get(kCRDPrefix + it->first);
        if (!obj.ok() || Sync((*obj)->object)) it = pending.erase(it);
        else ++it;
      }
    }
  }
}

}  // namespace kubes::apiserver
