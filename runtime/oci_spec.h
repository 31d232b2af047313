// The OCI runtime spec (config.json) for one container (upstream: containerd's
// pkg/oci and the CRI plugin's container_create_linux.go; the defaults — mounts,
// capabilities, masked paths — are containerd's, so programs see what they would
// see on any Kubernetes node).
#pragma once

#include <nlohmann/json.hpp>

#include "runtime/container_config.h"

namespace kubes::runtime {

// The config.json for `c`, with its root at `rootfs` (an absolute path).
nlohmann::json BuildOCISpec(const ContainerConfig& c, const std::string& rootfs);

// The capabilities a container gets by default (containerd's list), as CAP_* names.
const std::vector<std::string>& DefaultCapabilities();

}  // namespace kubes::runtime
