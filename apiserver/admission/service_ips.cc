// Service cluster IPs and node ports (upstream: pkg/registry/core/service/ipallocator
// and portallocator, run by the Service REST storage on create and update).
//
// A Service of type ClusterIP, NodePort or LoadBalancer gets a free address from the
// service range (a static band at the start of the range is only handed out when
// asked for explicitly, as upstream), unless it asked for one or for "None"
// (headless). NodePort and LoadBalancer ports get a free node port in 30000-32767.
// What is taken is read from the existing Services, so nothing needs freeing; the
// apiserver serializes Service creates so two never get the same address.
#include <arpa/inet.h>

#include <random>
#include <set>

#include "apiserver/admission/admission.h"

namespace kubes::apiserver::admission {
namespace {

struct Range {
  uint32_t base = 0;  // network address, host order
  uint32_t size = 0;  // number of addresses
};

Range ParseCIDR(const std::string& cidr) {
  Range r;
  auto slash = cidr.find('/');
  in_addr a{};
  if (slash == std::string::npos || inet_pton(AF_INET, cidr.substr(0, slash).c_str(), &a) != 1) return r;
  int bits = std::stoi(cidr.substr(slash + 1));
  r.size = bits >= 32 ? 1 : (1u << (32 - bits));
  r.base = ntohl(a.s_addr) & ~(r.size - 1);
  return r;
}

std::string FormatIP(uint32_t ip) {
  in_addr a{htonl(ip)};
  char buf[INET_ADDRSTRLEN];
  inet_ntop(AF_INET, &a, buf, sizeof buf);
  return buf;
}

bool ParseIP(const std::string& s, uint32_t* out) {
  in_addr a{};
  if (inet_pton(AF_INET, s.c_str(), &a) != 1) return false;
  *out = ntohl(a.s_addr);
  return true;
}

constexpr int kNodePortMin = 30000, kNodePortMax = 32767;

class ServiceIPAllocator : public Plugin {
 public:
  explicit ServiceIPAllocator(std::string cidr) : cidr_(cidr), range_(ParseCIDR(cidr)) {}
  const char* Name() const override { return "ServiceIPAllocator"; }

  Status Admit(const Attributes& a, Json& svc, const ObjectReader& reader) override {
    if (a.resource.group != "" || a.resource.kind != "Service" || !a.subresource.empty()) return Status::OK();
    if (a.operation != "CREATE" && a.operation != "UPDATE") return Status::OK();
    Json& spec = svc["spec"];
    if (!spec.is_object()) return Status::OK();
    std::string type = spec.value("type", "ClusterIP");
    std::set<uint32_t> used_ips;
    std::set<int64_t> used_ports;
    for (const auto& other : reader.List("", "services", "")) {
      const Json& m = other->object["metadata"];
      if (m.value("namespace", "") == a.namespace_ && m.value("name", "") == a.name) continue;
      const Json& os = other->object.value("spec", Json::object());
      uint32_t ip;
      if (ParseIP(os.value("clusterIP", ""), &ip)) used_ips.insert(ip);
      for (const auto& p : os.value("ports", Json::array())) {
        if (p.value("nodePort", 0) > 0) used_ports.insert(p.value("nodePort", 0));
      }
    }
    if (type == "ExternalName") {
      spec.erase("clusterIP");
      spec.erase("clusterIPs");
      return Status::OK();
    }
    KUBES_RETURN_IF_ERROR(AssignClusterIP(a, spec, used_ips));
    if (type == "NodePort" || type == "LoadBalancer") KUBES_RETURN_IF_ERROR(AssignNodePorts(a, spec, used_ports));
    return Status::OK();
  }

