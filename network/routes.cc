#include "network/routes.h"

#include <nlohmann/json.hpp>

#include "util/subprocess.h"

namespace kubes::network {
namespace {

bool IsIPv6(const std::string& s) { return s.find(':') != std::string::npos; }

// The next hop for traffic to `ip`: the gateway of the route to it, or `ip` itself
// when it is on a connected network.
Result<std::string> NextHop(const std::string& ip) {
  std::vector<std::string> argv = {"ip", "-j", "route", "get", ip};
  auto r = RunCommand(argv);
  if (!r.ok()) return r.status();
  if (r->exit_code != 0) return CommandError(argv, *r);
  auto routes = nlohmann::json::parse(r->out, nullptr, false);
  if (!routes.is_array() || routes.empty()) return Internal("no route to " + ip);
  const auto& route = routes[0];
  if (route.value("type", "unicast") != "unicast" && route.value("type", "unicast") != "local") {
    return Internal("no usable route to " + ip);
  }
  return route.contains("gateway") ? route["gateway"].get<std::string>() : ip;
}

}  // namespace

Status NodeRoutes::Sync(const std::vector<NodeRoute>& wanted) {
  Status first = Status::OK();
  std::map<std::string, std::string> now;
  for (const auto& w : wanted) {
    if (IsIPv6(w.cidr) != IsIPv6(w.node_ip)) continue;  // an IPv6 range needs an IPv6 node address
    auto hop = NextHop(w.node_ip);
    if (!hop.ok()) {
      if (first.ok()) first = hop.status();
      continue;
    }
    auto it = installed_.find(w.cidr);
    if (it == installed_.end() || it->second != *hop) {
      std::vector<std::string> argv = {"ip", "route", "replace", w.cidr, "via", *hop};
      if (IsIPv6(w.cidr)) argv.insert(argv.begin() + 1, "-6");
      auto r = RunCommand(argv);
      if (!r.ok() || r->exit_code != 0) {
        if (first.ok()) first = r.ok() ? CommandError(argv, *r) : r.status();
        continue;
      }
    }
    now[w.cidr] = *hop;
  }
  for (const auto& [cidr, hop] : installed_) {
    if (now.count(cidr)) continue;
    std::vector<std::string> argv = {"ip", "route", "del", cidr, "via", hop};
    if (IsIPv6(cidr)) argv.insert(argv.begin() + 1, "-6");
    (void)RunCommand(argv);
  }
  installed_ = std::move(now);
  return first;
}

void NodeRoutes::RemoveAll() { (void)Sync({}); }

}  // namespace kubes::network
