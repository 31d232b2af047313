// Store: names (index.json), lookups, removal and garbage collection. Import and pull
// are in store_import.cc and store_pull.cc.
#include "runtime/images/store.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "runtime/images/file_lock.h"
#include "runtime/images/unpack.h"
#include "util/random.h"

namespace kubes::runtime::images {

namespace fs = std::filesystem;
using Json = nlohmann::json;

Store::Store(std::string root) : root_(std::move(root)) {
  std::error_code ec;
  for (const char* dir : {"blobs/sha256", "layers", "ingest"}) fs::create_directories(fs::path(root_) / dir, ec);
  if (!fs::exists(root_ + "/oci-layout", ec)) std::ofstream(root_ + "/oci-layout") << R"({"imageLayoutVersion":"1.0.0"})";
}

std::string Store::BlobPath(const std::string& digest) const { return root_ + "/blobs/sha256/" + DigestHex(digest); }
std::string Store::LayerDir(const std::string& diff_id) const { return root_ + "/layers/" + DigestHex(diff_id); }

bool Store::HasBlob(const std::string& digest) const {
  std::error_code ec;
  return fs::is_regular_file(BlobPath(digest), ec);
}

Result<std::string> Store::ReadBlob(const std::string& digest) const {
  std::ifstream in(BlobPath(digest), std::ios::binary);
  if (!in) return NotFound("blob " + digest + " is not in the image store");
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string Store::IngestPath() const { return root_ + "/ingest/" + RandomSuffix(16); }

Status Store::CommitIngest(const std::string& ingest_path, const std::string& digest) {
  int fd = open(ingest_path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd >= 0) {
    fsync(fd);
    close(fd);
  }
  if (rename(ingest_path.c_str(), BlobPath(digest).c_str()) != 0) {
    const Status s = Internal("store blob " + digest + ": " + std::strerror(errno));
    unlink(ingest_path.c_str());
    return s;
  }
  return Status::OK();
}

Status Store::WriteBlob(const std::string& digest, std::string_view content) {
  const std::string got = Sha256Digest(content);
  if (got != digest) return Invalid("blob " + digest + " is corrupt: its content hashes to " + got);
  if (HasBlob(digest)) return Status::OK();
  const std::string tmp = IngestPath();
  {
    std::ofstream out(tmp, std::ios::binary);
    out.write(content.data(), static_cast<std::streamsize>(content.size()));
    if (!out) {
      unlink(tmp.c_str());
      return Internal("write " + tmp + " for blob " + digest);
    }
  }
  return CommitIngest(tmp, digest);
}

Result<std::vector<Store::Record>> Store::ReadIndex() const {
  std::ifstream in(root_ + "/index.json", std::ios::binary);
  if (!in) return std::vector<Record>{};
  std::stringstream ss;
  ss << in.rdbuf();
  Result<Index> index = ParseIndex(ss.str());
  if (!index.ok()) return index.status().Wrap(root_ + "/index.json");
  std::vector<Record> out;
  for (Descriptor& d : index->manifests) {
    auto name = d.annotations.find(kAnnotationImageName);
    out.push_back({name == d.annotations.end() ? "" : name->second, std::move(d)});
  }
  return out;
}

Status Store::WriteIndex(const std::vector<Record>& records) {
  Json manifests = Json::array();
  for (const Record& r : records) {
    Json d = {{"mediaType", r.target.media_type}, {"digest", r.target.digest}, {"size", r.target.size}};
    if (!r.name.empty()) {
      // The full name in both: ref.name is what `skopeo … oci:<root>:<name>` selects by.
      d["annotations"][kAnnotationImageName] = r.name;
      d["annotations"][kAnnotationRefName] = r.name;
    }
    manifests.push_back(std::move(d));
  }
  const Json index = {{"schemaVersion", 2}, {"mediaType", kMediaTypeOciIndex}, {"manifests", manifests}};
  const std::string tmp = root_ + "/index.json.tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out << index.dump(2) << "\n";
    if (!out) return Internal("write " + tmp);
  }
  int fd = open(tmp.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd >= 0) {
    fsync(fd);
    close(fd);
  }
  if (rename(tmp.c_str(), (root_ + "/index.json").c_str()) != 0) {
    return Internal("rename " + tmp + ": " + std::strerror(errno));
  }
  return Status::OK();
}

Status Store::Commit(const std::vector<std::string>& names, const Descriptor& target) {
  Result<FileLock> lock = FileLock::Acquire(root_ + "/index.lock", /*exclusive=*/true, /*wait=*/true);
  if (!lock.ok()) return lock.status();
  Result<std::vector<Record>> records = ReadIndex();
  if (!records.ok()) return records.status();
  Descriptor d{target.media_type, target.digest, target.size, false, {}, {}};
  if (names.empty()) {
    for (const Record& r : *records) {
      if (r.target.digest == target.digest) return Status::OK();  // already known
    }
    records->push_back({"", d});
  }
  for (const std::string& name : names) {
    std::erase_if(*records, [&](const Record& r) { return r.name == name; });
    records->push_back({name, d});
  }
  // A name given to this image retires its unnamed entry.
  if (!names.empty()) {
    std::erase_if(*records, [&](const Record& r) { return r.name.empty() && r.target.digest == target.digest; });
  }
  return WriteIndex(*records);
}

Result<Store::Resolved> Store::Resolve(const Descriptor& target) const {
  Resolved r;
  Result<std::string> top = ReadBlob(target.digest);
  if (!top.ok()) return top.status();
  r.size = top->size();
  std::string media_type = target.media_type;
  if (media_type.empty()) {
    Result<std::string> detected = ManifestMediaType(*top, "");
    if (!detected.ok()) return detected.status();
    media_type = *detected;
  }
  std::string manifest_body = std::move(*top);
  if (IsIndexMediaType(media_type)) {
    Result<Index> index = ParseIndex(manifest_body);
    if (!index.ok()) return index.status();
    Result<Descriptor> chosen = SelectPlatform(*index, HostPlatform());
    if (!chosen.ok()) return chosen.status();
    Result<std::string> body = ReadBlob(chosen->digest);
    if (!body.ok()) return body.status();
    manifest_body = std::move(*body);
    r.size += manifest_body.size();
  }
  Result<Manifest> manifest = ParseManifest(manifest_body);
  if (!manifest.ok()) return manifest.status();
  Result<std::string> config_body = ReadBlob(manifest->config.digest);
  if (!config_body.ok()) return config_body.status();
  Result<ConfigFile> config = ParseConfig(*config_body);
  if (!config.ok()) return config.status();
  if (config->diff_ids.size() != manifest->layers.size()) {
    return Invalid("image " + manifest->config.digest + ": the manifest has " + std::to_string(manifest->layers.size()) +
                   " layers but the config " + std::to_string(config->diff_ids.size()) + " diff IDs");
  }
  r.size += config_body->size();
  for (const Descriptor& l : manifest->layers) r.size += static_cast<uint64_t>(l.size);
  r.id = manifest->config.digest;
  r.manifest = std::move(*manifest);
  r.config = std::move(*config);
  return r;
}

std::vector<size_t> Store::Match(const std::vector<Record>& records, const std::vector<Result<Resolved>>& resolved,
                                 const std::string& ref_or_id) const {
  std::vector<size_t> out;
  auto by_id = [&](auto&& matches) {
    std::set<std::string> ids;
    for (size_t i = 0; i < records.size(); ++i) {
      if (resolved[i].ok() && matches(resolved[i]->id)) ids.insert(resolved[i]->id);
    }
    if (ids.size() != 1) return;  // none, or an ambiguous prefix
    for (size_t i = 0; i < records.size(); ++i) {
      if (resolved[i].ok() && resolved[i]->id == *ids.begin()) out.push_back(i);
    }
  };
  const bool is_id = ref_or_id.rfind("sha256:", 0) == 0;
  if (is_id) {
    by_id([&](const std::string& id) { return id.rfind(ref_or_id, 0) == 0 && ref_or_id.size() > 7; });
    return out;
  }
  if (Result<Reference> ref = ParseReference(ref_or_id); ref.ok()) {
    const std::string name = ref->String();
    for (size_t i = 0; i < records.size(); ++i) {
      if (records[i].name == name) out.push_back(i);
    }
    if (out.empty() && !ref->digest.empty()) {  // a repo digest: repository@<what a name points to>
      for (size_t i = 0; i < records.size(); ++i) {
        Result<Reference> r = ParseReference(records[i].name);
        if (r.ok() && r->Name() == ref->Name() && records[i].target.digest == ref->digest) out.push_back(i);
      }
    }
    if (!out.empty()) return out;
  }
  const bool hex = ref_or_id.size() >= 3 && ref_or_id.size() <= 64 &&
                   std::all_of(ref_or_id.begin(), ref_or_id.end(),
                               [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
  if (hex) by_id([&](const std::string& id) { return id.compare(7, ref_or_id.size(), ref_or_id) == 0; });
  return out;
}

Image Store::Assemble(const std::vector<Record>& records, const std::vector<Result<Resolved>>& resolved,
                      const std::string& id) const {
  Image image;
  image.id = id;
  std::set<std::string> tags, digests;
  bool first = true;
  for (size_t i = 0; i < records.size(); ++i) {
    if (!resolved[i].ok() || resolved[i]->id != id) continue;
    if (first) {
      first = false;
      const Resolved& r = *resolved[i];
      image.size = r.size;
      image.config = r.config.config;
      for (const std::string& d : r.config.diff_ids) image.layer_dirs.push_back(fs::absolute(LayerDir(d)).string());
    }
    Result<Reference> ref = ParseReference(records[i].name);
    if (!ref.ok()) continue;
    if (!ref->tag.empty()) tags.insert(ref->String());
    digests.insert(ref->Name() + "@" + records[i].target.digest);
  }
  image.repo_tags.assign(tags.begin(), tags.end());
  image.repo_digests.assign(digests.begin(), digests.end());
  return image;
}

Result<Image> Store::Get(const std::string& ref_or_id) {
  Result<FileLock> lock = FileLock::Acquire(root_ + "/index.lock", /*exclusive=*/false, /*wait=*/true);
  if (!lock.ok()) return lock.status();
  Result<std::vector<Record>> records = ReadIndex();
  if (!records.ok()) return records.status();
  std::vector<Result<Resolved>> resolved;
  for (const Record& r : *records) resolved.push_back(Resolve(r.target));
  // A name whose content is damaged reports why, rather than "not found".
  if (Result<Reference> ref = ParseReference(ref_or_id); ref.ok()) {
    for (size_t i = 0; i < records->size(); ++i) {
      if ((*records)[i].name == ref->String() && !resolved[i].ok()) {
        return resolved[i].status().Wrap("image \"" + ref->String() + "\"");
      }
    }
  }
  const std::vector<size_t> matched = Match(*records, resolved, ref_or_id);
  if (matched.empty()) return NotFound("image \"" + ref_or_id + "\": not found");
  return Assemble(*records, resolved, resolved[matched[0]]->id);
}

std::vector<Image> Store::List() {
  Result<FileLock> lock = FileLock::Acquire(root_ + "/index.lock", /*exclusive=*/false, /*wait=*/true);
  if (!lock.ok()) return {};
  Result<std::vector<Record>> records = ReadIndex();
  if (!records.ok()) return {};
  std::vector<Result<Resolved>> resolved;
  for (const Record& r : *records) resolved.push_back(Resolve(r.target));
  std::vector<Image> out;
  std::set<std::string> seen;
  for (size_t i = 0; i < records->size(); ++i) {
    if (!resolved[i].ok() || !seen.insert(resolved[i]->id).second) continue;
    out.push_back(Assemble(*records, resolved, resolved[i]->id));
  }
  auto key = [](const Image& i) { return i.repo_tags.empty() ? "~" + i.id : i.repo_tags[0]; };
  std::sort(out.begin(), out.end(), [&](const Image& a, const Image& b) { return key(a) < key(b); });
  return out;
}

Status Store::Remove(const std::string& ref_or_id) {
  {
    Result<FileLock> lock = FileLock::Acquire(root_ + "/index.lock", /*exclusive=*/true, /*wait=*/true);
    if (!lock.ok()) return lock.status();
    Result<std::vector<Record>> records = ReadIndex();
    if (!records.ok()) return records.status();
    std::vector<Result<Resolved>> resolved;
    for (const Record& r : *records) resolved.push_back(Resolve(r.target));
    std::vector<size_t> matched = Match(*records, resolved, ref_or_id);
    if (matched.empty()) {
      // A damaged image can still be removed by its name.
      if (Result<Reference> ref = ParseReference(ref_or_id); ref.ok()) {
        for (size_t i = 0; i < records->size(); ++i) {
          if ((*records)[i].name == ref->String()) matched.push_back(i);
        }
      }
    }
    if (matched.empty()) return NotFound("image \"" + ref_or_id + "\": not found");
    std::sort(matched.rbegin(), matched.rend());
    for (size_t i : matched) records->erase(records->begin() + static_cast<std::ptrdiff_t>(i));
    KUBES_RETURN_IF_ERROR(WriteIndex(*records));
  }
  TryGarbageCollect();
  return Status::OK();
}

Status Store::UnpackLayers(const Manifest& manifest, const ConfigFile& config) {
  for (size_t i = 0; i < manifest.layers.size(); ++i) {
    const std::string& diff_id = config.diff_ids[i];
    std::error_code ec;
    if (fs::exists(LayerDir(diff_id), ec)) continue;
    const std::string blob = BlobPath(manifest.layers[i].digest);
    KUBES_RETURN_IF_ERROR(Once("layer:" + diff_id, [&] { return UnpackLayer(blob, diff_id, LayerDir(diff_id)); }));
  }
  return Status::OK();
}

Status Store::Once(const std::string& key, const std::function<Status()>& fn) {
  std::promise<Status> promise;
  std::shared_future<Status> running;
  {
    std::lock_guard<std::mutex> l(mu_);
    auto it = inflight_.find(key);
    if (it != inflight_.end()) {
      running = it->second;
    } else {
      inflight_[key] = promise.get_future().share();
    }
  }
  if (running.valid()) return running.get();
  Status s = fn();
  {
    std::lock_guard<std::mutex> l(mu_);
    inflight_.erase(key);
  }
  promise.set_value(s);
  return s;
}

void Store::TryGarbageCollect() {
  Result<FileLock> gc = FileLock::Acquire(root_ + "/gc.lock", /*exclusive=*/true, /*wait=*/false);
  if (!gc.ok()) return;  // a pull or import is adding content: collect next time
  Result<FileLock> lock = FileLock::Acquire(root_ + "/index.lock", /*exclusive=*/false, /*wait=*/true);
  if (!lock.ok()) return;
  Result<std::vector<Record>> records = ReadIndex();
  if (!records.ok()) return;  // never delete on a damaged index
  std::set<std::string> blobs, layers;
  auto mark_manifest = [&](const std::string& body) {
    Result<Manifest> m = ParseManifest(body);
    if (!m.ok()) return;
    blobs.insert(m->config.digest);
    for (const Descriptor& l : m->layers) blobs.insert(l.digest);
    Result<std::string> config = ReadBlob(m->config.digest);
    if (!config.ok()) return;
    Result<ConfigFile> c = ParseConfig(*config);
    if (!c.ok()) return;
    for (const std::string& d : c->diff_ids) layers.insert(DigestHex(d));
  };
  for (const Record& r : *records) {
    blobs.insert(r.target.digest);
    Result<std::string> body = ReadBlob(r.target.digest);
    if (!body.ok()) continue;
    Result<std::string> media_type = ManifestMediaType(*body, r.target.media_type);
    if (!media_type.ok()) continue;
    if (!IsIndexMediaType(*media_type)) {
      mark_manifest(*body);
      continue;
    }
    Result<Index> index = ParseIndex(*body);
    if (!index.ok()) continue;
    for (const Descriptor& child : index->manifests) {
      blobs.insert(child.digest);
      if (Result<std::string> m = ReadBlob(child.digest); m.ok()) mark_manifest(*m);
    }
  }
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(root_ + "/blobs/sha256", ec)) {
    if (!blobs.count("sha256:" + e.path().filename().string())) fs::remove(e.path(), ec);
  }
  for (const auto& e : fs::directory_iterator(root_ + "/layers", ec)) {
    if (!layers.count(e.path().filename().string())) fs::remove_all(e.path(), ec);
  }
  for (const auto& e : fs::directory_iterator(root_ + "/ingest", ec)) fs::remove_all(e.path(), ec);
}

}  // namespace kubes::runtime::images
