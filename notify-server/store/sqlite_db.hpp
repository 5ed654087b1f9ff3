// A thin RAII layer over one SQLite connection: opening with the pragmas anshin relies on,
// statements prepared once and cached per connection, typed binding and reading, and errors
// turned into Status with SQLite's own message.
//
// Thread-safety: a Db is used by one thread at a time (SqliteStore guards each with a mutex).
// A Query borrows a cached statement; it resets the statement when it goes out of scope, so
// the same SQL may not be used by two live Query objects at once.
#pragma once

#include <type_traits>

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "common/status.hpp"

struct sqlite3;
struct sqlite3_stmt;

namespace anshin::store {

enum class SyncMode { kOff, kNormal, kFull };
std::string_view SyncModeName(SyncMode m);  // "off" | "normal" | "full"
Result<SyncMode> ParseSyncMode(std::string_view s);

class Db;

// A bound statement in use. Movable, not copyable; resets the statement on destruction.
class Query {
 public:
  Query(Query&& other) noexcept : db_(other.db_), stmt_(other.stmt_) { other.stmt_ = nullptr; }
  Query& operator=(Query&&) = delete;
  Query(const Query&) = delete;
  ~Query();

  // Parameters are 1-based, as in SQLite.
  Query& Bind(int i, std::int64_t v);
  Query& Bind(int i, int v) { return Bind(i, static_cast<std::int64_t>(v)); }
  Query& Bind(int i, std::uint64_t v) { return Bind(i, static_cast<std::int64_t>(v)); }
  Query& Bind(int i, bool v) { return Bind(i, static_cast<std::int64_t>(v ? 1 : 0)); }
  Query& Bind(int i, std::string_view v);  // the text must outlive Step()
  Query& Bind(int i, const char* v) { return Bind(i, std::string_view(v)); }
  Query& Bind(int i, const std::string& v) { return Bind(i, std::string_view(v)); }
  Query& BindNull(int i);
  template <typename T>
  Query& Bind(int i, const std::optional<T>& v) {
    return v ? Bind(i, *v) : BindNull(i);
  }

  // true: a row is available; false: done.
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
  Query(Db* db, sqlite3_stmt* stmt) : db_(db), stmt_(stmt) {}
  Db* db_;
  sqlite3_stmt* stmt_;
};

class Db {
 public:
  struct Options {
    SyncMode synchronous = SyncMode::kFull;
    int busy_timeout_ms = 5000;
    bool read_only = false;
  };
  static Result<std::unique_ptr<Db>> Open(const std::filesystem::path& path,
                                          const Options& options);
  ~Db();
  Db(const Db&) = delete;
  Db& operator=(const Db&) = delete;

  // Runs one or more statements without parameters (migrations, BEGIN, COMMIT).
  Status Exec(const char* sql);
  // A cached prepared statement for `sql`. The cache is keyed by the text's address, so pass
  // string literals (or other text that lives as long as the Db).
  Result<Query> Prepare(const char* sql);

  std::int64_t LastInsertRowid() const;
  int Changes() const;
  // A Status for the last failure of this connection; `what` says what was being done.
  Status Error(int rc, std::string_view what) const;

 private:
  explicit Db(sqlite3* db) : db_(db) {}
  sqlite3* db_;
  std::unordered_map<const char*, sqlite3_stmt*> cache_;
};

}  // namespace anshin::store
