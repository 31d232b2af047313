// The scheduler's view of the cluster: what a pod asks for and what a node has left
// (upstream: pkg/scheduler/framework/types.go — Status codes, Resource, NodeInfo,
// HostPortInfo — and the resource helpers of k8s.io/component-helpers/resource).
//
// Everything here reads API objects as JSON exactly as the apiserver stores them and
// never throws: a field of the wrong type reads as absent, an unparseable quantity as
// zero. The plugins (plugins/plugins.h) are functions of a pod and one NodeInfo.
//
// Thread-safety: plain values; a NodeInfo is not synchronised (the Cache hands out
// copies).
#pragma once

#include <cstdint>
#include <initializer_list>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

#include "apimachinery/resource/quantity.h"

namespace kubes::scheduler {

using resource::QuantityMilliValue;
using resource::QuantityValue;

using Json = nlohmann::json;

// ---- Reading API objects safely ----

// The value at a path of object keys, or null when any step is missing or not an object.
const Json& At(const Json& obj, std::initializer_list<std::string_view> path);
// The string at a path, "" when absent or not a string.
std::string StringAt(const Json& obj, std::initializer_list<std::string_view> path);
// The array at a path, an empty array when absent or not an array.
const Json& ArrayAt(const Json& obj, std::initializer_list<std::string_view> path);
// metadata.uid, or "namespace/name" for objects without one (tests).
std::string PodUID(const Json& pod);
// "namespace/name".
std::string PodKey(const Json& pod);

// ---- Resources ----

// Amounts of every resource the scheduler counts (upstream framework.Resource).
struct Resource {
  int64_t milli_cpu = 0;
  int64_t memory = 0;
  int64_t ephemeral_storage = 0;
  int64_t allowed_pod_number = 0;
  std::map<std::string, int64_t> scalar;  // extended resources, hugepages-*, ...

  // From a v1.ResourceList ({"cpu": "500m", "memory": "1Gi", ...}); other resources
  // that are not "scalar" (upstream IsScalarResourceName) are ignored.
  static Resource FromList(const Json& resource_list);
  void Add(const Resource& other);
  void Sub(const Resource& other);
  void SetMax(const Resource& other);  // per resource
  bool operator==(const Resource&) const = default;
};

// Whether a resource name is counted in Resource::scalar: extended resources
// ("example.com/gpu"), hugepages-*, attachable-volumes-* and other kubernetes.io/ ones.
bool IsScalarResourceName(std::string_view name);

// What the pod asks for (upstream resourcehelper.PodRequests): the larger of the app
// containers plus sidecars (restartable init containers) and the largest init
// container (together with the sidecars started before it), plus spec.overhead.
Resource PodRequests(const Json& pod);
// The same with containers that do not ask for cpu or memory counted as asking for
// 100m and 200Mi (upstream's "non-zero" requests, used for spreading by score).
Resource PodNonZeroRequests(const Json& pod);
// The pod's limits added up the same way (upstream resourcehelper.PodLimits); a
// container without a limit adds nothing.
Resource PodLimits(const Json& pod);
constexpr int64_t kDefaultMilliCPURequest = 100;
constexpr int64_t kDefaultMemoryRequest = 200 * 1024 * 1024;

// ---- Host ports ----

// Host ports in use on a node: ip → {(protocol, port)} (upstream HostPortInfo). An empty
// ip means 0.0.0.0 and an empty protocol TCP.
class HostPortInfo {
 public:
  void Add(std::string ip, std::string protocol, int64_t port);
  // Whether (ip, protocol, port) collides with a port in use: 0.0.0.0 collides with
  // every address, and every address with 0.0.0.0.
  bool CheckConflict(std::string ip, std::string protocol, int64_t port) const;
  size_t size() const;

 private:
  std::map<std::string, std::set<std::pair<std::string, int64_t>>> ports_;
};

// ---- Nodes ----

// A node with the pods on it and what they add up to (upstream framework.NodeInfo).
class NodeInfo {
 public:
  NodeInfo() = default;
  // A node and the pods bound to it (tests build them this way).
  static NodeInfo New(const Json& node, const std::vector<Json>& pods = {});

  void SetNode(const Json& node);
  void ClearNode();
  void AddPod(std::shared_ptr<const Json> pod);
  // Removes the pod with this PodUID; false when it is not here.
  bool RemovePod(const std::string& uid);

  bool has_node() const { return node_ != nullptr; }
  const Json& node() const;
  std::string name() const;
  std::vector<std::shared_ptr<const Json>> pods() const;
  size_t num_pods() const { return pods_.size(); }
  const Resource& allocatable() const { return allocatable_; }
  const Resource& requested() const { return requested_; }
  // Requested cpu and memory with upstream's defaults for containers asking for none.
  const Resource& non_zero_requested() const { return non_zero_requested_; }
  const HostPortInfo& used_ports() const { return used_ports_; }

 private:
  struct PodEntry {
    std::shared_ptr<const Json> pod;
    Resource requests;
    Resource non_zero;
  };
  void RecomputePorts();

  std::shared_ptr<const Json> node_;
  std::map<std::string, PodEntry> pods_;  // by PodUID
  Resource allocatable_;
  Resource requested_;
  Resource non_zero_requested_;
  HostPortInfo used_ports_;
};

// ---- Plugin results ----

// The outcome of one filter (upstream framework.Status, the codes a filter returns).
// Unschedulable: the node could fit if something changed there (preemption may help);
// UnschedulableAndUnresolvable: nothing done to the node's pods would help.
struct PluginStatus {
  enum class Code { kSuccess, kUnschedulable, kUnschedulableAndUnresolvable };
  Code code = Code::kSuccess;
  std::vector<std::string> reasons;  // upstream's words: "Insufficient cpu", ...

  static PluginStatus Success() { return {}; }
  static PluginStatus Unschedulable(std::vector<std::string> reasons) {
    return {Code::kUnschedulable, std::move(reasons)};
  }
  static PluginStatus Unresolvable(std::string reason) { return {Code::kUnschedulableAndUnresolvable, {std::move(reason)}}; }
  bool ok() const { return code == Code::kSuccess; }
};

}  // namespace kubes::scheduler
