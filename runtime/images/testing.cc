#include "runtime/images/testing.h"

#include <archive.h>
#include <archive_entry.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <stdexcept>

#include "runtime/images/digest.h"

namespace kubes::runtime::images::testing {
namespace {

using Json = nlohmann::json;

la_ssize_t AppendToString(archive*, void* data, const void* buf, size_t n) {
  static_cast<std::string*>(data)->append(static_cast<const char*>(buf), n);
  return static_cast<la_ssize_t>(n);
}

// Runs body on a libarchive writer whose output goes to the returned string.
std::string WriteArchive(const std::function<void(archive*)>& setup, const std::function<void(archive*)>& body) {
  std::string out;
  archive* a = archive_write_new();
  setup(a);
  if (archive_write_open(a, &out, nullptr, AppendToString, nullptr) != ARCHIVE_OK) {
    throw std::runtime_error(archive_error_string(a));
  }
  body(a);
  archive_write_close(a);
  archive_write_free(a);
  return out;
}

std::string Compress(const std::string& data, bool zstd) {
  return WriteArchive(
      [&](archive* a) {
        archive_write_set_format_raw(a);
        archive_write_set_bytes_in_last_block(a, 1);  // no zero padding after the stream
        if (zstd) archive_write_add_filter_zstd(a);
        else archive_write_add_filter_gzip(a);
      },
      [&](archive* a) {
        archive_entry* e = archive_entry_new();
        archive_entry_set_pathname(e, "data");
        archive_entry_set_filetype(e, AE_IFREG);
        archive_entry_set_size(e, static_cast<la_int64_t>(data.size()));
        archive_write_header(a, e);
        archive_write_data(a, data.data(), data.size());
        archive_entry_free(e);
      });
}

std::string ConfigJson(const std::vector<std::string>& diff_ids, const std::vector<std::string>& cmd) {
  const Platform p = HostPlatform();
  Json config = {{"architecture", p.architecture},
                 {"os", "linux"},
                 {"config",
                  {{"Cmd", cmd},
                   {"Env", {"PATH=/usr/sbin:/usr/bin:/sbin:/bin"}},
                   {"WorkingDir", "/"},
                   {"Labels", {{"test", "yes"}}}}},
                 {"rootfs", {{"type", "layers"}, {"diff_ids", diff_ids}}}};
  if (!p.variant.empty()) config["variant"] = p.variant;
  return config.dump();
}

}  // namespace

TempDir::TempDir() {
  char tmpl[] = "/tmp/kubes-images-XXXXXX";
  if (mkdtemp(tmpl) == nullptr) throw std::runtime_error("mkdtemp");
  path_ = tmpl;
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

void WriteFile(const std::string& path, const std::string& content) {
  std::filesystem::create_directories(std::filesystem::path(path).parent_path());
  std::ofstream(path, std::ios::binary) << content;
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string BuildTar(const std::vector<TarEntry>& entries) {
  return WriteArchive([](archive* a) { archive_write_set_format_pax_restricted(a); },
                      [&](archive* a) {
                        for (const TarEntry& t : entries) {
                          archive_entry* e = archive_entry_new();
                          archive_entry_set_pathname(e, t.path.c_str());
                          archive_entry_set_perm(e, t.mode);
                          archive_entry_set_uid(e, t.uid);
                          archive_entry_set_gid(e, t.gid);
                          archive_entry_set_mtime(e, 1700000000, 0);
                          switch (t.type) {
                            case 'd': archive_entry_set_filetype(e, AE_IFDIR); break;
                            case 'l':
                              archive_entry_set_filetype(e, AE_IFLNK);
                              archive_entry_set_symlink(e, t.content.c_str());
                              break;
                            case 'h':
                              archive_entry_set_filetype(e, AE_IFREG);
                              archive_entry_set_hardlink(e, t.content.c_str());
                              archive_entry_set_size(e, 0);
                              break;
                            case 'c': archive_entry_set_filetype(e, AE_IFCHR); break;
                            default:
                              archive_entry_set_filetype(e, AE_IFREG);
                              archive_entry_set_size(e, static_cast<la_int64_t>(t.content.size()));
                          }
                          for (const auto& [k, v] : t.xattrs) archive_entry_xattr_add_entry(e, k.c_str(), v.data(), v.size());
                          archive_write_header(a, e);
                          if (t.type == 'f') archive_write_data(a, t.content.data(), t.content.size());
                          archive_entry_free(e);
                        }
                      });
}

std::string Gzip(const std::string& data) { return Compress(data, /*zstd=*/false); }
std::string Zstd(const std::string& data) { return Compress(data, /*zstd=*/true); }
std::string Digest(const std::string& data) { return Sha256Digest(data); }

BuiltImage BuildOciArchive(const std::vector<std::string>& layer_tars, const std::vector<std::string>& names, bool gzip,
                           const std::vector<std::string>& cmd, bool in_index) {
  BuiltImage out;
  std::vector<TarEntry> files;
  Json layers = Json::array();
  for (const std::string& tar : layer_tars) {
    out.diff_ids.push_back(Digest(tar));
    const std::string blob = gzip ? Gzip(tar) : tar;
    layers.push_back({{"mediaType", gzip ? "application/vnd.oci.image.layer.v1.tar+gzip" : "application/vnd.oci.image.layer.v1.tar"},
                      {"digest", Digest(blob)},
                      {"size", blob.size()}});
    files.push_back({"blobs/sha256/" + Digest(blob).substr(7), 'f', blob});
  }
  const std::string config = ConfigJson(out.diff_ids, cmd);
  out.config_digest = Digest(config);
  files.push_back({"blobs/sha256/" + out.config_digest.substr(7), 'f', config});
  const std::string manifest = Json{{"schemaVersion", 2},
                                    {"mediaType", "application/vnd.oci.image.manifest.v1+json"},
                                    {"config",
                                     {{"mediaType", "application/vnd.oci.image.config.v1+json"},
                                      {"digest", out.config_digest},
                                      {"size", config.size()}}},
                                    {"layers", layers}}
                                   .dump();
  out.manifest_digest = Digest(manifest);
  files.push_back({"blobs/sha256/" + out.manifest_digest.substr(7), 'f', manifest});
  Json manifests = Json::array();
  Json descriptor = {{"mediaType", "application/vnd.oci.image.manifest.v1+json"},
                     {"digest", out.manifest_digest},
                     {"size", manifest.size()}};
  if (in_index) {
    const Platform p = HostPlatform();
    Json host = descriptor;
    host["platform"] = {{"os", "linux"}, {"architecture", p.architecture}};
    if (!p.variant.empty()) host["platform"]["variant"] = p.variant;
    Json other = {{"mediaType", "application/vnd.oci.image.manifest.v1+json"},
                  {"digest", "sha256:" + std::string(64, 'e')},
                  {"size", 10},
                  {"platform", {{"os", "linux"}, {"architecture", "s390x"}}}};
    const std::string index =
        Json{{"schemaVersion", 2}, {"mediaType", "application/vnd.oci.image.index.v1+json"}, {"manifests", {other, host}}}
            .dump();
    out.index_digest = Digest(index);
    files.push_back({"blobs/sha256/" + out.index_digest.substr(7), 'f', index});
    descriptor = {{"mediaType", "application/vnd.oci.image.index.v1+json"}, {"digest", out.index_digest}, {"size", index.size()}};
  }
  if (names.empty()) manifests.push_back(descriptor);
  for (const std::string& name : names) {
    Json d = descriptor;
    d["annotations"] = {{"io.containerd.image.name", name},
                        {"org.opencontainers.image.ref.name", name.substr(name.rfind(':') + 1)}};
    manifests.push_back(d);
  }
  files.push_back({"oci-layout", 'f', R"({"imageLayoutVersion":"1.0.0"})"});
  files.push_back({"index.json", 'f', Json{{"schemaVersion", 2}, {"manifests", manifests}}.dump()});
  out.archive = BuildTar(files);
  return out;
}

BuiltImage BuildDockerSave(const std::vector<std::string>& layer_tars, const std::vector<std::string>& repo_tags,
                           const std::vector<std::string>& cmd) {
  BuiltImage out;
  std::vector<TarEntry> files;
  std::vector<std::string> layer_paths;
  for (const std::string& tar : layer_tars) {
    out.diff_ids.push_back(Digest(tar));
    const std::string id = out.diff_ids.back().substr(7);
    files.push_back({id, 'd', "", 0755});
    files.push_back({id + "/VERSION", 'f', "1.0"});
    files.push_back({id + "/layer.tar", 'f', tar});
    layer_paths.push_back(id + "/layer.tar");
  }
  const std::string config = ConfigJson(out.diff_ids, cmd);
  out.config_digest = Digest(config);
  files.push_back({out.config_digest.substr(7) + ".json", 'f', config});
  files.push_back({"manifest.json", 'f',
                   Json::array({{{"Config", out.config_digest.substr(7) + ".json"},
                                 {"RepoTags", repo_tags},
                                 {"Layers", layer_paths}}})
                       .dump()});
  out.archive = BuildTar(files);
  return out;
}

FakeHttpServer::FakeHttpServer(Handler handler) : handler_(std::move(handler)) {
  listen_fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  if (bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || listen(listen_fd_, 16) != 0) {
    throw std::runtime_error("fake server: bind/listen failed");
  }
  socklen_t len = sizeof addr;
  getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len);
  port_ = ntohs(addr.sin_port);
  if (pipe(stop_pipe_) != 0) throw std::runtime_error("pipe");
  thread_ = std::thread([this] { Serve(); });
}

FakeHttpServer::~FakeHttpServer() {
  (void)!write(stop_pipe_[1], "x", 1);
  thread_.join();
  close(listen_fd_);
  close(stop_pipe_[0]);
  close(stop_pipe_[1]);
}

std::vector<FakeHttpServer::Request> FakeHttpServer::requests() {
  std::lock_guard<std::mutex> l(mu_);
  return requests_;
}

void FakeHttpServer::Serve() {
  while (true) {
    pollfd fds[2] = {{listen_fd_, POLLIN, 0}, {stop_pipe_[0], POLLIN, 0}};
    if (poll(fds, 2, -1) < 0) continue;
    if (fds[1].revents != 0) return;
    const int fd = accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) continue;
    Handle(fd);
    close(fd);
  }
}

void FakeHttpServer::Handle(int fd) {
  std::string data;
  char buf[4096];
  size_t header_end;
  while ((header_end = data.find("\r\n\r\n")) == std::string::npos) {
    const ssize_t n = read(fd, buf, sizeof buf);
    if (n <= 0) return;
    data.append(buf, static_cast<size_t>(n));
  }
  Request req;
  std::istringstream head(data.substr(0, header_end));
  std::string line;
  std::getline(head, line);
  std::istringstream first(line);
  first >> req.method >> req.target;
  while (std::getline(head, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    const size_t colon = line.find(':');
    if (colon == std::string::npos) continue;
    std::string key = line.substr(0, colon);
    for (char& c : key) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    req.headers[key] = line.substr(line.find_first_not_of(' ', colon + 1));
  }
  req.body = data.substr(header_end + 4);
  const size_t length = req.headers.count("content-length") ? std::stoul(req.headers["content-length"]) : 0;
  while (req.body.size() < length) {
    const ssize_t n = read(fd, buf, sizeof buf);
    if (n <= 0) break;
    req.body.append(buf, static_cast<size_t>(n));
  }
  {
    std::lock_guard<std::mutex> l(mu_);
    requests_.push_back(req);
  }
  const Response resp = handler_(req);
  const std::map<int, std::string> phrases = {{200, "OK"}, {401, "Unauthorized"}, {403, "Forbidden"},
                                              {404, "Not Found"}, {429, "Too Many Requests"},
                                              {500, "Internal Server Error"}};
  const std::string phrase = phrases.count(resp.status) ? phrases.at(resp.status) : "Status";
  std::string out = "HTTP/1.1 " + std::to_string(resp.status) + " " + phrase + "\r\nConnection: close\r\nContent-Length: " +
                    std::to_string(resp.body.size()) + "\r\n";
  for (const auto& [k, v] : resp.headers) out += k + ": " + v + "\r\n";
  out += "\r\n" + resp.body;
  size_t sent = 0;
  while (sent < out.size()) {
    const ssize_t n = write(fd, out.data() + sent, out.size() - sent);
    if (n <= 0) return;
    sent += static_cast<size_t>(n);
  }
}

int FreePort() {
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  socklen_t len = sizeof addr;
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  close(fd);
  return ntohs(addr.sin_port);
}

}  // namespace kubes::runtime::images::testing
