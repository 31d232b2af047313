// Cacher — the apiserver's in-memory view of the store, and the source of watches.
//
// Mirrors k8s.io/apiserver/pkg/storage/cacher: every current object is kept in memory
// already parsed and serialized (one encode per write, however many watchers), together
// with a window of recent events that watches replay from. Reads never touch the disk;
// writes go to storage::Interface and come back through its observer before the write
// call returns, so a client that wrote something reads it back at once.
//
// Memory: the history window holds many versions of the same objects, and a parsed
// JSON tree costs several times its text. So only the current version of an object is
// kept parsed; once a write supersedes it (or for a deletion), the version that stays
// in the history is the serialized text alone. Most watchers are current and get the
// parsed objects anyway; one that needs an older version parsed (to apply a selector,
// or to print a Table row) calls Parsed(), which parses that copy on demand.
//
// Kinds written often and read rarely (Events: four or more per pod, each a tree of
// ~8 KB for ~1 KB of text) can be kept as text even while current: the cacher is told
// their key prefixes, and Get and List parse such objects when they are read.
//
// The parsed current objects lack metadata.managedFields (nearly half of a pod's
// tree, read only by writes): the text has them, and Get — what writes read — parses
// the text for a whole object. List, watches and in-process informers get the lean
// tree (selectors, table rows and controllers never read managedFields).
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
// Get, List, Create, Update and Delete always hand out parsed objects; the events of a
// watch may carry versions that are serialized only (object is null, see Parsed).
struct StoredObject {
  std::string key;
  int64_t revision = 0;  // the revision that wrote this state (or deleted the object)
  Json object;                // null in a version kept serialized only
  bool lean = false;          // object lacks metadata.managedFields (json has them)
  std::string json;           // the whole object as text, shared by every reader and watcher
  std::string metadata_json;  // object["metadata"].dump(), for table rows ("" when not parsed)
  // Fills json and metadata_json from object.
  void Encode();
  bool parsed() const { return !object.is_null(); }
};
using ObjectPtr = std::shared_ptr<const StoredObject>;

// The whole object: obj itself when it is parsed and not lean (or null); otherwise a
// parsed copy made from its text.
ObjectPtr Parsed(const ObjectPtr& obj);
// For readers that do not look at managedFields: obj itself when it is parsed, lean
// or not; otherwise a parsed copy made from its text.
ObjectPtr ParsedLean(const ObjectPtr& obj);

struct WatchEvent {
  enum class Type { kAdded, kModified, kDeleted };
  Type type = Type::kAdded;
  // The new state (kAdded, kModified) or the last one (kDeleted). May be serialized
  // only: a watcher that reads object->object calls Parsed() first.
  ObjectPtr object;
  // The state before this event (kModified, kDeleted), so a filtered watch can tell an
  // object that stopped matching its selector (sent as DELETED) from one that started.
  // Always serialized only (it has been superseded); null when unknown.
  ObjectPtr prev;
};
const char* WatchEventTypeName(WatchEvent::Type t);

class Cacher {
 public:
  // history_capacity: how many recent events a watch can be resumed from.
  // text_only_prefixes: current objects under these key prefixes are kept as text only
  // and parsed on each read ("/registry/core/events/"); none by default.
  Cacher(storage::Interface* store, size_t history_capacity, std::vector<std::string> text_only_prefixes = {});
  ~Cacher();

  // Beyond min_entries, history older than `fresh` is dropped as writes come in
  // (upstream's watch cache keeps 75 s of events, and at least 100 per resource):
  // watchers are current within a second, and a client resuming from an older
  // version lists again (410), while the history of a burst of writes does not stay
  // in memory. By default only history_capacity bounds the history.
  // REQUIRES: before Init.
  void SetFreshWindow(size_t min_entries, std::chrono::milliseconds fresh) {
    fresh_min_entries_ = min_entries;
    fresh_ = fresh;
  }

  // Loads every object and the recent history. REQUIRES: called once, before use.
  Status Init();

  // The whole object (managedFields too).
  Result<ObjectPtr> Get(const std::string& key) const;
  // Objects whose key starts with prefix, sorted by key, parsed but lean (without
  // managedFields; their text has them); *revision = the cache revision.
  std::vector<ObjectPtr> List(const std::string& prefix, int64_t* revision) const;
  int64_t Revision() const;
  // True for keys under the text-only prefixes: Get and List parse them for each reader.
  bool KeepsText(const std::string& key) const { return TextOnly(key); }

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
    std::chrono::steady_clock::time_point at;  // when the cacher saw it
  };
  // Drops history beyond the capacity, and beyond the fresh window. REQUIRES: mu_ held.
  void TrimHistory();
  void OnStorageEvent(const storage::Event& ev);
  Result<ObjectPtr> MakeObject(const storage::KeyValue& kv) const;
  // The history entry of superseded (if it is still there) keeps only its text.
  // REQUIRES: mu_ held.
  void KeepSerializedOnly(const ObjectPtr& superseded, const ObjectPtr& serialized);
  Result<ObjectPtr> FindWritten(const std::string& key, int64_t revision);
  bool TextOnly(const std::string& key) const;

  storage::Interface* store_;
  size_t capacity_;
  size_t fresh_min_entries_ = 0;
  std::chrono::milliseconds fresh_ = std::chrono::milliseconds::max();
  const std::vector<std::string> text_only_prefixes_;
  mutable std::mutex mu_;
  std::map<std::string, ObjectPtr, std::less<>> objects_;
  std::deque<HistoryEntry> history_;
  std::vector<Watcher*> watchers_;
  int64_t revision_ = 0;
  int64_t oldest_ = 0;  // watches may resume after this revision
  bool stopped_ = false;
};

}  // namespace kubes::apiserver
