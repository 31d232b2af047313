// PodNetwork — a network namespace per pod, wired by the standard CNI plugins
// (upstream: the CRI runtime's sandbox networking through libcni, with the bridge,
// host-local, loopback and portmap plugins a kind or k3s node uses).
//
// Every pod namespace gets `lo` up and an `eth0` on this instance's bridge, with one
// address per pod CIDR of the node (IPv4 and/or IPv6) and a default route through the
// bridge; hostPort mappings go through portmap. All host-level names — bridge,
// namespace files, IPAM directory — come from the instance, so several kubes may run
// on one machine. Open() also installs `unreachable` routes for the cluster's pod and
// service ranges, so nothing addressed to them ever leaves the machine.
//
// Thread-safe: the CNI plugins serialize through host-local's lock file.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "util/status.h"

namespace kubes::network {

struct NetworkOptions {
  std::string bridge;                       // "kubes-ab12cd34" (≤ 15 characters)
  std::vector<std::string> pod_cidrs;       // this node's ranges: "10.42.0.0/24", "fd42::/64"
  std::vector<std::string> unreachable;     // whole cluster ranges to keep on the machine
  std::string state_dir;                    // IPAM leases and cached CNI results
  std::string netns_dir;                    // where pod namespaces are pinned (under /run)
  std::string cni_bin_dir;                  // "" = /usr/lib/cni or /opt/cni/bin
  bool masquerade = true;                   // pods reach other networks through the host's address
};

struct PortMapping {
  int host_port = 0;
  int container_port = 0;
  std::string protocol = "tcp";
  std::string host_ip;
};

struct PodRef {
  std::string namespace_;
  std::string name;
  std::string uid;
};

class PodNetwork {
 public:
  static Result<std::unique_ptr<PodNetwork>> Open(NetworkOptions options);

  // Creates the namespace for `sandbox` and wires it; returns the pod's IPs (IPv4 first).
  // `owner_userns`: the pod's pinned user namespace, which then owns the network
  // namespace (hostUsers: false); "" for the host's.
  Result<std::vector<std::string>> SetUp(const std::string& sandbox, const PodRef& pod,
                                         const std::vector<PortMapping>& ports, const std::string& owner_userns = "");
  // Undoes SetUp (releases the addresses and port mappings, deletes the namespace).
  // Safe to call again or for a sandbox that was never set up.
  Status TearDown(const std::string& sandbox, const PodRef& pod);
  // The IPs SetUp gave `sandbox` (after a restart of kubes too); empty when unknown.
  std::vector<std::string> Addresses(const std::string& sandbox) const;
  // Sandboxes with a namespace on this node (for cleanup of pods that are gone).
  std::vector<std::string> Sandboxes() const;

  std::string NetnsPath(const std::string& sandbox) const { return options_.netns_dir + "/" + sandbox; }
  // The node's gateway addresses on the bridge (first address of each pod CIDR).
  const std::vector<std::string>& gateways() const { return gateways_; }

  // Removes the bridge and the unreachable routes (kubes server --cleanup), after
  // every sandbox was torn down.
  Status RemoveHostState();

 private:
  explicit PodNetwork(NetworkOptions o) : options_(std::move(o)) {}
  std::string NetworkConfig() const;
  Result<std::string> RunPlugin(const std::string& type, const std::string& command, const std::string& sandbox,
                                const PodRef& pod, const std::string& ifname, const std::string& config) const;

  NetworkOptions options_;
  std::string bin_dir_;
  std::vector<std::string> gateways_;
};

// The first host address of a CIDR: "10.42.0.0/24" → "10.42.0.1".
std::string FirstAddress(const std::string& cidr);

}  // namespace kubes::network
