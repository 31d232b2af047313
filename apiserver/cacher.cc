#include "apiserver/cacher.h"

#include <algorithm>

namespace kubes::apiserver {
namespace {
// Events replayed into the history window at start-up: enough for clients that were
// watching just before a restart to resume, small enough to keep start-up fast.
constexpr int64_t kStartupHistory = 1000;

// A copy of obj that keeps only its text: what the history holds of a version that is
// no longer current.
ObjectPtr SerializedOnly(const StoredObject& obj) {
  auto out = std::make_shared<StoredObject>();
  out->key = obj.key;
  out->revision = obj.revision;
  out->json = obj.json;
  return out;
}

WatchEvent::Type EventType(const storage::Event& ev) {
  if (ev.type == storage::Event::Type::kDelete) return WatchEvent::Type::kDeleted;
  return ev.created ? WatchEvent::Type::kAdded : WatchEvent::Type::kModified;
}

}  // namespace

void StoredObject::Encode() {
  // dump() grows its string by doubling: without the shrink, up to half of every text
  // kept in the cache would be unused capacity.
  json = object.dump();
  json.shrink_to_fit();
  auto m = object.find("metadata");
  metadata_json = m != object.end() ? m->dump() : "{}";
  metadata_json.shrink_to_fit();
}

ObjectPtr Parsed(const ObjectPtr& obj) {
  if (!obj || (obj->parsed() && !obj->lean)) return obj;
  auto out = std::make_shared<StoredObject>();
  out->key = obj->key;
  out->revision = obj->revision;
  out->object = Json::parse(obj->json, nullptr, /*allow_exceptions=*/false);
  if (!out->object.is_object()) out->object = Json::object();  // cannot happen: the cacher wrote the text
  out->json = obj->json;
  auto m = out->object.find("metadata");
  out->metadata_json = m != out->object.end() ? m->dump() : "{}";
  return out;
}

ObjectPtr ParsedLean(const ObjectPtr& obj) {
  if (!obj || obj->parsed()) return obj;
  return Parsed(obj);
}

namespace {
// Drops managedFields from the parsed tree of a current object once its text is made.
void MakeLean(StoredObject* obj) {
  auto meta = obj->object.find("metadata");
  if (meta == obj->object.end() || !meta->is_object() || !meta->contains("managedFields")) return;
  meta->erase("managedFields");
  obj->lean = true;
}
}  // namespace

const char* WatchEventTypeName(WatchEvent::Type t) {
  switch (t) {
    case WatchEvent::Type::kAdded: return "ADDED";
    case WatchEvent::Type::kModified: return "MODIFIED";
    case WatchEvent::Type::kDeleted: return "DELETED";
  }
  return "ERROR";
}

Cacher::Cacher(storage::Interface* store, size_t history_capacity, std::vector<std::string> text_only_prefixes)
    : store_(store), capacity_(history_capacity), text_only_prefixes_(std::move(text_only_prefixes)) {}

bool Cacher::TextOnly(const std::string& key) const {
  for (const auto& p : text_only_prefixes_) {
    if (key.starts_with(p)) return true;
  }
  return false;
}

Cacher::~Cacher() { Stop(); }

Result<ObjectPtr> Cacher::MakeObject(const storage::KeyValue& kv) const {
  auto obj = std::make_shared<StoredObject>();
  obj->key = kv.key;
  obj->revision = kv.mod_revision;
  obj->object = Json::parse(kv.value, nullptr, /*allow_exceptions=*/false);
  if (obj->object.is_discarded() || !obj->object.is_object()) {
    return Internal("stored object " + kv.key + " is not valid JSON");
  }
  obj->object["metadata"]["resourceVersion"] = std::to_string(kv.mod_revision);
  obj->Encode();
  MakeLean(obj.get());
  return ObjectPtr(std::move(obj));
}

Status Cacher::Init() {
  int64_t current = store_->CurrentRevision();
  int64_t from = std::max(store_->CompactedRevision(), current - kStartupHistory);
  auto events = store_->EventsSince(from);
  if (!events.ok()) return events.status();
  auto list = store_->List("");
  if (!list.ok()) return list.status();
  std::lock_guard<std::mutex> lock(mu_);
  for (const auto& kv : list->items) {
    auto obj = MakeObject(kv);
    if (!obj.ok()) return obj.status();
    objects_[kv.key] = TextOnly(kv.key) ? SerializedOnly(**obj) : *obj;
  }
  revision_ = list->revision;
  oldest_ = from;
  for (const auto& ev : *events) {
    if (ev.kv.mod_revision > revision_) break;
    WatchEvent::Type t = EventType(ev);
    // The current version is shared with objects_; older ones keep only their text.
    auto current = objects_.find(ev.kv.key);
    if (t != WatchEvent::Type::kDeleted && current != objects_.end() &&
        current->second->revision == ev.kv.mod_revision) {
      history_.push_back({ev.kv.mod_revision, WatchEvent{t, current->second, nullptr}, std::chrono::steady_clock::now()});
      continue;
    }
    auto obj = MakeObject(ev.kv);
    if (!obj.ok()) return obj.status();
    history_.push_back({ev.kv.mod_revision, WatchEvent{t, SerializedOnly(**obj), nullptr}, std::chrono::steady_clock::now()});
  }
  store_->SetObserver([this](const storage::Event& ev) { OnStorageEvent(ev); });
  return Status::OK();
}

namespace {
// The object a Create or Update of this thread is writing, handed to the observer
// (which runs on the same thread inside the store's write) so it need not parse the
// bytes it was just given.
thread_local Json* t_writing = nullptr;
}  // namespace

// Called by the store after each committed write, in revision order.
void Cacher::OnStorageEvent(const storage::Event& ev) {
  WatchEvent::Type t = EventType(ev);
  ObjectPtr current;  // the version this write supersedes
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (auto it = objects_.find(ev.kv.key); it != objects_.end()) current = it->second;
  }
  auto obj = std::make_shared<StoredObject>();
  obj->key = ev.kv.key;
  obj->revision = ev.kv.mod_revision;
  if (t == WatchEvent::Type::kDeleted && current) {
    obj->object = Parsed(current)->object;  // the last state, at the deletion's revision
  } else if (t_writing) {
    obj->object = std::move(*t_writing);
    t_writing = nullptr;
  } else {
    auto parsed = MakeObject(ev.kv);
    if (!parsed.ok()) return;  // cannot happen: we only store what we serialized
    obj->object = Parsed(*parsed)->object;  // whole: its text is made again below
  }
  obj->object["metadata"]["resourceVersion"] = std::to_string(ev.kv.mod_revision);
  if (t == WatchEvent::Type::kDeleted || TextOnly(ev.kv.key)) {
    // Gone from objects_ (only the history keeps it), or a kind kept as text.
    obj->json = obj->object.dump();
    obj->json.shrink_to_fit();
    obj->object = Json();
  } else {
    obj->Encode();
    MakeLean(obj.get());
  }
  ObjectPtr prev;
  if (current) prev = current->parsed() ? SerializedOnly(*current) : current;
  std::lock_guard<std::mutex> lock(mu_);
  if (current && current != prev) KeepSerializedOnly(current, prev);
  if (t == WatchEvent::Type::kDeleted) objects_.erase(ev.kv.key);
  else objects_[ev.kv.key] = obj;
  history_.push_back({ev.kv.mod_revision, WatchEvent{t, obj, prev}, std::chrono::steady_clock::now()});
  revision_ = ev.kv.mod_revision;
  TrimHistory();
  for (Watcher* w : watchers_) {
    if (!ev.kv.key.starts_with(w->prefix_)) continue;
    w->pending_ = true;
    w->wake_.notify_one();
  }
}

