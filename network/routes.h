// Routes to the pods of other nodes (upstream counterpart: flannel's host-gw backend,
// or kube-router): each node's pod CIDR is reached through that node's address.
//
// The next hop is the node's InternalIP when it is on a directly connected network,
// else the gateway this host uses to reach that address. Routes are `ip route replace`d,
// so syncing again is harmless, and routes for nodes that went away are deleted.
//
// Thread-safety: one NodeRoutes per kubelet, used from one thread.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "util/status.h"

namespace kubes::network {

struct NodeRoute {
  std::string cidr;     // "10.42.1.0/24"
  std::string node_ip;  // "192.0.2.7"
};

class NodeRoutes {
 public:
  // Makes the host's routes match `wanted` (other nodes only). Returns the first error,
  // after trying every route.
  Status Sync(const std::vector<NodeRoute>& wanted);
  // Deletes every route Sync installed.
  void RemoveAll();

 private:
  std::map<std::string, std::string> installed_;  // cidr → next hop
};

}  // namespace kubes::network
