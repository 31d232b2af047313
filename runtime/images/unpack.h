// Unpacking one image layer into a directory an overlay mount can use as a lower layer.
//
// A layer is a tar stream (plain, gzip or zstd; libarchive detects which). Unpacking
// mirrors containerd's archive.Apply with its overlayfs whiteout conversion
// (containerd/pkg/archive/tar.go, tar_opts_linux.go):
//   - ownership, permission bits (setuid included), xattrs, times, symlinks, hardlinks,
//     device nodes and FIFOs are kept (we run as root);
//   - an entry ".wh.NAME" (a file deleted by this layer) becomes a character device 0:0
//     named NAME; ".wh..wh..opq" (a directory whose lower contents are hidden) becomes the
//     xattr trusted.overlay.opaque=y on its directory — what overlayfs reads;
//   - paths with ".." are refused, and nothing is ever written through a symlink: every
//     parent directory is opened component by component with O_NOFOLLOW, relative to the
//     layer directory (no chdir, so threads may unpack side by side);
//   - the uncompressed stream is hashed while it is read and must equal the layer's diff ID.
// Unpacking goes to a temporary sibling directory that is renamed into place only when
// everything checked out, so a corrupt or truncated layer leaves nothing behind.
//
// Thread-safety: UnpackLayer may run concurrently for different targets; for the same
// target the first rename wins and the others discard their copy.
#pragma once

#include <string>

#include "util/status.h"

namespace kubes::runtime::images {

// Unpacks the layer blob at blob_path into target_dir (which must not exist yet; OK
// without doing anything when it does). diff_id is the expected "sha256:…" of the
// uncompressed tar. Errors name the diff ID.
Status UnpackLayer(const std::string& blob_path, const std::string& diff_id, const std::string& target_dir);

}  // namespace kubes::runtime::images
