#include "runtime/images/unpack.h"

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <memory>
#include <vector>

#include "runtime/images/digest.h"
#include "util/strings.h"

namespace kubes::runtime::images {
namespace {

constexpr char kWhiteoutPrefix[] = ".wh.";
constexpr char kOpaqueWhiteout[] = ".wh..wh..opq";

class Fd {
 public:
  explicit Fd(int fd = -1) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) close(fd_);
  }
  Fd(Fd&& o) noexcept : fd_(o.fd_) { o.fd_ = -1; }
  Fd& operator=(Fd&& o) noexcept {
    std::swap(fd_, o.fd_);
    return *this;
  }
  int get() const { return fd_; }

 private:
  int fd_;
};

struct ArchiveFree {
  void operator()(archive* a) const { archive_read_free(a); }
};
using ArchivePtr = std::unique_ptr<archive, ArchiveFree>;

Status ErrnoStatus(const std::string& what) { return Internal(what + ": " + std::strerror(errno)); }

std::string ArchiveError(archive* a) {
  const char* e = archive_error_string(a);
  return e != nullptr ? e : "unknown archive error";
}

// The decompressed layer: a libarchive "raw" reader over the blob (which undoes gzip or
// zstd) feeding the tar reader through ReadStream, hashing every byte on the way.
struct Stream {
  archive* decompressed = nullptr;
  Sha256 hash;
  std::string error;
  char buf[64 << 10];
};

la_ssize_t ReadStream(archive*, void* data, const void** out) {
  auto* s = static_cast<Stream*>(data);
  const la_ssize_t n = archive_read_data(s->decompressed, s->buf, sizeof s->buf);
  if (n < 0) {
    s->error = ArchiveError(s->decompressed);
    return -1;
  }
  s->hash.Update(s->buf, static_cast<size_t>(n));
  *out = s->buf;
  return n;
}

// "a/./b/" → {"a","b"}; any ".." is refused rather than resolved.
Result<std::vector<std::string>> CleanPath(const char* raw) {
  std::vector<std::string> parts;
  std::string_view rest = raw;
  while (!rest.empty()) {
    const size_t slash = rest.find('/');
    const std::string_view c = rest.substr(0, slash);
    rest = slash == std::string_view::npos ? std::string_view() : rest.substr(slash + 1);
    if (c.empty() || c == ".") continue;
    if (c == "..") return Invalid("entry \"" + std::string(raw) + "\": path escapes the layer directory");
    parts.emplace_back(c);
  }
  return parts;
}

// Applies tar entries below one directory, always relative to its file descriptor.
class Unpacker {
 public:
  Unpacker(std::string dir, int root) : dir_(std::move(dir)), root_(root), as_root_(geteuid() == 0) {}

  Status Apply(archive* tar, archive_entry* e);
  // Sets directory times last (creating children changes them).
  void Finish();

 private:
  // Opens parts[0..count) as directories below the root, creating missing ones when asked.
  Result<Fd> OpenDir(const std::vector<std::string>& parts, size_t count, bool create);
  // Removes whatever is at parent/name; a directory stays when keep_dir. Returns whether a
  // directory was kept.
  Result<bool> RemoveExisting(int parent, const std::vector<std::string>& parts, bool keep_dir);
  Status ApplyWhiteout(int parent, const std::string& name, archive_entry* e);
  Status ApplyHardlink(int parent, const std::vector<std::string>& parts, archive_entry* e);
  Status WriteFile(int parent, const std::string& name, archive* tar, archive_entry* e);
  Status SetOwner(int parent, const std::string& name, archive_entry* e);
  Status SetXattrs(int parent, const std::string& name, archive_entry* e);

  struct DirTimes {
    std::vector<std::string> parts;
    timespec times[2];
  };

  std::string dir_;
  int root_;
  bool as_root_;
  std::vector<DirTimes> dir_times_;
};

Result<Fd> Unpacker::OpenDir(const std::vector<std::string>& parts, size_t count, bool create) {
  Fd cur(dup(root_));
  for (size_t i = 0; i < count; ++i) {
    const int flags = O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC;
    int fd = openat(cur.get(), parts[i].c_str(), flags);
    if (fd < 0 && errno == ENOENT && create) {
      if (mkdirat(cur.get(), parts[i].c_str(), 0755) != 0 && errno != EEXIST) return ErrnoStatus("mkdir " + parts[i]);
      fd = openat(cur.get(), parts[i].c_str(), flags);
    }
    if (fd < 0) {
      const std::vector<std::string> prefix(parts.begin(), parts.begin() + i + 1);
      if (errno == ELOOP || errno == ENOTDIR) {
        return Invalid("\"" + Join(prefix, "/") + "\" is not a directory: refusing to write through it");
      }
      return ErrnoStatus("open " + Join(prefix, "/"));
    }
    cur = Fd(fd);
  }
  return cur;
}

