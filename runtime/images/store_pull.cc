// Store::Pull: resolve a reference through the endpoints, fetch what this host's
// platform needs, verify, unpack, name. Upstream: containerd's client.Pull with its
// docker resolver and unpacker.
#include <unistd.h>

#include <filesystem>

#include "runtime/images/registry.h"
#include "runtime/images/file_lock.h"
#include "runtime/images/store.h"

namespace kubes::runtime::images {

Result<Image> Store::Pull(const std::string& ref_string, const PullOptions& opts) {
  Result<Reference> ref = ParseReference(ref_string);
  if (!ref.ok()) return ref.status().Wrap("failed to parse image reference \"" + ref_string + "\"");
  const std::string name = ref->String();
  Status s = Once("pull:" + name, [&] { return PullOnce(*ref, opts); });
  if (!s.ok()) return s;
  return Get(name);
}

Status Store::PullOnce(const Reference& ref, const PullOptions& opts) {
  const std::string name = ref.String();
  const std::string failed = "failed to pull and unpack image \"" + name + "\"";
  const std::string unresolved = "failed to resolve reference \"" + name + "\"";
  Result<FileLock> lease = FileLock::Acquire(root_ + "/gc.lock", /*exclusive=*/false, /*wait=*/true);
  if (!lease.ok()) return lease.status().Wrap(failed);
  Result<std::vector<Endpoint>> endpoints = ResolveEndpoints(ref, opts);
  if (!endpoints.ok()) return endpoints.status().Wrap(unresolved).Wrap(failed);
  // As containerd's resolver: a 404 moves on to the next endpoint; so does any other
  // error, but the first of those is what gets reported if no endpoint has the image.
  Status first_error;
  for (const Endpoint& endpoint : *endpoints) {
    RegistryClient client(endpoint);
    Result<RegistryClient::Fetched> top = client.FetchManifest(ref.digest.empty() ? ref.tag : ref.digest);
    if (!top.ok()) {
      if (top.status().code() != Code::kNotFound && first_error.ok()) first_error = top.status();
      continue;
    }
    Status s = PullFrom(client, ref, top->media_type, top->digest, top->body);
    if (!s.ok()) return std::move(s).Wrap(failed);
    return Status::OK();
  }
  if (first_error.ok()) first_error = NotFound(name + ": not found");
  return std::move(first_error).Wrap(unresolved).Wrap(failed);
}

Status Store::PullFrom(RegistryClient& client, const Reference& ref, const std::string& top_media_type,
                       const std::string& top_digest, const std::string& top_body) {
  KUBES_RETURN_IF_ERROR(WriteBlob(top_digest, top_body));
  std::string manifest_body = top_body;
  if (IsIndexMediaType(top_media_type)) {
    Result<Index> index = ParseIndex(top_body);
    if (!index.ok()) return index.status();
    Result<Descriptor> chosen = SelectPlatform(*index, HostPlatform());
    if (!chosen.ok()) return chosen.status();
    if (Result<std::string> stored = ReadBlob(chosen->digest); stored.ok()) {
      manifest_body = std::move(*stored);
    } else {
      Result<RegistryClient::Fetched> m = client.FetchManifest(chosen->digest);
      if (!m.ok()) return m.status();
      KUBES_RETURN_IF_ERROR(WriteBlob(m->digest, m->body));
      manifest_body = std::move(m->body);
    }
  }
  Result<Manifest> manifest = ParseManifest(manifest_body);
  if (!manifest.ok()) return manifest.status();
  KUBES_RETURN_IF_ERROR(FetchBlob(client, manifest->config));
  Result<std::string> config_body = ReadBlob(manifest->config.digest);
  if (!config_body.ok()) return config_body.status();
  Result<ConfigFile> config = ParseConfig(*config_body);
  if (!config.ok()) return config.status();
  if (config->diff_ids.size() != manifest->layers.size()) {
    return Invalid("the manifest has " + std::to_string(manifest->layers.size()) + " layers but the config " +
                   std::to_string(config->diff_ids.size()) + " diff IDs");
  }
  for (const Descriptor& layer : manifest->layers) {
    if (layer.media_type.find("foreign") != std::string::npos ||
        layer.media_type.find("nondistributable") != std::string::npos) {
      return Invalid("layer " + layer.digest + " is non-distributable (" + layer.media_type + "); kubes does not fetch those");
    }
    KUBES_RETURN_IF_ERROR(FetchBlob(client, layer));
  }
  KUBES_RETURN_IF_ERROR(UnpackLayers(*manifest, *config));
  return Commit({ref.String()}, {top_media_type, top_digest, static_cast<int64_t>(top_body.size()), false, {}, {}});
}

Status Store::FetchBlob(RegistryClient& client, const Descriptor& blob) {
  if (HasBlob(blob.digest)) return Status::OK();
  return Once("blob:" + blob.digest, [&]() -> Status {
    if (HasBlob(blob.digest)) return Status::OK();
    const std::string tmp = IngestPath();
    Status s = client.FetchBlob(blob.digest, blob.size, tmp);
    if (!s.ok()) {
      unlink(tmp.c_str());
      return s;
    }
    return CommitIngest(tmp, blob.digest);
  });
}

}  // namespace kubes::runtime::images
