#include "bench/servers.h"

#include <cstdlib>
#include <thread>

namespace kubes::bench {
namespace {

// Polls GET path until it answers 200 or the deadline passes.
Status WaitFor200(const Target& target, const std::string& path, Clock::time_point deadline,
                  ChildProcess& process) {
  std::string last = "no answer";
  while (Clock::now() < deadline) {
    if (process.Exited()) return Internal("server exited while starting");
    HttpClient client(target);
    auto r = client.Do("GET", path);
    if (r.ok() && r->status == 200) return Status::OK();
    last = r.ok() ? "HTTP " + std::to_string(r->status) : r.status().message();
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return Internal("waiting for " + path + ": " + last);
}

std::string Trimmed(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ')) s.pop_back();
  return s;
}

}  // namespace

Result<std::unique_ptr<KubesServer>> KubesServer::Start(const std::string& binary, const std::string& data_dir,
                                                        const std::vector<std::string>& extra_args) {
  auto server = std::unique_ptr<KubesServer>(new KubesServer());
  server->data_dir_ = data_dir;
  // The API phases measure the control plane: no node, so the 10,000 Pods stay Pending.
  std::vector<std::string> argv = {binary, "server", "--data-dir", data_dir, "--port", "0", "--disable-node"};
  argv.insert(argv.end(), extra_args.begin(), extra_args.end());
  auto start = Clock::now();
  auto deadline = start + std::chrono::seconds(60);
  auto process = ChildProcess::Start(argv, data_dir + ".stderr");
  if (!process.ok()) return process.status();
  server->process_ = std::move(*process);

  // "kubes: API server listening on https://127.0.0.1:PORT"
  int port = 0;
  while (port == 0) {
    auto line = server->process_->ReadStdoutLine(std::chrono::seconds(60));
    if (!line.ok()) return line.status().Wrap("kubes server (stderr in " + data_dir + ".stderr)");
    auto at = line->find("https://127.0.0.1:");
    if (at != std::string::npos) port = std::atoi(line->c_str() + at + 18);
  }
  auto tls = TlsContext::Make(TlsOptions{.ca_file = data_dir + "/pki/ca.crt"});
  if (!tls.ok()) return tls.status();
  server->target_.port = port;
  server->target_.tls = *tls;
  KUBES_RETURN_IF_ERROR(WaitFor200(server->target_, "/readyz", deadline, *server->process_));
  server->startup_ms_ = MillisSince(start);

  auto token = ReadFile(data_dir + "/pki/admin.token");
  if (!token.ok()) return token.status();
  server->target_.bearer_token = Trimmed(*token);
  return server;
}

bool KubesHasFlag(const std::string& binary, const std::string& flag) {
  std::string cmd = "'" + binary + "' server --help 2>&1";
  FILE* p = ::popen(cmd.c_str(), "r");
  if (!p) return false;
  std::string out;
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  ::pclose(p);
  return out.find(flag) != std::string::npos;
}

Result<std::unique_ptr<EtcdServer>> EtcdServer::Start(const std::string& binary, const std::string& dir,
                                                      const std::string& cert_file, const std::string& key_file,
                                                      const std::string& ca_file) {
  auto client_port = FreePort();
  auto peer_port = FreePort();
  if (!client_port.ok()) return client_port.status();
  if (!peer_port.ok()) return peer_port.status();
  std::string client_url = "https://127.0.0.1:" + std::to_string(*client_port);
  std::string peer_url = "http://127.0.0.1:" + std::to_string(*peer_port);
  std::vector<std::string> argv = {
      binary,
      "--name=bench",
      "--data-dir=" + dir + "/data",
      "--listen-client-urls=" + client_url,
      "--advertise-client-urls=" + client_url,
      "--listen-peer-urls=" + peer_url,
      "--initial-advertise-peer-urls=" + peer_url,
      "--initial-cluster=bench=" + peer_url,
      "--cert-file=" + cert_file,
      "--key-file=" + key_file,
      "--logger=zap",
      "--log-level=error",
  };
  auto server = std::unique_ptr<EtcdServer>(new EtcdServer());
  auto process = ChildProcess::Start(argv, dir + "/etcd.stderr");
  if (!process.ok()) return process.status();
  server->process_ = std::move(*process);
  auto tls = TlsContext::Make(TlsOptions{.ca_file = ca_file});
  if (!tls.ok()) return tls.status();
  server->target_.port = *client_port;
  server->target_.tls = *tls;
  Status s = WaitFor200(server->target_, "/health", Clock::now() + std::chrono::seconds(60), *server->process_);
  if (!s.ok()) return std::move(s).Wrap("etcd (stderr in " + dir + "/etcd.stderr)");
  return server;
}

}  // namespace kubes::bench