Result<bool> Unpacker::RemoveExisting(int parent, const std::vector<std::string>& parts, bool keep_dir) {
  struct stat st {};
  const std::string& name = parts.back();
  if (fstatat(parent, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
    if (errno == ENOENT) return false;
    return ErrnoStatus("stat " + Join(parts, "/"));
  }
  if (!S_ISDIR(st.st_mode)) {
    if (unlinkat(parent, name.c_str(), 0) != 0) return ErrnoStatus("remove " + Join(parts, "/"));
    return false;
  }
  if (keep_dir) return true;
  // Every component up to here was opened with O_NOFOLLOW, so this path stays inside.
  std::error_code ec;
  std::filesystem::remove_all(dir_ + "/" + Join(parts, "/"), ec);
  if (ec) return Internal("remove " + Join(parts, "/") + ": " + ec.message());
  return false;
}

Status Unpacker::SetOwner(int parent, const std::string& name, archive_entry* e) {
  if (!as_root_) return Status::OK();  // unprivileged: files stay ours
  if (fchownat(parent, name.c_str(), static_cast<uid_t>(archive_entry_uid(e)), static_cast<gid_t>(archive_entry_gid(e)),
               AT_SYMLINK_NOFOLLOW) != 0) {
    return ErrnoStatus("chown " + name);
  }
  return Status::OK();
}

Status Unpacker::SetXattrs(int parent, const std::string& name, archive_entry* e) {
  if (archive_entry_xattr_reset(e) == 0) return Status::OK();
  // lsetxattr through the directory's /proc/self/fd link: relative to the fd, and the
  // entry itself is not followed if it is a symlink.
  const std::string path = "/proc/self/fd/" + std::to_string(parent) + "/" + name;
  const char* key = nullptr;
  const void* value = nullptr;
  size_t size = 0;
  while (archive_entry_xattr_next(e, &key, &value, &size) == ARCHIVE_OK) {
    if (key == nullptr) continue;
    if (lsetxattr(path.c_str(), key, value, size, 0) != 0) {
      if (errno == ENOTSUP || (errno == EPERM && !as_root_)) continue;
      return ErrnoStatus("set xattr " + std::string(key) + " on " + name);
    }
  }
  return Status::OK();
}

Status Unpacker::ApplyWhiteout(int parent, const std::string& name, archive_entry* e) {
  if (name == kOpaqueWhiteout) {
    if (fsetxattr(parent, "trusted.overlay.opaque", "y", 1, 0) != 0) return ErrnoStatus("mark directory opaque");
    return Status::OK();
  }
  const std::string hidden = name.substr(sizeof(kWhiteoutPrefix) - 1);
  if (hidden.empty() || hidden == "." || hidden == "..") return Invalid("bad whiteout entry \"" + name + "\"");
  struct stat st {};
  if (fstatat(parent, hidden.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0) {
    // A whiteout replaces anything of that name this same layer made.
    if (S_ISDIR(st.st_mode)) {
      std::error_code ec;
      std::filesystem::remove_all("/proc/self/fd/" + std::to_string(parent) + "/" + hidden, ec);
    } else {
      unlinkat(parent, hidden.c_str(), 0);
    }
  }
  if (mknodat(parent, hidden.c_str(), S_IFCHR, makedev(0, 0)) != 0) return ErrnoStatus("whiteout " + hidden);
  return SetOwner(parent, hidden, e);
}

Status Unpacker::ApplyHardlink(int parent, const std::vector<std::string>& parts, archive_entry* e) {
  Result<std::vector<std::string>> target = CleanPath(archive_entry_hardlink(e));
  if (!target.ok()) return target.status();
  if (target->empty()) return Invalid("entry \"" + Join(parts, "/") + "\": hardlink to the layer root");
  if (*target == parts) return Status::OK();
  Result<Fd> target_dir = OpenDir(*target, target->size() - 1, /*create=*/false);
  if (!target_dir.ok()) return target_dir.status();
  Result<bool> kept = RemoveExisting(parent, parts, /*keep_dir=*/false);
  if (!kept.ok()) return kept.status();
  if (linkat(target_dir->get(), target->back().c_str(), parent, parts.back().c_str(), 0) != 0) {
    return ErrnoStatus("hardlink " + Join(parts, "/") + " to " + Join(*target, "/"));
  }
  return Status::OK();
}

Status Unpacker::WriteFile(int parent, const std::string& name, archive* tar, archive_entry* e) {
  Fd fd(openat(parent, name.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
  if (fd.get() < 0) return ErrnoStatus("create " + name);
  const void* buf = nullptr;
  size_t size = 0;
  la_int64_t offset = 0;
  int r;
  while ((r = archive_read_data_block(tar, &buf, &size, &offset)) == ARCHIVE_OK) {
    const char* p = static_cast<const char*>(buf);
    while (size > 0) {
      const ssize_t n = pwrite(fd.get(), p, size, offset);
      if (n < 0) return ErrnoStatus("write " + name);
      p += n;
      size -= static_cast<size_t>(n);
      offset += n;
    }
  }
  if (r != ARCHIVE_EOF) return Invalid("reading " + name + ": " + ArchiveError(tar));
  // Sparse files end in a hole that no block covers.
  if (archive_entry_size_is_set(e) && ftruncate(fd.get(), archive_entry_size(e)) != 0) {
    return ErrnoStatus("truncate " + name);
  }
  return Status::OK();
}

Status Unpacker::Apply(archive* tar, archive_entry* e) {
  const char* raw = archive_entry_pathname(e);
  if (raw == nullptr) return Invalid("entry without a path");
  Result<std::vector<std::string>> parts = CleanPath(raw);
  if (!parts.ok()) return parts.status();
  const mode_t type = archive_entry_filetype(e);
  const mode_t perm = archive_entry_perm(e);
  if (parts->empty()) {  // "./": the layer root itself
    if (type != AE_IFDIR) return Status::OK();
    if (as_root_ && fchown(root_, archive_entry_uid(e), archive_entry_gid(e)) != 0) return ErrnoStatus("chown /");
    if (fchmod(root_, perm) != 0) return ErrnoStatus("chmod /");
    dir_times_.push_back({{}, {{archive_entry_mtime(e), archive_entry_mtime_nsec(e)},
                               {archive_entry_mtime(e), archive_entry_mtime_nsec(e)}}});
    return Status::OK();
  }
  Result<Fd> parent_fd = OpenDir(*parts, parts->size() - 1, /*create=*/true);
  if (!parent_fd.ok()) return parent_fd.status().Wrap("entry \"" + std::string(raw) + "\"");
  const int parent = parent_fd->get();
  const std::string& name = parts->back();

  if (name.rfind(kWhiteoutPrefix, 0) == 0) return ApplyWhiteout(parent, name, e);
  if (archive_entry_hardlink(e) != nullptr) return ApplyHardlink(parent, *parts, e);

  Result<bool> kept_dir = RemoveExisting(parent, *parts, /*keep_dir=*/type == AE_IFDIR);
  if (!kept_dir.ok()) return kept_dir.status();
  switch (type) {
    case AE_IFDIR:
      if (!*kept_dir && mkdirat(parent, name.c_str(), 0700) != 0) return ErrnoStatus("mkdir " + name);
      break;
    case AE_IFREG:
      KUBES_RETURN_IF_ERROR(WriteFile(parent, name, tar, e));
      break;
    case AE_IFLNK: {
      const char* target = archive_entry_symlink(e);
      if (target == nullptr) return Invalid("entry \"" + std::string(raw) + "\": symlink without a target");
      if (symlinkat(target, parent, name.c_str()) != 0) return ErrnoStatus("symlink " + name);
      break;
    }
    case AE_IFCHR:
    case AE_IFBLK:
    case AE_IFIFO:
      if (mknodat(parent, name.c_str(), type | perm,
                  makedev(archive_entry_rdevmajor(e), archive_entry_rdevminor(e))) != 0) {
        return ErrnoStatus("mknod " + name);
      }
      break;
    default:  // sockets and unknown types are not part of a filesystem image
      return Status::OK();
  }
  // Owner first: chown clears setuid bits and file capabilities, so mode and xattrs follow.
  KUBES_RETURN_IF_ERROR(SetOwner(parent, name, e));
  if (type != AE_IFLNK && fchmodat(parent, name.c_str(), perm, 0) != 0) return ErrnoStatus("chmod " + name);
  KUBES_RETURN_IF_ERROR(SetXattrs(parent, name, e));
  const timespec times[2] = {{archive_entry_mtime(e), archive_entry_mtime_nsec(e)},
                             {archive_entry_mtime(e), archive_entry_mtime_nsec(e)}};
  if (type == AE_IFDIR) {
    dir_times_.push_back({*parts, {times[0], times[1]}});
  } else if (utimensat(parent, name.c_str(), times, AT_SYMLINK_NOFOLLOW) != 0) {
    return ErrnoStatus("set times of " + name);
  }
  return Status::OK();
}

void Unpacker::Finish() {
  for (auto it = dir_times_.rbegin(); it != dir_times_.rend(); ++it) {
    if (it->parts.empty()) {
      futimens(root_, it->times);
      continue;
    }
    Result<Fd> parent = OpenDir(it->parts, it->parts.size() - 1, /*create=*/false);
    if (parent.ok()) utimensat(parent->get(), it->parts.back().c_str(), it->times, AT_SYMLINK_NOFOLLOW);
  }
}

// Unpacks into dir (an empty directory) and checks the diff ID.
Status UnpackInto(const std::string& blob_path, const std::string& diff_id, const std::string& dir) {
  Fd root(open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (root.get() < 0) return ErrnoStatus("open " + dir);
  ArchivePtr raw(archive_read_new());
  archive_read_support_filter_gzip(raw.get());
  archive_read_support_filter_zstd(raw.get());
  archive_read_support_filter_xz(raw.get());
  archive_read_support_format_raw(raw.get());
  auto stream = std::make_unique<Stream>();
  stream->decompressed = raw.get();
  if (archive_read_open_filename(raw.get(), blob_path.c_str(), 64 << 10) != ARCHIVE_OK) {
    return Invalid("opening the layer: " + ArchiveError(raw.get()));
  }
  archive_entry* entry = nullptr;
  const int first = archive_read_next_header(raw.get(), &entry);
  if (first == ARCHIVE_EOF) {  // a zero-byte layer: nothing to unpack
    if (stream->hash.Digest() != diff_id) return Invalid("layer is empty but its diff ID is " + diff_id);
    return Status::OK();
  }
  if (first != ARCHIVE_OK) return Invalid("reading the layer: " + ArchiveError(raw.get()));

  ArchivePtr tar(archive_read_new());
  archive_read_support_format_tar(tar.get());
  archive_read_support_format_empty(tar.get());
  if (archive_read_open(tar.get(), stream.get(), nullptr, ReadStream, nullptr) != ARCHIVE_OK) {
    return Invalid("reading the layer: " + ArchiveError(tar.get()) + (stream->error.empty() ? "" : ": " + stream->error));
  }
  Unpacker unpacker(dir, root.get());
  int r;
  while ((r = archive_read_next_header(tar.get(), &entry)) == ARCHIVE_OK || r == ARCHIVE_WARN) {
    KUBES_RETURN_IF_ERROR(unpacker.Apply(tar.get(), entry));
  }
  if (r != ARCHIVE_EOF) {
    return Invalid("reading the layer: " + ArchiveError(tar.get()) + (stream->error.empty() ? "" : ": " + stream->error));
  }
  // The digest covers the whole stream, padding after the end-of-archive blocks included.
  la_ssize_t n;
  while ((n = archive_read_data(raw.get(), stream->buf, sizeof stream->buf)) > 0) {
    stream->hash.Update(stream->buf, static_cast<size_t>(n));
  }
  if (n < 0) return Invalid("reading the layer: " + ArchiveError(raw.get()));
  const std::string got = stream->hash.Digest();
  if (got != diff_id) return Invalid("digest mismatch: the uncompressed layer is " + got);
  unpacker.Finish();
  syncfs(root.get());
  return Status::OK();
}

}  // namespace

Status UnpackLayer(const std::string& blob_path, const std::string& diff_id, const std::string& target_dir) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (fs::exists(target_dir, ec)) return Status::OK();
  const fs::path target(target_dir);
  fs::create_directories(target.parent_path(), ec);
  std::string tmpl = (target.parent_path() / (".tmp-" + target.filename().string() + "-XXXXXX")).string();
  if (mkdtemp(tmpl.data()) == nullptr) return ErrnoStatus("failed to unpack layer " + diff_id + ": mkdtemp");
  chmod(tmpl.c_str(), 0755);
  Status s = UnpackInto(blob_path, diff_id, tmpl);
  if (s.ok() && rename(tmpl.c_str(), target_dir.c_str()) != 0) {
    if (errno != EEXIST && errno != ENOTEMPTY) s = ErrnoStatus("rename into " + target_dir);
  }
  fs::remove_all(tmpl, ec);  // a no-op after a successful rename
  if (!s.ok()) return std::move(s).Wrap("failed to unpack layer " + diff_id);
  return Status::OK();
}

}  // namespace kubes::runtime::images