void Cacher::TrimHistory() {
  auto stale = [&] {
    if (history_.size() > capacity_) return true;
    if (history_.size() <= fresh_min_entries_ || fresh_ == std::chrono::milliseconds::max()) return false;
    return std::chrono::steady_clock::now() - history_.front().at > fresh_;
  };
  while (!history_.empty() && stale()) {
    oldest_ = history_.front().revision;
    history_.pop_front();
  }
}

void Cacher::KeepSerializedOnly(const ObjectPtr& superseded, const ObjectPtr& serialized) {
  auto it = std::lower_bound(history_.begin(), history_.end(), superseded->revision,
                             [](const HistoryEntry& e, int64_t r) { return e.revision < r; });
  if (it != history_.end() && it->revision == superseded->revision && it->event.object == superseded) {
    it->event.object = serialized;
  }
}

Result<ObjectPtr> Cacher::Get(const std::string& key) const {
  ObjectPtr found;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = objects_.find(key);
    if (it == objects_.end()) return NotFound(key);
    found = it->second;
  }
  return Parsed(found);  // a no-op but for kinds kept as text
}

std::vector<ObjectPtr> Cacher::List(const std::string& prefix, int64_t* revision) const {
  std::vector<ObjectPtr> out;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (auto it = objects_.lower_bound(prefix); it != objects_.end() && it->first.starts_with(prefix); ++it) {
      out.push_back(it->second);
    }
    if (revision) *revision = revision_;
  }
  for (ObjectPtr& obj : out) obj = ParsedLean(obj);  // a no-op but for kinds kept as text
  return out;
}

int64_t Cacher::Revision() const {
  std::lock_guard<std::mutex> lock(mu_);
  return revision_;
}

