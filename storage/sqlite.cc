#include "storage/sqlite.h"

#include <sqlite3.h>
#include <sys/stat.h>

#include <algorithm>

namespace kubes::storage {
namespace {

// The WAL size at which the background checkpoint truncates it.
constexpr off_t kMaxWalBytes = 32 << 20;

const char* kSchema = R"SQL(
CREATE TABLE IF NOT EXISTS log (
  revision        INTEGER PRIMARY KEY,
  key             TEXT    NOT NULL,
  create_revision INTEGER NOT NULL,
  deleted         INTEGER NOT NULL,
  value           BLOB    NOT NULL
);
CREATE TABLE IF NOT EXISTS current (
  key      TEXT PRIMARY KEY,
  revision INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS meta (
  name  TEXT PRIMARY KEY,
  value INTEGER NOT NULL
) WITHOUT ROWID;
)SQL";

// Scoped reset of a cached statement.
struct StmtReset {
  sqlite3_stmt* s;
  ~StmtReset() {
    sqlite3_reset(s);
    sqlite3_clear_bindings(s);
  }
};

void BindText(sqlite3_stmt* s, int i, std::string_view v) {
  sqlite3_bind_text(s, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
}
void BindBlob(sqlite3_stmt* s, int i, std::string_view v) {
  sqlite3_bind_blob(s, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
}
std::string ColumnString(sqlite3_stmt* s, int i) {
  const void* p = sqlite3_column_blob(s, i);
  int n = sqlite3_column_bytes(s, i);
  return p ? std::string(static_cast<const char*>(p), n) : std::string();
}

}  // namespace

Result<std::unique_ptr<SqliteStorage>> SqliteStorage::Open(const std::string& path) {
  std::unique_ptr<SqliteStorage> s(new SqliteStorage(path));
  if (Status st = s->Init(); !st.ok()) return std::move(st).Wrap("sqlite " + path);
  return s;
}

SqliteStorage::~SqliteStorage() {
  {
    std::lock_guard<std::mutex> lock(stop_mu_);
    stopping_ = true;
  }
  stop_cv_.notify_all();
  if (checkpointer_.joinable()) checkpointer_.join();
  if (checkpoint_db_) sqlite3_close(checkpoint_db_);
  for (sqlite3_stmt* s : statements_) sqlite3_finalize(s);
  if (db_) sqlite3_close(db_);
}

void SqliteStorage::CheckpointLoop() {
  std::unique_lock<std::mutex> lock(stop_mu_);
  while (!stop_cv_.wait_for(lock, std::chrono::milliseconds(500), [this] { return stopping_; })) {
    // PASSIVE never blocks writers; it copies what it can and leaves the rest. Under a
    // steady stream of writes it never reaches the end of the WAL, so once the WAL is
    // big a TRUNCATE checkpoint (which makes writers wait a moment) starts it afresh.
    struct stat st;
    bool big = ::stat((path_ + "-wal").c_str(), &st) == 0 && st.st_size > kMaxWalBytes;
    if (!big) {
      sqlite3_wal_checkpoint_v2(checkpoint_db_, nullptr, SQLITE_CHECKPOINT_PASSIVE, nullptr, nullptr);
      continue;
    }
    // Holding the store's own mutex guarantees no write is in flight.
    lock.unlock();
    {
      std::lock_guard<std::mutex> write_lock(mu_);
      (void)Exec("PRAGMA wal_checkpoint(TRUNCATE)");
    }
    lock.lock();
  }
}

Status SqliteStorage::Exec(const char* sql) {
  char* err = nullptr;
  if (sqlite3_exec(db_, sql, nullptr, nullptr, &err) != SQLITE_OK) {
    std::string msg = err ? err : "unknown error";
    sqlite3_free(err);
    return Internal(msg);
  }
  return Status::OK();
}

// Statements are cached by the address of their SQL text (always a literal).
sqlite3_stmt* SqliteStorage::Prepare(const char* sql) {
  for (sqlite3_stmt* s : statements_) {
    if (std::string_view(sqlite3_sql(s)) == sql) return s;
  }
  sqlite3_stmt* stmt = nullptr;
  if (sqlite3_prepare_v3(db_, sql, -1, SQLITE_PREPARE_PERSISTENT, &stmt, nullptr) != SQLITE_OK) return nullptr;
  statements_.push_back(stmt);
  return stmt;
}

Status SqliteStorage::Init() {
  if (sqlite3_open_v2(path_.c_str(), &db_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                      nullptr) != SQLITE_OK) {
    return Internal(db_ ? sqlite3_errmsg(db_) : "cannot open");
  }
  sqlite3_busy_timeout(db_, 5000);
  // auto_vacuum must be chosen before the first table exists.
  KUBES_RETURN_IF_ERROR(Exec("PRAGMA auto_vacuum=INCREMENTAL"));
  KUBES_RETURN_IF_ERROR(Exec("PRAGMA journal_mode=WAL"));
  KUBES_RETURN_IF_ERROR(Exec("PRAGMA synchronous=NORMAL"));
  KUBES_RETURN_IF_ERROR(Exec("PRAGMA journal_size_limit=16777216"));
  KUBES_RETURN_IF_ERROR(Exec(kSchema));
  // Checkpoints happen in the background (CheckpointLoop), not inside a commit.
  KUBES_RETURN_IF_ERROR(Exec("PRAGMA wal_autocheckpoint=0"));
  if (sqlite3_open_v2(path_.c_str(), &checkpoint_db_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, nullptr) !=
      SQLITE_OK) {
    return Internal("opening the checkpoint connection");
  }
  sqlite3_busy_timeout(checkpoint_db_, 100);
  checkpointer_ = std::thread([this] { CheckpointLoop(); });
  sqlite3_stmt* s = Prepare("SELECT COALESCE(MAX(revision), 0) FROM log");
  if (!s) return Internal(sqlite3_errmsg(db_));
  {
    StmtReset r{s};
    if (sqlite3_step(s) == SQLITE_ROW) revision_ = sqlite3_column_int64(s, 0);
  }
  s = Prepare("SELECT value FROM meta WHERE name = 'compacted'");
  if (!s) return Internal(sqlite3_errmsg(db_));
  {
    StmtReset r{s};
    if (sqlite3_step(s) == SQLITE_ROW) compacted_ = sqlite3_column_int64(s, 0);
  }
  // A compaction may have removed the newest row (a delete); the revision never goes back.
  revision_ = std::max(revision_, compacted_);
  return Status::OK();
}

Result<KeyValue> SqliteStorage::GetLocked(std::string_view key) {
  sqlite3_stmt* s = Prepare(
      "SELECT l.revision, l.create_revision, l.value FROM current c JOIN log l ON l.revision = c.revision "
      "WHERE c.key = ?");
  if (!s) return Internal(sqlite3_errmsg(db_));
  StmtReset r{s};
  BindText(s, 1, key);
  int rc = sqlite3_step(s);
  if (rc == SQLITE_DONE) return NotFound(std::string(key));
  if (rc != SQLITE_ROW) return Internal(sqlite3_errmsg(db_));
  KeyValue kv;
  kv.key = std::string(key);
  kv.mod_revision = sqlite3_column_int64(s, 0);
  kv.create_revision = sqlite3_column_int64(s, 1);
  kv.value = ColumnString(s, 2);
  return kv;
}

Status SqliteStorage::Append(int64_t revision, std::string_view key, std::string_view value,
                             int64_t create_revision, bool deleted) {
  sqlite3_stmt* ins = Prepare("INSERT INTO log(revision, key, create_revision, deleted, value) VALUES (?, ?, ?, ?, ?)");
  if (!ins) return Internal(sqlite3_errmsg(db_));
  {
    StmtReset r{ins};
    sqlite3_bind_int64(ins, 1, revision);
    BindText(ins, 2, key);
    sqlite3_bind_int64(ins, 3, create_revision);
    sqlite3_bind_int(ins, 4, deleted ? 1 : 0);
    BindBlob(ins, 5, value);
    if (sqlite3_step(ins) != SQLITE_DONE) return Internal(sqlite3_errmsg(db_));
  }
  sqlite3_stmt* cur = deleted ? Prepare("DELETE FROM current WHERE key = ?")
                              : Prepare("INSERT OR REPLACE INTO current(key, revision) VALUES (?, ?)");
  if (!cur) return Internal(sqlite3_errmsg(db_));
  StmtReset r{cur};
  BindText(cur, 1, key);
  if (!deleted) sqlite3_bind_int64(cur, 2, revision);
  if (sqlite3_step(cur) != SQLITE_DONE) return Internal(sqlite3_errmsg(db_));
  return Status::OK();
}

// One write: BEGIN, `body` checks the current state and appends, COMMIT, then the
// observer hears of it. The body fills in the event it produced.
Result<int64_t> SqliteStorage::Write(const std::function<Status(Event&)>& body) {
  std::lock_guard<std::mutex> lock(mu_);
  KUBES_RETURN_IF_ERROR(Exec("BEGIN IMMEDIATE"));
  Event ev;
  Status st = body(ev);
  if (st.ok()) st = Exec("COMMIT");
  if (!st.ok()) {
    (void)Exec("ROLLBACK");
    return st;
  }
  revision_ = ev.kv.mod_revision;
  if (observer_) observer_(ev);
  return revision_;
}

Result<int64_t> SqliteStorage::Create(std::string_view key, std::string_view value) {
  return Write([&](Event& ev) -> Status {
    auto existing = GetLocked(key);
    if (existing.ok()) return AlreadyExists(std::string(key));
    if (existing.status().code() != Code::kNotFound) return existing.status();
    int64_t rev = revision_ + 1;
    KUBES_RETURN_IF_ERROR(Append(rev, key, value, rev, false));
    ev = Event{Event::Type::kPut, true, KeyValue{std::string(key), std::string(value), rev, rev}};
    return Status::OK();
  });
}

// Shared by Update and Delete: the key must exist at the expected revision.
Result<KeyValue> SqliteStorage::CheckRevisionLocked(std::string_view key, int64_t expected_revision) {
  auto existing = GetLocked(key);
  if (!existing.ok()) return existing.status();
  if (expected_revision != 0 && existing->mod_revision != expected_revision) {
    return Conflict("revision mismatch: have " + std::to_string(existing->mod_revision) + ", expected " +
                    std::to_string(expected_revision));
  }
  return existing;
}

Result<int64_t> SqliteStorage::Update(std::string_view key, std::string_view value, int64_t expected_revision) {
  return Write([&](Event& ev) -> Status {
    auto existing = CheckRevisionLocked(key, expected_revision);
    if (!existing.ok()) return existing.status();
    int64_t rev = revision_ + 1;
    KUBES_RETURN_IF_ERROR(Append(rev, key, value, existing->create_revision, false));
    ev = Event{Event::Type::kPut, false, KeyValue{std::string(key), std::string(value), existing->create_revision, rev}};
    return Status::OK();
  });
}

Result<int64_t> SqliteStorage::Delete(std::string_view key, int64_t expected_revision) {
  return Write([&](Event& ev) -> Status {
    auto existing = CheckRevisionLocked(key, expected_revision);
    if (!existing.ok()) return existing.status();
    int64_t rev = revision_ + 1;
    // The tombstone keeps the last value so a watcher's DELETED event can carry it.
    KUBES_RETURN_IF_ERROR(Append(rev, key, existing->value, existing->create_revision, true));
    ev = Event{Event::Type::kDelete, false, KeyValue{std::string(key), existing->value, existing->create_revision, rev}};
    return Status::OK();
  });
}

Result<KeyValue> SqliteStorage::Get(std::string_view key) {
  std::lock_guard<std::mutex> lock(mu_);
  return GetLocked(key);
}

Result<ListResult> SqliteStorage::List(std::string_view prefix) {
  std::lock_guard<std::mutex> lock(mu_);
  // Keys in [prefix, prefix + 0xFF): a range scan on the primary key.
  sqlite3_stmt* s = Prepare(
      "SELECT c.key, l.revision, l.create_revision, l.value FROM current c JOIN log l ON l.revision = c.revision "
      "WHERE c.key >= ? AND c.key < ? ORDER BY c.key");
  if (!s) return Internal(sqlite3_errmsg(db_));
  StmtReset r{s};
  std::string end = std::string(prefix) + "\xff";
  BindText(s, 1, prefix);
  BindText(s, 2, end);
  ListResult out;
  out.revision = revision_;
  int rc;
  while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
    KeyValue kv;
    kv.key = ColumnString(s, 0);
    kv.mod_revision = sqlite3_column_int64(s, 1);
    kv.create_revision = sqlite3_column_int64(s, 2);
    kv.value = ColumnString(s, 3);
    out.items.push_back(std::move(kv));
  }
  if (rc != SQLITE_DONE) return Internal(sqlite3_errmsg(db_));
  return out;
}

Result<std::vector<Event>> SqliteStorage::EventsSince(int64_t after_revision) {
  std::lock_guard<std::mutex> lock(mu_);
  if (after_revision < compacted_) {
    return Expired("required revision " + std::to_string(after_revision + 1) + " has been compacted");
  }
  sqlite3_stmt* s = Prepare(
      "SELECT l.revision, l.key, l.create_revision, l.deleted, l.value FROM log l WHERE l.revision > ? "
      "ORDER BY l.revision");
  if (!s) return Internal(sqlite3_errmsg(db_));
  StmtReset r{s};
  sqlite3_bind_int64(s, 1, after_revision);
  std::vector<Event> out;
  int rc;
  while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
    Event ev;
    ev.kv.mod_revision = sqlite3_column_int64(s, 0);
    ev.kv.key = ColumnString(s, 1);
    ev.kv.create_revision = sqlite3_column_int64(s, 2);
    ev.type = sqlite3_column_int(s, 3) ? Event::Type::kDelete : Event::Type::kPut;
    ev.created = ev.type == Event::Type::kPut && ev.kv.create_revision == ev.kv.mod_revision;
    ev.kv.value = ColumnString(s, 4);
    out.push_back(std::move(ev));
  }
  if (rc != SQLITE_DONE) return Internal(sqlite3_errmsg(db_));
  return out;
}

void SqliteStorage::SetObserver(std::function<void(const Event&)> observer) {
  std::lock_guard<std::mutex> lock(mu_);
  observer_ = std::move(observer);
}

Status SqliteStorage::Compact(int64_t revision) {
  std::lock_guard<std::mutex> lock(mu_);
  revision = std::min(revision, revision_);
  if (revision <= compacted_) return Status::OK();
  KUBES_RETURN_IF_ERROR(Exec("BEGIN IMMEDIATE"));
  sqlite3_stmt* del = Prepare(
      "DELETE FROM log WHERE revision <= ? AND revision NOT IN (SELECT revision FROM current)");
  sqlite3_stmt* meta = Prepare("INSERT OR REPLACE INTO meta(name, value) VALUES ('compacted', ?)");
  if (!del || !meta) {
    (void)Exec("ROLLBACK");
    return Internal(sqlite3_errmsg(db_));
  }
  bool ok;
  {
    StmtReset r1{del}, r2{meta};
    sqlite3_bind_int64(del, 1, revision);
    sqlite3_bind_int64(meta, 1, revision);
    ok = sqlite3_step(del) == SQLITE_DONE && sqlite3_step(meta) == SQLITE_DONE;
  }
  if (!ok) {
    Status err = Internal(sqlite3_errmsg(db_));
    (void)Exec("ROLLBACK");
    return err;
  }
  KUBES_RETURN_IF_ERROR(Exec("COMMIT"));
  compacted_ = revision;
  // Give freed pages back and keep the WAL short so disk use stays bounded.
  KUBES_RETURN_IF_ERROR(Exec("PRAGMA incremental_vacuum"));
  KUBES_RETURN_IF_ERROR(Exec("PRAGMA wal_checkpoint(TRUNCATE)"));
  return Status::OK();
}

int64_t SqliteStorage::CurrentRevision() {
  std::lock_guard<std::mutex> lock(mu_);
  return revision_;
}

int64_t SqliteStorage::CompactedRevision() {
  std::lock_guard<std::mutex> lock(mu_);
  return compacted_;
}

int64_t SqliteStorage::DiskSize() {
  int64_t total = 0;
  for (const char* suffix : {"", "-wal", "-shm"}) {
    struct stat st;
    if (::stat((path_ + suffix).c_str(), &st) == 0) total += st.st_size;
  }
  return total;
}

}  // namespace kubes::storage
