#include "client/resources.h"
#include "kubelet/kubelet.h"

#include <pthread.h>

#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "kubelet/env.h"
#include "kubelet/volumes.h"
#include "runtime/cgroups.h"
#include "runtime/idmap.h"
#include "util/subprocess.h"

#include <sstream>

namespace kubes::kubelet {

namespace fs = std::filesystem;

std::string DetectNodeIP();  // node_status.cc

namespace {

using client::kNodes;
using client::kPods;
}  // namespace

Kubelet::Kubelet(client::Client* client, KubeletOptions options)
    : client_(client), options_(std::move(options)), pods_(client, kPods), nodes_(client, kNodes) {
  auto dirty = [this](const Json&) { routes_dirty_ = true; };
  nodes_.AddHandlers({.on_add = dirty, .on_update = [this](const Json&, const Json&) { routes_dirty_ = true; },
                      .on_delete = dirty});
  pods_.SetSelectors("", "spec.nodeName=" + options_.node_name);
  // Nothing here reads managedFields: over HTTP (`kubes agent`) dropping them makes
  // every cached object smaller; in `kubes server` the objects are the apiserver
  // cache's own, which never had them parsed.
  pods_.SetTransform(client::StripManagedFields);
  nodes_.SetTransform(client::StripManagedFields);
  auto remember = [this](const Json& pod) {
    const Json& meta = pod["metadata"];
    std::string uid = meta.value("uid", "");
    {
      std::lock_guard<std::mutex> lock(mu_);
      uid_to_key_[uid] = meta.value("namespace", "") + "/" + meta.value("name", "");
    }
    Enqueue(uid);
  };
  pods_.AddHandlers({
      .on_add = remember,
      .on_update = [remember](const Json&, const Json& pod) { remember(pod); },
      .on_delete =
          [this](const Json& pod) {
            std::string uid = pod["metadata"].value("uid", "");
            {
              std::lock_guard<std::mutex> lock(mu_);
              uid_to_key_.erase(uid);
            }
            Enqueue(uid);
          },
  });
}

Kubelet::~Kubelet() = default;

client::ObjectPtr Kubelet::PodByUID(const std::string& uid) const {
  std::string key;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = uid_to_key_.find(uid);
    if (it == uid_to_key_.end()) return nullptr;
    key = it->second;
  }
  client::ObjectPtr pod = pods_.Get(key);
  if (!pod || pod->value("metadata", Json::object()).value("uid", "") != uid) return nullptr;
  return pod;
}

std::string Kubelet::PodDir(const Json& pod) const {
  return options_.data_dir + "/pods/" + pod["metadata"].value("uid", "");
}

std::string Kubelet::PodLogDir(const Json& pod) const {
  const Json& meta = pod["metadata"];
  return options_.data_dir + "/logs/pods/" + meta.value("namespace", "") + "_" + meta.value("name", "") + "_" +
         meta.value("uid", "");
}

