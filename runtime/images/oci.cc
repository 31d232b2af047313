#include "runtime/images/oci.h"

#include <nlohmann/json.hpp>

namespace kubes::runtime::images {
namespace {

using Json = nlohmann::json;

// Documents larger than this are refused before parsing (a registry could send anything).
constexpr size_t kMaxDocument = 8 << 20;

Result<Json> ParseObject(std::string_view body, const char* what) {
  if (body.size() > kMaxDocument) return Invalid(std::string(what) + ": document too large");
  Json j = Json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return Invalid(std::string(what) + ": not valid JSON");
  if (!j.is_object()) return Invalid(std::string(what) + ": not a JSON object");
  return j;
}

// j[key] as a string; "" when absent; Invalid when present with another type.
Result<std::string> String(const Json& j, const char* key, const char* what) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return std::string();
  if (!it->is_string()) return Invalid(std::string(what) + ": " + key + " must be a string");
  return it->get<std::string>();
}

Result<std::vector<std::string>> Strings(const Json& j, const char* key, const char* what) {
  std::vector<std::string> out;
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return out;
  if (!it->is_array()) return Invalid(std::string(what) + ": " + key + " must be a list of strings");
  for (const Json& e : *it) {
    if (!e.is_string()) return Invalid(std::string(what) + ": " + key + " must be a list of strings");
    out.push_back(e.get<std::string>());
  }
  return out;
}

Result<std::map<std::string, std::string>> StringMap(const Json& j, const char* key, const char* what) {
  std::map<std::string, std::string> out;
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return out;
  if (!it->is_object()) return Invalid(std::string(what) + ": " + key + " must be a map of strings");
  for (auto& [k, v] : it->items()) {
    if (!v.is_string()) return Invalid(std::string(what) + ": " + key + " must be a map of strings");
    out[k] = v.get<std::string>();
  }
  return out;
}

Result<Descriptor> ParseDescriptor(const Json& j, const char* what) {
  if (!j.is_object()) return Invalid(std::string(what) + ": descriptor must be an object");
  Descriptor d;
  auto media_type = String(j, "mediaType", what);
  auto digest = String(j, "digest", what);
  auto annotations = StringMap(j, "annotations", what);
  if (!media_type.ok()) return media_type.status();
  if (!digest.ok()) return digest.status();
  if (!annotations.ok()) return annotations.status();
  d.media_type = *media_type;
  d.digest = *digest;
  d.annotations = *annotations;
  if (Status s = ValidateDigest(d.digest); !s.ok()) {
    return Invalid(std::string(what) + ": digest \"" + d.digest + "\": " + s.message());
  }
  auto size = j.find("size");
  if (size != j.end()) {
    if (!size->is_number_integer() || size->get<int64_t>() < 0) {
      return Invalid(std::string(what) + ": size must be a non-negative integer");
    }
    d.size = size->get<int64_t>();
  }
  auto platform = j.find("platform");
  if (platform != j.end() && platform->is_object()) {
    auto os = String(*platform, "os", what);
    auto arch = String(*platform, "architecture", what);
    auto variant = String(*platform, "variant", what);
    if (!os.ok()) return os.status();
    if (!arch.ok()) return arch.status();
    if (!variant.ok()) return variant.status();
    d.has_platform = true;
    d.platform = {*os, *arch, *variant};
  }
  return d;
}

Result<std::vector<Descriptor>> Descriptors(const Json& j, const char* key, const char* what) {
  std::vector<Descriptor> out;
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return out;
  if (!it->is_array()) return Invalid(std::string(what) + ": " + key + " must be a list");
  for (const Json& e : *it) {
    Result<Descriptor> d = ParseDescriptor(e, what);
    if (!d.ok()) return d.status();
    out.push_back(std::move(*d));
  }
  return out;
}

}  // namespace

bool IsIndexMediaType(std::string_view media_type) {
  return media_type == kMediaTypeOciIndex || media_type == kMediaTypeDockerList;
}

bool IsManifestMediaType(std::string_view media_type) {
  return media_type == kMediaTypeOciManifest || media_type == kMediaTypeDockerManifest;
}

Result<std::string> ManifestMediaType(std::string_view body, std::string_view content_type) {
  Result<Json> j = ParseObject(body, "manifest");
  if (!j.ok()) return j.status();
  Result<std::string> own = String(*j, "mediaType", "manifest");
  if (!own.ok()) return own.status();
  std::string media_type = *own;
  if (media_type.empty()) media_type = std::string(content_type.substr(0, content_type.find(';')));
  if (IsIndexMediaType(media_type) || IsManifestMediaType(media_type)) return media_type;
  if (j->contains("manifests")) return std::string(kMediaTypeOciIndex);
  if (j->contains("layers")) return std::string(kMediaTypeOciManifest);
  if (auto v = j->find("schemaVersion"); v != j->end() && *v == 1) {
    return Invalid("manifest: Docker schema 1 manifests are not supported (push the image again with a current client)");
  }
  return Invalid("manifest: unknown media type \"" + media_type + "\"");
}