 private:
  Status AssignClusterIP(const Attributes& a, Json& spec, const std::set<uint32_t>& used) {
    std::string want = spec.value("clusterIP", "");
    if (want.empty() && spec.contains("clusterIPs") && !spec["clusterIPs"].empty()) want = spec["clusterIPs"][0];
    if (a.old) {
      // An update keeps the address it has.
      std::string had = a.old->value("spec", Json::object()).value("clusterIP", "");
      if (want.empty() && !had.empty()) want = had;
      if (want == had && !had.empty()) {
        SetIP(spec, want);
        return Status::OK();
      }
    }
    if (want == "None") {
      spec["clusterIP"] = "None";
      spec["clusterIPs"] = Json::array({"None"});
      SetFamilies(spec);
      return Status::OK();
    }
    if (!want.empty()) {
      uint32_t ip;
      if (!ParseIP(want, &ip) || ip <= range_.base || ip >= range_.base + range_.size - 1) {
        return InvalidIP(a, want, "the provided IP (" + want + ") is not in the valid range. The range of valid IPs is " + cidr_);
      }
      if (used.count(ip)) return InvalidIP(a, want, "provided IP is already allocated");
      SetIP(spec, want);
      return Status::OK();
    }
    // Dynamic allocation skips the static band at the start of the range.
    uint32_t usable = range_.size - 2;
    uint32_t band = std::min<uint32_t>(std::max<uint32_t>(16, usable / 16), 256);
    thread_local std::mt19937 rng(std::random_device{}());
    uint32_t dynamic = usable - band;
    uint32_t start = std::uniform_int_distribution<uint32_t>(0, dynamic - 1)(rng);
    for (uint32_t i = 0; i < usable; ++i) {
      uint32_t offset = i < dynamic ? band + (start + i) % dynamic : i - dynamic;
      uint32_t ip = range_.base + 1 + offset;
      if (!used.count(ip)) {
        SetIP(spec, FormatIP(ip));
        return Status::OK();
      }
    }
    return Status(Code::kInternal, "failed to allocate a serviceIP: range is full");
  }

  Status AssignNodePorts(const Attributes& a, Json& spec, std::set<int64_t>& used) {
    if (!spec.contains("ports")) return Status::OK();
    thread_local std::mt19937 rng(std::random_device{}());
    for (size_t i = 0; i < spec["ports"].size(); ++i) {
      Json& p = spec["ports"][i];
      int64_t want = p.value("nodePort", 0);
      if (want > 0) {
        bool kept = false;
        if (a.old) {
          for (const auto& op : a.old->value("spec", Json::object()).value("ports", Json::array())) {
            if (op.value("nodePort", 0) == want) kept = true;
          }
        }
        if (!kept && used.count(want)) {
          return validation::NewInvalid("Service", a.name,
                                        {validation::InvalidValue(validation::Path("spec").Child("ports").Index(i).Child("nodePort"),
                                                                  want, "provided port is already allocated")});
        }
        if (want < kNodePortMin || want > kNodePortMax) {
          return validation::NewInvalid("Service", a.name,
                                        {validation::InvalidValue(validation::Path("spec").Child("ports").Index(i).Child("nodePort"),
                                                                  want, "provided port is not in the valid range. The range of valid ports is 30000-32767")});
        }
        used.insert(want);
        continue;
      }
      int span = kNodePortMax - kNodePortMin + 1;
      int start = std::uniform_int_distribution<int>(0, span - 1)(rng);
      for (int k = 0; k < span; ++k) {
        int port = kNodePortMin + (start + k) % span;
        if (!used.count(port)) {
          p["nodePort"] = port;
          used.insert(port);
          break;
        }
      }
    }
    return Status::OK();
  }

  static void SetFamilies(Json& spec) {
    if (!spec.contains("ipFamilies")) spec["ipFamilies"] = Json::array({"IPv4"});
    if (!spec.contains("ipFamilyPolicy")) spec["ipFamilyPolicy"] = "SingleStack";
  }
  static void SetIP(Json& spec, const std::string& ip) {
    spec["clusterIP"] = ip;
    spec["clusterIPs"] = Json::array({ip});
    SetFamilies(spec);
  }
  Status InvalidIP(const Attributes& a, const std::string& ip, const std::string& why) {
    auto err = validation::InvalidValue(validation::Path("spec").Child("clusterIPs"), "[]string{\"" + ip + "\"}",
                                        "failed to allocate IP " + ip + ": " + why);
    err.raw_value = true;
    return validation::NewInvalid("Service", a.name, {err});
  }

  std::string cidr_;
  Range range_;
};

}  // namespace

std::shared_ptr<Plugin> NewServiceIPAllocator(const std::string& service_cidr) {
  return std::make_shared<ServiceIPAllocator>(service_cidr);
}

}  // namespace kubes::apiserver::admission