Status Kubelet::Cleanup(const KubeletOptions& o) {
  Status first = Status::OK();
  auto note = [&first](const Status& s) {
    if (!s.ok() && first.ok()) first = s;
  };
  std::string run_dir = "/run/kubes/" + o.instance;
  auto rt = runtime::Runtime::Open({o.data_dir + "/containers", run_dir, o.oci_runtime});
  if (rt.ok()) {
    for (const auto& c : (*rt)->List()) note((*rt)->Remove(c.id));
  }
  std::vector<std::string> cidrs;
  std::ifstream in(o.data_dir + "/network-cidrs");
  for (std::string line; std::getline(in, line);) {
    if (!line.empty()) cidrs.push_back(line);
  }
  if (!cidrs.empty()) {
    std::vector<std::string> unreachable = o.cluster_cidrs;
    unreachable.insert(unreachable.end(), o.service_cidrs.begin(), o.service_cidrs.end());
    auto net = network::PodNetwork::Open({"kubes-" + o.instance, cidrs, unreachable, o.data_dir + "/network",
                                          run_dir + "/netns", "", true});
    if (net.ok()) {
      for (const auto& s : (*net)->Sandboxes()) note((*net)->TearDown(s, {"", "", s}));
      note((*net)->RemoveHostState());
    } else {
      note(net.status());
    }
  }
  // Routes to other nodes' pod ranges (anything routed "via" inside the cluster's ranges).
  for (const auto& cidr : o.cluster_cidrs) {
    bool v6 = cidr.find(':') != std::string::npos;
    std::vector<std::string> show = {"ip", "route", "show", "root", cidr};
    if (v6) show.insert(show.begin() + 1, "-6");
    auto routes = RunCommand(show);
    if (!routes.ok()) continue;
    std::istringstream lines(routes->out);
    for (std::string line; std::getline(lines, line);) {
      if (line.find(" via ") == std::string::npos) continue;
      std::vector<std::string> del = {"ip", "route", "del", line.substr(0, line.find(' '))};
      if (v6) del.insert(del.begin() + 1, "-6");
      (void)RunCommand(del);
    }
  }
  std::error_code ec;
  // Pinned user namespaces of hostUsers: false pods (their network namespaces are gone).
  for (const auto& e : fs::directory_iterator(run_dir + "/userns", ec)) note(runtime::UnpinNamespace(e.path().string()));
  fs::remove(run_dir + "/userns", ec);
  for (const auto& e : fs::directory_iterator(o.data_dir + "/pods", ec)) note(TearDownVolumes(e.path().string()));
  fs::remove_all(o.data_dir + "/pods", ec);
  note(runtime::RemoveCgroup("/kubes-" + o.instance));
  fs::remove_all(run_dir, ec);
  fs::remove(o.data_dir + "/network-cidrs", ec);
  return first;
}

std::unique_ptr<prober::Manager> Kubelet::NewProber() {
  prober::ManagerOptions o;
  o.prober.version = UserAgentVersion(options_.version);
  o.prober.exec = [this](const std::string& id, const std::vector<std::string>& cmd, std::chrono::milliseconds t) {
    return ExecInContainer(id, cmd, t);
  };
  o.prober.event = [this](const Json& pod, const std::string& path, const std::string& type, const std::string& reason,
                          const std::string& message) { recorder_->Event(pod, path, type, reason, message); };
  // An exec probe's $(VAR) refers to the container's literal env values only.
  o.prober.expand = [](const std::vector<std::string>& cmd, const Json& container) {
    std::map<std::string, std::string> env;
    for (const auto& e : container.value("env", Json::array())) {
      if (e.is_object() && e.contains("value") && e["value"].is_string()) env[e.value("name", "")] = e["value"];
    }
    auto lookup = [&env](const std::string& name, std::string* value) {
      auto it = env.find(name);
      if (it == env.end()) return false;
      *value = it->second;
      return true;
    };
    std::vector<std::string> out;
    for (const auto& a : cmd) out.push_back(ExpandReferences(a, lookup));
    return out;
  };
  return std::make_unique<prober::Manager>(std::move(o), [this](const std::string& uid) { Enqueue(uid); });
}