// The state a write of ours produced, found in the history (the observer has run).
// Parsed: a deletion's state, or one that a concurrent write has already superseded,
// is kept as text only.
Result<ObjectPtr> Cacher::FindWritten(const std::string& key, int64_t revision) {
  ObjectPtr found;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = std::lower_bound(history_.begin(), history_.end(), revision,
                               [](const HistoryEntry& e, int64_t r) { return e.revision < r; });
    if (it != history_.end() && it->revision == revision) found = it->event.object;
  }
  if (found) return Parsed(found);
  return Internal("written revision " + std::to_string(revision) + " of " + key + " is not in the cache");
}

namespace {
std::string Serialize(Json& object) {
  if (object.contains("metadata") && object["metadata"].is_object()) object["metadata"].erase("resourceVersion");
  return object.dump();
}
}  // namespace

Result<ObjectPtr> Cacher::Create(const std::string& key, Json object) {
  std::string bytes = Serialize(object);
  t_writing = &object;
  auto rev = store_->Create(key, bytes);
  t_writing = nullptr;
  if (!rev.ok()) return rev.status();
  return FindWritten(key, *rev);
}

Result<ObjectPtr> Cacher::Update(const std::string& key, Json object, int64_t expected_revision) {
  std::string bytes = Serialize(object);
  t_writing = &object;
  auto rev = store_->Update(key, bytes, expected_revision);
  t_writing = nullptr;
  if (!rev.ok()) return rev.status();
  return FindWritten(key, *rev);
}

Result<ObjectPtr> Cacher::Delete(const std::string& key, int64_t expected_revision) {
  auto rev = store_->Delete(key, expected_revision);
  if (!rev.ok()) return rev.status();
  return FindWritten(key, *rev);
}

Status Cacher::Compact(int64_t revision) {
  KUBES_RETURN_IF_ERROR(store_->Compact(revision));
  std::lock_guard<std::mutex> lock(mu_);
  while (!history_.empty() && history_.front().revision <= revision) {
    oldest_ = history_.front().revision;
    history_.pop_front();
  }
  oldest_ = std::max(oldest_, std::min(revision, revision_));
  return Status::OK();
}

Result<std::unique_ptr<Cacher::Watcher>> Cacher::Watch(const std::string& prefix, int64_t from_revision) {
  std::lock_guard<std::mutex> lock(mu_);
  std::unique_ptr<Watcher> w;
  if (from_revision == 0) {
    w.reset(new Watcher(this, prefix, revision_));
    for (auto it = objects_.lower_bound(prefix); it != objects_.end() && it->first.starts_with(prefix); ++it) {
      w->initial_.push_back(WatchEvent{WatchEvent::Type::kAdded, it->second, nullptr});
    }
  } else if (from_revision < oldest_) {
    return Expired("too old resource version: " + std::to_string(from_revision) + " (" + std::to_string(oldest_) + ")");
  } else {
    w.reset(new Watcher(this, prefix, std::min(from_revision, revision_)));
    // Events after from_revision may already be in the history.
    w->pending_ = from_revision < revision_;
  }
  watchers_.push_back(w.get());
  return w;
}

void Cacher::Stop() {
  std::lock_guard<std::mutex> lock(mu_);
  stopped_ = true;
  for (Watcher* w : watchers_) w->wake_.notify_one();
}

Cacher::Watcher::~Watcher() {
  std::lock_guard<std::mutex> lock(cacher_->mu_);
  std::erase(cacher_->watchers_, this);
}

int64_t Cacher::Watcher::revision() const {
  std::lock_guard<std::mutex> lock(cacher_->mu_);
  return revision_;
}

Result<std::vector<WatchEvent>> Cacher::Watcher::Next(std::chrono::milliseconds timeout) {
  if (!initial_.empty()) {
    std::vector<WatchEvent> first;
    first.swap(initial_);
    return first;
  }
  Cacher& c = *cacher_;
  std::unique_lock<std::mutex> lock(c.mu_);
  wake_.wait_for(lock, timeout, [&] { return c.stopped_ || pending_; });
  if (c.stopped_) return Gone("the server is shutting down");
  if (!pending_) {
    // Nothing under our prefix happened: we are current up to the cache's revision.
    revision_ = c.revision_;
    return std::vector<WatchEvent>{};
  }
  pending_ = false;
  if (revision_ < c.oldest_) {
    return Expired("too old resource version: " + std::to_string(revision_) + " (" + std::to_string(c.oldest_) + ")");
  }
  std::vector<WatchEvent> out;
  auto it = std::upper_bound(c.history_.begin(), c.history_.end(), revision_,
                             [](int64_t r, const HistoryEntry& e) { return r < e.revision; });
  for (; it != c.history_.end(); ++it) {
    if (it->event.object->key.starts_with(prefix_)) out.push_back(it->event);
  }
  revision_ = c.revision_;
  return out;
}

}  // namespace kubes::apiserver
