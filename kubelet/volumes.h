// Pod volumes on the node (upstream: pkg/volume plugins emptydir, configmap, secret,
// projected, downwardapi, hostpath, and the kubelet's volume manager).
//
// Each volume is a directory under <pod dir>/volumes/<name>. Files of configMap,
// secret, projected and downwardAPI volumes are written atomically the way upstream's
// AtomicWriter does — a timestamped directory, a `..data` symlink switched in one
// rename, and one symlink per file — so a program never sees half an update, and
// SetUp can run again to refresh them (labels changed, ConfigMap edited, token
// renewed).
//
// Thread-safety: one pod's volumes are set up by one thread at a time.
#pragma once

#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "kubelet/env.h"
#include "runtime/container_config.h"
#include "util/status.h"

namespace kubes::kubelet {

struct VolumeSources {
  ObjectSource objects;
  // A service account token for the pod (TokenRequest): audience, expiration seconds.
  std::function<Result<std::string>(const std::string& audience, int64_t expiration_seconds)> token;
  Json node_allocatable;
  // The PersistentVolume a claim of the pod's namespace is bound to; an error (with
  // upstream's words) while it is not bound.
  std::function<Result<Json>(const std::string& claim)> claim_volume;
};

// Sets up (or refreshes) every volume of the pod; returns volume name → host path.
// The error names the volume as upstream's FailedMount event does:
// `MountVolume.SetUp failed for volume "cfg" : configmap "missing" not found`.
Result<std::map<std::string, std::string>> SetUpVolumes(const Json& pod, const std::string& pod_dir,
                                                        const VolumeSources& sources);

// Unmounts what SetUpVolumes mounted (tmpfs) and removes the pod's volume directories.
Status TearDownVolumes(const std::string& pod_dir);

// The bind mounts of one container's volumeMounts (subPath included).
Result<std::vector<runtime::Mount>> ContainerMounts(const Json& pod, const Json& container,
                                                    const std::map<std::string, std::string>& volumes);

// Writes `files` (relative path → content, mode) into `dir` atomically (see above).
struct VolumeFile {
  std::string content;
  int mode = 0644;
};
Status AtomicWriteFiles(const std::string& dir, const std::map<std::string, VolumeFile>& files);

}  // namespace kubes::kubelet
