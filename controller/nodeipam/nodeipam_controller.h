// NodeIPAMController — gives every Node its own slice of the cluster's pod range
// (upstream: pkg/controller/nodeipam with the range allocator, as
// kube-controller-manager --allocate-node-cidrs does it, and as k3s runs it).
//
// The cluster CIDRs (one IPv4 and/or one IPv6) are cut into per-node blocks — /24
// from an IPv4 range, /64 from an IPv6 one — and a node without spec.podCIDRs gets the
// lowest free block of each, written as spec.podCIDR and spec.podCIDRs. Blocks of
// deleted nodes become free again.
//
// Thread-safety: Run owns its thread; construct, Run (blocks), stop via the flag.
#pragma once

#include <atomic>
#include <set>
#include <string>
#include <vector>

#include "client/client.h"
#include "client/informer.h"
#include "client/workqueue.h"

namespace kubes::controller {

class NodeIPAMController {
 public:
  // mask_v4: the size of each node's IPv4 block (--node-cidr-mask-size, default /24).
  NodeIPAMController(client::Client* c, std::vector<std::string> cluster_cidrs, int mask_v4 = 24);
  void Run(const std::atomic<bool>& stop);
  Status SyncNode(const std::string& name);

  // The index-th block of `cidr` ("10.42.0.0/16", 3 → "10.42.3.0/24"); "" past the end.
  // IPv4 blocks are /mask_v4, IPv6 blocks /64.
  static std::string Block(const std::string& cidr, int index, int mask_v4 = 24);

 private:
  client::Client* client_;
  std::vector<std::string> cidrs_;
  int mask_v4_;
  client::Informer nodes_;
  client::WorkQueue queue_;
};

}  // namespace kubes::controller
