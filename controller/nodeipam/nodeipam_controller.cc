#include "client/resources.h"
#include "controller/nodeipam/nodeipam_controller.h"

#include <arpa/inet.h>

#include "controller/worker.h"

namespace kubes::controller {
namespace {

using client::kNodes;

using Json = nlohmann::json;

bool IsIPv6(const std::string& cidr) { return cidr.find(':') != std::string::npos; }

}  // namespace

NodeIPAMController::NodeIPAMController(client::Client* c, std::vector<std::string> cluster_cidrs, int mask_v4)
    : client_(c), cidrs_(std::move(cluster_cidrs)), mask_v4_(mask_v4), nodes_(c, kNodes) {
  nodes_.AddHandlers({.on_add = [this](const Json& n) { queue_.Add(client::Informer::KeyOf(n)); },
                      .on_update = [this](const Json&, const Json& n) { queue_.Add(client::Informer::KeyOf(n)); },
                      .on_delete = nullptr});
}

std::string NodeIPAMController::Block(const std::string& cidr, int index, int mask_v4) {
  auto slash = cidr.find('/');
  std::string addr = cidr.substr(0, slash);
  int prefix = slash == std::string::npos ? 0 : std::atoi(cidr.c_str() + slash + 1);
  if (IsIPv6(addr)) {
    // /64 blocks: the index goes into bits prefix..63.
    in6_addr a;
    if (inet_pton(AF_INET6, addr.c_str(), &a) != 1 || prefix > 64) return "";
    int bits = 64 - prefix;
    if (bits < 31 && index >= (1 << bits)) return "";
    uint64_t hi = 0;
    for (int i = 0; i < 8; ++i) hi = (hi << 8) | a.s6_addr[i];
    hi += static_cast<uint64_t>(index);
    for (int i = 7; i >= 0; --i) {
      a.s6_addr[i] = static_cast<uint8_t>(hi & 0xff);
      hi >>= 8;
    }
    for (int i = 8; i < 16; ++i) a.s6_addr[i] = 0;
    char buf[INET6_ADDRSTRLEN];
    return std::string(inet_ntop(AF_INET6, &a, buf, sizeof buf)) + "/64";
  }
  in_addr a;
  if (inet_pton(AF_INET, addr.c_str(), &a) != 1 || prefix > mask_v4 || mask_v4 > 30) return "";
  int bits = mask_v4 - prefix;
  if (bits < 31 && index >= (1 << bits)) return "";
  uint32_t host_bits = 32 - static_cast<uint32_t>(mask_v4);
  uint32_t base = ntohl(a.s_addr) & ~((1u << host_bits) - 1);
  a.s_addr = htonl(base + (static_cast<uint32_t>(index) << host_bits));
  char buf[INET_ADDRSTRLEN];
  return std::string(inet_ntop(AF_INET, &a, buf, sizeof buf)) + "/" + std::to_string(mask_v4);
}

Status NodeIPAMController::SyncNode(const std::string& name) {
  Json node;
  if (!nodes_.Get(name, &node)) return Status::OK();
  if (!node["spec"].value("podCIDRs", Json::array()).empty() || cidrs_.empty()) return Status::OK();
  std::set<std::string> used;
  for (const auto& n : nodes_.List()) {
    for (const auto& c : n["spec"].value("podCIDRs", Json::array())) used.insert(c.get<std::string>());
  }
  Json assigned = Json::array();
  for (const auto& cidr : cidrs_) {
    for (int i = 0;; ++i) {
      std::string block = Block(cidr, i, mask_v4_);
      if (block.empty()) return Status(Code::kServiceUnavailable, "no free pod CIDR left in " + cidr);
      if (!used.count(block)) {
        assigned.push_back(block);
        break;
      }
    }
  }
  Json patch = {{"spec", {{"podCIDR", assigned[0]}, {"podCIDRs", assigned}}}};
  return client_->Patch(kNodes, "", name, "application/merge-patch+json", patch).status();
}

void NodeIPAMController::Run(const std::atomic<bool>& stop) {
  std::thread informer([&] { nodes_.Run(stop); });
  // Allocation must see every node first, or a block could be handed out twice.
  while (!stop && !nodes_.HasSynced()) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  RunWorker(queue_, stop, std::chrono::seconds(1), [this](const std::string& key) { return SyncNode(key); });
  informer.join();
}

}  // namespace kubes::controller
