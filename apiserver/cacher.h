// Cacher — the apiserver's in-memory view of the store, and the source of watches.
//
// Mirrors k8s.io/apiserver/pkg/storage/cacher: every object is kept in memory already
// parsed and serialized (one encode per write, however many watchers), together with a
// window of recent events that watches replay from. Reads never touch the disk; writes
// go to storage::Interface and come back through its observer before the write call
// returns, so a client that wrote something reads it back at once.
//
// Thread-safety: all methods may be called from any thread. Watchers block in
// Watcher::Next on a condition variable that every write signals.
#pragma once

#include <chrono>
#include <condition_variable>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "storage/interface.h"
#include "util/status.h"

namespace kubes::apiserver {

using Json = nlohmann::json;

// One object as the apiserver serves it: metadata.resourceVersion is filled in.
struct StoredObject {
  std::string key;
  int64_t revision = 0;  // the revision that wrote this state (or deleted the object)
  Json object;
  std::string json;           // object.dump(), shared by every reader and watcher
  std::string metadata_json;  // object["metadata"].dump(), for table rows
  // Fills json and metadata_json from object.
  void Encode();
};
using ObjectPtr = std::shared_ptr<const StoredObject>;

struct WatchEvent {
  enum class Type { kAdded, kModified, kDeleted };
  Type type = Type::kAdded;
  ObjectPtr object;
  // The state before this event (kModified, kDeleted), so a filtered watch can tell an
  // object that stopped matching its selector (sent as DELETED) from one that started.
  ObjectPtr prev;
};
const char* WatchEventTypeName(WatchEvent::Type t);

class Cacher {
 public:
  // history_capacity: how many recent events a watch can be resumed from.
  Cacher(storage::Interface* store, size_t history_capacity);
  ~Cacher();

  // Loads every object and the recent history. REQUIRES: called once, before use.
  Status Init();

  Result<ObjectPtr> Get(const std::string& key) const;
  // Objects whose key starts with prefix, sorted by key; *revision = the cache revision.
  std::vector<ObjectPtr> List(const std::string& prefix, int64_t* revision) const;
  int64_t Revision() const;

  // The object must not carry metadata.resourceVersion (it is removed if present).
  Result<ObjectPtr> Create(const std::string& key, Json object);
  // expected_revision 0 = unconditional.
  Result<ObjectPtr> Update(const std::string& key, Json object, int64_t expected_revision);
  // Returns the object's last state, with the revision of the deletion.
  Result<ObjectPtr> Delete(const std::string& key, int64_t expected_revision);

  // Drops history at or below revision, from the store and from memory.
  Status Compact(int64_t revision);

  // One watch. Only writes under its prefix wake it, so a write costs one wake-up per
  // interested watcher, not one per watcher in the process.
  class Watcher {
   public:
    ~Watcher();
    // Waits up to timeout for events; returns them (possibly none). Returns Expired
    // when the watcher fell behind the history window, or Gone when the cacher stops.
    Result<std::vector<WatchEvent>> Next(std::chrono::milliseconds timeout);
    // The revision this watcher has seen everything up to (for bookmarks).
    int64_t revision() const;

   private:
    friend class Cacher;
    Watcher(Cacher* c, std::string prefix, int64_t rev) : cacher_(c), prefix_(std::move(prefix)), revision_(rev) {}
    Cacher* cacher_;
    std::string prefix_;
    int64_t revision_;                  // last revision delivered (guarded by the cacher's mutex)
    bool pending_ = false;              // a matching event arrived since the last Next
    std::condition_variable wake_;
    std::vector<WatchEvent> initial_;   // synthetic ADDED events for a watch from "0"
  };
  // Starts a watch of keys under prefix after from_revision. from_revision 0 starts
  // with an ADDED event per current object ("any version"). Expired when
  // from_revision is older than the history window.
  Result<std::unique_ptr<Watcher>> Watch(const std::string& prefix, int64_t from_revision);

  // Wakes every watcher so it returns Gone (server shutdown).
  void Stop();

 private:
  struct HistoryEntry {
    int64_t revision;
    WatchEvent event;
  };
  void OnStorageEvent(const storage::Event& ev);
  Result<ObjectPtr> MakeObject(const storage::KeyValue& kv) const;
  Result<ObjectPtr> FindWritten(const std::string& key, int64_t revision);

  storage::Interface* store_;
  size_t capacity_;
  mutable std::mutex mu_;
  std::map<std::string, ObjectPtr, std::less<>> objects_;
  std::deque<HistoryEntry> history_;
  std::vector<Watcher*> watchers_;
  int64_t revision_ = 0;
  int64_t oldest_ = 0;  // watches may resume after this revision
  bool stopped_ = false;
};

}  // namespace kubes::apiserver
