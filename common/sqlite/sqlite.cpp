#include "common/sqlite/sqlite.hpp"

#include <fcntl.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <mutex>
#include <string>

namespace anshin::sqlite {
namespace {

// Process-wide settings, before SQLite's first use: no global memory statistics (they take a
// mutex on every allocation). If SQLite was already initialised elsewhere this is a no-op.
void ConfigureSqliteOnce() {
  static std::once_flag once;
  std::call_once(once, [] { sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0); });
}

// Creates the database file with exactly `mode` (umask ignored), or tightens an existing one
// and its -wal/-shm companions to it. SQLite creates -wal and -shm with the main file's bits.
Status PrepareFile(const std::filesystem::path& path, mode_t mode, bool create) {
  int fd = create ? ::open(path.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, mode) : -1;
  if (fd >= 0) {
    int rc = ::fchmod(fd, mode);
    int err = errno;
    ::close(fd);
    if (rc != 0) {
      return Status::Unavailable("setting the permissions of " + path.string() + ": " +
                                 std::strerror(err));
    }
    return Status::Ok();
  }
  if (create && errno != EEXIST) {
    return Status::Unavailable("creating " + path.string() + ": " + std::strerror(errno));
  }
  // Not creating and absent: SQLite's open (without SQLITE_OPEN_CREATE) reports it.
  for (const char* suffix : {"", "-wal", "-shm"}) {
    const std::string file = path.string() + suffix;
    struct stat st {};
    if (::stat(file.c_str(), &st) != 0) continue;
    // Only ever remove bits: an operator who chose 0600 on purpose keeps it.
    const mode_t wanted = st.st_mode & 0777 & mode;
    if ((st.st_mode & 0777) != wanted && ::chmod(file.c_str(), wanted) != 0) {
      return Status::Unavailable("tightening the permissions of " + file + ": " +
                                 std::strerror(errno));
    }
  }
  return Status::Ok();
}

}  // namespace

Query::~Query() {
  if (stmt_ == nullptr) return;
  if (owned_) {
    sqlite3_finalize(stmt_);
  } else {
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
  }
}

void Query::NoteBind(int rc) {
  if (rc != SQLITE_OK && bind_rc_ == 0) bind_rc_ = rc;
}

Query& Query::Bind(int i, std::int64_t v) {
  NoteBind(sqlite3_bind_int64(stmt_, i, v));
  return *this;
}

Query& Query::Bind(int i, std::string_view v) {
  NoteBind(sqlite3_bind_text(stmt_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT));
  return *this;
}

Query& Query::BindNull(int i) {
  NoteBind(sqlite3_bind_null(stmt_, i));
  return *this;
}

Result<bool> Query::Step() {
  if (bind_rc_ != 0) {
    return db_->Error(bind_rc_, std::string("binding a parameter of ") + sqlite3_sql(stmt_));
  }
  int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  return db_->Error(rc, sqlite3_sql(stmt_));
}

Status Query::Run() {
  for (;;) {
    Result<bool> row = Step();
    if (!row.ok()) return row.status();
    if (!*row) return Status::Ok();
  }
}

void Query::Reset() { sqlite3_reset(stmt_); }

bool Query::IsNull(int col) const { return sqlite3_column_type(stmt_, col) == SQLITE_NULL; }
std::int64_t Query::Int(int col) const { return sqlite3_column_int64(stmt_, col); }
std::optional<std::int64_t> Query::OptInt(int col) const {
  if (IsNull(col)) return std::nullopt;
  return Int(col);
}
std::string_view Query::TextView(int col) const {
  const unsigned char* p = sqlite3_column_text(stmt_, col);
  if (p == nullptr) return {};
  return {reinterpret_cast<const char*>(p), static_cast<size_t>(sqlite3_column_bytes(stmt_, col))};
}
std::string Query::Text(int col) const { return std::string(TextView(col)); }

