// kubes — the command line: `kubes server`, `kubes version`.
//
// `kubes server` runs the control plane (and, once the node issue lands, a node) in
// this process until SIGINT or SIGTERM. It prints where its kubeconfig is.
#include <chrono>
#include <csignal>
#include <optional>
#include <cstdio>
#include <cstring>
#include <climits>
#include <filesystem>
#include <fstream>
#include <thread>
#include <unistd.h>
#include <string>
#include <vector>

#include "apiserver/apiserver.h"
#include "apiserver/kubelet_client.h"
#include "apimachinery/resource/quantity.h"
#include "cmd/kubes/agent.h"
#include "cmd/kubes/node_flags.h"
#include "client/client.h"
#include "kubelet/kubelet.h"
#include "runtime/images/cli.h"
#include "util/heap.h"

namespace {

using namespace kubes::cmd;

constexpr const char* kUsage = R"(kubes — a Kubernetes-compatible cluster in one binary

Usage:
  kubes server [flags]   run the control plane and a node
  kubes agent [flags]    run another node that joins a server (kubes agent --help)
  kubes image CMD ...    the node's images: ls, import FILE..., pull REF, rm REF...
  kubes version          print the version

Server flags:
  --data-dir DIR            where state, certificates and kubeconfig live (default /var/lib/kubes)
  --address ADDR            address to listen on (default 127.0.0.1)
  --port PORT               HTTPS port (default 6443; 0 picks a free one)
  --write-kubeconfig PATH   also write the admin kubeconfig here
  --tls-san NAME            extra name or IP for the serving certificate (repeatable)
  --service-cidr CIDR       the range Service cluster IPs come from (default 10.43.0.0/16)
  --compaction-interval D   how often history older than one interval is compacted (default 5m)
  --cluster-cidr CIDR[,CIDR] pod ranges, one IPv4 and/or one IPv6 (default 10.42.0.0/16)
  --node-name NAME          this node's name (default: the host name)
  --node-cidr-mask-size N   each node's IPv4 pod block is /N of the cluster CIDR (default 24)
  --max-pods N              pods this node takes (default 110)
  --eviction-hard memory.available<Q  evict pods when less memory than Q (or N%) is left
                            (default 100Mi; "" turns it off; other signals are ignored)
  --system-reserved memory=Q  memory kept back from the node's allocatable for the system
  --default-local-storage-path DIR  where local-path volumes live on the nodes (default <data-dir>/storage)
  --container-log-max-size Q  rotate a container's log past this size (default 10Mi; 5 files kept)
  --node-monitor-grace-period D  a node silent this long is NotReady, its pods evicted later (default 40s)
  --horizontal-pod-autoscaler-sync-period D  how often each HorizontalPodAutoscaler is synced (default 15s)
  --horizontal-pod-autoscaler-downscale-stabilization D  how far back a scale-down looks for higher
                            recommendations (default 5m)
  --node-ip IP              the node's InternalIP (default: the first address of an interface)
  --container-runtime PATH  crun or runc
  --disable-default-registry-endpoint  pull only through the mirrors in <data-dir>/registries.yaml (default: crun when it works here, else runc)
  --disable-node            run only the control plane, no node
  --cleanup                 remove every container, network and cgroup this data dir's node
                            made (after stopping the server), then exit
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
  kubes::kubelet::KubeletOptions node;
  node.node_name = HostName();
  bool disable_node = false, cleanup = false, local_storage_set = false;
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
    else if (a == "--cluster-cidr") opts.controllers.cluster_cidrs = SplitComma(value("--cluster-cidr"));
    else if (a == "--node-name") node.node_name = value("--node-name");
    else if (a == "--node-cidr-mask-size") opts.controllers.node_cidr_mask_size = std::atoi(value("--node-cidr-mask-size").c_str());
    else if (a == "--max-pods") node.max_pods = std::atoi(value("--max-pods").c_str());
    else if (a == "--eviction-hard" || a == "--system-reserved") {
      std::string error;
      ApplyMemoryFlag(a, value(a.c_str()), node, &error);
      if (!error.empty()) {
        std::fprintf(stderr, "kubes: %s\n", error.c_str());
        return 2;
      }
    }
    else if (a == "--default-local-storage-path") {
      opts.controllers.local_storage_path = value("--default-local-storage-path");
      local_storage_set = true;
    }
    else if (a == "--container-log-max-size") {
      node.container_log_max_size = kubes::resource::ValueOf(value("--container-log-max-size"));
      if (node.container_log_max_size <= 0) {
        std::fprintf(stderr, "kubes server: --container-log-max-size wants a size such as 10Mi\n");
        return 2;
      }
    } else if (a == "--node-monitor-grace-period") {
      auto d = ParseDuration(value("--node-monitor-grace-period"));
      if (!d) {
        std::fprintf(stderr, "kubes server: --node-monitor-grace-period wants a duration such as 40s\n");
        return 2;
      }
      opts.controllers.node_monitor_grace_period = *d;
    }
    else if (a == "--horizontal-pod-autoscaler-sync-period" || a == "--horizontal-pod-autoscaler-downscale-stabilization") {
      auto d = ParseDuration(value(a.c_str()));
      if (!d) {
        std::fprintf(stderr, "kubes server: %s wants a duration such as 15s or 5m\n", a.c_str());
        return 2;
      }
      if (a == "--horizontal-pod-autoscaler-sync-period") opts.controllers.horizontal_pod_autoscaler_sync_period = *d;
      else opts.controllers.horizontal_pod_autoscaler_downscale_stabilization = *d;
    }
    else if (a == "--node-ip") node.node_ip = value("--node-ip");
    else if (a == "--container-runtime") node.oci_runtime = value("--container-runtime");
    else if (a == "--disable-default-registry-endpoint") node.disable_default_registry_endpoint = true;
    else if (a == "--disable-node") disable_node = true;
    else if (a == "--cleanup") cleanup = true;
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
  // SIGINT and SIGTERM are taken below; every thread started from here on inherits
  // the mask, so none of them is killed by the signal instead.
  BlockStopSignals();
  std::filesystem::create_directories(opts.data_dir);
  if (!local_storage_set) opts.controllers.local_storage_path = std::filesystem::absolute(opts.data_dir).string() + "/storage";
  node.data_dir = opts.data_dir;
  node.instance = InstanceID(opts.data_dir);
  node.cluster_cidrs = opts.controllers.cluster_cidrs;
  node.service_cidrs = SplitComma(opts.service_cidr);
  node.labels["node-role.kubernetes.io/control-plane"] = "true";
  if (cleanup) {
    kubes::Status s = kubes::kubelet::Kubelet::Cleanup(node);
    if (!s.ok()) {
      std::fprintf(stderr, "kubes server --cleanup: %s\n", s.ToString().c_str());
      return 1;
    }
    std::printf("kubes: removed the node's containers, networks and cgroups\n");
    return 0;
  }
  kubes::HeapScavenger scavenger;  // freed memory back to the kernel (util/heap.h)
  kubes::apiserver::APIServer server(opts);
  // The node's kubelet acts through the API as system:node:<name>, like any kubelet.
  kubes::client::LocalTransport node_transport(
      [&server](kubes::apiserver::Request& r) { return server.Handle(r); },
      {"system:node:" + node.node_name, "", {"system:nodes", "system:authenticated"}});
  kubes::client::Client node_client(&node_transport);
  std::unique_ptr<kubes::kubelet::Kubelet> kubelet;
  if (!disable_node) kubelet = std::make_unique<kubes::kubelet::Kubelet>(&node_client, node);
  // pods/log, exec, attach and portforward go to the pod's node: this process's own
  // kubelet, or over HTTPS to the kubelet of an agent node (at the InternalIP and port
  // its Node object reports), with the cluster's token.
  std::string admin_token;
  server.SetNodeProxy([&](const std::string& name, kubes::apiserver::Request& r) {
    if (kubelet && kubelet->node_name() == name) return kubelet->Serve(r);
    auto n = node_client.Get({"", "v1", "nodes", false, "Node"}, "", name);
    std::string ip;
    int port = 0;
    if (n.ok()) {
      for (const auto& a : (*n)["status"].value("addresses", nlohmann::json::array())) {
        if (a.value("type", "") == "InternalIP" && ip.empty()) ip = a.value("address", "");
      }
      port = (*n)["status"].value("daemonEndpoints", nlohmann::json::object())
                 .value("kubeletEndpoint", nlohmann::json::object()).value("Port", 0);
    }
    if (ip.empty() || port == 0) {
      kubes::apiserver::Response resp;
      resp.code = 503;
      resp.body = "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},\"status\":\"Failure\",\"message\":"
                  "\"no kubelet is reachable for node " + name + "\",\"reason\":\"ServiceUnavailable\",\"code\":503}";
      return resp;
    }
    return kubes::apiserver::ProxyToKubelet(ip, port, admin_token, r);
  });
  kubes::Status s = server.Start();
  if (!s.ok()) {
    std::fprintf(stderr, "kubes server: %s\n", s.ToString().c_str());
    return 1;
  }
  {
    std::ifstream in(opts.data_dir + "/pki/admin.token");
    std::getline(in, admin_token);
  }
  std::printf("kubes: API server listening on https://%s:%d\n", opts.address.c_str(), server.port());
  std::printf("kubes: export KUBECONFIG=%s\n", server.kubeconfig_path().c_str());
  std::fflush(stdout);
  std::atomic<bool> stop_node{false};
  std::thread node_thread;
  if (kubelet) {
    node_thread = std::thread([&] {
      kubes::Status ns = kubelet->Run(stop_node);
      if (!ns.ok()) std::fprintf(stderr, "kubes: the node is not running: %s\n", ns.message().c_str());
    });
  }
  int sig = WaitForStopSignal();
  std::printf("kubes: stopping (signal %d)\n", sig);
  // Containers keep running; the next start adopts them (--cleanup removes them).
  stop_node = true;
  if (node_thread.joinable()) node_thread.join();
  server.Stop();
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  kubes::LimitHeapArenas();  // before any thread (util/heap.h)
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty() || args[0] == "-h" || args[0] == "--help" || args[0] == "help") {
    std::fputs(kUsage, args.empty() ? stderr : stdout);
    return args.empty() ? 2 : 0;
  }
  std::string cmd = args[0];
  args.erase(args.begin());
  if (cmd == "version") return Version();
  if (cmd == "server") return Server(args);
  if (cmd == "agent") return kubes::cmd::Agent(args);
  if (cmd == "image") {
    std::string data_dir = "/var/lib/kubes";
    for (size_t i = 0; i + 1 < args.size(); ++i) {
      if (args[i] == "--data-dir") {
        data_dir = args[i + 1];
        args.erase(args.begin() + static_cast<long>(i), args.begin() + static_cast<long>(i) + 2);
        break;
      }
    }
    return kubes::runtime::images::RunImageCommand(args, data_dir);
  }
  std::fprintf(stderr, "kubes: unknown command %s\n\n%s", cmd.c_str(), kUsage);
  return 2;
}
