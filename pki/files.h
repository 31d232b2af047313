// files — reading and writing the small secret files pki/ keeps on disk.
//
// WriteFileAtomic writes to "<path>.tmp" created with the final mode (so a private key is
// never readable by others, not even for a moment), fsyncs, and renames over path: after
// a crash the file holds either the old or the new content, never half of each.
//
// Thread-safety: free functions; concurrent writers of one path race at the rename and
// the last one wins.
#pragma once

#include <sys/types.h>

#include <string>

#include "util/status.h"

namespace kubes::pki {

// The whole file. NotFound when it does not exist.
Result<std::string> ReadFile(const std::string& path);

// Replaces path with content, file mode `mode` (e.g. 0600 for keys).
Status WriteFileAtomic(const std::string& path, const std::string& content, mode_t mode);

// Creates dir (and parents) if missing; a directory this creates gets mode 0700.
Status EnsureDirectory(const std::string& dir);

}  // namespace kubes::pki