Result<std::unique_ptr<Db>> Db::Open(const std::filesystem::path& path, const Options& options) {
  ConfigureSqliteOnce();
  if (!options.read_only) {
    ANSHIN_RETURN_IF_ERROR(PrepareFile(path, options.file_mode, options.create));
  }
  sqlite3* raw = nullptr;
  int flags = SQLITE_OPEN_NOMUTEX | (options.read_only ? SQLITE_OPEN_READONLY
                                     : options.create  ? SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE
                                                       : SQLITE_OPEN_READWRITE);
  int rc = sqlite3_open_v2(path.c_str(), &raw, flags, nullptr);
  if (rc != SQLITE_OK) {
    std::string msg = raw != nullptr ? sqlite3_errmsg(raw) : sqlite3_errstr(rc);
    sqlite3_close(raw);
    return Status::Unavailable("opening " + path.string() + ": " + msg);
  }
  std::unique_ptr<Db> db(new Db(raw));
  sqlite3_extended_result_codes(raw, 1);
  sqlite3_busy_timeout(raw, options.busy_timeout_ms);
  ANSHIN_RETURN_IF_ERROR(db->Exec("PRAGMA foreign_keys=ON"));
  if (!options.read_only) {
    // WAL: readers never block the writer; one fsync per commit (with synchronous=FULL).
    ANSHIN_RETURN_IF_ERROR(db->Exec("PRAGMA journal_mode=WAL"));
  }
  std::string sync = "PRAGMA synchronous=" + std::string(kSyncModeNames.Name(options.synchronous));
  ANSHIN_RETURN_IF_ERROR(db->Exec(sync.c_str()));
  // Reads through a memory map avoid copying pages out of the OS cache.
  ANSHIN_RETURN_IF_ERROR(
      db->Exec("PRAGMA cache_size=-32768; PRAGMA temp_store=MEMORY; PRAGMA mmap_size=268435456"));
  return db;
}

Db::~Db() {
  for (auto& [sql, stmt] : cache_) sqlite3_finalize(stmt);
  sqlite3_close(db_);
}

Status Db::Exec(const char* sql) {
  int rc = sqlite3_exec(db_, sql, nullptr, nullptr, nullptr);
  if (rc == SQLITE_OK) return Status::Ok();
  std::string_view what(sql);
  return Error(rc, what.substr(0, what.find('\n')).substr(0, 60));
}

Result<Query> Db::Prepare(const char* sql) {
  auto it = cache_.find(sql);
  if (it != cache_.end()) return Query(this, it->second, /*owned=*/false);
  sqlite3_stmt* stmt = nullptr;
  int rc = sqlite3_prepare_v3(db_, sql, -1, SQLITE_PREPARE_PERSISTENT, &stmt, nullptr);
  if (rc != SQLITE_OK) return Error(rc, std::string("preparing ") + sql);
  cache_.emplace(sql, stmt);
  return Query(this, stmt, /*owned=*/false);
}

Result<Query> Db::PrepareUncached(std::string_view sql) {
  sqlite3_stmt* stmt = nullptr;
  int rc = sqlite3_prepare_v3(db_, sql.data(), static_cast<int>(sql.size()), 0, &stmt, nullptr);
  if (rc != SQLITE_OK) return Error(rc, "preparing " + std::string(sql));
  return Query(this, stmt, /*owned=*/true);
}

std::int64_t Db::LastInsertRowid() const { return sqlite3_last_insert_rowid(db_); }
int Db::Changes() const { return sqlite3_changes(db_); }

Status Db::Error(int rc, std::string_view what) const {
  std::string msg = std::string(what) + ": " + sqlite3_errmsg(db_);
  switch (rc & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
    case SQLITE_IOERR:
    case SQLITE_FULL:
    case SQLITE_CANTOPEN:
    case SQLITE_READONLY:
      return Status::Unavailable(std::move(msg));
    case SQLITE_CONSTRAINT:
      if (rc == SQLITE_CONSTRAINT_UNIQUE || rc == SQLITE_CONSTRAINT_PRIMARYKEY) {
        return Status::AlreadyExists(std::move(msg));
      }
      return Status::InvalidArgument(std::move(msg));
    default:
      return Status::Internal(std::move(msg));
  }
}

Result<Transaction> Transaction::Begin(Db& db, Kind kind) {
  ANSHIN_RETURN_IF_ERROR(db.Exec(kind == Kind::kImmediate ? "BEGIN IMMEDIATE" : "BEGIN"));
  return Transaction(&db);
}

Transaction::~Transaction() {
  if (db_ != nullptr) (void)db_->Exec("ROLLBACK");
}

Status Transaction::Commit() {
  if (db_ == nullptr) return Status::FailedPrecondition("transaction already finished");
  Status s = db_->Exec("COMMIT");
  if (s.ok()) {
    db_ = nullptr;
  }
  return s;
}

}  // namespace anshin::sqlite
