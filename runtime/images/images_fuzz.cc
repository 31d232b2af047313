// libFuzzer harness for everything in the image store that reads untrusted bytes:
// references, manifests/indexes/configs, docker save manifests, WWW-Authenticate
// challenges, registries.yaml and pull secrets, layer tars (unpacked into a scratch
// directory that must not be escaped) and whole image archives (imported into a scratch
// store). The first byte picks the target; the rest is the input.
//
// Besides "never crash": a parsed reference prints as a reference that parses to itself,
// and unpacking never writes next to the layer directory.
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "runtime/images/oci.h"
#include "runtime/images/reference.h"
#include "runtime/images/registries.h"
#include "runtime/images/registry.h"
#include "runtime/images/store.h"
#include "runtime/images/unpack.h"

namespace {

namespace fs = std::filesystem;
using namespace kubes::runtime::images;

// A scratch directory for the whole run, removed at exit. Never destroyed itself, so the
// exit handler can still read it.
const std::string& Scratch() {
  static const std::string* dir = [] {
    char tmpl[] = "/tmp/kubes-images-fuzz-XXXXXX";
    if (mkdtemp(tmpl) == nullptr) std::abort();
    auto* path = new std::string(tmpl);
    std::atexit([] {
      std::error_code ec;
      fs::remove_all(Scratch(), ec);
    });
    return path;
  }();
  return *dir;
}

void FuzzReference(const std::string& in) {
  kubes::Result<Reference> r = ParseReference(in);
  if (!r.ok()) return;
  kubes::Result<Reference> again = ParseReference(r->String());
  if (!again.ok() || again->String() != r->String()) std::abort();
}

void FuzzDocuments(const std::string& in) {
  (void)ParseManifest(in);
  (void)ParseConfig(in);
  (void)ParseDockerSaveManifest(in);
  (void)ManifestMediaType(in, "application/vnd.oci.image.index.v1+json");
  kubes::Result<Index> index = ParseIndex(in);
  if (index.ok()) (void)SelectPlatform(*index, HostPlatform());
}

void FuzzCredentials(const std::string& in) {
  kubes::Result<RegistriesConfig> c = ParseRegistriesYaml(in);
  if (c.ok()) {
    PullOptions opts{&*c, {}};
    (void)ResolveEndpoints(*ParseReference("busybox"), opts);
  }
  (void)ParseDockerConfigJson(in);
  (void)Base64Decode(in);
}

void FuzzUnpack(const std::string& in) {
  const std::string root = Scratch() + "/unpack";
  fs::remove_all(root);
  fs::create_directories(root + "/layers");
  fs::create_directories(root + "/sentinel");
  const std::string blob = root + "/blob";
  std::ofstream(blob, std::ios::binary) << in;
  (void)UnpackLayer(blob, "sha256:" + std::string(64, '0'), root + "/layers/l");
  // Whatever the layer held, nothing lands outside layers/ (and a failed unpack leaves
  // nothing inside either).
  if (!fs::is_empty(root + "/sentinel") || !fs::is_empty(root + "/layers")) std::abort();
  for (const auto& e : fs::directory_iterator(root)) {
    const std::string name = e.path().filename();
    if (name != "layers" && name != "sentinel" && name != "blob") std::abort();
  }
}

void FuzzImport(const std::string& in) {
  const std::string root = Scratch() + "/store";
  fs::remove_all(root);
  Store store(root + "/images");
  const std::string archive = root + "/archive.tar";
  std::ofstream(archive, std::ios::binary) << in;
  kubes::Result<std::vector<Image>> images = store.Import(archive);
  if (images.ok()) {
    for (const Image& i : *images) (void)store.Remove(i.id);
  }
  (void)store.List();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const std::string in(reinterpret_cast<const char*>(data) + 1, size - 1);
  switch (data[0] % 6) {
    case 0: FuzzReference(in); break;
    case 1: FuzzDocuments(in); break;
    case 2: (void)ParseChallenge(in); break;
    case 3: FuzzCredentials(in); break;
    case 4: FuzzUnpack(in); break;
    case 5: FuzzImport(in); break;
  }
  return 0;
}
