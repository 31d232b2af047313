// `kubes agent`: one more node for a running `kubes server` (upstream: a kubelet joining
// a cluster; k3s's `k3s agent`). The kubelet talks to the apiserver over HTTPS with the
// token it was given, and serves its own streaming endpoints (logs, exec, attach,
// port-forward) over HTTPS on --kubelet-port for the apiserver to proxy to.
#include "cmd/kubes/agent.h"

#include <fcntl.h>
#include <sched.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <memory>
#include <thread>

#include "apiserver/server.h"
#include "client/http_transport.h"
#include "cmd/kubes/node_flags.h"
#include "kubelet/kubelet.h"
#include "pki/certs.h"
#include "pki/files.h"
#include "util/heap.h"

namespace kubes::cmd {
namespace {

constexpr const char* kAgentUsage = R"(kubes agent — run a node that joins a kubes server

Usage:
  kubes agent --server URL --token TOKEN [flags]

Flags:
  --server URL              the apiserver, e.g. https://192.0.2.10:6443
  --token TOKEN             a bearer token for it (the server's <data-dir>/pki/admin.token)
  --token-file FILE         … or read from a file
  --ca-file FILE            the cluster CA to verify the server (the server's <data-dir>/pki/ca.crt)
  --node-name NAME          this node's name (default: the host name)
  --node-ip IP              the node's InternalIP, where the apiserver reaches its kubelet
  --data-dir DIR            where this node keeps containers and images (default /var/lib/kubes-agent)
  --kubelet-port PORT       the kubelet's HTTPS port (default 10250)
  --max-pods N              pods this node takes (default 110)
  --eviction-hard memory.available<Q  evict pods when less memory than Q (or N%) is left
                            (default 100Mi; "" turns it off; other signals are ignored)
  --system-reserved memory=Q  memory kept back from the node's allocatable for the system
  --zone ZONE               sets the topology.kubernetes.io/zone label
  --cluster-cidr CIDR[,..]  the cluster's pod ranges, kept off the network (default 10.42.0.0/16)
  --service-cidr CIDR       the cluster's service range (default 10.43.0.0/16)
  --container-runtime PATH  crun or runc
  --disable-default-registry-endpoint  pull only through the mirrors in <data-dir>/registries.yaml
  --netns PATH              run the node inside this network namespace (several nodes on one machine)
  --cleanup                 remove everything this node made, then exit
)";

apiserver::Response Unauthorized() {
  apiserver::Response r;
  r.code = 401;
  r.body = R"({"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"Unauthorized","reason":"Unauthorized","code":401})";
  return r;
}

}  // namespace

