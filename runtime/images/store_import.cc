// Store::Import and Store::ImportFolder: images from `docker save` tars and OCI archives.
//
// An OCI archive is a tar of an OCI image layout: index.json names the images (annotation
// io.containerd.image.name, or org.opencontainers.image.ref.name when that is a full
// name), blobs/sha256/<hex> holds the content. A `docker save` tar has manifest.json:
// [{"Config": "<hex>.json", "RepoTags": ["busybox:latest"], "Layers": ["<id>/layer.tar"]}],
// with no manifest of its own, so one is written for it (as containerd's importer does).
// Docker 25+ writes both; the OCI index is used when it names images.
#include <archive.h>
#include <archive_entry.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <set>
#include <sstream>

#include "runtime/images/file_lock.h"
#include "runtime/images/store.h"
#include "util/strings.h"

namespace kubes::runtime::images {
namespace {

namespace fs = std::filesystem;

constexpr int64_t kInMemoryMax = 1 << 20;      // files up to this size stay in memory...
constexpr int64_t kInMemoryTotal = 256 << 20;  // ...as long as they add up to no more than this

struct ArchiveFree {
  void operator()(archive* a) const { archive_read_free(a); }
};

std::string ArchiveError(archive* a) {
  const char* e = archive_error_string(a);
  return e != nullptr ? e : "unknown archive error";
}

// "./a/../b/c" → "b/c"; "" when the path leaves the archive.
std::string NormalizeArchivePath(const std::string& p) {
  std::string n = fs::path("/" + p).lexically_normal().string();
  while (!n.empty() && n.front() == '/') n.erase(0, 1);
  return n;
}

// "blobs/sha256/<hex>" → "sha256:<hex>", else "".
std::string ClaimedDigest(const std::string& path) {
  constexpr std::string_view kPrefix = "blobs/sha256/";
  if (path.rfind(kPrefix, 0) != 0) return "";
  const std::string digest = "sha256:" + path.substr(kPrefix.size());
  return ValidateDigest(digest).ok() ? digest : "";
}

// The OCI layer media type for a blob's first bytes (docker save does not say).
std::string LayerMediaType(const std::string& head) {
  if (head.size() >= 2 && static_cast<unsigned char>(head[0]) == 0x1f && static_cast<unsigned char>(head[1]) == 0x8b) {
    return std::string(kMediaTypeOciLayer) + "+gzip";
  }
  if (head.size() >= 4 && head.compare(0, 4, "\x28\xb5\x2f\xfd") == 0) return std::string(kMediaTypeOciLayer) + "+zstd";
  return kMediaTypeOciLayer;
}

// The names an OCI index entry gives its image.
Result<std::vector<std::string>> EntryNames(const Descriptor& d) {
  std::string name;
  if (auto it = d.annotations.find(kAnnotationImageName); it != d.annotations.end()) {
    name = it->second;
  } else if (auto ref = d.annotations.find(kAnnotationRefName); ref != d.annotations.end()) {
    // A bare tag ("latest") names no repository: such an image is imported without a name.
    if (ref->second.find_first_of("/:@") != std::string::npos) name = ref->second;
  }
  if (name.empty()) return std::vector<std::string>{};
  Result<Reference> parsed = ParseReference(name);
  if (!parsed.ok()) return parsed.status().Wrap("image name \"" + name + "\"");
  return std::vector<std::string>{parsed->String()};
}

}  // namespace

Result<Store::ArchiveFiles> Store::ReadArchive(const std::string& path) {
  std::unique_ptr<archive, ArchiveFree> a(archive_read_new());
  archive_read_support_filter_gzip(a.get());
  archive_read_support_filter_zstd(a.get());
  archive_read_support_filter_xz(a.get());
  archive_read_support_format_tar(a.get());
  if (archive_read_open_filename(a.get(), path.c_str(), 64 << 10) != ARCHIVE_OK) {
    return Invalid("open: " + ArchiveError(a.get()));
  }
  ArchiveFiles files;
  std::map<std::string, std::string> symlinks;  // docker save links repeated layers
  int64_t in_memory = 0;
  archive_entry* e = nullptr;
  int r;
  while ((r = archive_read_next_header(a.get(), &e)) == ARCHIVE_OK || r == ARCHIVE_WARN) {
    const char* raw = archive_entry_pathname(e);
    if (raw == nullptr) continue;
    const std::string name = NormalizeArchivePath(raw);
    if (name.empty()) continue;
    if (archive_entry_filetype(e) == AE_IFLNK && archive_entry_symlink(e) != nullptr) {
      const std::string dir = fs::path(name).parent_path().string();
      symlinks[name] = NormalizeArchivePath(dir + "/" + archive_entry_symlink(e));
      continue;
    }
    if (archive_entry_filetype(e) != AE_IFREG || archive_entry_hardlink(e) != nullptr) continue;

    // Stream the file: in memory while small, into ingest/ once it is not.
    ArchiveFile f;
    Sha256 hash;
    std::string tmp;
    std::FILE* out = nullptr;
    auto fail = [&](Status s) {
      if (out != nullptr) std::fclose(out);
      if (!tmp.empty()) unlink(tmp.c_str());
      return s;
    };
    char buf[64 << 10];
    la_ssize_t n;
    while ((n = archive_read_data(a.get(), buf, sizeof buf)) > 0) {
      hash.Update(buf, static_cast<size_t>(n));
      f.size += n;
      if (out == nullptr && f.size <= kInMemoryMax) {
        f.content.append(buf, static_cast<size_t>(n));
        continue;
      }
      if (out == nullptr) {
        tmp = IngestPath();
        out = std::fopen(tmp.c_str(), "wb");
        if (out == nullptr) return fail(Internal("create " + tmp));
        if (std::fwrite(f.content.data(), 1, f.content.size(), out) != f.content.size()) return fail(Internal("write " + tmp));
        f.content.clear();
        f.content.shrink_to_fit();
      }
      if (std::fwrite(buf, 1, static_cast<size_t>(n), out) != static_cast<size_t>(n)) return fail(Internal("write " + tmp));
    }
    if (n < 0) return fail(Invalid("reading " + name + ": " + ArchiveError(a.get())));
    f.digest = hash.Digest();
    const std::string claimed = ClaimedDigest(name);
    if (!claimed.empty() && claimed != f.digest) {
      return fail(Invalid("blob " + claimed + " is corrupt: its content hashes to " + f.digest));
    }
    if (out != nullptr) {
      const bool closed = std::fclose(out) == 0;
      out = nullptr;
      if (!closed) return fail(Internal("write " + tmp));
      if (HasBlob(f.digest)) {
        unlink(tmp.c_str());
      } else {
        KUBES_RETURN_IF_ERROR(CommitIngest(tmp, f.digest));
      }
    } else {
      in_memory += f.size;
      if (in_memory > kInMemoryTotal) return Invalid("too many small files in the archive");
      f.in_memory = true;
    }
    files[name] = std::move(f);
  }
  if (r != ARCHIVE_EOF) return Invalid("reading: " + ArchiveError(a.get()));
  for (const auto& [link, target] : symlinks) {
    auto it = files.find(target);
    if (it != files.end() && !files.count(link)) {
      ArchiveFile copy = it->second;
      files[link] = std::move(copy);
    }
  }
  return files;
}

Result<Store::ArchiveFile> Store::ArchiveBlob(ArchiveFiles& files, const std::string& path, const std::string& archive) {
  auto it = files.find(path);
  if (it == files.end()) return Invalid(path + " is missing from the archive");
  ArchiveFile& f = it->second;
  if (f.in_memory && !HasBlob(f.digest)) KUBES_RETURN_IF_ERROR(WriteBlob(f.digest, f.content));
  return f;
}

Result<Image> Store::ImportImage(ArchiveFiles& files, const Descriptor& target, const std::vector<std::string>& names,
                                 const std::string& archive) {
  auto blob = [&](const std::string& digest) -> Status {
    if (HasBlob(digest)) return Status::OK();
    Result<ArchiveFile> f = ArchiveBlob(files, "blobs/sha256/" + DigestHex(digest), archive);
    return f.status();
  };
  KUBES_RETURN_IF_ERROR(blob(target.digest));
  Result<std::string> body = ReadBlob(target.digest);
  if (!body.ok()) return body.status();
  const int64_t target_size = static_cast<int64_t>(body->size());
  Result<std::string> media_type = ManifestMediaType(*body, target.media_type);
  if (!media_type.ok()) return media_type.status();
  if (IsIndexMediaType(*media_type)) {
    Result<Index> index = ParseIndex(*body);
    if (!index.ok()) return index.status();
    Result<Descriptor> chosen = SelectPlatform(*index, HostPlatform());
    if (!chosen.ok()) return chosen.status();
    KUBES_RETURN_IF_ERROR(blob(chosen->digest));
    body = ReadBlob(chosen->digest);
    if (!body.ok()) return body.status();
  }
  Result<Manifest> manifest = ParseManifest(*body);
  if (!manifest.ok()) return manifest.status();
  KUBES_RETURN_IF_ERROR(blob(manifest->config.digest));
  Result<std::string> config_body = ReadBlob(manifest->config.digest);
  if (!config_body.ok()) return config_body.status();
  Result<ConfigFile> config = ParseConfig(*config_body);
  if (!config.ok()) return config.status();
  if (config->diff_ids.size() != manifest->layers.size()) {
    return Invalid("the manifest has " + std::to_string(manifest->layers.size()) + " layers but the config " +
                   std::to_string(config->diff_ids.size()) + " diff IDs");
  }
  for (const Descriptor& layer : manifest->layers) KUBES_RETURN_IF_ERROR(blob(layer.digest));
  KUBES_RETURN_IF_ERROR(UnpackLayers(*manifest, *config));
  KUBES_RETURN_IF_ERROR(Commit(names, {*media_type, target.digest, target_size, false, {}, {}}));
  return Get(manifest->config.digest);
}

Result<std::vector<Image>> Store::ImportOci(ArchiveFiles& files, const std::string& archive) {
  auto index_file = files.find("index.json");
  if (!index_file->second.in_memory) return Invalid("index.json is too large");
  Result<Index> index = ParseIndex(index_file->second.content);
  if (!index.ok()) return index.status();
  // Several entries may name one image: import it once with all its names.
  std::vector<std::pair<Descriptor, std::vector<std::string>>> images;
  for (const Descriptor& d : index->manifests) {
    Result<std::vector<std::string>> names = EntryNames(d);
    if (!names.ok()) return names.status();
    auto it = std::find_if(images.begin(), images.end(), [&](const auto& i) { return i.first.digest == d.digest; });
    if (it == images.end()) {
      images.push_back({d, *names});
    } else {
      it->second.insert(it->second.end(), names->begin(), names->end());
    }
  }
  std::vector<Image> out;
  for (auto& [target, names] : images) {
    Result<Image> image = ImportImage(files, target, names, archive);
    if (!image.ok()) return image.status();
    out.push_back(std::move(*image));
  }
  return out;
}

Result<std::vector<Image>> Store::ImportDockerSave(ArchiveFiles& files, const std::string& archive) {
  auto manifest_file = files.find("manifest.json");
  if (!manifest_file->second.in_memory) return Invalid("manifest.json is too large");
  Result<std::vector<DockerSaveEntry>> entries = ParseDockerSaveManifest(manifest_file->second.content);
  if (!entries.ok()) return entries.status();
  std::vector<Image> out;
  for (const DockerSaveEntry& entry : *entries) {
    Result<ArchiveFile> config = ArchiveBlob(files, NormalizeArchivePath(entry.config), archive);
    if (!config.ok()) return config.status();
    Manifest m;
    m.media_type = kMediaTypeOciManifest;
    m.config = {kMediaTypeOciConfig, config->digest, config->size, false, {}, {}};
    for (const std::string& path : entry.layers) {
      Result<ArchiveFile> layer = ArchiveBlob(files, NormalizeArchivePath(path), archive);
      if (!layer.ok()) return layer.status();
      std::string head(4, '\0');
      std::ifstream(BlobPath(layer->digest), std::ios::binary).read(head.data(), 4);
      m.layers.push_back({LayerMediaType(head), layer->digest, layer->size, false, {}, {}});
    }
    const std::string body = ManifestJson(m);
    const std::string digest = Sha256Digest(body);
    KUBES_RETURN_IF_ERROR(WriteBlob(digest, body));
    std::vector<std::string> names;
    for (const std::string& tag : entry.repo_tags) {
      Result<Reference> ref = ParseReference(tag);
      if (!ref.ok()) return ref.status().Wrap("image name \"" + tag + "\"");
      names.push_back(ref->String());
    }
    Result<Image> image = ImportImage(files, {kMediaTypeOciManifest, digest, static_cast<int64_t>(body.size()), false, {}, {}},
                                      names, archive);
    if (!image.ok()) return image.status();
    out.push_back(std::move(*image));
  }
  return out;
}

Result<std::vector<Image>> Store::Import(const std::string& archive) {
  Result<std::vector<Image>> out = [&]() -> Result<std::vector<Image>> {
    Result<FileLock> lease = FileLock::Acquire(root_ + "/gc.lock", /*exclusive=*/false, /*wait=*/true);
    if (!lease.ok()) return lease.status();
    Result<ArchiveFiles> files = ReadArchive(archive);
    if (!files.ok()) return files.status();
    const bool oci = files->count("index.json") > 0;
    const bool docker = files->count("manifest.json") > 0;
    if (oci && docker) {  // Docker 25+: prefer the OCI index when it names the images
      Result<Index> index = ParseIndex(files->at("index.json").content);
      const bool named = index.ok() && std::any_of(index->manifests.begin(), index->manifests.end(), [](const Descriptor& d) {
                           Result<std::vector<std::string>> n = EntryNames(d);
                           return n.ok() && !n->empty();
                         });
      return named ? ImportOci(*files, archive) : ImportDockerSave(*files, archive);
    }
    if (oci) return ImportOci(*files, archive);
    if (docker) return ImportDockerSave(*files, archive);
    return Invalid("neither an OCI archive (no index.json) nor a docker save archive (no manifest.json)");
  }();
  TryGarbageCollect();  // content of a failed import, and archive files nothing refers to
  if (!out.ok()) return out.status().Wrap("import " + archive);
  return out;
}

Status Store::ImportFolder(const std::string& dir) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return Status::OK();
  std::vector<std::string> archives;
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    const std::string name = e.path().filename().string();
    auto ends = [&](std::string_view s) { return name.size() > s.size() && name.compare(name.size() - s.size(), s.size(), s) == 0; };
    if (e.is_regular_file(ec) && (ends(".tar") || ends(".tar.gz") || ends(".tgz") || ends(".tar.zst"))) {
      archives.push_back(e.path().string());
    }
  }
  std::sort(archives.begin(), archives.end());
  const std::string record = root_ + "/imported";
  std::vector<std::string> failures;
  for (const std::string& path : archives) {
    Sha256 hash;
    {
      std::ifstream in(path, std::ios::binary);
      char buf[64 << 10];
      while (in.read(buf, sizeof buf) || in.gcount() > 0) hash.Update(buf, static_cast<size_t>(in.gcount()));
    }
    const std::string digest = hash.Digest();
    std::set<std::string> done;
    {
      std::ifstream in(record);
      for (std::string line; std::getline(in, line);) done.insert(line);
    }
    if (done.count(digest)) continue;
    Result<std::vector<Image>> imported = Import(path);
    if (!imported.ok()) {
      failures.push_back(imported.status().message());
      continue;
    }
    Result<FileLock> lock = FileLock::Acquire(root_ + "/index.lock", /*exclusive=*/true, /*wait=*/true);
    if (!lock.ok()) return lock.status();
    std::ofstream(record, std::ios::app) << digest << "\n";
  }
  if (!failures.empty()) return Invalid(Join(failures, "; "));
  return Status::OK();
}

}  // namespace kubes::runtime::images
