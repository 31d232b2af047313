#include "runtime/images/cli.h"

#include <algorithm>
#include <cstdio>
#include <iostream>

#include "runtime/images/store.h"
#include "util/strings.h"

namespace kubes::runtime::images {
namespace {

constexpr char kUsage[] =
    "Usage:\n"
    "  kubes image ls                 list images\n"
    "  kubes image import FILE...     import docker save / OCI archives\n"
    "  kubes image pull REF           pull an image (mirrors from <data-dir>/registries.yaml)\n"
    "  kubes image rm REF|ID...       remove images\n";

struct Row {
  std::string image, tag, id, size;
};

// crictl's table: columns at least 20 wide, 3 spaces apart.
void PrintTable(const std::vector<Row>& rows, std::ostream& out) {
  std::vector<Row> all = {{"IMAGE", "TAG", "IMAGE ID", "SIZE"}};
  all.insert(all.end(), rows.begin(), rows.end());
  size_t w[3] = {0, 0, 0};
  for (const Row& r : all) {
    w[0] = std::max({w[0], r.image.size() + 3, size_t{20}});
    w[1] = std::max({w[1], r.tag.size() + 3, size_t{20}});
    w[2] = std::max({w[2], r.id.size() + 3, size_t{20}});
  }
  for (const Row& r : all) {
    out << r.image << std::string(w[0] - r.image.size(), ' ') << r.tag << std::string(w[1] - r.tag.size(), ' ') << r.id
        << std::string(w[2] - r.id.size(), ' ') << r.size << "\n";
  }
}

int List(Store& store, std::ostream& out) {
  std::vector<Row> rows;
  for (const Image& image : store.List()) {
    const std::string id = DigestHex(image.id).substr(0, 13);
    const std::string size = HumanSize(image.size);
    for (const std::string& tag : image.repo_tags) {
      const size_t colon = tag.rfind(':');
      rows.push_back({tag.substr(0, colon), tag.substr(colon + 1), id, size});
    }
    if (image.repo_tags.empty()) {
      const std::string repo = image.repo_digests.empty() ? "<none>" : image.repo_digests[0].substr(0, image.repo_digests[0].find('@'));
      rows.push_back({repo, "<none>", id, size});
    }
  }
  PrintTable(rows, out);
  return 0;
}

int Import(Store& store, const std::vector<std::string>& files, std::ostream& out, std::ostream& err) {
  int rc = 0;
  for (const std::string& file : files) {
    Result<std::vector<Image>> images = store.Import(file);
    if (!images.ok()) {
      err << "error: " << images.status().message() << "\n";
      rc = 1;
      continue;
    }
    for (const Image& image : *images) {
      const std::string name = image.repo_tags.empty() ? "<none>" : Join(image.repo_tags, ", ");
      out << "Imported " << name << " (" << image.id << ")\n";
    }
  }
  return rc;
}

int Pull(Store& store, const std::string& ref, const std::string& data_dir, std::ostream& out, std::ostream& err) {
  Result<RegistriesConfig> registries = LoadRegistriesYaml(data_dir + "/registries.yaml");
  if (!registries.ok()) {
    err << "error: " << registries.status().message() << "\n";
    return 1;
  }
  PullOptions opts;
  opts.registries = &*registries;
  Result<Image> image = store.Pull(ref, opts);
  if (!image.ok()) {
    err << "error: " << image.status().message() << "\n";
    return 1;
  }
  out << "Image is up to date for " << image->id << "\n";
  return 0;
}

int Remove(Store& store, const std::vector<std::string>& refs, std::ostream& out, std::ostream& err) {
  int rc = 0;
  for (const std::string& ref : refs) {
    Status s = store.Remove(ref);
    if (!s.ok()) {
      err << "error: " << s.message() << "\n";
      rc = 1;
      continue;
    }
    out << "Deleted: " << ref << "\n";
  }
  return rc;
}

}  // namespace

std::string HumanSize(uint64_t bytes) {
  static const char* const kUnits[] = {"B", "kB", "MB", "GB", "TB", "PB", "EB"};
  double size = static_cast<double>(bytes);
  size_t unit = 0;
  while (size >= 1000.0 && unit + 1 < sizeof(kUnits) / sizeof(kUnits[0])) {
    size /= 1000.0;
    ++unit;
  }
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3g%s", size, kUnits[unit]);
  return buf;
}

int RunImageCommand(const std::vector<std::string>& args, const std::string& data_dir) {
  return RunImageCommand(args, data_dir, std::cout, std::cerr);
}

int RunImageCommand(const std::vector<std::string>& args, const std::string& data_dir, std::ostream& out,
                    std::ostream& err) {
  if (args.empty() || args[0] == "-h" || args[0] == "--help" || args[0] == "help") {
    (args.empty() ? err : out) << kUsage;
    return args.empty() ? 2 : 0;
  }
  const std::string& verb = args[0];
  const std::vector<std::string> rest(args.begin() + 1, args.end());
  Store store(data_dir + "/images");
  if ((verb == "ls" || verb == "list") && rest.empty()) return List(store, out);
  if (verb == "import" && !rest.empty()) return Import(store, rest, out, err);
  if (verb == "pull" && rest.size() == 1) return Pull(store, rest[0], data_dir, out, err);
  if ((verb == "rm" || verb == "rmi") && !rest.empty()) return Remove(store, rest, out, err);
  err << "error: bad usage of \"kubes image " << verb << "\"\n" << kUsage;
  return 2;
}

}  // namespace kubes::runtime::images
