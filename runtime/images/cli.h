// `kubes image …`: the node's image store from the command line, as `crictl images` /
// `ctr images` are for containerd. It works while `kubes server` runs (the store locks
// itself, see store.h).
//
//   kubes image ls                  IMAGE  TAG  IMAGE ID  SIZE, one row per tag
//   kubes image import FILE...      docker save tars and OCI archives (plain/gzip/zstd)
//   kubes image pull REF            through <data-dir>/registries.yaml when present
//   kubes image rm REF|ID...
//
// The store lives in <data_dir>/images. Exit codes: 0 done, 1 failed, 2 usage error.
//
// Thread-safety: call from one thread (it writes to the given streams).
#pragma once

#include <cstdint>
#include <iosfwd>
#include <string>
#include <vector>

namespace kubes::runtime::images {

// args are what follows "image": {"ls"}, {"pull", "busybox"}, ...
int RunImageCommand(const std::vector<std::string>& args, const std::string& data_dir);
int RunImageCommand(const std::vector<std::string>& args, const std::string& data_dir, std::ostream& out,
                    std::ostream& err);

// 4261550 → "4.26MB": three significant digits, decimal units (docker's go-units).
std::string HumanSize(uint64_t bytes);

}  // namespace kubes::runtime::images
