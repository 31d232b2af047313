// Columns of core/v1 kinds other than Pod and the storage kinds (upstream printers.go:
// printNamespace, printService, printNode, printEvent, ...), and of events.k8s.io
// Events, which upstream prints with the core Event printer.
#include "apiserver/printers/printers.h"

#include <set>

namespace kubes::apiserver {
namespace {

using namespace printers;

// ---- Service ------------------------------------------------------------------------

// "80/TCP,443:30443/TCP" (makePortString).
std::string ServicePorts(const Json& spec) {
  std::vector<std::string> parts;
  for (const auto& p : Items(Get(spec, "ports"))) {
    std::string protocol = Str(Get(p, "protocol"));
    if (protocol.empty()) protocol = "TCP";
    std::string s = std::to_string(Int(Get(p, "port")));
    if (Int(Get(p, "nodePort")) > 0) s += ":" + std::to_string(Int(Get(p, "nodePort")));
    parts.push_back(s + "/" + protocol);
  }
  return parts.empty() ? "<none>" : Join(parts, ",");
}

// EXTERNAL-IP (getServiceExternalIP): load balancer addresses are a sorted set.
std::string ServiceExternalIP(const Json& svc, const std::string& type) {
  const Json& spec = Get(svc, "spec");
  std::vector<std::string> external;
  for (const auto& ip : Items(Get(spec, "externalIPs"))) external.push_back(Str(ip));
  if (type == "ClusterIP" || type == "NodePort") return external.empty() ? "<none>" : Join(external, ",");
  if (type == "ExternalName") return Str(Get(spec, "externalName"));
  if (type != "LoadBalancer") return "<unknown>";
  std::set<std::string> lb;
  for (const auto& ing : Items(Get(svc, "status", "loadBalancer", "ingress"))) {
    std::string v = Str(Get(ing, "ip"));
    if (v.empty()) v = Str(Get(ing, "hostname"));
    if (!v.empty()) lb.insert(v);
  }
  std::vector<std::string> all(lb.begin(), lb.end());
  all.insert(all.end(), external.begin(), external.end());
  return all.empty() ? "<pending>" : Join(all, ",");
}

Json ServiceRow(const Json& o, TimePoint now) {
  const Json& spec = Get(o, "spec");
  std::string type = Str(Get(spec, "type"));
  if (type.empty()) type = "ClusterIP";
  // spec.clusterIPs[0]; objects written before dual-stack may only carry spec.clusterIP.
  const Json& ips = Items(Get(spec, "clusterIPs"));
  std::string cluster_ip = ips.empty() ? Str(Get(spec, "clusterIP")) : Str(ips[0]);
  return Json::array({Name(o), type, OrNone(cluster_ip), ServiceExternalIP(o, type), ServicePorts(spec), Age(o, now),
                      FormatLabels(Get(spec, "selector"))});
}

// ---- Endpoints ----------------------------------------------------------------------

std::string JoinHostPort(const std::string& host, int64_t port) {
  bool v6 = host.find(':') != std::string::npos;
  return (v6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

// "10.0.0.1:80,10.0.0.2:80 + 3 more..." (formatEndpoints with all ports).
std::string FormatEndpoints(const Json& endpoints) {
  const Json& subsets = Items(Get(endpoints, "subsets"));
  if (subsets.empty()) return "<none>";
  constexpr size_t kMax = 3;
  std::vector<std::string> list;
  size_t count = 0;
  for (const auto& ss : subsets) {
    const Json& addresses = Items(Get(ss, "addresses"));
    const Json& ports = Items(Get(ss, "ports"));
    if (ports.empty()) {  // headless services may have no ports
      count += addresses.size();
      for (const auto& a : addresses) {
        if (list.size() < kMax) list.push_back(Str(Get(a, "ip")));
      }
      continue;
    }
    for (const auto& p : ports) {
      count += addresses.size();
      for (const auto& a : addresses) {
        if (list.size() < kMax) list.push_back(JoinHostPort(Str(Get(a, "ip")), Int(Get(p, "port"))));
      }
    }
  }
  std::string out = Join(list, ",");
  return count > kMax ? out + " + " + std::to_string(count - kMax) + " more..." : out;
}

// ---- Node ---------------------------------------------------------------------------

std::string NodeStatus(const Json& node) {
  // Only the Ready condition is shown; the last one of that type wins, as in upstream's map.
  std::string out;
  for (const auto& c : Items(Get(node, "status", "conditions"))) {
    if (Str(Get(c, "type")) == "Ready") out = Str(Get(c, "status")) == "True" ? "Ready" : "NotReady";
  }
  if (out.empty()) out = "Unknown";
  if (IsTrue(Get(node, "spec", "unschedulable"))) out += ",SchedulingDisabled";
  return out;
}

std::string NodeRoles(const Json& node) {
  const std::string prefix = "node-role.kubernetes.io/";
  std::set<std::string> roles;
  const Json& labels = Get(node, "metadata", "labels");
  if (labels.is_object()) {
    for (const auto& [k, v] : labels.items()) {
      if (k.starts_with(prefix) && k.size() > prefix.size()) roles.insert(k.substr(prefix.size()));
      else if (k == "kubernetes.io/role" && !Str(v).empty()) roles.insert(Str(v));
    }
  }
  return roles.empty() ? "<none>" : Join(std::vector<std::string>(roles.begin(), roles.end()), ",");
}

std::string NodeAddress(const Json& node, const std::string& type) {
  for (const auto& a : Items(Get(node, "status", "addresses"))) {
    if (Str(Get(a, "type")) == type) return Str(Get(a, "address"));
  }
  return "<none>";
}

std::string OrUnknown(const std::string& s) { return s.empty() ? "<unknown>" : s; }

Json NodeRow(const Json& o, TimePoint now) {
  const Json& info = Get(o, "status", "nodeInfo");
  return Json::array({Name(o), NodeStatus(o), NodeRoles(o), Age(o, now), Str(Get(info, "kubeletVersion")),
                      NodeAddress(o, "InternalIP"), NodeAddress(o, "ExternalIP"), OrUnknown(Str(Get(info, "osImage"))),
                      OrUnknown(Str(Get(info, "kernelVersion"))),
                      OrUnknown(Str(Get(info, "containerRuntimeVersion")))});
}

// ---- Event --------------------------------------------------------------------------

std::string Trim(const std::string& s) {
  const char* ws = " \t\n\r\f\v";
  size_t b = s.find_first_not_of(ws);
  if (b == std::string::npos) return "";
  return s.substr(b, s.find_last_not_of(ws) - b + 1);
}

// The fields printEvent reads, named as in core/v1. An events.k8s.io/v1 Event maps onto
// them the way upstream converts it to the internal Event.
struct EventFields {
  const Json& involved;
  const Json& message;
  const Json& first;
  const Json& last;
  const Json& count;
  const Json& source;
};

Json EventRow(const Json& o, const EventFields& f, TimePoint now) {
  std::string first = Has(f.first) ? Since(f.first, now) : Since(Get(o, "eventTime"), now);
  std::string last = Has(f.last) ? Since(f.last, now) : first;
  int64_t count = Int(f.count);
  if (Has(Get(o, "series"))) {
    last = Since(Get(o, "series", "lastObservedTime"), now);
    count = Int(Get(o, "series", "count"));
  } else if (count == 0) {
    count = 1;  // singleton events have no count in the new API
  }
  std::string kind = Lower(Str(Get(f.involved, "kind")));
  std::string name = Str(Get(f.involved, "name"));
  std::string target = name.empty() ? kind : kind + "/" + name;
  std::string component = Str(Get(f.source, "component"));
  if (component.empty()) component = Str(Get(o, "reportingController"));
  std::string instance = Str(Get(f.source, "host"));
  if (instance.empty()) instance = Str(Get(o, "reportingInstance"));
  std::string source = instance.empty() ? component : component + ", " + instance;
  return Json::array({last, Str(Get(o, "type")), Str(Get(o, "reason")), target, Str(Get(f.involved, "fieldPath")),
                      source, Trim(Str(f.message)), first, count, Name(o)});
}

std::vector<Column> EventColumns() {
  return {Col("Last Seen", "string", "The time at which the most recent occurrence of this event was recorded."),
          Col("Type", "string", "Type of this event (Normal, Warning), new types could be added in the future"),
          Col("Reason", "string", "This should be a short, machine understandable string that gives the reason for the transition into the object's current status."),
          Col("Object", "string", "The object that this event is about."),
          Wide("Subobject", "string", "The part of the object the event is about, such as a container (fieldPath)."),
          Wide("Source", "string", "The component reporting this event."),
          Col("Message", "string", "A human-readable description of the status of this operation."),
          Wide("First Seen", "string", "The time at which the event was first recorded."),
          Wide("Count", "string", "The number of times this event has occurred."),
          {"Name", "string", "name", NameColumn().description, 1}};
}

// ---- ResourceQuota ------------------------------------------------------------------

Json ResourceQuotaRow(const Json& o, TimePoint now) {
  // status.hard, sorted by resource name; "limits.*" resources go to the LIMIT column.
  std::vector<std::string> requests, limits;
  const Json& hard = Get(o, "status", "hard");
  if (hard.is_object()) {
    for (const auto& [resource, quantity] : hard.items()) {
      std::string cell = resource + ": " + Quantity(Get(o, "status", "used", resource)) + "/" + Quantity(quantity);
      bool is_limit = resource.starts_with("limits.");
      (is_limit ? limits : requests).push_back(cell);
    }
  }
  return Json::array({Name(o), Age(o, now), Join(requests, ", "), Join(limits, ", ")});
}

}  // namespace

void RegisterCorePrinters() {
  Register("", "Namespace",
           {{NameColumn(), Col("Status", "string", "The status of the namespace"), AgeColumn()},
            [](const Json& o, TimePoint now) {
              return Json::array({Name(o), Str(Get(o, "status", "phase")), Age(o, now)});
            }});
  Register("", "ConfigMap",
           {{NameColumn(), Col("Data", "string", "Number of keys in data and binaryData."), AgeColumn()},
            [](const Json& o, TimePoint now) {
              size_t n = Count(Get(o, "data")) + Count(Get(o, "binaryData"));
              return Json::array({Name(o), n, Age(o, now)});
            }});
  Register("", "Secret",
           {{NameColumn(), Col("Type", "string", "Used to facilitate programmatic handling of secret data."),
             Col("Data", "string", "Number of keys in data."), AgeColumn()},
            [](const Json& o, TimePoint now) {
              return Json::array({Name(o), Str(Get(o, "type")), Count(Get(o, "data")), Age(o, now)});
            }});
  Register("", "ServiceAccount",
           {{NameColumn(), Col("Secrets", "string", "Number of secrets listed in the service account."), AgeColumn()},
            [](const Json& o, TimePoint now) {
              return Json::array({Name(o), Count(Get(o, "secrets")), Age(o, now)});
            }});
  Register("", "Service",
           {{NameColumn(), Col("Type", "string", "How the Service is exposed."),
             Col("Cluster-IP", "string", "The IP address of the service inside the cluster."),
             Col("External-IP", "string", "Addresses of the service outside the cluster."),
             Col("Port(s)", "string", "The ports exposed by this service."), AgeColumn(),
             Wide("Selector", "string", "Route service traffic to pods with label keys and values matching this selector.")},
            ServiceRow});
  Register("", "Endpoints",
           {{NameColumn(), Col("Endpoints", "string", "Addresses and ports of the endpoints."), AgeColumn()},
            [](const Json& o, TimePoint now) { return Json::array({Name(o), FormatEndpoints(o), Age(o, now)}); }});
  Register("", "Node",
           {{NameColumn(), Col("Status", "string", "The status of the node"),
             Col("Roles", "string", "The roles of the node"), AgeColumn(),
             Col("Version", "string", "Kubelet Version reported by the node."),
             Wide("Internal-IP", "string", "The node's internal address."),
             Wide("External-IP", "string", "The node's external address."),
             Wide("OS-Image", "string", "OS Image reported by the node."),
             Wide("Kernel-Version", "string", "Kernel Version reported by the node."),
             Wide("Container-Runtime", "string", "ContainerRuntime Version reported by the node.")},
            NodeRow});
  Register("", "Event", {EventColumns(), [](const Json& o, TimePoint now) {
                           EventFields f{Get(o, "involvedObject"), Get(o, "message"),     Get(o, "firstTimestamp"),
                                         Get(o, "lastTimestamp"),  Get(o, "count"),       Get(o, "source")};
                           return EventRow(o, f, now);
                         }});
  // events.k8s.io/v1 is another version of the same Event; upstream converts it to the
  // internal Event and prints it with the same columns.
  Register("events.k8s.io", "Event",
           {EventColumns(), [](const Json& o, TimePoint now) {
              EventFields f{Get(o, "regarding"),       Get(o, "note"),
                            Get(o, "deprecatedFirstTimestamp"), Get(o, "deprecatedLastTimestamp"),
                            Get(o, "deprecatedCount"), Get(o, "deprecatedSource")};
              return EventRow(o, f, now);
            }});
  Register("", "ReplicationController",
           {{NameColumn(), Col("Desired", "integer", "Number of desired replicas."),
             Col("Current", "integer", "The most recently observed number of replicas."),
             Col("Ready", "integer", "The number of ready replicas for this replication controller."), AgeColumn(),
             Wide("Containers", "string", "Names of each container in the template."),
             Wide("Images", "string", "Images referenced by each container in the template."),
             Wide("Selector", "string", "Selector is a label query over pods that should match the Replicas count.")},
            [](const Json& o, TimePoint now) {
              const Json& spec = Get(o, "spec");
              const Json& podspec = Get(spec, "template", "spec");
              return Json::array({Name(o), Int(Get(spec, "replicas")), Int(Get(o, "status", "replicas")),
                                  Int(Get(o, "status", "readyReplicas")), Age(o, now), ContainerNames(podspec),
                                  ContainerImages(podspec), FormatLabels(Get(spec, "selector"))});
            }});
  Register("", "PodTemplate",
           {{NameColumn(), Col("Containers", "string", "Names of each container in the template."),
             Col("Images", "string", "Images referenced by each container in the template."),
             Col("Pod Labels", "string", "The labels for the pod template.")},
            [](const Json& o, TimePoint) {
              const Json& podspec = Get(o, "template", "spec");
              return Json::array({Name(o), ContainerNames(podspec), ContainerImages(podspec),
                                  FormatLabels(Get(o, "template", "metadata", "labels"))});
            }});
  Register("", "ResourceQuota",
           {{NameColumn(),
             AgeColumn(),
             Col("Request", "string", "Request represents a minimum amount of cpu/memory that a container may consume."),
             Col("Limit", "string",
                 "Limits control the maximum amount of cpu/memory that a container may use independent of contention "
                 "on the node.")},
            ResourceQuotaRow});
  RegisterCreatedAt("", "LimitRange");  // upstream has no LimitRange printer
}

}  // namespace kubes::apiserver