Result<Manifest> ParseManifest(std::string_view body) {
  Result<Json> j = ParseObject(body, "manifest");
  if (!j.ok()) return j.status();
  Manifest m;
  Result<std::string> media_type = String(*j, "mediaType", "manifest");
  if (!media_type.ok()) return media_type.status();
  m.media_type = media_type->empty() ? kMediaTypeOciManifest : *media_type;
  auto config = j->find("config");
  if (config == j->end()) return Invalid("manifest: config is missing");
  Result<Descriptor> c = ParseDescriptor(*config, "manifest config");
  if (!c.ok()) return c.status();
  m.config = std::move(*c);
  Result<std::vector<Descriptor>> layers = Descriptors(*j, "layers", "manifest layers");
  if (!layers.ok()) return layers.status();
  m.layers = std::move(*layers);
  return m;
}

Result<Index> ParseIndex(std::string_view body) {
  Result<Json> j = ParseObject(body, "index");
  if (!j.ok()) return j.status();
  Index index;
  Result<std::string> media_type = String(*j, "mediaType", "index");
  if (!media_type.ok()) return media_type.status();
  index.media_type = media_type->empty() ? kMediaTypeOciIndex : *media_type;
  Result<std::vector<Descriptor>> manifests = Descriptors(*j, "manifests", "index manifests");
  if (!manifests.ok()) return manifests.status();
  index.manifests = std::move(*manifests);
  return index;
}

Result<ConfigFile> ParseConfig(std::string_view body) {
  const char* what = "image config";
  Result<Json> j = ParseObject(body, what);
  if (!j.ok()) return j.status();
  ConfigFile f;
  auto os = String(*j, "os", what);
  auto arch = String(*j, "architecture", what);
  auto variant = String(*j, "variant", what);
  if (!os.ok()) return os.status();
  if (!arch.ok()) return arch.status();
  if (!variant.ok()) return variant.status();
  f.platform = {*os, *arch, *variant};
  auto rootfs = j->find("rootfs");
  if (rootfs == j->end() || !rootfs->is_object()) return Invalid("image config: rootfs is missing");
  Result<std::vector<std::string>> diff_ids = Strings(*rootfs, "diff_ids", what);
  if (!diff_ids.ok()) return diff_ids.status();
  for (const std::string& d : *diff_ids) {
    if (Status s = ValidateDigest(d); !s.ok()) return Invalid("image config: diff_id \"" + d + "\": " + s.message());
  }
  f.diff_ids = std::move(*diff_ids);
  auto config = j->find("config");
  if (config == j->end() || config->is_null()) return f;
  if (!config->is_object()) return Invalid("image config: config must be an object");
  auto entrypoint = Strings(*config, "Entrypoint", what);
  auto cmd = Strings(*config, "Cmd", what);
  auto env = Strings(*config, "Env", what);
  auto working_dir = String(*config, "WorkingDir", what);
  auto user = String(*config, "User", what);
  auto stop_signal = String(*config, "StopSignal", what);
  auto labels = StringMap(*config, "Labels", what);
  for (const Status& s : {entrypoint.status(), cmd.status(), env.status(), working_dir.status(), user.status(),
                          stop_signal.status(), labels.status()}) {
    if (!s.ok()) return s;
  }
  f.config = {*entrypoint, *cmd, *env, *working_dir, *user, *labels, *stop_signal};
  return f;
}

Result<std::vector<DockerSaveEntry>> ParseDockerSaveManifest(std::string_view body) {
  const char* what = "manifest.json";
  if (body.size() > kMaxDocument) return Invalid("manifest.json: document too large");
  Json j = Json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_array()) return Invalid("manifest.json: not a JSON list");
  std::vector<DockerSaveEntry> out;
  for (const Json& e : j) {
    if (!e.is_object()) return Invalid("manifest.json: entries must be objects");
    auto config = String(e, "Config", what);
    auto tags = Strings(e, "RepoTags", what);
    auto layers = Strings(e, "Layers", what);
    for (const Status& s : {config.status(), tags.status(), layers.status()}) {
      if (!s.ok()) return s;
    }
    if (config->empty()) return Invalid("manifest.json: Config is missing");
    out.push_back({*config, *tags, *layers});
  }
  return out;
}

Result<Descriptor> SelectPlatform(const Index& index, const Platform& want) {
  for (const Descriptor& d : index.manifests) {
    if (!IsManifestMediaType(d.media_type) && !d.media_type.empty()) continue;
    if (!d.has_platform) continue;
    const Platform& p = d.platform;
    if (p.os != want.os || p.architecture != want.architecture) continue;
    if (!p.variant.empty() && !want.variant.empty() && p.variant != want.variant) continue;
    return d;
  }
  // An index without platforms (an OCI layout of one image) means "this image".
  if (index.manifests.size() == 1 && !index.manifests[0].has_platform) return index.manifests[0];
  return NotFound("no match for platform in manifest: not found");
}

std::string ManifestJson(const Manifest& manifest) {
  auto descriptor = [](const Descriptor& d) {
    return Json{{"mediaType", d.media_type}, {"digest", d.digest}, {"size", d.size}};
  };
  Json layers = Json::array();
  for (const Descriptor& l : manifest.layers) layers.push_back(descriptor(l));
  Json j = {{"schemaVersion", 2},
            {"mediaType", manifest.media_type},
            {"config", descriptor(manifest.config)},
            {"layers", layers}};
  return j.dump();
}

}  // namespace kubes::runtime::images
