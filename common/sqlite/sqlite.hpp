// The one SQLite adapter of anshin, used by the server's store and the agent's queue: opening
// a connection with the pragmas anshin relies on and private file permissions, statements
// prepared once and cached per connection, typed binding and reading, transactions, and one
// mapping of SQLite's result codes to Status.
//
// Error mapping (the same for every caller): BUSY, LOCKED, IOERR, FULL, CANTOPEN, READONLY →
// Unavailable (retry later: the disk or another process is in the way); a UNIQUE or PRIMARY KEY
// constraint → AlreadyExists; any other constraint → InvalidArgument; everything else →
// Internal. Messages carry sqlite3_errmsg and say what was being done. They may quote SQL and
// are for logs, never for a network client.
//
// Binding: text is always copied by SQLite (SQLITE_TRANSIENT), so a temporary string can never
// dangle between Bind() and Step(). A failed bind is remembered and returned by the next Step()
// or Run(): no bind's return code is lost.
//
// Thread-safety: a Db is used by one thread at a time (connections are opened NOMUTEX; callers
// guard each with a mutex or own it per thread). A Query borrows a cached statement and resets it
// when it goes out of scope, so the same SQL text may not be used by two live Queries at once.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <unordered_map>

#include "common/enum_names.hpp"
#include "common/status.hpp"

struct sqlite3;
struct sqlite3_stmt;

namespace anshin::sqlite {

enum class SyncMode { kOff, kNormal, kFull };
inline constexpr EnumNames<SyncMode, 3> kSyncModeNames{
    "synchronous mode",
    {{{SyncMode::kOff, "off"}, {SyncMode::kNormal, "normal"}, {SyncMode::kFull, "full"}}}};
static_assert(kSyncModeNames.IsDense());

class Db;

// A bound statement in use. Movable, not copyable; resets the statement on destruction (and
// finalizes it when it was prepared uncached).
class Query {
 public:
  Query(Query&& other) noexcept
      : db_(other.db_), stmt_(other.stmt_), owned_(other.owned_), bind_rc_(other.bind_rc_) {
    other.stmt_ = nullptr;
  }
  Query& operator=(Query&&) = delete;
  Query(const Query&) = delete;
  ~Query();

  // Parameters are 1-based, as in SQLite.
  Query& Bind(int i, std::int64_t v);
  Query& Bind(int i, int v) { return Bind(i, static_cast<std::int64_t>(v)); }
  Query& Bind(int i, std::uint64_t v) { return Bind(i, static_cast<std::int64_t>(v)); }
  Query& Bind(int i, bool v) { return Bind(i, static_cast<std::int64_t>(v ? 1 : 0)); }
  Query& Bind(int i, std::string_view v);  // copied by SQLite
  Query& Bind(int i, const char* v) { return Bind(i, std::string_view(v)); }
  Query& Bind(int i, const std::string& v) { return Bind(i, std::string_view(v)); }
  Query& BindNull(int i);
  template <typename T>
  Query& Bind(int i, const std::optional<T>& v) {
    return v ? Bind(i, *v) : BindNull(i);
  }

  // true: a row is available; false: done. Returns a failed bind first.
  Result<bool> Step();
  // Steps to completion of a statement that returns no rows.
  Status Run();
  // Steps through every row, calling `on_row()` for each; `on_row` returns a Status (the first
  // failure stops the walk and is returned) or nothing.
  template <typename OnRow>
  Status ForEachRow(OnRow&& on_row) {
    for (;;) {
      Result<bool> row = Step();
      if (!row.ok()) return row.status();
      if (!*row) return Status::Ok();
      if constexpr (std::is_void_v<decltype(on_row())>) {
        on_row();
      } else {
        ANSHIN_RETURN_IF_ERROR(on_row());
      }
    }
  }
  // Makes the statement runnable again (bindings are kept).
  void Reset();

  // Columns are 0-based.
  bool IsNull(int col) const;
  std::int64_t Int(int col) const;
  std::optional<std::int64_t> OptInt(int col) const;
  std::string Text(int col) const;
  std::string_view TextView(int col) const;  // valid until the next Step()

 private:
  friend class Db;
  Query(Db* db, sqlite3_stmt* stmt, bool owned) : db_(db), stmt_(stmt), owned_(owned) {}
  void NoteBind(int rc);

  Db* db_;
  sqlite3_stmt* stmt_;
  bool owned_;
  int bind_rc_ = 0;  // the first failed bind's result code (0: none)
};

class Db {
 public:
  struct Options {
    SyncMode synchronous = SyncMode::kFull;
    int busy_timeout_ms = 5000;
    bool read_only = false;
    bool create = true;  // false: opening a database that does not exist fails (Unavailable)
    // Permission bits of the database file, applied whatever the umask when the file is
    // created (and tightened on an existing file); SQLite gives its -wal and -shm files the
    // same bits. 0640 lets a group (e.g. the backup operator) read it.
    mode_t file_mode = 0600;
  };
  static Result<std::unique_ptr<Db>> Open(const std::filesystem::path& path,
                                          const Options& options);
  ~Db();
  Db(const Db&) = delete;
  Db& operator=(const Db&) = delete;

  // Runs one or more statements without parameters (migrations, pragmas).
  Status Exec(const char* sql);
  // A cached prepared statement for `sql`. The cache is keyed by the text's address, so pass
  // string literals (or other text that lives as long as the Db).
  Result<Query> Prepare(const char* sql);
  // A statement prepared for one use (SQL assembled at run time from fixed fragments, never
  // from input); finalized when the Query goes away.
  Result<Query> PrepareUncached(std::string_view sql);

  std::int64_t LastInsertRowid() const;
  int Changes() const;
  // The Status for a failed call that returned `rc`; `what` says what was being done.
  Status Error(int rc, std::string_view what) const;

  sqlite3* handle() { return db_; }

 private:
  explicit Db(sqlite3* db) : db_(db) {}
  sqlite3* db_;
  std::unordered_map<const char*, sqlite3_stmt*> cache_;
};

// A transaction on one connection: rolled back when destroyed without Commit().
class Transaction {
 public:
  enum class Kind { kDeferred, kImmediate };  // kImmediate takes the write lock at once
  static Result<Transaction> Begin(Db& db, Kind kind);
  Transaction(Transaction&& other) noexcept : db_(other.db_) { other.db_ = nullptr; }
  Transaction& operator=(Transaction&&) = delete;
  ~Transaction();

  Status Commit();

 private:
  explicit Transaction(Db* db) : db_(db) {}
  Db* db_;  // nullptr once committed or rolled back
};

}  // namespace anshin::sqlite
