// Network namespaces kept alive by a bind mount on a file, as `ip netns add` does, so
// a pod's network outlives any one process in it and containers join it by path.
//
// Thread-safe: each call uses a short-lived thread of its own to enter a namespace
// (setns changes only the calling thread's namespace).
#pragma once

#include <functional>
#include <string>

#include "util/status.h"

namespace kubes::network {

// Creates a new network namespace pinned at `path` (the file is created). With
// `owner_userns` (a pinned user namespace) the network namespace belongs to that user
// namespace — a pod with `hostUsers: false`, whose root then owns its network — instead
// of the host's.
Status CreateNetns(const std::string& path, const std::string& owner_userns = "");
// Unmounts and removes `path`; no error when it does not exist.
Status DeleteNetns(const std::string& path);
// Runs `fn` on a thread inside the namespace at `path` and returns its result.
Status RunInNetns(const std::string& path, const std::function<Status()>& fn);
// A TCP connection to 127.0.0.1:port (or [::1]) made inside the namespace (port-forward).
Result<int> DialInNetns(const std::string& path, int port);

}  // namespace kubes::network
