// Columns of core/v1 kinds (upstream printers.go: printPod, printNamespace, ...).
#include "apiserver/printers/printers.h"

namespace kubes::apiserver {
namespace {

using namespace printers;

Column NameColumn() { return {"Name", "string", "name", "Name must be unique within a namespace.", 0}; }
Column AgeColumn() { return {"Age", "string", "", "Time since the object was created.", 0}; }

bool HasTrueCondition(const Json& status, const std::string& type) {
  for (const auto& c : status.value("conditions", Json::array())) {
    if (c.value("type", "") == type && c.value("status", "") == "True") return true;
  }
  return false;
}

// A sidecar: an init container with restartPolicy Always.
bool IsRestartableInit(const Json& spec, const std::string& name) {
  for (const auto& c : spec.value("initContainers", Json::array())) {
    if (c.value("name", "") == name) return c.value("restartPolicy", "") == "Always";
  }
  return false;
}

// READY, STATUS and RESTARTS of a pod, worked out as kubectl's printPod does.
Json PodRow(const Json& pod, TimePoint now) {
  const Json& spec = pod.value("spec", Json::object());
  const Json& status = pod.value("status", Json::object());
  const Json& meta = pod.value("metadata", Json::object());
  int64_t restarts = 0, total = spec.value("containers", Json::array()).size(), ready = 0;
  std::string last_restart;  // RFC 3339 of the most recent restart
  auto note_restart = [&](const Json& cs) {
    restarts += Int(cs, "restartCount");
    const Json& fin = cs.value("lastState", Json::object()).value("terminated", Json::object()).value("finishedAt", Json());
    if (fin.is_string() && fin.get<std::string>() > last_restart) last_restart = fin.get<std::string>();
  };
  std::string reason = status.value("phase", "");
  if (!status.value("reason", "").empty()) reason = status.value("reason", "");

  bool initializing = false;
  const Json& init_statuses = status.value("initContainerStatuses", Json::array());
  size_t n_init = spec.value("initContainers", Json::array()).size();
  for (size_t i = 0; i < init_statuses.size(); ++i) {
    const Json& cs = init_statuses[i];
    note_restart(cs);
    const Json& state = cs.value("state", Json::object());
    bool sidecar = IsRestartableInit(spec, cs.value("name", ""));
    if (sidecar) {
      ++total;
      if (cs.value("ready", false)) ++ready;
    }
    if (state.contains("terminated") && Int(state["terminated"], "exitCode") == 0) continue;
    if (sidecar && cs.value("started", false)) continue;
    if (state.contains("terminated")) {
      const Json& t = state["terminated"];
      if (!t.value("reason", "").empty()) reason = "Init:" + t.value("reason", "");
      else if (Int(t, "signal") != 0) reason = "Init:Signal:" + std::to_string(Int(t, "signal"));
      else reason = "Init:ExitCode:" + std::to_string(Int(t, "exitCode"));
    } else if (state.contains("waiting") && !state["waiting"].value("reason", "").empty() &&
               state["waiting"].value("reason", "") != "PodInitializing") {
      reason = "Init:" + state["waiting"].value("reason", "");
    } else {
      reason = "Init:" + std::to_string(i) + "/" + std::to_string(n_init);
    }
    initializing = true;
    break;
  }
  if (!initializing || HasTrueCondition(status, "Initialized")) {
    bool has_running = false;
    const Json& statuses = status.value("containerStatuses", Json::array());
    for (size_t k = statuses.size(); k-- > 0;) {
      const Json& cs = statuses[k];
      note_restart(cs);
      const Json& state = cs.value("state", Json::object());
      if (state.contains("waiting") && !state["waiting"].value("reason", "").empty()) {
        reason = state["waiting"].value("reason", "");
      } else if (state.contains("terminated") && !state["terminated"].value("reason", "").empty()) {
        reason = state["terminated"].value("reason", "");
      } else if (state.contains("terminated")) {
        const Json& t = state["terminated"];
        reason = Int(t, "signal") != 0 ? "Signal:" + std::to_string(Int(t, "signal"))
                                       : "ExitCode:" + std::to_string(Int(t, "exitCode"));
      } else if (cs.value("ready", false) && state.contains("running")) {
        has_running = true;
        ++ready;
      }
    }
    if (reason == "Completed" && has_running) reason = HasTrueCondition(status, "Ready") ? "Running" : "NotReady";
  }
  if (meta.contains("deletionTimestamp") && status.value("reason", "") == "NodeLost") reason = "Unknown";
  else if (meta.contains("deletionTimestamp")) reason = "Terminating";

  std::string restarts_cell = std::to_string(restarts);
  if (!last_restart.empty()) restarts_cell += " (" + Since(Json(last_restart), now) + " ago)";

  std::string ip = status.value("podIP", "");
  std::string readiness_gates = "<none>";
  const Json& gates = spec.value("readinessGates", Json::array());
  if (!gates.empty()) {
    int true_gates = 0;
    for (const auto& g : gates) {
      if (HasTrueCondition(status, g.value("conditionType", ""))) ++true_gates;
    }
    readiness_gates = std::to_string(true_gates) + "/" + std::to_string(gates.size());
  }
  return Json::array({Name(pod), std::to_string(ready) + "/" + std::to_string(total), reason, restarts_cell,
                      Age(pod, now), OrNone(ip), OrNone(spec.value("nodeName", "")),
                      OrNone(status.value("nominatedNodeName", "")), readiness_gates});
}

std::string ServicePorts(const Json& spec) {
  std::string out;
  for (const auto& p : spec.value("ports", Json::array())) {
    if (!out.empty()) out += ",";
    out += std::to_string(Int(p, "port"));
    if (Int(p, "nodePort") > 0) out += ":" + std::to_string(Int(p, "nodePort"));
    out += "/" + p.value("protocol", "TCP");
  }
  return out.empty() ? "<none>" : out;
}

std::string ServiceExternalIP(const Json& svc) {
  const Json& spec = svc.value("spec", Json::object());
  std::string type = spec.value("type", "ClusterIP");
  std::string external;
  for (const auto& ip : spec.value("externalIPs", Json::array())) external += (external.empty() ? "" : ",") + ip.get<std::string>();
  if (type == "ExternalName") return spec.value("externalName", "");
  if (type == "LoadBalancer") {
    std::string lb;
    for (const auto& ing : svc.value("status", Json::object()).value("loadBalancer", Json::object()).value("ingress", Json::array())) {
      std::string v = ing.value("ip", ing.value("hostname", ""));
      if (!v.empty()) lb += (lb.empty() ? "" : ",") + v;
    }
    if (!lb.empty()) return external.empty() ? lb : lb + "," + external;
    return external.empty() ? "<pending>" : external;
  }
  return external.empty() ? "<none>" : external;
}

std::string NodeStatus(const Json& node) {
  std::string out = "Unknown";
  for (const auto& c : node.value("status", Json::object()).value("conditions", Json::array())) {
    if (c.value("type", "") == "Ready") out = c.value("status", "") == "True" ? "Ready" : "NotReady";
  }
  if (node.value("spec", Json::object()).value("unschedulable", false)) out += ",SchedulingDisabled";
  return out;
}

std::string NodeRoles(const Json& node) {
  std::string roles;
  const Json labels = node.value("metadata", Json::object()).value("labels", Json::object());
  for (auto& [k, v] : labels.items()) {
    const std::string prefix = "node-role.kubernetes.io/";
    if (k.starts_with(prefix) && k.size() > prefix.size()) roles += (roles.empty() ? "" : ",") + k.substr(prefix.size());
    else if (k == "kubernetes.io/role" && v.is_string()) roles += (roles.empty() ? "" : ",") + v.get<std::string>();
  }
  return roles.empty() ? "<none>" : roles;
}

std::string NodeAddress(const Json& node, const std::string& type) {
  for (const auto& a : node.value("status", Json::object()).value("addresses", Json::array())) {
    if (a.value("type", "") == type) return a.value("address", "");
  }
  return "<none>";
}

}  // namespace

void RegisterCorePrinters() {
  Register("", "Namespace",
           {{NameColumn(), {"Status", "string", "", "The namespace's lifecycle phase.", 0}, AgeColumn()},
            [](const Json& o, TimePoint now) {
              return Json::array({Name(o), o.value("status", Json::object()).value("phase", ""), Age(o, now)});
            }});
  Register("", "Pod",
           {{NameColumn(),
             {"Ready", "string", "", "Ready containers out of all containers.", 0},
             {"Status", "string", "", "The pod's state as kubectl summarises it.", 0},
             {"Restarts", "string", "", "Container restarts, and how long ago the last one was.", 0},
             AgeColumn(),
             {"IP", "string", "", "The pod's IP address.", 1},
             {"Node", "string", "", "The node the pod runs on.", 1},
             {"Nominated Node", "string", "", "The node the scheduler is making room on.", 1},
             {"Readiness Gates", "string", "", "Readiness gates that are true out of all of them.", 1}},
            PodRow});
  Register("", "ConfigMap",
           {{NameColumn(), {"Data", "integer", "", "Number of keys.", 0}, AgeColumn()},
            [](const Json& o, TimePoint now) {
              size_t n = o.value("data", Json::object()).size() + o.value("binaryData", Json::object()).size();
              return Json::array({Name(o), n, Age(o, now)});
            }});
  Register("", "Secret",
           {{NameColumn(), {"Type", "string", "", "The type of secret.", 0}, {"Data", "integer", "", "Number of keys.", 0}, AgeColumn()},
            [](const Json& o, TimePoint now) {
              return Json::array({Name(o), o.value("type", ""), o.value("data", Json::object()).size(), Age(o, now)});
            }});
  Register("", "ServiceAccount",
           {{NameColumn(), {"Secrets", "integer", "", "Number of secrets.", 0}, AgeColumn()},
            [](const Json& o, TimePoint now) {
              return Json::array({Name(o), o.value("secrets", Json::array()).size(), Age(o, now)});
            }});
  Register("", "Service",
           {{NameColumn(),
             {"Type", "string", "", "How the service is exposed.", 0},
             {"Cluster-IP", "string", "", "The virtual IP inside the cluster.", 0},
             {"External-IP", "string", "", "Addresses outside the cluster.", 0},
             {"Port(s)", "string", "", "The ports the service serves.", 0},
             AgeColumn(),
             {"Selector", "string", "", "The pods the service sends traffic to.", 1}},
            [](const Json& o, TimePoint now) {
              const Json& spec = o.value("spec", Json::object());
              std::string cluster_ip = spec.value("clusterIP", "");
              return Json::array({Name(o), spec.value("type", "ClusterIP"), OrNone(cluster_ip), ServiceExternalIP(o),
                                  ServicePorts(spec), Age(o, now), FormatLabels(spec.value("selector", Json()))});
            }});
  Register("", "Endpoints",
           {{NameColumn(), {"Endpoints", "string", "", "Addresses and ports.", 0}, AgeColumn()},
            [](const Json& o, TimePoint now) {
              std::string eps;
              int count = 0, shown = 0;
              for (const auto& ss : o.value("subsets", Json::array())) {
                for (const auto& a : ss.value("addresses", Json::array())) {
                  for (const auto& p : ss.value("ports", Json::array())) {
                    ++count;
                    if (shown < 3) {
                      eps += (eps.empty() ? "" : ",") + a.value("ip", "") + ":" + std::to_string(Int(p, "port"));
                      ++shown;
                    }
                  }
                }
              }
              if (count > 3) eps += " + " + std::to_string(count - 3) + " more...";
              return Json::array({Name(o), eps.empty() ? "<none>" : eps, Age(o, now)});
            }});
  Register("", "Node",
           {{NameColumn(),
             {"Status", "string", "", "Whether the node is ready.", 0},
             {"Roles", "string", "", "The node's roles.", 0},
             AgeColumn(),
             {"Version", "string", "", "The kubelet version.", 0},
             {"Internal-IP", "string", "", "The node's internal address.", 1},
             {"External-IP", "string", "", "The node's external address.", 1},
             {"OS-Image", "string", "", "The operating system.", 1},
             {"Kernel-Version", "string", "", "The kernel version.", 1},
             {"Container-Runtime", "string", "", "The container runtime.", 1}},
            [](const Json& o, TimePoint now) {
              const Json& info = o.value("status", Json::object()).value("nodeInfo", Json::object());
              return Json::array({Name(o), NodeStatus(o), NodeRoles(o), Age(o, now), info.value("kubeletVersion", ""),
                                  NodeAddress(o, "InternalIP"), NodeAddress(o, "ExternalIP"),
                                  OrNone(info.value("osImage", "")), OrNone(info.value("kernelVersion", "")),
                                  OrNone(info.value("containerRuntimeVersion", ""))});
            }});
  Register("", "Event",
           {{{"Last Seen", "string", "", "Time since the event was last seen.", 0},
             {"Type", "string", "", "Normal or Warning.", 0},
             {"Reason", "string", "", "Why the event happened, in one word.", 0},
             {"Object", "string", "", "The object the event is about.", 0},
             {"Subobject", "string", "", "The part of the object.", 1},
             {"Source", "string", "", "Who reported it.", 1},
             {"Message", "string", "", "What happened.", 0},
             {"First Seen", "string", "", "Time since the event was first seen.", 1},
             {"Count", "string", "", "How often it happened.", 1},
             {"Name", "string", "name", "The event's name.", 1}},
            [](const Json& o, TimePoint now) {
              const Json& io = o.value("involvedObject", Json::object());
              std::string kind = io.value("kind", "");
              for (char& c : kind) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
              Json last = o.contains("lastTimestamp") && o["lastTimestamp"].is_string() ? o["lastTimestamp"]
                          : o.contains("eventTime") ? o["eventTime"] : o["metadata"].value("creationTimestamp", Json());
              Json first = o.contains("firstTimestamp") && o["firstTimestamp"].is_string() ? o["firstTimestamp"] : last;
              std::string source = o.value("source", Json::object()).value("component", o.value("reportingComponent", ""));
              std::string host = o.value("source", Json::object()).value("host", "");
              if (!host.empty()) source += ", " + host;
              int64_t count = Int(o, "count");
              return Json::array({Since(last, now), o.value("type", ""), o.value("reason", ""),
                                  kind + "/" + io.value("name", ""), io.value("fieldPath", ""), source,
                                  o.value("message", ""), Since(first, now), std::to_string(count ? count : 1),
                                  Name(o)});
            }});
  Register("", "PersistentVolumeClaim",
           {{NameColumn(),
             {"Status", "string", "", "Pending, Bound or Lost.", 0},
             {"Volume", "string", "", "The bound volume.", 0},
             {"Capacity", "string", "", "The bound volume's size.", 0},
             {"Access Modes", "string", "", "How the volume may be mounted.", 0},
             {"StorageClass", "string", "", "The storage class.", 0},
             {"VolumeAttributesClass", "string", "", "The volume attributes class.", 0},
             AgeColumn(),
             {"VolumeMode", "string", "", "Filesystem or Block.", 1}},
            [](const Json& o, TimePoint now) {
              const Json& spec = o.value("spec", Json::object());
              const Json& status = o.value("status", Json::object());
              std::string modes;
              static const std::map<std::string, std::string> kShort = {
                  {"ReadWriteOnce", "RWO"}, {"ReadOnlyMany", "ROX"}, {"ReadWriteMany", "RWX"}, {"ReadWriteOncePod", "RWOP"}};
              for (const auto& m : status.value("accessModes", Json::array())) {
                auto it = kShort.find(m.get<std::string>());
                modes += (modes.empty() ? "" : ",") + (it == kShort.end() ? m.get<std::string>() : it->second);
              }
              std::string cap = status.value("capacity", Json::object()).value("storage", "");
              return Json::array({Name(o), status.value("phase", ""), spec.value("volumeName", ""), cap, modes,
                                  OrNone(spec.value("storageClassName", "")),
                                  OrNone(spec.value("volumeAttributesClassName", "")), Age(o, now),
                                  spec.value("volumeMode", "Filesystem")});
            }});
}

}  // namespace kubes::apiserver