Status Kubelet::Run(const std::atomic<bool>& stop) {
  if (geteuid() != 0) {
    return Status(Code::kServiceUnavailable, "the node needs root to run containers (run kubes as root, or --disable-node)");
  }
  auto rt = runtime::Runtime::Open({options_.data_dir + "/containers", "/run/kubes/" + options_.instance,
                                    options_.oci_runtime});
  if (!rt.ok()) return rt.status();
  runtime_ = std::move(rt).value();
  // The containers a previous run left (adopted), indexed by pod.
  for (const auto& c : runtime_->List()) IndexContainer(c.labels.pod_uid, c.id);
  // User namespace ranges of the pods a previous run started, from their directories.
  auto mapping = ReadKubeletMapping();
  auto userns = mapping.ok() ? UserNamespaceManager::Open(*mapping, options_.data_dir + "/pods")
                             : Result<std::unique_ptr<UserNamespaceManager>>(mapping.status());
  if (userns.ok()) userns_ = std::move(userns).value();
  else std::fprintf(stderr, "kubelet: user namespaces disabled: %s\n", userns.status().message().c_str());
  images_ = std::make_unique<runtime::images::Store>(options_.data_dir + "/images");
  std::error_code ec;
  if (fs::exists(options_.data_dir + "/registries.yaml", ec)) {
    auto reg = runtime::images::LoadRegistriesYaml(options_.data_dir + "/registries.yaml");
    if (!reg.ok()) return Invalid("registries.yaml: " + reg.status().message());
    registries_ = std::make_unique<runtime::images::RegistriesConfig>(std::move(reg).value());
  }
  if (options_.disable_default_registry_endpoint) {
    if (!registries_) registries_ = std::make_unique<runtime::images::RegistriesConfig>();
    registries_->disable_default_endpoint = true;
  }
  // Archives dropped in <data dir>/images/import are loaded at start (machines
  // without a registry).
  Status imported = images_->ImportFolder(options_.data_dir + "/images/import");
  if (!imported.ok()) std::fprintf(stderr, "kubelet: importing images: %s\n", imported.message().c_str());
  recorder_ = std::make_unique<client::EventRecorder>(client_, "kubelet", options_.node_name);
  probes_ = NewProber();
  node_ip_ = options_.node_ip.empty() ? DetectNodeIP() : options_.node_ip;

  Status s = RegisterNode();
  if (!s.ok()) return s;
  auto cidrs = WaitForPodCIDRs(stop);
  if (!cidrs.ok()) return cidrs.status();
  std::vector<std::string> unreachable = options_.cluster_cidrs;
  unreachable.insert(unreachable.end(), options_.service_cidrs.begin(), options_.service_cidrs.end());
  {
    std::ofstream out(options_.data_dir + "/network-cidrs");
    for (const auto& c : *cidrs) out << c << "\n";
  }
  auto net = network::PodNetwork::Open({"kubes-" + options_.instance, *cidrs, unreachable,
                                        options_.data_dir + "/network", "/run/kubes/" + options_.instance + "/netns",
                                        "", true});
  if (!net.ok()) return net.status();
  network_ = std::move(net).value();

  std::vector<std::thread> threads;
  // Named threads ("kubelet-…"), so `top -H` tells the node's work from the rest.
  auto spawn = [&threads](const char* name, std::function<void()> run) {
    threads.emplace_back(std::move(run));
    pthread_setname_np(threads.back().native_handle(), name);
  };
  spawn("kubelet-beat", [&] { HeartbeatLoop(stop); });
  spawn("kubelet-pods", [&] { pods_.Run(stop); });
  spawn("kubelet-nodes", [&] { nodes_.Run(stop); });
  spawn("kubelet-exits", [&] { WatchExits(stop); });
  stats_ = std::make_unique<StatsCollector>(NewMachineUsageReader(), clock_);
  spawn("kubelet-stats", [&] { StatsLoop(stop); });
  for (int i = 0; i < options_.workers; ++i) spawn("kubelet-worker", [&] { Worker(stop); });
  ready_ = true;
  // Ready from now on: the network is there.
  (void)UpdateNodeStatus();
  recorder_->Event(BuildNode(), "Normal", "NodeReady", "Node " + options_.node_name + " status is now: NodeReady");
  std::fprintf(stderr, "kubelet: node %s ready (runtime %s, pod CIDR %s)\n", options_.node_name.c_str(),
               runtime_->oci_runtime().c_str(), (*cidrs)[0].c_str());
  while (!stop) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  queue_.ShutDown();
  for (auto& t : threads) t.join();
  probes_.reset();  // waits for the probes and hooks running now; hooks give up
  ready_ = false;
  // Routes to other nodes stay (pods keep running while kubes is stopped); --cleanup
  // removes them.
  return Status::OK();
}

}  // namespace kubes::kubelet
