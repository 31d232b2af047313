#include "scheduler/framework/types.h"

#include <algorithm>
#include <cstdint>

namespace kubes::scheduler {
namespace {

const Json kNull;
const Json kEmptyArray = Json::array();

// Requests (or limits) of one container as a list, with upstream's non-zero defaults
// for cpu and memory when asked (applyNonMissing: only when the container does not
// name them).
Resource ContainerRequests(const Json& container, std::string_view which, bool non_zero) {
  const Json& list = At(container, {"resources", which});
  Resource r = Resource::FromList(list);
  if (non_zero) {
    if (At(list, {"cpu"}).is_null()) r.milli_cpu += kDefaultMilliCPURequest;
    if (At(list, {"memory"}).is_null()) r.memory += kDefaultMemoryRequest;
  }
  return r;
}

// The pod's total of "requests" or "limits": upstream's PodRequests and PodLimits add
// up the containers the same way.
Resource Aggregate(const Json& pod, std::string_view which, bool non_zero) {
  Resource total;
  for (const Json& c : ArrayAt(pod, {"spec", "containers"})) total.Add(ContainerRequests(c, which, non_zero));
  // While init container i runs, the sidecars started before it run too.
  Resource sidecars, init_peak;
  for (const Json& c : ArrayAt(pod, {"spec", "initContainers"})) {
    Resource r = ContainerRequests(c, which, non_zero);
    if (StringAt(c, {"restartPolicy"}) == "Always") {
      total.Add(r);  // a sidecar runs alongside the app containers
      sidecars.Add(r);
      r = sidecars;
    } else {
      r.Add(sidecars);
    }
    init_peak.SetMax(r);
  }
  total.SetMax(init_peak);
  total.Add(Resource::FromList(At(pod, {"spec", "overhead"})));
  return total;
}

bool HasPrefix(std::string_view s, std::string_view prefix) { return s.substr(0, prefix.size()) == prefix; }

// Sums that saturate instead of overflowing: hostile quantities ("9E" in many
// containers) must not wrap around into small numbers.
void AddTo(int64_t& a, int64_t b) {
  if (__builtin_add_overflow(a, b, &a)) a = b > 0 ? INT64_MAX : INT64_MIN;
}
void SubFrom(int64_t& a, int64_t b) {
  if (__builtin_sub_overflow(a, b, &a)) a = b < 0 ? INT64_MAX : INT64_MIN;
}

}  // namespace

const Json& At(const Json& obj, std::initializer_list<std::string_view> path) {
  const Json* cur = &obj;
  for (std::string_view key : path) {
    if (!cur->is_object()) return kNull;
    auto it = cur->find(key);
    if (it == cur->end()) return kNull;
    cur = &*it;
  }
  return *cur;
}

std::string StringAt(const Json& obj, std::initializer_list<std::string_view> path) {
  const Json& v = At(obj, path);
  return v.is_string() ? v.get<std::string>() : "";
}

const Json& ArrayAt(const Json& obj, std::initializer_list<std::string_view> path) {
  const Json& v = At(obj, path);
  return v.is_array() ? v : kEmptyArray;
}

std::string PodUID(const Json& pod) {
  std::string uid = StringAt(pod, {"metadata", "uid"});
  return uid.empty() ? PodKey(pod) : uid;
}

std::string PodKey(const Json& pod) {
  return StringAt(pod, {"metadata", "namespace"}) + "/" + StringAt(pod, {"metadata", "name"});
}

// ---- Resource ----

bool IsScalarResourceName(std::string_view name) {
  if (HasPrefix(name, "hugepages-") || HasPrefix(name, "attachable-volumes-")) return true;
  if (name.find('/') == std::string_view::npos) return false;  // cpu, memory, pods, ...
  // "requests.x" names are quota names, not resources.
  return !HasPrefix(name, "requests.");
}

Resource Resource::FromList(const Json& list) {
  Resource r;
  if (!list.is_object()) return r;
  for (const auto& [name, q] : list.items()) {
    if (name == "cpu") AddTo(r.milli_cpu, QuantityMilliValue(q));
    else if (name == "memory") AddTo(r.memory, QuantityValue(q));
    else if (name == "ephemeral-storage") AddTo(r.ephemeral_storage, QuantityValue(q));
    else if (name == "pods") AddTo(r.allowed_pod_number, QuantityValue(q));
    else if (IsScalarResourceName(name)) AddTo(r.scalar[name], QuantityValue(q));
  }
  return r;
}

void Resource::Add(const Resource& o) {
  AddTo(milli_cpu, o.milli_cpu);
  AddTo(memory, o.memory);
  AddTo(ephemeral_storage, o.ephemeral_storage);
  AddTo(allowed_pod_number, o.allowed_pod_number);
  for (const auto& [k, v] : o.scalar) AddTo(scalar[k], v);
}

void Resource::Sub(const Resource& o) {
  SubFrom(milli_cpu, o.milli_cpu);
  SubFrom(memory, o.memory);
  SubFrom(ephemeral_storage, o.ephemeral_storage);
  SubFrom(allowed_pod_number, o.allowed_pod_number);
  for (const auto& [k, v] : o.scalar) {
    SubFrom(scalar[k], v);
    if (scalar[k] == 0) scalar.erase(k);
  }
}

void Resource::SetMax(const Resource& o) {
  milli_cpu = std::max(milli_cpu, o.milli_cpu);
  memory = std::max(memory, o.memory);
  ephemeral_storage = std::max(ephemeral_storage, o.ephemeral_storage);
  allowed_pod_number = std::max(allowed_pod_number, o.allowed_pod_number);
  for (const auto& [k, v] : o.scalar) {
    auto it = scalar.find(k);
    if (it == scalar.end()) scalar[k] = v;
    else it->second = std::max(it->second, v);
  }
}

Resource PodRequests(const Json& pod) { return Aggregate(pod, "requests", false); }

Resource PodNonZeroRequests(const Json& pod) { return Aggregate(pod, "requests", true); }

Resource PodLimits(const Json& pod) { return Aggregate(pod, "limits", false); }

// ---- HostPortInfo ----

namespace {
void Sanitize(std::string& ip, std::string& protocol) {
  if (ip.empty()) ip = "0.0.0.0";
  if (protocol.empty()) protocol = "TCP";
}
}  // namespace

void HostPortInfo::Add(std::string ip, std::string protocol, int64_t port) {
  if (port <= 0) return;
  Sanitize(ip, protocol);
  ports_[ip].emplace(protocol, port);
}

bool HostPortInfo::CheckConflict(std::string ip, std::string protocol, int64_t port) const {
  if (port <= 0) return false;
  Sanitize(ip, protocol);
  std::pair<std::string, int64_t> want(protocol, port);
  if (ip == "0.0.0.0") {
    for (const auto& [addr, used] : ports_) {
      if (used.count(want)) return true;
    }
    return false;
  }
  for (const std::string& addr : {std::string("0.0.0.0"), ip}) {
    auto it = ports_.find(addr);
    if (it != ports_.end() && it->second.count(want)) return true;
  }
  return false;
}

size_t HostPortInfo::size() const {
  size_t n = 0;
  for (const auto& [addr, used] : ports_) n += used.size();
  return n;
}

// ---- NodeInfo ----

namespace {
// The host ports of the pod's app containers (upstream counts no init containers).
void AddPodPorts(const Json& pod, HostPortInfo& ports) {
  for (const Json& c : ArrayAt(pod, {"spec", "containers"})) {
    for (const Json& p : ArrayAt(c, {"ports"})) {
      const Json& host_port = At(p, {"hostPort"});
      if (host_port.is_number_integer()) {
        ports.Add(StringAt(p, {"hostIP"}), StringAt(p, {"protocol"}), host_port.get<int64_t>());
      }
    }
  }
}
}  // namespace

NodeInfo NodeInfo::New(const Json& node, const std::vector<Json>& pods) {
  NodeInfo n;
  n.SetNode(node);
  for (const Json& p : pods) n.AddPod(std::make_shared<const Json>(p));
  return n;
}

void NodeInfo::SetNode(const Json& node) {
  node_ = std::make_shared<const Json>(node);
  allocatable_ = Resource::FromList(At(node, {"status", "allocatable"}));
}

void NodeInfo::ClearNode() {
  node_.reset();
  allocatable_ = Resource();
}

const Json& NodeInfo::node() const { return node_ ? *node_ : kNull; }

std::string NodeInfo::name() const { return StringAt(node(), {"metadata", "name"}); }

std::vector<std::shared_ptr<const Json>> NodeInfo::pods() const {
  std::vector<std::shared_ptr<const Json>> out;
  out.reserve(pods_.size());
  for (const auto& [uid, e] : pods_) out.push_back(e.pod);
  return out;
}

void NodeInfo::AddPod(std::shared_ptr<const Json> pod) {
  std::string uid = PodUID(*pod);
  RemovePod(uid);  // an update replaces the old version
  PodEntry e{pod, PodRequests(*pod), PodNonZeroRequests(*pod)};
  requested_.Add(e.requests);
  non_zero_requested_.Add(e.non_zero);
  AddPodPorts(*pod, used_ports_);
  pods_[uid] = std::move(e);
}

bool NodeInfo::RemovePod(const std::string& uid) {
  auto it = pods_.find(uid);
  if (it == pods_.end()) return false;
  requested_.Sub(it->second.requests);
  non_zero_requested_.Sub(it->second.non_zero);
  pods_.erase(it);
  RecomputePorts();
  return true;
}

// Rebuilt rather than subtracted: two pods may (wrongly) share a port, and removing one
// must not free it.
void NodeInfo::RecomputePorts() {
  used_ports_ = HostPortInfo();
  for (const auto& [uid, e] : pods_) AddPodPorts(*e.pod, used_ports_);
}

}  // namespace kubes::scheduler
