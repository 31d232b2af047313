#include "network/pod_network.h"

#include <arpa/inet.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "network/netns.h"
#include "util/files.h"
#include "util/subprocess.h"

namespace kubes::network {
namespace {

namespace fs = std::filesystem;
using Json = nlohmann::json;

constexpr const char* kCNIVersion = "1.0.0";

bool IsIPv6(const std::string& cidr) { return cidr.find(':') != std::string::npos; }

Status RunIP(std::vector<std::string> args) {
  args.insert(args.begin(), "ip");
  auto r = RunCommand(args);
  if (!r.ok()) return r.status();
  if (r->exit_code != 0) return CommandError(args, *r);
  return Status::OK();
}

}  // namespace

std::string FirstAddress(const std::string& cidr) {
  std::string addr = cidr.substr(0, cidr.find('/'));
  if (IsIPv6(addr)) {
    in6_addr a;
    if (inet_pton(AF_INET6, addr.c_str(), &a) != 1) return "";
    a.s6_addr[15] |= 1;
    char buf[INET6_ADDRSTRLEN];
    return inet_ntop(AF_INET6, &a, buf, sizeof buf);
  }
  in_addr a;
  if (inet_pton(AF_INET, addr.c_str(), &a) != 1) return "";
  a.s_addr = htonl(ntohl(a.s_addr) + 1);
  char buf[INET_ADDRSTRLEN];
  return inet_ntop(AF_INET, &a, buf, sizeof buf);
}

Result<std::unique_ptr<PodNetwork>> PodNetwork::Open(NetworkOptions options) {
  std::unique_ptr<PodNetwork> n(new PodNetwork(options));
  for (const char* dir : {options.cni_bin_dir.c_str(), "/usr/lib/cni", "/opt/cni/bin"}) {
    if (*dir && access((std::string(dir) + "/bridge").c_str(), X_OK) == 0) {
      n->bin_dir_ = dir;
      break;
    }
  }
  if (n->bin_dir_.empty()) {
    return Status(Code::kServiceUnavailable,
                  "the CNI plugins are not installed (apt-get install containernetworking-plugins)");
  }
  if (options.pod_cidrs.empty()) return Invalid("the node has no pod CIDR");
  for (const auto& c : options.pod_cidrs) n->gateways_.push_back(FirstAddress(c));
  std::error_code ec;
  for (const auto& d : {options.state_dir + "/ipam", options.state_dir + "/results", options.netns_dir}) {
    fs::create_directories(d, ec);
    if (ec) return Internal("create " + d + ": " + ec.message());
  }
  for (const auto& cidr : options.unreachable) {
    std::vector<std::string> args = {"route", "replace", "unreachable", cidr};
    if (IsIPv6(cidr)) args.insert(args.begin(), "-6");
    Status s = RunIP(args);
    if (!s.ok()) return Internal("install the unreachable route for " + cidr + ": " + s.message());
  }
  return n;
}

std::string PodNetwork::NetworkConfig() const {
  Json ranges = Json::array();
  Json routes = Json::array();
  for (const auto& cidr : options_.pod_cidrs) {
    ranges.push_back(Json::array({{{"subnet", cidr}}}));
    routes.push_back({{"dst", IsIPv6(cidr) ? "::/0" : "0.0.0.0/0"}});
  }
  Json conf = {{"cniVersion", kCNIVersion},
               {"name", options_.bridge},
               {"type", "bridge"},
               {"bridge", options_.bridge},
               {"isGateway", true},
               {"ipMasq", options_.masquerade},
               {"hairpinMode", true},
               {"ipam", {{"type", "host-local"}, {"dataDir", options_.state_dir + "/ipam"}, {"ranges", ranges},
                         {"routes", routes}}}};
  return conf.dump();
}

Result<std::string> PodNetwork::RunPlugin(const std::string& type, const std::string& command,
                                          const std::string& sandbox, const PodRef& pod, const std::string& ifname,
                                          const std::string& config) const {
  CommandOptions opts;
  opts.input = config;
  opts.timeout = std::chrono::seconds(30);
  opts.env = {{"CNI_COMMAND", command},
              {"CNI_CONTAINERID", sandbox},
              {"CNI_NETNS", NetnsPath(sandbox)},
              {"CNI_IFNAME", ifname},
              {"CNI_PATH", bin_dir_},
              {"CNI_ARGS", "IgnoreUnknown=1;K8S_POD_NAMESPACE=" + pod.namespace_ + ";K8S_POD_NAME=" + pod.name +
                               ";K8S_POD_INFRA_CONTAINER_ID=" + sandbox + ";K8S_POD_UID=" + pod.uid}};
  auto r = RunCommand({bin_dir_ + "/" + type}, opts);
  if (!r.ok()) return r.status();
  if (r->exit_code != 0) {
    // Plugins report errors as {"code": N, "msg": "...", "details": "..."} on stdout.
    Json err = Json::parse(r->out, nullptr, false);
    std::string msg = err.is_object() ? err.value("msg", "") + (err.value("details", "").empty() ? "" : ": " + err.value("details", ""))
                                      : r->err + r->out;
    return Internal("plugin type=\"" + type + "\" name=\"" + options_.bridge + "\" failed (" + command + "): " + msg);
  }
  return r->out;
}

Result<std::vector<std::string>> PodNetwork::SetUp(const std::string& sandbox, const PodRef& pod,
                                                   const std::vector<PortMapping>& ports,
                                                   const std::string& owner_userns) {
  std::string ns = NetnsPath(sandbox);
  std::error_code ec;
  if (!fs::exists(ns, ec)) {
    Status s = CreateNetns(ns, owner_userns);
    if (!s.ok()) return s;
  }
  auto fail = [&](Status s) -> Status {
    (void)TearDown(sandbox, pod);
    return s;
  };
  Json loopback = {{"cniVersion", kCNIVersion}, {"name", options_.bridge}, {"type", "loopback"}};
  auto lo = RunPlugin("loopback", "ADD", sandbox, pod, "lo", loopback.dump());
  if (!lo.ok()) return fail(lo.status());
  // Cache what DEL will need before anything can fail half-way.
  Json cache = {{"ports", Json::array()}, {"pod", {{"namespace", pod.namespace_}, {"name", pod.name}, {"uid", pod.uid}}}};
  for (const auto& p : ports) {
    cache["ports"].push_back({{"hostPort", p.host_port}, {"containerPort", p.container_port},
                              {"protocol", p.protocol}, {"hostIP", p.host_ip}});
  }
  std::string cache_path = options_.state_dir + "/results/" + sandbox + ".json";
  std::ofstream(cache_path) << cache.dump();
  auto added = RunPlugin("bridge", "ADD", sandbox, pod, "eth0", NetworkConfig());
  if (!added.ok()) return fail(added.status());
  Json result = Json::parse(*added, nullptr, false);
  if (!result.is_object()) return fail(Internal("the bridge plugin returned no result"));
  if (!ports.empty()) {
    Json pm = {{"cniVersion", kCNIVersion}, {"name", options_.bridge}, {"type", "portmap"},
               {"capabilities", {{"portMappings", true}}}, {"snat", true},
               {"runtimeConfig", {{"portMappings", cache["ports"]}}}, {"prevResult", result}};
    auto mapped = RunPlugin("portmap", "ADD", sandbox, pod, "eth0", pm.dump());
    if (!mapped.ok()) return fail(mapped.status());
  }
  std::vector<std::string> v4, v6;
  for (const auto& ip : result.value("ips", Json::array())) {
    std::string addr = ip.value("address", "");
    addr = addr.substr(0, addr.find('/'));
    (IsIPv6(addr) ? v6 : v4).push_back(addr);
  }
  v4.insert(v4.end(), v6.begin(), v6.end());
  cache["result"] = result;
  cache["ips"] = v4;
  std::ofstream(cache_path) << cache.dump();
  return v4;
}

Status PodNetwork::TearDown(const std::string& sandbox, const PodRef& pod) {
  std::string cache_path = options_.state_dir + "/results/" + sandbox + ".json";
  Json cache = Json::parse(ReadFileOrEmpty(cache_path), nullptr, false);
  std::string ns = NetnsPath(sandbox);
  std::error_code ec;
  bool have_ns = fs::exists(ns, ec);
  Status first = Status::OK();
  if (cache.is_object()) {
    if (!cache.value("ports", Json::array()).empty()) {
      Json pm = {{"cniVersion", kCNIVersion}, {"name", options_.bridge}, {"type", "portmap"},
                 {"capabilities", {{"portMappings", true}}}, {"snat", true},
                 {"runtimeConfig", {{"portMappings", cache["ports"]}}}};
      if (cache.contains("result")) pm["prevResult"] = cache["result"];
      auto r = RunPlugin("portmap", "DEL", sandbox, pod, "eth0", pm.dump());
      if (!r.ok()) first = r.status();
    }
    // DEL releases the host-local lease even when the namespace is already gone.
    auto r = RunPlugin("bridge", "DEL", sandbox, pod, "eth0", NetworkConfig());
    if (!r.ok() && first.ok()) first = r.status();
  }
  if (have_ns) {
    Status s = DeleteNetns(ns);
    if (!s.ok() && first.ok()) first = s;
  }
  if (first.ok()) fs::remove(cache_path, ec);
  return first;
}

std::vector<std::string> PodNetwork::Addresses(const std::string& sandbox) const {
  Json cache = Json::parse(ReadFileOrEmpty(options_.state_dir + "/results/" + sandbox + ".json"), nullptr, false);
  std::vector<std::string> out;
  if (cache.is_object()) {
    for (const auto& ip : cache.value("ips", Json::array())) out.push_back(ip.get<std::string>());
  }
  return out;
}

std::vector<std::string> PodNetwork::Sandboxes() const {
  std::vector<std::string> out;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(options_.netns_dir, ec)) out.push_back(e.path().filename().string());
  for (const auto& e : fs::directory_iterator(options_.state_dir + "/results", ec)) {
    std::string s = e.path().stem().string();
    if (std::find(out.begin(), out.end(), s) == out.end()) out.push_back(s);
  }
  return out;
}

Status PodNetwork::RemoveHostState() {
  Status first = Status::OK();
  auto r = RunCommand({"ip", "link", "del", options_.bridge});
  (void)r;  // absent is fine
  for (const auto& cidr : options_.unreachable) {
    std::vector<std::string> args = {"ip", "route", "del", "unreachable", cidr};
    if (IsIPv6(cidr)) args.insert(args.begin() + 1, "-6");
    (void)RunCommand(args);
  }
  std::error_code ec;
  fs::remove_all(options_.state_dir, ec);
  if (ec) first = Internal("remove " + options_.state_dir + ": " + ec.message());
  return first;
}

}  // namespace kubes::network
