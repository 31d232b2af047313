// The Node object and its heartbeat (upstream: kubelet_node_status.go, nodestatus/
// setters.go, and the node lease controller): capacity from this machine, conditions,
// addresses and version info; a Lease in kube-node-lease renewed every 10 s that the
// node lifecycle controller watches.
#include <arpa/inet.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <sys/statvfs.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <fstream>
#include <sstream>
#include <thread>

#include "client/resources.h"
#include "kubelet/kubelet.h"

namespace kubes::kubelet {
namespace {

using client::kLeases;
using client::kNodes;


constexpr int kLeaseDurationSeconds = 40;
constexpr auto kLeaseRenewInterval = std::chrono::seconds(10);
constexpr auto kStatusUpdateInterval = std::chrono::seconds(10);

std::string FirstLine(const std::string& path) {
  std::ifstream in(path);
  std::string line;
  std::getline(in, line);
  return line;
}

std::string OSImage() {
  std::ifstream in("/etc/os-release");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("PRETTY_NAME=", 0) == 0) {
      std::string v = line.substr(12);
      if (v.size() >= 2 && v.front() == '"') v = v.substr(1, v.size() - 2);
      return v;
    }
  }
  return "Linux";
}

int64_t MemTotalKi() {
  std::ifstream in("/proc/meminfo");
  std::string key;
  int64_t value;
  std::string unit;
  while (in >> key >> value >> unit) {
    if (key == "MemTotal:") return value;
  }
  return 0;
}

Json Condition(const std::string& type, const std::string& status, const std::string& reason,
               const std::string& message, const std::string& now) {
  return {{"type", type}, {"status", status}, {"reason", reason}, {"message", message},
          {"lastHeartbeatTime", now}, {"lastTransitionTime", now}};
}

}  // namespace

// The first IPv4 address of an interface that is up and is not loopback or one of
// the interfaces kubes or CNI made.
std::string DetectNodeIP() {
  ifaddrs* list = nullptr;
  if (getifaddrs(&list) != 0) return "127.0.0.1";
  std::string found;
  for (ifaddrs* a = list; a && found.empty(); a = a->ifa_next) {
    if (!a->ifa_addr || a->ifa_addr->sa_family != AF_INET) continue;
    if (!(a->ifa_flags & IFF_UP) || (a->ifa_flags & IFF_LOOPBACK)) continue;
    std::string name = a->ifa_name;
    if (name.rfind("kubes", 0) == 0 || name.rfind("veth", 0) == 0 || name.rfind("cni", 0) == 0) continue;
    char buf[INET_ADDRSTRLEN];
    inet_ntop(AF_INET, &reinterpret_cast<sockaddr_in*>(a->ifa_addr)->sin_addr, buf, sizeof buf);
    found = buf;
  }
  freeifaddrs(list);
  return found.empty() ? "127.0.0.1" : found;
}