int Agent(const std::vector<std::string>& args) {
  client::HttpTransportOptions api;
  kubelet::KubeletOptions node;
  node.node_name = HostName();
  node.data_dir = "/var/lib/kubes-agent";
  node.cluster_cidrs = {"10.42.0.0/16"};
  node.service_cidrs = {"10.43.0.0/16"};
  std::string netns;
  bool cleanup = false;
  for (size_t i = 0; i < args.size(); ++i) {
    auto value = [&](const char* flag) -> std::string {
      if (i + 1 >= args.size()) {
        std::fprintf(stderr, "kubes agent: %s needs a value\n", flag);
        std::exit(2);
      }
      return args[++i];
    };
    const std::string& a = args[i];
    if (a == "--server") api.server = value("--server");
    else if (a == "--token") api.bearer_token = value("--token");
    else if (a == "--token-file") {
      auto t = pki::ReadFile(value("--token-file"));
      if (!t.ok()) {
        std::fprintf(stderr, "kubes agent: %s\n", t.status().message().c_str());
        return 2;
      }
      api.bearer_token = *t;
      while (!api.bearer_token.empty() && std::isspace(static_cast<unsigned char>(api.bearer_token.back()))) {
        api.bearer_token.pop_back();
      }
    } else if (a == "--ca-file") api.ca_file = value("--ca-file");
    else if (a == "--node-name") node.node_name = value("--node-name");
    else if (a == "--node-ip") node.node_ip = value("--node-ip");
    else if (a == "--max-pods") node.max_pods = std::atoi(value("--max-pods").c_str());
    else if (a == "--eviction-hard" || a == "--system-reserved") {
      std::string error;
      ApplyMemoryFlag(a, value(a.c_str()), node, &error);
      if (!error.empty()) {
        std::fprintf(stderr, "kubes: %s\n", error.c_str());
        return 2;
      }
    }
    else if (a == "--data-dir") node.data_dir = value("--data-dir");
    else if (a == "--kubelet-port") node.kubelet_port = std::atoi(value("--kubelet-port").c_str());
    else if (a == "--zone") node.labels["topology.kubernetes.io/zone"] = value("--zone");
    else if (a == "--cluster-cidr") node.cluster_cidrs = SplitComma(value("--cluster-cidr"));
    else if (a == "--service-cidr") node.service_cidrs = SplitComma(value("--service-cidr"));
    else if (a == "--container-runtime") node.oci_runtime = value("--container-runtime");
    else if (a == "--disable-default-registry-endpoint") node.disable_default_registry_endpoint = true;
    else if (a == "--netns") netns = value("--netns");
    else if (a == "--cleanup") cleanup = true;
    else if (a == "-h" || a == "--help") {
      std::fputs(kAgentUsage, stdout);
      return 0;
    } else {
      std::fprintf(stderr, "kubes agent: unknown flag %s\n\n%s", a.c_str(), kAgentUsage);
      return 2;
    }
  }
  // The network namespace first, while this is the only thread: every thread and
  // program started later (CNI plugins, container monitors) inherits it.
  if (!netns.empty()) {
    int fd = open(netns.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0 || setns(fd, CLONE_NEWNET) != 0) {
      std::fprintf(stderr, "kubes agent: enter network namespace %s: %s\n", netns.c_str(), std::strerror(errno));
      return 1;
    }
    close(fd);
  }
  std::filesystem::create_directories(node.data_dir);
  node.instance = InstanceID(node.data_dir);
  if (cleanup) {
    Status s = kubelet::Kubelet::Cleanup(node);
    if (!s.ok()) {
      std::fprintf(stderr, "kubes agent --cleanup: %s\n", s.ToString().c_str());
      return 1;
    }
    std::printf("kubes: removed the node's containers, networks and cgroups\n");
    return 0;
  }
  if (api.server.empty() || api.bearer_token.empty()) {
    std::fprintf(stderr, "kubes agent: --server and --token (or --token-file) are required\n\n%s", kAgentUsage);
    return 2;
  }
  std::signal(SIGPIPE, SIG_IGN);
  BlockStopSignals();

  HeapScavenger scavenger;  // freed memory back to the kernel (util/heap.h)
  client::HttpTransport transport(api);
  client::Client client(&transport);
  std::unique_ptr<kubelet::Kubelet> kubelet;

  // The kubelet's own HTTPS endpoint, with a certificate of its own (the apiserver does
  // not verify kubelets' certificates by default, as upstream).
  std::string node_ip = node.node_ip.empty() ? "127.0.0.1" : node.node_ip;
  auto certs = pki::EnsureServerCertificates(node.data_dir + "/pki", {{node.node_name}, {node_ip}},
                                             std::chrono::duration_cast<std::chrono::seconds>(
                                                 std::chrono::system_clock::now().time_since_epoch())
                                                 .count());
  if (!certs.ok()) {
    std::fprintf(stderr, "kubes agent: %s\n", certs.status().message().c_str());
    return 1;
  }
  std::string token = api.bearer_token;
  apiserver::ServerOptions so;
  so.address = node.node_ip.empty() ? "0.0.0.0" : node.node_ip;
  so.port = node.kubelet_port;
  so.cert_file = certs->serving_cert_file;
  so.key_file = certs->serving_key_file;
  std::atomic<kubelet::Kubelet*> serving{nullptr};
  apiserver::Server server(so, [&serving, token](apiserver::Request& req) {
    // Only the apiserver (holding the cluster's token) may use the kubelet's endpoints.
    if (req.Header("authorization") != "Bearer " + token) return Unauthorized();
    kubelet::Kubelet* k = serving.load();
    if (!k) return Unauthorized();
    return k->Serve(req);
  });
  Status s = server.Start();
  if (!s.ok()) {
    std::fprintf(stderr, "kubes agent: kubelet endpoint: %s\n", s.message().c_str());
    return 1;
  }
  node.kubelet_port = server.port();  // the real one, when 0 asked for a free port
  kubelet = std::make_unique<kubelet::Kubelet>(&client, node);
  serving = kubelet.get();
  std::atomic<bool> stop{false};
  int rc = 0;
  std::thread run([&] {
    Status st = kubelet->Run(stop);
    if (!st.ok()) {
      std::fprintf(stderr, "kubes agent: %s\n", st.message().c_str());
      rc = 1;
      kill(getpid(), SIGTERM);
    }
  });
  std::printf("kubes: node %s joining %s, kubelet on %s:%d\n", node.node_name.c_str(), api.server.c_str(),
              so.address.c_str(), server.port());
  std::fflush(stdout);
  WaitForStopSignal();
  stop = true;
  run.join();
  server.Stop();
  return rc;
}

}  // namespace kubes::cmd
