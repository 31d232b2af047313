// Strategies of core/v1 kinds (upstream pkg/registry/core/*/strategy.go,
// pkg/apis/core/v1/defaults.go, pkg/apis/core/validation/validation.go).
#include <set>

#include "apimachinery/resource/quantity.h"
#include "apimachinery/validation/names.h"
#include "pki/base64.h"
#include "apiserver/registry/strategies.h"

namespace kubes::apiserver {
namespace {

using validation::ErrorList;
using validation::Path;

// imagePullPolicy: Always for ":latest" or untagged images, else IfNotPresent.
std::string DefaultPullPolicy(const std::string& image) {
  if (image.find('@') != std::string::npos) return "IfNotPresent";
  auto slash = image.rfind('/');
  auto colon = image.rfind(':');
  bool tagged = colon != std::string::npos && (slash == std::string::npos || colon > slash);
  if (!tagged) return "Always";
  return image.substr(colon + 1) == "latest" ? "Always" : "IfNotPresent";
}

void DefaultContainer(Json& c) {
  if (!c.contains("imagePullPolicy") && c.contains("image") && c["image"].is_string()) {
    c["imagePullPolicy"] = DefaultPullPolicy(c["image"].get<std::string>());
  }
  // Requests default to limits for each resource that has only a limit.
  if (c.contains("resources") && c["resources"].is_object() && c["resources"].contains("limits")) {
    Json& res = c["resources"];
    for (auto& [name, q] : res["limits"].items()) {
      if (!res.contains("requests") || !res["requests"].contains(name)) res["requests"][name] = q;
    }
  }
  if (!c.contains("resources")) c["resources"] = Json::object();
}

// Guaranteed: every container limits cpu and memory with requests equal to limits;
// BestEffort: nobody asks for cpu or memory; otherwise Burstable.
std::string QOSClass(const Json& spec) {
  // Upstream GetPodQOS: quantities compared by value, zero ones ignored; Guaranteed when
  // every container limits cpu and memory and the requests equal the limits in sum.
  std::map<std::string, int64_t> requests, limits;  // in milli-units
  bool guaranteed = true;
  for (const char* list : {"initContainers", "containers"}) {
    for (const auto& c : spec.value(list, Json::array())) {
      Json res = c.value("resources", Json::object());
      Json req = res.value("requests", Json::object()), lim = res.value("limits", Json::object());
      std::set<std::string> limited;
      for (const char* r : {"cpu", "memory"}) {
        int64_t q = req.contains(r) ? resource::QuantityMilliValue(req[r]) : 0;
        if (q > 0) requests[r] += q;
        int64_t l = lim.contains(r) ? resource::QuantityMilliValue(lim[r]) : 0;
        if (l > 0) {
          limits[r] += l;
          limited.insert(r);
        }
      }
      if (limited.size() != 2) guaranteed = false;
    }
  }
  if (requests.empty() && limits.empty()) return "BestEffort";
  for (const auto& [r, q] : requests) {
    auto it = limits.find(r);
    if (it == limits.end() || it->second != q) guaranteed = false;
  }
  return guaranteed && requests.size() == limits.size() ? "Guaranteed" : "Burstable";
}

void ValidateContainers(const Json& list, const Path& p, bool require_image, std::set<std::string>& names,
                        ErrorList& errs) {
  if (!list.is_array()) return;
  for (size_t i = 0; i < list.size(); ++i) {
    const Json& c = list[i];
    Path cp = p.Index(i);
    std::string name = c.value("name", "");
    if (!name.empty()) {
      for (const auto& m : validation::IsDNS1123Label(name)) errs.push_back(validation::InvalidValue(cp.Child("name"), name, m));
      if (!names.insert(name).second) errs.push_back(validation::Duplicate(cp.Child("name"), name));
    }
    if (require_image && c.value("image", "").empty()) errs.push_back(validation::Required(cp.Child("image")));
    std::set<std::string> port_names;
    const Json& ports = c.value("ports", Json::array());
    for (size_t j = 0; j < ports.size(); ++j) {
      Path pp = cp.Child("ports").Index(j);
      for (const char* field : {"containerPort", "hostPort"}) {
        if (!ports[j].contains(field) || !ports[j][field].is_number_integer()) continue;
        int64_t port = ports[j][field].get<int64_t>();
        bool optional_zero = std::string(field) == "hostPort" && port == 0;
        if (!optional_zero && (port < 1 || port > 65535)) {
          errs.push_back(validation::InvalidValue(pp.Child(field), port, "must be between 1 and 65535, inclusive"));
        }
      }
      std::string pn = ports[j].value("name", "");
      if (!pn.empty()) {
        for (const auto& m : validation::IsValidPortName(pn)) errs.push_back(validation::InvalidValue(pp.Child("name"), pn, m));
        if (!port_names.insert(pn).second) errs.push_back(validation::Duplicate(pp.Child("name"), pn));
      }
    }
  }
}

// ConfigMaps and Secrets: at most 1 MiB of data, and with `immutable: true` neither
// the data nor the flag may change (ValidateConfigMapUpdate / ValidateSecretUpdate).
void ValidateDataObject(const Json& obj, const Json* old, bool is_secret, ErrorList& errs) {
  size_t total = 0;
  for (const char* field : {"data", "binaryData"}) {
    const Json entries = obj.value(field, Json::object());
    for (auto it = entries.begin(); it != entries.end(); ++it) {
      total += it.key().size() + (it.value().is_string() ? it.value().get<std::string>().size() : 0);
    }
  }
  // Secret data is base64 in JSON; the limit is on the decoded bytes.
  if (is_secret) total = total * 3 / 4;
  constexpr size_t kMaxSize = 1024 * 1024;
  if (total > kMaxSize) {
    validation::FieldError e{validation::ErrorType::kTooLong, is_secret ? "data" : "[]", nullptr,
                             "may not be more than " + std::to_string(kMaxSize) + " bytes"};
    errs.push_back(e);
  }
  if (old && old->value("immutable", false)) {
    const char* msg = "field is immutable when `immutable` is set";
    if (!obj.value("immutable", false)) errs.push_back(validation::Forbidden(Path("immutable"), msg));
    if (obj.value("data", Json::object()) != old->value("data", Json::object())) {
      errs.push_back(validation::Forbidden(Path("data"), msg));
    }
    if (!is_secret && obj.value("binaryData", Json::object()) != old->value("binaryData", Json::object())) {
      errs.push_back(validation::Forbidden(Path("binaryData"), msg));
    }
  }
}

void PrepareNamespace(Json& obj) {
  obj["spec"]["finalizers"] = Json::array({"kubernetes"});
  obj["status"] = {{"phase", "Active"}};
}

void DefaultSecret(Json& obj) {
  // stringData is write-only: merged into data (base64) and dropped.
  if (!obj.contains("stringData") || !obj["stringData"].is_object()) return;
  for (auto& [k, v] : obj["stringData"].items()) {
    std::string out = pki::Base64Encode(v.is_string() ? v.get<std::string>() : v.dump());
    obj["data"][k] = out;
  }
  obj.erase("stringData");
}

void DefaultService(Json& obj) {
  Json& spec = obj["spec"];
  if (!spec.is_object()) return;
  std::string type = spec.value("type", "ClusterIP");
  for (auto& port : spec["ports"]) {
    if (port.is_object() && !port.contains("targetPort") && port.contains("port")) port["targetPort"] = port["port"];
  }
  if (spec["ports"].is_null()) spec.erase("ports");
  if (type != "ExternalName" && !spec.contains("internalTrafficPolicy")) spec["internalTrafficPolicy"] = "Cluster";
  if ((type == "NodePort" || type == "LoadBalancer") && !spec.contains("externalTrafficPolicy")) {
    spec["externalTrafficPolicy"] = "Cluster";
  }
  if (spec.value("sessionAffinity", "") == "ClientIP" && !spec.contains("sessionAffinityConfig")) {
    spec["sessionAffinityConfig"] = {{"clientIP", {{"timeoutSeconds", 10800}}}};
  }
}

void ValidateService(const Json& obj, const Json* old, ErrorList& errs) {
  const Json& spec = obj.value("spec", Json::object());
  Path p = Path("spec");
  std::string type = spec.value("type", "ClusterIP");
  const Json& ports = spec.value("ports", Json::array());
  if (type != "ExternalName" && ports.empty() && spec.value("clusterIP", "") != "None") {
    errs.push_back(validation::Required(p.Child("ports")));
  }
  std::set<std::string> names;
  for (size_t i = 0; i < ports.size(); ++i) {
    Path pp = p.Child("ports").Index(i);
    if (ports.size() > 1 && ports[i].value("name", "").empty()) errs.push_back(validation::Required(pp.Child("name")));
    std::string n = ports[i].value("name", "");
    if (!n.empty() && !names.insert(n).second) errs.push_back(validation::Duplicate(pp.Child("name"), n));
    if (ports[i].contains("port") && ports[i]["port"].is_number_integer()) {
      int64_t port = ports[i]["port"].get<int64_t>();
      if (port < 1 || port > 65535) errs.push_back(validation::InvalidValue(pp.Child("port"), port, "must be between 1 and 65535, inclusive"));
    }
  }
  if (type == "ExternalName" && spec.value("externalName", "").empty()) errs.push_back(validation::Required(p.Child("externalName")));
}

// Pod spec updates may change only images, activeDeadlineSeconds, tolerations and
// terminationGracePeriodSeconds (ValidatePodUpdate).
// Ephemeral containers (upstream validateEphemeralContainers): debugging containers
// added to a running pod; they get no ports, probes, lifecycle hooks or resources, no
// restart policy, and may name the container whose namespaces they join.
void ValidateEphemeralContainers(const Json& spec, const Path& p, std::set<std::string>& names, ErrorList& errs) {
  const Json& list = spec.value("ephemeralContainers", Json::array());
  if (!list.is_array()) return;
  std::set<std::string> targets;
  for (const char* l : {"containers", "initContainers"}) {
    for (const auto& c : spec.value(l, Json::array())) targets.insert(c.value("name", ""));
  }
  ValidateContainers(list, p, true, names, errs);
  for (size_t i = 0; i < list.size(); ++i) {
    const Json& c = list[i];
    Path cp = p.Index(i);
    for (const char* f : {"ports", "livenessProbe", "readinessProbe", "startupProbe", "lifecycle", "resources",
                          "resizePolicy", "restartPolicy"}) {
      if (c.contains(f) && !c[f].is_null() && !(c[f].is_object() && c[f].empty()) && !(c[f].is_array() && c[f].empty())) {
        errs.push_back(validation::Forbidden(cp.Child(f), "cannot be set for an Ephemeral Container"));
      }
    }
    std::string target = c.value("targetContainerName", "");
    if (!target.empty() && !targets.count(target)) errs.push_back(validation::NotFound(cp.Child("targetContainerName"), target));
  }
}

void ValidatePodUpdate(const Json& obj, const Json& old, ErrorList& errs) {
  // Ephemeral containers are added through pods/ephemeralcontainers (admission keeps
  // the old list on a plain update); once added, one never changes or goes away.
  const Json& old_eph = old.value("spec", Json::object()).value("ephemeralContainers", Json::array());
  const Json& new_eph = obj.value("spec", Json::object()).value("ephemeralContainers", Json::array());
  for (const auto& before : old_eph) {
    bool same = false;
    for (const auto& after : new_eph) same |= after == before;
    if (!same) {
      errs.push_back(validation::Forbidden(Path("spec").Child("ephemeralContainers"),
                                           "existing ephemeral containers \"" + before.value("name", "") +
                                               "\" may not be changed"));
    }
  }
  auto strip = [](Json spec) {
    spec.erase("ephemeralContainers");
    for (const char* list : {"containers", "initContainers"}) {
      if (!spec.contains(list)) continue;
      for (auto& c : spec[list]) c.erase("image");
    }
    for (const char* f : {"activeDeadlineSeconds", "tolerations", "terminationGracePeriodSeconds"}) spec.erase(f);
    return spec;
  };
  if (strip(obj.value("spec", Json::object())) != strip(old.value("spec", Json::object()))) {
    errs.push_back(validation::Forbidden(
        Path("spec"),
        "pod updates may not change fields other than `spec.containers[*].image`,`spec.initContainers[*].image`,"
        "`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing tolerations),"
        "`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)"));
  }
}

}  // namespace

void DefaultPodSpec(Json& spec) {
  if (!spec.is_object()) return;
  for (const char* list : {"initContainers", "containers", "ephemeralContainers"}) {
    if (!spec.contains(list) || !spec[list].is_array()) continue;
    for (auto& c : spec[list]) {
      if (c.is_object()) DefaultContainer(c);
    }
  }
  if (!spec.contains("securityContext")) spec["securityContext"] = Json::object();
  if (spec.contains("volumes") && spec["volumes"].is_array()) {
    for (auto& v : spec["volumes"]) {
      // A volume with no source is an emptyDir.
      if (v.is_object() && v.size() == 1 && v.contains("name")) v["emptyDir"] = Json::object();
    }
  }
}

void ValidatePodSpec(const Json& spec, const Path& p, ErrorList& errs) {
  if (!spec.is_object()) return;
  std::set<std::string> names;
  ValidateContainers(spec.value("initContainers", Json::array()), p.Child("initContainers"), true, names, errs);
  ValidateContainers(spec.value("containers", Json::array()), p.Child("containers"), true, names, errs);
  ValidateEphemeralContainers(spec, p.Child("ephemeralContainers"), names, errs);
  // A pod in a user namespace of its own shares none of the host's namespaces
  // (upstream validateHostUsers, field names spelled as upstream spells them).
  if (spec.contains("hostUsers") && spec["hostUsers"].is_boolean() && !spec["hostUsers"].get<bool>()) {
    for (auto [field, name] : {std::pair{"hostNetwork", "hostNetwork"}, {"hostPID", "HostPID"}, {"hostIPC", "HostIPC"}}) {
      if (spec.value(field, false)) errs.push_back(validation::Forbidden(p.Child(name), "when `pod.Spec.HostUsers` is false"));
    }
  }
  std::set<std::string> volumes;
  const Json& vols = spec.value("volumes", Json::array());
  for (size_t i = 0; i < vols.size(); ++i) {
    std::string n = vols[i].value("name", "");
    if (n.empty()) continue;
    for (const auto& m : validation::IsDNS1123Label(n)) errs.push_back(validation::InvalidValue(p.Child("volumes").Index(i).Child("name"), n, m));
    if (!volumes.insert(n).second) errs.push_back(validation::Duplicate(p.Child("volumes").Index(i).Child("name"), n));
  }
}

void ApplyCoreStrategy(ResourceInfo& r) {
  if (r.kind == "Namespace") {
    r.name_rule = validation::NameRule::kDNS1123Label;
    r.prepare_for_create = PrepareNamespace;
    // Every namespace carries its own name as a label, so selectors can pick namespaces
    // by name (NetworkPolicy namespaceSelector).
    r.default_object = [](Json& obj) {
      std::string name = obj["metadata"].value("name", "");
      if (!name.empty()) obj["metadata"]["labels"]["kubernetes.io/metadata.name"] = name;
    };
    // spec.finalizers change only through the finalize subresource.
    r.prepare_for_update = [](Json& obj, const Json& old) {
      Json finalizers = old.value("spec", Json::object()).value("finalizers", Json());
      if (finalizers.is_null()) obj["spec"].erase("finalizers");
      else obj["spec"]["finalizers"] = finalizers;
    };
    r.field_selectors = {"status.phase"};
    r.selectable_fields = [](const Json& o, std::map<std::string, std::string>& f) {
      f["status.phase"] = o.value("status", Json::object()).value("phase", "");
    };
  } else if (r.kind == "Pod") {
    r.prepare_for_create = [](Json& obj) {
      obj["status"] = {{"phase", "Pending"}, {"qosClass", QOSClass(obj.value("spec", Json::object()))}};
    };
    r.default_object = [](Json& obj) {
      if (!obj.contains("spec")) return;
      DefaultPodSpec(obj["spec"]);
      if (!obj["spec"].contains("enableServiceLinks")) obj["spec"]["enableServiceLinks"] = true;
    };
    r.validate = [](const Json& obj, const Json* old, ErrorList& errs) {
      ValidatePodSpec(obj.value("spec", Json::object()), Path("spec"), errs);
      if (old) ValidatePodUpdate(obj, *old, errs);
      if (!old && !obj.value("spec", Json::object()).value("ephemeralContainers", Json::array()).empty()) {
        errs.push_back(validation::Forbidden(Path("spec").Child("ephemeralContainers"), "cannot be set on create"));
      }
    };
    r.field_selectors = {"spec.nodeName", "spec.restartPolicy", "spec.schedulerName", "spec.serviceAccountName",
                         "spec.hostNetwork", "status.phase", "status.podIP", "status.nominatedNodeName"};
    r.selectable_fields = [](const Json& o, std::map<std::string, std::string>& f) {
      const Json& spec = o.value("spec", Json::object());
      const Json& status = o.value("status", Json::object());
      f["spec.nodeName"] = spec.value("nodeName", "");
      f["spec.restartPolicy"] = spec.value("restartPolicy", "");
      f["spec.schedulerName"] = spec.value("schedulerName", "");
      f["spec.serviceAccountName"] = spec.value("serviceAccountName", "");
      f["spec.hostNetwork"] = spec.value("hostNetwork", false) ? "true" : "false";
      f["status.phase"] = status.value("phase", "");
      f["status.podIP"] = status.value("podIP", "");
      f["status.nominatedNodeName"] = status.value("nominatedNodeName", "");
    };
  } else if (r.kind == "PodTemplate") {
    r.default_object = [](Json& obj) {
      if (obj.contains("template") && obj["template"].contains("spec")) DefaultPodSpec(obj["template"]["spec"]);
    };
  } else if (r.kind == "ReplicationController") {
    r.tracks_generation = true;
    r.default_object = [](Json& obj) {
      Json& spec = obj["spec"];
      Json labels = spec.value("template", Json::object()).value("metadata", Json::object()).value("labels", Json::object());
      if (!spec.contains("selector") || spec["selector"].empty()) spec["selector"] = labels;
      if (!obj["metadata"].contains("labels") || obj["metadata"]["labels"].empty()) obj["metadata"]["labels"] = labels;
      if (spec.contains("template") && spec["template"].contains("spec")) DefaultPodSpec(spec["template"]["spec"]);
    };
  } else if (r.kind == "Service") {
    r.name_rule = validation::NameRule::kDNS1035Label;
    r.default_object = DefaultService;
    r.validate = ValidateService;
  } else if (r.kind == "ConfigMap") {
    r.validate = [](const Json& obj, const Json* old, ErrorList& errs) { ValidateDataObject(obj, old, false, errs); };
  } else if (r.kind == "Secret") {
    r.default_object = DefaultSecret;
    r.validate = [](const Json& obj, const Json* old, ErrorList& errs) { ValidateDataObject(obj, old, true, errs); };
    r.field_selectors = {"type"};
    r.selectable_fields = [](const Json& o, std::map<std::string, std::string>& f) { f["type"] = o.value("type", ""); };
  } else if (r.kind == "Node") {
    r.field_selectors = {"spec.unschedulable"};
    r.selectable_fields = [](const Json& o, std::map<std::string, std::string>& f) {
      f["spec.unschedulable"] = o.value("spec", Json::object()).value("unschedulable", false) ? "true" : "false";
    };
  } else if (r.kind == "Event") {
    r.name_rule = validation::NameRule::kDNS1123Subdomain;
    r.field_selectors = {"involvedObject.kind", "involvedObject.namespace", "involvedObject.name",
                         "involvedObject.uid", "involvedObject.apiVersion", "involvedObject.resourceVersion",
                         "involvedObject.fieldPath", "reason", "reportingComponent", "source", "type"};
    r.selectable_fields = [](const Json& o, std::map<std::string, std::string>& f) {
      const Json& io = o.value("involvedObject", Json::object());
      for (const char* k : {"kind", "namespace", "name", "uid", "apiVersion", "resourceVersion", "fieldPath"}) {
        f[std::string("involvedObject.") + k] = io.value(k, "");
      }
      f["reason"] = o.value("reason", "");
      f["reportingComponent"] = o.value("reportingComponent", "");
      f["source"] = o.value("source", Json::object()).value("component", "");
      f["type"] = o.value("type", "");
    };
  } else if (r.kind == "PersistentVolume" || r.kind == "PersistentVolumeClaim") {
    r.prepare_for_create = [](Json& obj) { obj["status"] = {{"phase", "Pending"}}; };
  }
}

}  // namespace kubes::apiserver