Json Kubelet::BuildNode() const {
  static const Json machine = [] {
    utsname u{};
    uname(&u);
    struct statvfs fs {};
    statvfs("/", &fs);
    int64_t disk = static_cast<int64_t>(fs.f_blocks) * static_cast<int64_t>(fs.f_frsize);
    return Json{{"cpus", static_cast<int>(sysconf(_SC_NPROCESSORS_ONLN))},
                {"memKi", MemTotalKi()},
                {"diskKi", disk / 1024},
                {"kernel", u.release},
                {"os", OSImage()},
                {"machineID", FirstLine("/etc/machine-id")},
                {"bootID", FirstLine("/proc/sys/kernel/random/boot_id")}};
  }();
  int64_t mem_ki = machine["memKi"];
  int64_t disk_ki = machine["diskKi"];
  Json capacity = {{"cpu", std::to_string(machine["cpus"].get<int>())},
                   {"memory", std::to_string(mem_ki) + "Ki"},
                   {"ephemeral-storage", std::to_string(disk_ki) + "Ki"},
                   {"hugepages-1Gi", "0"},
                   {"hugepages-2Mi", "0"},
                   {"pods", std::to_string(options_.max_pods)}};
  // Allocatable keeps back what --system-reserved names and the hard eviction thresholds
  // (memory.available, nodefs.available 10%), as upstream's node allocatable does.
  Json allocatable = capacity;
  int64_t kept_back = options_.system_reserved_memory + options_.eviction_memory.Bytes(mem_ki * 1024);
  allocatable["memory"] = std::to_string(std::max<int64_t>(0, mem_ki - kept_back / 1024)) + "Ki";
  allocatable["ephemeral-storage"] = std::to_string(disk_ki * 9 / 10 * 1024);
  Json labels = {{"beta.kubernetes.io/arch", "amd64"},  {"beta.kubernetes.io/os", "linux"},
                 {"kubernetes.io/arch", "amd64"},       {"kubernetes.io/hostname", options_.node_name},
                 {"kubernetes.io/os", "linux"}};
  for (const auto& [k, v] : options_.labels) labels[k] = v;
  std::string now = FormatRFC3339(clock_.Now());
  std::string runtime_name = runtime_ ? runtime_->oci_runtime() : "runc";
  runtime_name = runtime_name.substr(runtime_name.rfind('/') + 1);
  Json node = {
      {"apiVersion", "v1"},
      {"kind", "Node"},
      {"metadata",
       {{"name", options_.node_name},
        {"labels", labels},
        {"annotations", {{"node.alpha.kubernetes.io/ttl", "0"},
                         {"volumes.kubernetes.io/controller-managed-attach-detach", "true"}}}}},
      {"spec", Json::object()},
      {"status",
       {{"capacity", capacity},
        {"allocatable", allocatable},
        {"conditions",
         {memory_pressure_
              ? Condition("MemoryPressure", "True", "KubeletHasInsufficientMemory", "kubelet has insufficient memory available", now)
              : Condition("MemoryPressure", "False", "KubeletHasSufficientMemory", "kubelet has sufficient memory available", now),
          Condition("DiskPressure", "False", "KubeletHasNoDiskPressure", "kubelet has no disk pressure", now),
          Condition("PIDPressure", "False", "KubeletHasSufficientPID", "kubelet has sufficient PID available", now),
          ready_ ? Condition("Ready", "True", "KubeletReady", "kubelet is posting ready status", now)
                 : Condition("Ready", "False", "KubeletNotReady",
                             "container runtime network not ready: NetworkReady=false "
                             "reason:NetworkPluginNotReady message:the node has no pod CIDR yet", now)}},
        {"addresses", {{{"type", "InternalIP"}, {"address", node_ip_}}, {{"type", "Hostname"}, {"address", options_.node_name}}}},
        {"daemonEndpoints", {{"kubeletEndpoint", {{"Port", options_.kubelet_port}}}}},
        {"nodeInfo",
         {{"machineID", machine["machineID"]},
          {"systemUUID", machine["machineID"]},
          {"bootID", machine["bootID"]},
          {"kernelVersion", machine["kernel"]},
          {"osImage", machine["os"]},
          {"containerRuntimeVersion", "kubes+" + runtime_name + "://" + options_.version},
          {"kubeletVersion", options_.version},
          {"kubeProxyVersion", options_.version},
          {"operatingSystem", "linux"},
          {"architecture", "amd64"}}}}}};
  if (!options_.taints.empty()) node["spec"]["taints"] = options_.taints;
  return node;
}

Status Kubelet::RegisterNode() {
  Json node = BuildNode();
  auto created = client_->Create(kNodes, "", node);
  if (created.ok()) {
    recorder_->Event(*created, "Normal", "Starting", "Starting kubelet.");
    // Status is not taken on create; it goes through the status subresource.
    return UpdateNodeStatus();
  }
  if (created.status().code() != Code::kAlreadyExists) return created.status();
  // Registered before (kubes restarted): keep the spec others wrote (podCIDR, taints,
  // unschedulable), refresh labels and status.
  auto existing = client_->Get(kNodes, "", options_.node_name);
  if (!existing.ok()) return existing.status();
  Json merged = *existing;
  for (const auto& [k, v] : node["metadata"]["labels"].items()) merged["metadata"]["labels"][k] = v;
  auto updated = client_->Update(kNodes, "", merged);
  if (!updated.ok()) return updated.status();
  recorder_->Event(*updated, "Normal", "Starting", "Starting kubelet.");
  return UpdateNodeStatus();
}

Status Kubelet::UpdateNodeStatus() {
  for (int attempt = 0; attempt < 3; ++attempt) {
    auto existing = client_->Get(kNodes, "", options_.node_name);
    if (!existing.ok()) return existing.status();
    Json node = *existing;
    Json fresh = BuildNode()["status"];
    // Keep each condition's transition time while its status stays the same.
    for (auto& c : fresh["conditions"]) {
      for (const auto& old : node["status"].value("conditions", Json::array())) {
        if (old.value("type", "") == c["type"] && old.value("status", "") == c["status"]) {
          c["lastTransitionTime"] = old.value("lastTransitionTime", c["lastTransitionTime"].get<std::string>());
        }
      }
    }
    node["status"] = fresh;
    auto updated = client_->Update(kNodes, "", node, "status");
    if (updated.ok() || updated.status().code() != Code::kConflict) return updated.status();
  }
  return Conflict("node status kept changing");
}

