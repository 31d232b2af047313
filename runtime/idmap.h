// Idmapped mounts for containers in a user namespace (upstream: what containerd and
// crun do for pods with `hostUsers: false`; Kubernetes requires runtimes with idmap
// mount support since 1.30).
//
// A container whose root is host ID N (uid_map "0 N 65536") cannot read or write
// files the host's root owns with restrictive modes, and sees every host-owned file as
// owned by `nobody`. An idmapped mount shifts ownership as seen through that mount:
// the image layers and the pod's volumes, mounted through the pod's mapping, show
// host-root files as owned by the container's root, and what the container's root
// writes lands on disk as root again — no chown of shared image layers.
//
// kubes makes these mounts itself (open_tree + mount_setattr + move_mount, Linux
// 5.12+) instead of asking the OCI runtime for the "idmap" mount option: runc learned
// that option only in 1.2, and Debian 12 ships 1.1.5. The runtime then bind-mounts an
// already idmapped mount, and a bind of an idmapped mount keeps its idmapping.
//
// Thread-safety: the functions are independent; UserNamespaceFd forks a short-lived
// child, which is safe in a multithreaded process (the child only calls unshare and
// blocks in read).
#pragma once

#include <cstdint>
#include <string>

#include "util/status.h"

namespace kubes::runtime {

// An fd of a fresh user namespace whose uid and gid maps are "0 host_id size", to
// give mount_setattr(MOUNT_ATTR_IDMAP). The caller closes it.
Result<int> UserNamespaceFd(uint32_t host_id, uint32_t size);

// Mounts a clone of `source` at `target` (which must exist: a directory for a
// directory, a file for a file), idmapped through `userns_fd`. `recursive` clones the
// mounts under `source` too; each must be on a filesystem that supports idmapped
// mounts (ext4, xfs, btrfs, tmpfs since 6.3, overlayfs layers …), or the call fails
// with the kernel's error (EINVAL) and nothing is mounted.
Status IdmappedBind(const std::string& source, const std::string& target, int userns_fd, bool recursive);

// Creates a user namespace with the maps "0 host_id size" and pins it at `path` (a
// bind mount of the namespace on a file, as `ip netns add` pins network namespaces):
// the pod's user namespace, which owns its network namespace and which every container
// of the pod joins by path. Nothing happens when `path` already pins a namespace.
Status PinUserNamespace(uint32_t host_id, uint32_t size, const std::string& path);
// Unmounts and removes a pinned namespace file; no error when there is none.
Status UnpinNamespace(const std::string& path);
// Whether `path` is a file with a namespace bind-mounted on it.
bool IsPinnedNamespace(const std::string& path);

// Whether `path` is a mount point or has one below it (read from
// /proc/self/mountinfo): what a recursive removal must never descend into.
bool HasMountsAtOrBelow(const std::string& path);

}  // namespace kubes::runtime
