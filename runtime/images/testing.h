// Test helpers for the image store: temporary directories, tar and image archive
// builders, and a tiny HTTP server on 127.0.0.1 for registry conversations.
// Test-only code (linked into images_test and nothing else).
#pragma once

#include <sys/types.h>

#include <atomic>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace kubes::runtime::images::testing {

// A directory under /tmp removed (with everything in it) when the object goes.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

void WriteFile(const std::string& path, const std::string& content);
std::string ReadFile(const std::string& path);

// One tar entry. type: 'f' file, 'd' directory, 'l' symlink (content = target),
// 'h' hardlink (content = target path), 'c' character device.
struct TarEntry {
  TarEntry(std::string path, char type = 'f', std::string content = "", mode_t mode = 0644, int uid = 0, int gid = 0,
           std::map<std::string, std::string> xattrs = {})
      : path(std::move(path)), type(type), content(std::move(content)), mode(mode), uid(uid), gid(gid),
        xattrs(std::move(xattrs)) {}
  std::string path;
  char type;
  std::string content;
  mode_t mode;
  int uid, gid;
  std::map<std::string, std::string> xattrs;
};

// A pax tar of the entries, in order.
std::string BuildTar(const std::vector<TarEntry>& entries);
// data compressed with gzip or zstd.
std::string Gzip(const std::string& data);
std::string Zstd(const std::string& data);
// "sha256:<hex>" of data.
std::string Digest(const std::string& data);

// An image built in memory from layer tars.
struct BuiltImage {
  std::string archive;          // the OCI archive or docker save tar
  std::string config_digest;    // the image ID
  std::string manifest_digest;  // OCI archives only
  std::string index_digest;     // when the manifest is wrapped in an image index
  std::vector<std::string> diff_ids;
};

// An OCI archive (tar of an OCI layout) of one image with the given names (full
// references, put in io.containerd.image.name), layers gzip-compressed when gzip. With
// in_index the names point to an image index listing this host's manifest and one for
// linux/s390x whose blobs are absent (as a single-platform export of a multi-arch image).
BuiltImage BuildOciArchive(const std::vector<std::string>& layer_tars, const std::vector<std::string>& names,
                           bool gzip = true, const std::vector<std::string>& cmd = {"sh"}, bool in_index = false);
// A `docker save` tar of one image.
BuiltImage BuildDockerSave(const std::vector<std::string>& layer_tars, const std::vector<std::string>& repo_tags,
                           const std::vector<std::string>& cmd = {"sh"});

// An HTTP/1.1 server on 127.0.0.1:<free port>, one request per connection, answering
// with a handler. Records the requests it saw.
class FakeHttpServer {
 public:
  struct Request {
    std::string method, target;
    std::map<std::string, std::string> headers;  // lower-case names
    std::string body;
  };
  struct Response {
    int status = 200;
    std::vector<std::pair<std::string, std::string>> headers;
    std::string body;
  };
  using Handler = std::function<Response(const Request&)>;

  explicit FakeHttpServer(Handler handler);
  ~FakeHttpServer();
  int port() const { return port_; }
  std::vector<Request> requests();

 private:
  void Serve();
  void Handle(int fd);

  Handler handler_;
  int listen_fd_ = -1;
  int port_ = 0;
  int stop_pipe_[2] = {-1, -1};
  std::mutex mu_;
  std::vector<Request> requests_;
  std::thread thread_;
};

// A TCP port on 127.0.0.1 that was free a moment ago.
int FreePort();

}  // namespace kubes::runtime::images::testing
