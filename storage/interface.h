// storage::Interface — the revisioned key-value log the apiserver keeps objects in.
//
// Mirrors what kube-apiserver needs from etcd (k8s.io/apiserver/pkg/storage): every
// write gets the next global revision; updates and deletes are compare-and-swap on the
// key's last-modified revision; history since a revision can be read back for watches
// until it is compacted. Values are opaque bytes to this layer (the apiserver stores
// JSON).
//
// Implementations: SqliteStorage (embedded default, storage/sqlite.h). Every method
// is safe to call from any thread.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "util/status.h"

namespace kubes::storage {

struct KeyValue {
  std::string key;
  std::string value;
  int64_t create_revision = 0;  // revision of the write that created the key
  int64_t mod_revision = 0;     // revision of the last write to the key
};

struct Event {
  enum class Type { kPut, kDelete };
  Type type = Type::kPut;
  bool created = false;  // kPut that created the key
  // For kPut the new value; for kDelete the value the key had before it was deleted.
  // kv.mod_revision is the revision of this event in both cases.
  KeyValue kv;
};

struct ListResult {
  std::vector<KeyValue> items;  // sorted by key
  int64_t revision = 0;         // the store's revision the list was read at
};

class Interface {
 public:
  virtual ~Interface() = default;

  // Creates key. AlreadyExists if it exists. Returns the new revision.
  virtual Result<int64_t> Create(std::string_view key, std::string_view value) = 0;
  // Replaces the value of key when its mod_revision equals expected_revision
  // (0 = any). NotFound when missing, Conflict when the revision differs.
  virtual Result<int64_t> Update(std::string_view key, std::string_view value, int64_t expected_revision) = 0;
  // Deletes key under the same rules as Update. Returns the revision of the delete.
  virtual Result<int64_t> Delete(std::string_view key, int64_t expected_revision) = 0;

  virtual Result<KeyValue> Get(std::string_view key) = 0;
  // Every live key starting with prefix, at the current revision.
  virtual Result<ListResult> List(std::string_view prefix) = 0;
  // Every event with revision > after_revision, in order. Expired when part of that
  // history was compacted away.
  virtual Result<std::vector<Event>> EventsSince(int64_t after_revision) = 0;

  // Registers the one observer called after each committed write, in revision order,
  // on the writing thread, before the write call returns. The apiserver's watch cache
  // is the observer. REQUIRES: called before the first write.
  virtual void SetObserver(std::function<void(const Event&)> observer) = 0;

  // Forgets history at and below revision (live keys keep their latest value).
  virtual Status Compact(int64_t revision) = 0;
  virtual int64_t CurrentRevision() = 0;
  virtual int64_t CompactedRevision() = 0;
  // Bytes the store uses on disk (database and its journal).
  virtual int64_t DiskSize() = 0;
};

}  // namespace kubes::storage
