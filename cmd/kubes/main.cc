// kubes — the command line: `kubes server`, `kubes version`.
//
// `kubes server` runs the control plane (and, once the node issue lands, a node) in
// this process until SIGINT or SIGTERM. It prints where its kubeconfig is.
#include <chrono>
#include <csignal>
#include <optional>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "apiserver/apiserver.h"

namespace {

constexpr const char* kUsage = R"(kubes — a Kubernetes-compatible cluster in one binary

Usage:
  kubes server [flags]   run the control plane
  kubes version          print the version

Server flags:
  --data-dir DIR            where state, certificates and kubeconfig live (default /var/lib/kubes)
  --address ADDR            address to listen on (default 127.0.0.1)
  --port PORT               HTTPS port (default 6443; 0 picks a free one)
  --write-kubeconfig PATH   also write the admin kubeconfig here
  --tls-san NAME            extra name or IP for the serving certificate (repeatable)
  --service-cidr CIDR       the range Service cluster IPs come from (default 10.43.0.0/16)
  --compaction-interval D   how often history older than one interval is compacted (default 5m)
)";

// "90", "90s", "5m", "1h" → seconds.
std::optional<std::chrono::seconds> ParseDuration(const std::string& s) {
  if (s.empty()) return std::nullopt;
  char* end = nullptr;
  long long n = std::strtoll(s.c_str(), &end, 10);
  if (end == s.c_str() || n <= 0) return std::nullopt;
  std::string unit(end);
  if (unit.empty() || unit == "s") return std::chrono::seconds(n);
  if (unit == "m") return std::chrono::seconds(n * 60);
  if (unit == "h") return std::chrono::seconds(n * 3600);
  return std::nullopt;
}

int Version() {
  std::printf("kubes version v1.32.0+kubes (Kubernetes API v1.32)\n");
  return 0;
}

int Server(const std::vector<std::string>& args) {
  kubes::apiserver::APIServerOptions opts;
  opts.data_dir = "/var/lib/kubes";
  for (size_t i = 0; i < args.size(); ++i) {
    auto value = [&](const char* flag) -> std::string {
      if (i + 1 >= args.size()) {
        std::fprintf(stderr, "kubes: %s needs a value\n", flag);
        std::exit(2);
      }
      return args[++i];
    };
    const std::string& a = args[i];
    if (a == "--data-dir") opts.data_dir = value("--data-dir");
    else if (a == "--address") opts.address = value("--address");
    else if (a == "--port") opts.port = std::atoi(value("--port").c_str());
    else if (a == "--write-kubeconfig") opts.write_kubeconfig = value("--write-kubeconfig");
    else if (a == "--tls-san") opts.extra_sans.push_back(value("--tls-san"));
    else if (a == "--service-cidr") opts.service_cidr = value("--service-cidr");
    else if (a == "--compaction-interval") {
      auto d = ParseDuration(value("--compaction-interval"));
      if (!d) {
        std::fprintf(stderr, "kubes server: --compaction-interval wants a duration such as 30s or 5m\n");
        return 2;
      }
      opts.compaction_interval = *d;
    }
    else if (a == "-h" || a == "--help") {
      std::fputs(kUsage, stdout);
      return 0;
    } else {
      std::fprintf(stderr, "kubes server: unknown flag %s\n\n%s", a.c_str(), kUsage);
      return 2;
    }
  }
  std::signal(SIGPIPE, SIG_IGN);
  kubes::apiserver::APIServer server(opts);
  kubes::Status s = server.Start();
  if (!s.ok()) {
    std::fprintf(stderr, "kubes server: %s\n", s.ToString().c_str());
    return 1;
  }
  std::printf("kubes: API server listening on https://%s:%d\n", opts.address.c_str(), server.port());
  std::printf("kubes: export KUBECONFIG=%s\n", server.kubeconfig_path().c_str());
  std::fflush(stdout);
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  int sig = 0;
  sigwait(&set, &sig);
  std::printf("kubes: stopping (signal %d)\n", sig);
  server.Stop();
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty() || args[0] == "-h" || args[0] == "--help" || args[0] == "help") {
    std::fputs(kUsage, args.empty() ? stderr : stdout);
    return args.empty() ? 2 : 0;
  }
  std::string cmd = args[0];
  args.erase(args.begin());
  if (cmd == "version") return Version();
  if (cmd == "server") return Server(args);
  std::fprintf(stderr, "kubes: unknown command %s\n\n%s", cmd.c_str(), kUsage);
  return 2;
}
