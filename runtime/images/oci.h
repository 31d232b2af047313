// The JSON documents of an image: OCI image index / Docker manifest list, OCI image
// manifest / Docker v2 manifest, the image config, and `docker save`'s manifest.json.
//
// Mirrors github.com/opencontainers/image-spec (specs-go/v1) and containerd's
// images/mediatypes.go. The Docker v2 formats are the OCI ones with other media types,
// so one parser reads both. Parsers take untrusted bytes (registries, archives) and
// return Invalid on anything malformed; they never throw.
//
// Thread-safety: pure functions and value types.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "runtime/images/digest.h"
#include "util/status.h"

namespace kubes::runtime::images {

inline constexpr char kMediaTypeOciIndex[] = "application/vnd.oci.image.index.v1+json";
inline constexpr char kMediaTypeOciManifest[] = "application/vnd.oci.image.manifest.v1+json";
inline constexpr char kMediaTypeDockerList[] = "application/vnd.docker.distribution.manifest.list.v2+json";
inline constexpr char kMediaTypeDockerManifest[] = "application/vnd.docker.distribution.manifest.v2+json";
inline constexpr char kMediaTypeOciConfig[] = "application/vnd.oci.image.config.v1+json";
inline constexpr char kMediaTypeOciLayer[] = "application/vnd.oci.image.layer.v1.tar";

// Annotations on index entries that name an image (containerd's and the OCI layout's).
inline constexpr char kAnnotationImageName[] = "io.containerd.image.name";
inline constexpr char kAnnotationRefName[] = "org.opencontainers.image.ref.name";

// What a container needs from the image config ("config" in the OCI image config).
struct ImageConfig {
  std::vector<std::string> entrypoint, cmd, env;
  std::string working_dir, user;
  std::map<std::string, std::string> labels;
  std::string stop_signal;  // "SIGQUIT" for nginx; empty means the runtime's default
};

// A pointer to content: what it is, its digest and size, and for index entries the
// platform it is for and its annotations.
struct Descriptor {
  std::string media_type;
  std::string digest;
  int64_t size = 0;
  bool has_platform = false;
  Platform platform;
  std::map<std::string, std::string> annotations;
};

struct Manifest {
  std::string media_type;
  Descriptor config;
  std::vector<Descriptor> layers;
};

struct Index {
  std::string media_type;
  std::vector<Descriptor> manifests;
};

// The image config file: the container defaults, the platform, and the digests of the
// uncompressed layers (diff IDs), lowest first.
struct ConfigFile {
  ImageConfig config;
  Platform platform;
  std::vector<std::string> diff_ids;
};

// One image in `docker save`'s manifest.json: paths inside the archive.
struct DockerSaveEntry {
  std::string config;
  std::vector<std::string> repo_tags;
  std::vector<std::string> layers;
};

bool IsIndexMediaType(std::string_view media_type);
bool IsManifestMediaType(std::string_view media_type);

// The media type of a fetched manifest document: its own mediaType field, else the HTTP
// Content-Type, else its shape ("manifests" → an index, "layers" → a manifest).
Result<std::string> ManifestMediaType(std::string_view body, std::string_view content_type);

Result<Manifest> ParseManifest(std::string_view body);
Result<Index> ParseIndex(std::string_view body);
Result<ConfigFile> ParseConfig(std::string_view body);
Result<std::vector<DockerSaveEntry>> ParseDockerSaveManifest(std::string_view body);

// The entry of an index for `want` (variant must match when both name one). NotFound
// with containerd's wording when none does.
Result<Descriptor> SelectPlatform(const Index& index, const Platform& want);

// The JSON of an OCI image manifest (used for images imported from `docker save`).
std::string ManifestJson(const Manifest& manifest);

}  // namespace kubes::runtime::images
