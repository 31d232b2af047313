// Store — the node's image store: what containerd's image service, content store and
// overlay snapshotter are for a Kubernetes node, in one directory.
//
// Layout under root (an OCI image layout, so skopeo/umoci can read it, plus unpacked layers):
//   oci-layout, index.json   the names: one index entry per image name, whose annotation
//                            io.containerd.image.name holds the full reference and whose
//                            descriptor is what the name points to (an index or manifest)
//   blobs/sha256/<hex>       content by digest: indexes, manifests, configs, layer blobs
//   layers/<diff id hex>/    each layer unpacked once (see unpack.h), an overlay lowerdir
//   imported                 content hashes of archives ImportFolder has already imported
//   ingest/                  downloads in progress
//   index.lock, gc.lock      flock(2) files, see below
//
// An image's ID is its config digest ("sha256:…"), as crictl shows; its repo digests are
// "<repository>@<digest of what the name points to>", what status.imageID reports.
//
// Thread-safety and a second process: every public method may be called from any thread,
// and `kubes image` may run while the server does. index.json is read under a shared
// flock of index.lock and rewritten (atomically, by rename) under an exclusive one.
// Pulls and imports hold a shared flock of gc.lock while they add content; garbage
// collection (after Remove) runs only if it gets gc.lock exclusively at once, so content
// on its way in is never collected (it is collected by a later Remove instead). Within
// one process, concurrent pulls of one image and unpacks of one layer run once and the
// others wait for that result; between processes the work may be done twice, and the
// first rename wins.
//
// Removing an image does not check whether a container still uses its layers: that is
// the kubelet's job (it removes only unused images, as with containerd).
#pragma once

#include <cstdint>
#include <functional>
#include <future>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "runtime/images/oci.h"
#include "runtime/images/registries.h"
#include "util/status.h"

namespace kubes::runtime::images {

class RegistryClient;

struct Image {
  std::string id;                          // "sha256:<config digest hex>"
  std::vector<std::string> repo_tags;      // "docker.io/library/busybox:latest"
  std::vector<std::string> repo_digests;   // "docker.io/library/busybox@sha256:…"
  uint64_t size = 0;                       // manifest + config + layer blobs, in bytes
  std::vector<std::string> layer_dirs;     // unpacked, lowest layer first, absolute paths
  ImageConfig config;
};

class Store {
 public:
  // root is created when missing; errors from an unusable root surface on first use.
  explicit Store(std::string root);

  // By name ("busybox", "docker.io/library/busybox:1.36", "x@sha256:…"), by ID
  // ("sha256:…") or by a unique ID prefix ("a416a98b"). NotFound when absent.
  Result<Image> Get(const std::string& ref_or_id);
  // Every image, one entry per ID (all its names together), sorted by first name.
  std::vector<Image> List();

  // Imports a `docker save` tar or an OCI archive (plain, gzip or zstd), unpacks its
  // layers and names its images. Returns the images it holds.
  Result<std::vector<Image>> Import(const std::string& archive);
  // Imports each *.tar, *.tar.gz, *.tgz and *.tar.zst in dir, each content only once
  // across restarts. A missing dir is fine. One bad archive does not stop the others;
  // the returned error lists every failure.
  Status ImportFolder(const std::string& dir);
  // Pulls ref (resolving it through mirrors, then the registry) for this host's platform.
  // Errors are worded as containerd's, for pod events.
  Result<Image> Pull(const std::string& ref, const PullOptions& opts);
  // Removes a name, or with an ID every name of that image; content no longer used by
  // any image is then deleted. NotFound when nothing matches.
  Status Remove(const std::string& ref_or_id);

  const std::string& root() const { return root_; }

 private:
  // One entry of index.json: a name (or none) and what it points to.
  struct Record {
    std::string name;
    Descriptor target;
  };
  // A record followed down to its manifest and config.
  struct Resolved {
    std::string id;
    Manifest manifest;
    ConfigFile config;
    uint64_t size = 0;
  };
  // A file read out of an archive being imported: small ones in memory, large ones (and
  // every blobs/sha256/… file) already in the blob store.
  struct ArchiveFile {
    std::string digest;
    int64_t size = 0;
    bool in_memory = false;
    std::string content;
  };
  using ArchiveFiles = std::map<std::string, ArchiveFile>;

  std::string BlobPath(const std::string& digest) const;
  std::string LayerDir(const std::string& diff_id) const;
  bool HasBlob(const std::string& digest) const;
  Result<std::string> ReadBlob(const std::string& digest) const;
  Status WriteBlob(const std::string& digest, std::string_view content);
  // A fresh file under ingest/ for content on its way in.
  std::string IngestPath() const;
  // Moves a verified file from ingest/ into the blob store.
  Status CommitIngest(const std::string& ingest_path, const std::string& digest);

  // REQUIRES: index.lock held (shared or exclusive).
  Result<std::vector<Record>> ReadIndex() const;
  // REQUIRES: index.lock held exclusively.
  Status WriteIndex(const std::vector<Record>& records);
  // Points each name at target (an unnamed image when names is empty).
  Status Commit(const std::vector<std::string>& names, const Descriptor& target);

  Result<Resolved> Resolve(const Descriptor& target) const;
  // The records ref_or_id designates: one name, or every name of one image ID.
  std::vector<size_t> Match(const std::vector<Record>& records, const std::vector<Result<Resolved>>& resolved,
                            const std::string& ref_or_id) const;
  Image Assemble(const std::vector<Record>& records, const std::vector<Result<Resolved>>& resolved,
                 const std::string& id) const;

  // Unpacks every layer of an image whose blobs are all in the store.
  Status UnpackLayers(const Manifest& manifest, const ConfigFile& config);
  // Runs fn once for key among concurrent callers in this process; the others get its result.
  Status Once(const std::string& key, const std::function<Status()>& fn);
  // Deletes blobs and layers no image uses, unless a pull or import is under way.
  void TryGarbageCollect();

  // Import (store_import.cc).
  Result<ArchiveFiles> ReadArchive(const std::string& archive);
  Result<ArchiveFile> ArchiveBlob(ArchiveFiles& files, const std::string& path, const std::string& archive);
  Result<std::vector<Image>> ImportOci(ArchiveFiles& files, const std::string& archive);
  Result<std::vector<Image>> ImportDockerSave(ArchiveFiles& files, const std::string& archive);
  // Stores an image whose manifest (and index) blobs are stored and whose other blobs are
  // in files or the store, then names it.
  Result<Image> ImportImage(ArchiveFiles& files, const Descriptor& target, const std::vector<std::string>& names,
                            const std::string& archive);

  // Pull (store_pull.cc).
  Status PullOnce(const Reference& ref, const PullOptions& opts);
  Status PullFrom(RegistryClient& client, const Reference& ref, const std::string& top_media_type,
                  const std::string& top_digest, const std::string& top_body);
  Status FetchBlob(RegistryClient& client, const Descriptor& blob);

  std::string root_;
  std::mutex mu_;  // guards inflight_
  std::map<std::string, std::shared_future<Status>> inflight_;
};

}  // namespace kubes::runtime::images
