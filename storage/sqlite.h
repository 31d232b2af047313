// SqliteStorage — storage::Interface on one SQLite database file (the kine idea).
//
// Layout: table `log` is an append-only list of revisions (key, value, create
// revision, deleted flag); table `current` maps each live key to the revision holding
// its value. A write is one transaction appending to `log` and updating `current`.
// The database runs in WAL mode with synchronous=NORMAL: a write that returned survives
// kill -9 of the process (the WAL is in the OS before commit returns).
// Compaction deletes log rows that are not the current value of a live key, then
// returns free pages to the file system (auto_vacuum=INCREMENTAL), so disk use stays
// bounded by the live data plus the retained history.
//
// The WAL is copied back into the database file by a background thread with its own
// connection (a passive checkpoint every half second), so no write waits for the fsync
// a checkpoint needs.
//
// Thread-safety: all methods take one mutex; SQLite is used from one thread at a time.
#pragma once

#include <condition_variable>
#include <memory>
#include <mutex>
#include <thread>

#include "storage/interface.h"

struct sqlite3;
struct sqlite3_stmt;

namespace kubes::storage {

class SqliteStorage : public Interface {
 public:
  // Opens (creating if needed) the database at path.
  static Result<std::unique_ptr<SqliteStorage>> Open(const std::string& path);
  ~SqliteStorage() override;

  Result<int64_t> Create(std::string_view key, std::string_view value) override;
  Result<int64_t> Update(std::string_view key, std::string_view value, int64_t expected_revision) override;
  Result<int64_t> Delete(std::string_view key, int64_t expected_revision) override;
  Result<KeyValue> Get(std::string_view key) override;
  Result<ListResult> List(std::string_view prefix) override;
  Result<std::vector<Event>> EventsSince(int64_t after_revision) override;
  void SetObserver(std::function<void(const Event&)> observer) override;
  Status Compact(int64_t revision) override;
  int64_t CurrentRevision() override;
  int64_t CompactedRevision() override;
  int64_t DiskSize() override;

 private:
  explicit SqliteStorage(std::string path) : path_(std::move(path)) {}
  Status Init();
  Status Exec(const char* sql);
  sqlite3_stmt* Prepare(const char* sql);
  Result<KeyValue> GetLocked(std::string_view key);
  Result<KeyValue> CheckRevisionLocked(std::string_view key, int64_t expected_revision);
  Result<int64_t> Write(const std::function<Status(Event&)>& body);
  // Appends a row to the log and points `current` at it (or removes the key).
  Status Append(int64_t revision, std::string_view key, std::string_view value, int64_t create_revision,
                bool deleted);

  std::string path_;
  std::mutex mu_;
  sqlite3* db_ = nullptr;
  int64_t revision_ = 0;
  int64_t compacted_ = 0;
  std::function<void(const Event&)> observer_;
  std::vector<sqlite3_stmt*> statements_;  // finalized in the destructor

  void CheckpointLoop();
  sqlite3* checkpoint_db_ = nullptr;
  std::thread checkpointer_;
  std::mutex stop_mu_;
  std::condition_variable stop_cv_;
  bool stopping_ = false;
};

}  // namespace kubes::storage
