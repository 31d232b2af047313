#include "apiserver/registry/resource.h"

#include <algorithm>

namespace kubes::apiserver {

bool ResourceInfo::HasSubresource(const std::string& s) const {
  return std::find(subresources.begin(), subresources.end(), s) != subresources.end();
}

void Registry::Add(ResourcePtr r) {
  std::lock_guard<std::mutex> lock(mu_);
  for (auto& existing : resources_) {
    if (existing->group == r->group && existing->version == r->version && existing->resource == r->resource) {
      existing = std::move(r);
      ++generation_;
      return;
    }
  }
  resources_.push_back(std::move(r));
  ++generation_;
}

void Registry::Remove(const std::string& group, const std::string& resource) {
  std::lock_guard<std::mutex> lock(mu_);
  std::erase_if(resources_, [&](const ResourcePtr& r) { return r->group == group && r->resource == resource; });
  ++generation_;
}

void Registry::RemoveOtherVersions(const std::string& group, const std::string& resource,
                                   const std::vector<std::string>& keep) {
  std::lock_guard<std::mutex> lock(mu_);
  std::erase_if(resources_, [&](const ResourcePtr& r) {
    return r->group == group && r->resource == resource &&
           std::find(keep.begin(), keep.end(), r->version) == keep.end();
  });
  ++generation_;
}

ResourcePtr Registry::Find(const std::string& group, const std::string& version, const std::string& resource) const {
  std::lock_guard<std::mutex> lock(mu_);
  for (const auto& r : resources_) {
    if (r->group == group && r->version == version && r->resource == resource) return r;
  }
  return nullptr;
}

ResourcePtr Registry::FindKind(const std::string& group, const std::string& version, const std::string& kind) const {
  std::lock_guard<std::mutex> lock(mu_);
  for (const auto& r : resources_) {
    if (r->group == group && r->version == version && r->kind == kind) return r;
  }
  return nullptr;
}

std::vector<ResourcePtr> Registry::All() const {
  std::lock_guard<std::mutex> lock(mu_);
  return resources_;
}

std::vector<std::pair<std::string, std::vector<std::string>>> Registry::Groups() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<std::pair<std::string, std::vector<std::string>>> out;
  for (const auto& r : resources_) {
    auto it = std::find_if(out.begin(), out.end(), [&](auto& g) { return g.first == r->group; });
    if (it == out.end()) {
      out.push_back({r->group, {r->version}});
    } else if (std::find(it->second.begin(), it->second.end(), r->version) == it->second.end()) {
      it->second.push_back(r->version);
    }
  }
  return out;
}

uint64_t Registry::Generation() const {
  std::lock_guard<std::mutex> lock(mu_);
  return generation_;
}

}  // namespace kubes::apiserver