Status Kubelet::RenewLease() {
  std::string now = FormatRFC3339Micro(clock_.Now());
  auto existing = client_->Get(kLeases, "kube-node-lease", options_.node_name);
  if (existing.ok()) {
    Json lease = *existing;
    lease["spec"]["holderIdentity"] = options_.node_name;
    lease["spec"]["leaseDurationSeconds"] = kLeaseDurationSeconds;
    lease["spec"]["renewTime"] = now;
    return client_->Update(kLeases, "kube-node-lease", lease).status();
  }
  if (existing.status().code() != Code::kNotFound) return existing.status();
  auto node = client_->Get(kNodes, "", options_.node_name);
  Json lease = {{"apiVersion", "coordination.k8s.io/v1"},
                {"kind", "Lease"},
                {"metadata", {{"name", options_.node_name}, {"namespace", "kube-node-lease"}}},
                {"spec", {{"holderIdentity", options_.node_name},
                          {"leaseDurationSeconds", kLeaseDurationSeconds},
                          {"renewTime", now}}}};
  if (node.ok()) {
    lease["metadata"]["ownerReferences"] = {{{"apiVersion", "v1"}, {"kind", "Node"}, {"name", options_.node_name},
                                             {"uid", (*node)["metadata"].value("uid", "")}}};
  }
  return client_->Create(kLeases, "kube-node-lease", lease).status();
}

void Kubelet::SyncRoutes() {
  std::vector<network::NodeRoute> wanted;
  for (const auto& node : nodes_.List()) {
    if (node["metadata"].value("name", "") == options_.node_name) continue;
    std::vector<std::string> ips;
    for (const auto& a : node.value("status", Json::object()).value("addresses", Json::array())) {
      if (a.value("type", "") == "InternalIP") ips.push_back(a.value("address", ""));
    }
    for (const auto& cidr : node["spec"].value("podCIDRs", Json::array())) {
      bool v6 = cidr.get<std::string>().find(':') != std::string::npos;
      for (const auto& ip : ips) {
        if ((ip.find(':') != std::string::npos) == v6) {
          wanted.push_back({cidr.get<std::string>(), ip});
          break;
        }
      }
    }
  }
  Status s = routes_.Sync(wanted);
  if (!s.ok()) std::fprintf(stderr, "kubelet: routes to other nodes: %s\n", s.message().c_str());
}

void Kubelet::HeartbeatLoop(const std::atomic<bool>& stop) {
  auto next_lease = std::chrono::steady_clock::now();
  auto next_status = std::chrono::steady_clock::now() + kStatusUpdateInterval;
  while (!stop) {
    auto now = std::chrono::steady_clock::now();
    if (now >= next_lease) {
      Status s = RenewLease();
      if (!s.ok()) std::fprintf(stderr, "kubelet: renew lease: %s\n", s.message().c_str());
      next_lease = now + (s.ok() ? kLeaseRenewInterval : std::chrono::seconds(1));
    }
    if (now >= next_status) {
      Status s = UpdateNodeStatus();
      if (s.ok() || s.code() == Code::kNotFound) next_status = now + kStatusUpdateInterval;
      // The Node was deleted under us: register again, as upstream's kubelet does.
      if (s.code() == Code::kNotFound) (void)RegisterNode();
    }
    if (routes_dirty_.exchange(false) && nodes_.HasSynced()) SyncRoutes();
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
}

Result<std::vector<std::string>> Kubelet::WaitForPodCIDRs(const std::atomic<bool>& stop) {
  for (int i = 0; !stop; ++i) {
    auto node = client_->Get(kNodes, "", options_.node_name);
    if (node.ok()) {
      std::vector<std::string> cidrs;
      for (const auto& c : (*node)["spec"].value("podCIDRs", Json::array())) cidrs.push_back(c.get<std::string>());
      if (cidrs.empty() && (*node)["spec"].contains("podCIDR")) cidrs.push_back((*node)["spec"]["podCIDR"]);
      if (!cidrs.empty()) return cidrs;
    }
    if (i == 50) std::fprintf(stderr, "kubelet: waiting for the node IPAM controller to assign a pod CIDR\n");
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return Status(Code::kServiceUnavailable, "stopped");
}

}  // namespace kubes::kubelet
