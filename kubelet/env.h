// A container's environment and command line as the kubelet builds them (upstream:
// kubelet_pods.go makeEnvironmentVariables, third_party/forked/golang/expansion, and
// the CRI's command/args/entrypoint rules).
//
// Order of the environment: the image's variables, then envFrom sources in order, then
// env entries in order; a later name wins. `$(NAME)` in a value refers to a variable
// defined before it; `$$` escapes; an undefined reference stays as written.
//
// Thread-safe: pure functions.
#pragma once

#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "util/status.h"

namespace kubes::kubelet {

using Json = nlohmann::json;

// Expands $(VAR) references with `lookup` (returns false when VAR is undefined).
std::string ExpandReferences(const std::string& in,
                             const std::function<bool(const std::string&, std::string*)>& lookup);

// Reads ConfigMaps and Secrets of the pod's namespace (data already base64-decoded
// for Secrets). NotFound when absent.
struct ObjectSource {
  std::function<Result<std::map<std::string, std::string>>(const std::string& name)> config_map;
  std::function<Result<std::map<std::string, std::string>>(const std::string& name)> secret;
};

// Value of a downward API field path of the pod ("metadata.name", "metadata.labels['a']",
// "status.podIP", …) — InvalidArgument for paths upstream does not support.
Result<std::string> PodFieldValue(const Json& pod, const std::string& path);

// A container's resource for resourceFieldRef ("limits.cpu" with divisor "1m", …).
// Unset limits fall back to the node's allocatable, as upstream.
Result<std::string> ResourceFieldValue(const Json& container, const Json& ref, const Json& node_allocatable);

// The ordered "NAME=value" list for a container, or the error that makes the kubelet
// report CreateContainerConfigError (e.g. `configmap "x" not found`).
Result<std::vector<std::string>> BuildEnvironment(const Json& pod, const Json& container,
                                                  const std::vector<std::string>& image_env,
                                                  const ObjectSource& objects, const Json& node_allocatable);

// argv from the container's command/args and the image's Entrypoint/Cmd, with $(VAR)
// expanded against `env`. Invalid when the result is empty.
Result<std::vector<std::string>> BuildCommand(const Json& container, const std::vector<std::string>& entrypoint,
                                              const std::vector<std::string>& cmd,
                                              const std::vector<std::string>& env);

}  // namespace kubes::kubelet
