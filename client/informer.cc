#include "client/informer.h"

#include <chrono>
#include <thread>

namespace kubes::client {

void StripManagedFields(Json& obj) {
  auto meta = obj.find("metadata");
  if (meta != obj.end() && meta->is_object()) meta->erase("managedFields");
}

void KeepMetadataOnly(Json& obj) {
  if (!obj.is_object()) return;
  Json kept = Json::object();
  for (const char* field : {"apiVersion", "kind", "metadata"}) {
    auto it = obj.find(field);
    if (it != obj.end()) kept[field] = std::move(*it);
  }
  obj = std::move(kept);
  StripManagedFields(obj);
}

Informer::Informer(Client* client, Resource resource, std::string ns)
    : client_(client), resource_(std::move(resource)), namespace_(std::move(ns)) {}

void Informer::AddHandlers(Handlers h) { handlers_.push_back(std::move(h)); }

void Informer::AddIndex(const std::string& name, IndexFunc f) {
  if (indexes_.count(name)) return;
  if (!f && name == kNamespaceIndex) {
    f = [](const Json& obj) {
      return std::vector<std::string>{obj.value("metadata", Json::object()).value("namespace", "")};
    };
  }
  if (!f && name == kControllerIndex) {
    f = [](const Json& obj) {
      const Json& meta = obj.value("metadata", Json::object());
      for (const auto& ref : meta.value("ownerReferences", Json::array())) {
        if (ref.value("controller", false)) return std::vector<std::string>{ref.value("uid", "")};
      }
      return std::vector<std::string>{OrphansOf(meta.value("namespace", ""))};
    };
  }
  if (!f) return;  // an unknown built-in name: nothing to file by
  indexes_[name].values = std::move(f);
}

void Informer::Reindex(const std::string& key, const Json* old_obj, const Json* new_obj) {
  for (auto& [name, index] : indexes_) {
    std::vector<std::string> before, after;
    if (old_obj) before = index.values(*old_obj);
    if (new_obj) after = index.values(*new_obj);
    if (before == after) continue;
    for (const auto& v : before) {
      auto it = index.keys.find(v);
      if (it == index.keys.end()) continue;
      it->second.erase(key);
      if (it->second.empty()) index.keys.erase(it);
    }
    for (const auto& v : after) index.keys[v].insert(key);
  }
}

std::vector<Informer::ObjectPtr> Informer::ByIndex(const std::string& name, const std::string& value) const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<ObjectPtr> out;
  auto index = indexes_.find(name);
  if (index == indexes_.end()) return out;
  auto keys = index->second.keys.find(value);
  if (keys == index->second.keys.end()) return out;
  out.reserve(keys->second.size());
  for (const auto& key : keys->second) {
    auto it = items_.find(key);
    if (it != items_.end()) out.push_back(it->second);
  }
  return out;
}

std::string Informer::KeyOf(const Json& obj) {
  const Json& meta = obj.value("metadata", Json::object());
  std::string ns = meta.value("namespace", "");
  return ns.empty() ? meta.value("name", "") : ns + "/" + meta.value("name", "");
}

bool Informer::Get(const std::string& key, Json* out) const {
  ObjectPtr found = Get(key);
  if (!found) return false;
  *out = *found;
  return true;
}

Informer::ObjectPtr Informer::Get(const std::string& key) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = items_.find(key);
  return it == items_.end() ? nullptr : it->second;
}

std::vector<Json> Informer::List() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<Json> out;
  out.reserve(items_.size());
  for (const auto& [k, v] : items_) out.push_back(*v);
  return out;
}

std::vector<Informer::ObjectPtr> Informer::Snapshot() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<ObjectPtr> out;
  out.reserve(items_.size());
  for (const auto& [k, v] : items_) out.push_back(v);
  return out;
}

Informer::ObjectPtr Informer::Shared(const Json& obj) const {
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = items_.find(KeyOf(obj));
    if (it != items_.end() && it->second.get() == &obj) return it->second;
  }
  return std::make_shared<const Json>(obj);
}

Informer::ObjectPtr Informer::Prepare(const ObjectPtr& obj, bool shared) const {
  // A shared object costs nothing to keep: the transform (which only drops fields to
  // save memory) would cost a copy.
  if (shared || !transform_) return obj;
  Json copy = *obj;
  transform_(copy);
  return std::make_shared<const Json>(std::move(copy));
}

void Informer::Apply(bool deleted, const ObjectPtr& obj) {
  std::string key = KeyOf(*obj);
  ObjectPtr old;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = items_.find(key);
    if (it != items_.end()) old = it->second;
    Reindex(key, old.get(), deleted ? nullptr : obj.get());
    if (deleted) items_.erase(key);
    else items_[key] = obj;
  }
  for (const auto& h : handlers_) {
    if (deleted) {
      if (h.on_delete) h.on_delete(*obj);
    } else if (old) {
      if (h.on_update) h.on_update(*old, *obj);
    } else if (h.on_add) {
      h.on_add(*obj);
    }
  }
}

Status Informer::ListAndWatch(const std::atomic<bool>& stop) {
  auto list = client_->ListObjects(resource_, namespace_, label_selector_, field_selector_);
  if (!list.ok()) return list.status();
  // Replace the store: what is gone was deleted while we were not watching.
  std::map<std::string, ObjectPtr> fresh;
  for (auto& item : list->items) {
    ObjectPtr obj = Prepare(item.object, item.shared);
    item.object.reset();  // an unshared raw item is no longer needed while the store is rebuilt
    fresh[KeyOf(*obj)] = std::move(obj);
  }
  resource_version_ = list->resource_version;
  list->items.clear();
  std::vector<ObjectPtr> gone;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (const auto& [k, v] : items_) {
      if (!fresh.count(k)) gone.push_back(v);
    }
  }
  for (const auto& obj : gone) Apply(/*deleted=*/true, obj);
  for (const auto& [k, obj] : fresh) Apply(/*deleted=*/false, obj);
  synced_ = true;
  while (!stop) {
    Status s = client_->Watch(resource_, namespace_, resource_version_, [&](const WatchEvent& ev) {
      std::string rv = ev.object->value("metadata", Json::object()).value("resourceVersion", "");
      if (!rv.empty()) resource_version_ = rv;
      if (ev.type != "BOOKMARK") Apply(ev.type == "DELETED", Prepare(ev.object, ev.shared));
      return !stop.load();
    }, stop, 300, label_selector_, field_selector_);
    if (!s.ok()) return s;  // Expired → relist
  }
  return Status::OK();
}

void Informer::Run(const std::atomic<bool>& stop) {
  auto backoff = std::chrono::milliseconds(100);
  while (!stop) {
    Status s = ListAndWatch(stop);
    if (stop) return;
    if (!s.ok()) {
      std::this_thread::sleep_for(backoff);
      backoff = std::min(backoff * 2, std::chrono::milliseconds(5000));
    } else {
      backoff = std::chrono::milliseconds(100);
    }
  }
}

}  // namespace kubes::client
