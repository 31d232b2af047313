// User namespaces for pods with `hostUsers: false` (upstream: pkg/kubelet/userns,
// userns_manager.go; docs "User Namespaces").
//
// Each such pod gets 65536 host IDs of its own: container IDs 0..65535 map to host IDs
// [first, first+65535], with `first` a multiple of 65536. The ranges come from the
// kubelet's own share of the ID space — the subordinate IDs of the user "kubelet" in
// /etc/subuid and /etc/subgid when that user exists, else [2^31, 2^32) as upstream —
// so no pod's range overlaps another's or the host's own users (uid 0..65535 and
// everything below 2^31 by default).
//
// An allocation is written to <pods dir>/<uid>/userns (the same JSON upstream writes)
// before any container of the pod is created, and read back from every pod directory
// when the kubelet starts: a restarted kubes gives running pods the ranges they
// already have and never hands them to another pod. Unlike upstream, which picks a
// random free slot, the lowest free slot is used: the same pods get the same ranges
// from run to run, which makes examples easier to follow.
//
// Thread-safety: all methods may be called from any thread (one mutex).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "runtime/container_config.h"
#include "util/status.h"

namespace kubes::kubelet {

constexpr uint32_t kUserNamespaceLength = 65536;  // IDs per pod (upstream userNsLength)

// The host IDs the kubelet may hand out to pods.
struct KubeletMapping {
  uint32_t first_id = 0;
  uint32_t length = 0;
};

// The kubelet's mapping from the text of /etc/passwd, /etc/subuid and /etc/subgid:
// upstream's default [2^31, 2^32) when there is no user "kubelet"; else its subuid
// range, which must equal its subgid range and be aligned to 65536 in start and length.
Result<KubeletMapping> ParseKubeletMapping(const std::string& passwd, const std::string& subuid,
                                           const std::string& subgid);
// The same, read from /etc.
Result<KubeletMapping> ReadKubeletMapping();

// One pod's range: container IDs 0..length-1 are host IDs host_id..host_id+length-1.
struct UserNamespace {
  uint32_t host_id = 0;
  uint32_t length = kUserNamespaceLength;
  bool operator==(const UserNamespace&) const = default;
};

// Hands out and remembers the pods' ranges.
class UserNamespaceManager {
 public:
  // Over `pods_dir` (<data dir>/pods): records the allocation of every pod directory
  // that has a userns file. A file that does not fit this mapping (another
  // configuration, overlapping ranges) is an error: starting anyway could give two
  // pods the same IDs.
  static Result<std::unique_ptr<UserNamespaceManager>> Open(KubeletMapping mapping, std::string pods_dir);

  // The pod's range, allocated (and written to its directory, which must exist) on
  // first use. ServiceUnavailable when every slot is taken.
  Result<UserNamespace> Allocate(const std::string& pod_uid);
  // Frees the pod's range and removes its file (no error when it has none).
  void Release(const std::string& pod_uid);
  std::optional<UserNamespace> Get(const std::string& pod_uid) const;
  size_t capacity() const { return used_.size(); }

 private:
  UserNamespaceManager(KubeletMapping mapping, std::string pods_dir);
  std::string FileOf(const std::string& pod_uid) const { return pods_dir_ + "/" + pod_uid + "/userns"; }
  // REQUIRES: mu_ held.
  Status Record(const std::string& pod_uid, const UserNamespace& ns);

  const KubeletMapping mapping_;
  const std::string pods_dir_;
  mutable std::mutex mu_;
  std::vector<bool> used_;                   // slot i = host IDs first_id + i*65536 …
  std::map<std::string, uint32_t> by_pod_;   // pod UID → slot
};

// upstream's userns file: {"uidMappings":[{"hostId":…,"containerId":0,"length":65536}],
// "gidMappings":[…]}.
nlohmann::json UserNamespaceJson(const UserNamespace& ns);
Result<UserNamespace> ParseUserNamespaceJson(const std::string& text);

// Whether the pod asks for a user namespace (spec.hostUsers: false).
bool WantsUserNamespace(const nlohmann::json& pod);

// The pod's user namespace, made before its network namespace (PodSync::SetUpSandbox):
// its range allocated and the namespace pinned at `pin`, so that the network namespace
// belongs to it, as containerd and CRI-O set pods up. Root in the pod then owns the
// pod's network (binds low ports, mounts sysfs), and `kubectl exec` can enter both.
Status PinPodUserNamespace(UserNamespaceManager* manager, const nlohmann::json& pod, const std::string& pin);

// For a container of a pod with hostUsers: false: the pod's range in `cfg`
// (userns_host_id/size, which the runtime turns into uid/gid mappings and idmapped
// mounts) and the pinned namespace at `pin` to join. A pod whose network namespace
// predates its pinned user namespace (made by an older kubes) gets a user namespace of
// its own per container, and its network namespace is told that ports below 1024 need
// no privilege (it belongs to the host's user namespace, where root in the pod lacks
// CAP_NET_BIND_SERVICE).
Status ConfigureUserNamespace(UserNamespaceManager* manager, const nlohmann::json& pod, const std::string& pin,
                              runtime::ContainerConfig* cfg);

}  // namespace kubes::kubelet
