// SqliteStore: the Store on one embedded SQLite file (WAL, synchronous=FULL by default).
//
// One writer connection, used by one WriteTxn at a time (a mutex hands it out), and a small pool
// of reader connections, one per concurrent ReadTxn, so reads never wait for a group commit
// and readers never wait for each other (WAL snapshots). BeginRead() blocks while every reader
// is in use. Other processes (anshin-admin) may write the same file; busy_timeout makes them
// wait rather than fail. Migrations (store/sqlite/schema.cpp) are applied at Open(), each in its
// own transaction, recorded in schema_version. The database file and its -wal/-shm companions
// are created with SqliteOptions::file_mode whatever the umask.
#pragma once

#include <sys/types.h>

#include <condition_variable>
#include <filesystem>
#include <memory>
#include <mutex>
#include <vector>

#include "common/sqlite/sqlite.hpp"
#include "store/store.hpp"

namespace anshin::store {

struct SqliteOptions {
  std::filesystem::path path;
  sqlite::SyncMode synchronous = sqlite::SyncMode::kFull;
  int busy_timeout_ms = 5000;
  int readers = 4;  // reader connections: concurrent read transactions
  mode_t file_mode = 0600;
  // The writer checkpoints the WAL into the database file when it exceeds this many pages
  // (SQLite's default is 1000; a larger WAL lets one checkpoint absorb many commits touching
  // the same pages). The WAL is truncated to 64 MiB when it restarts.
  int wal_autocheckpoint_pages = 4000;
};

// The schema version Open() migrates to.
int LatestSchemaVersion();

class SqliteStore final : public Store {
 public:
  static Result<std::unique_ptr<SqliteStore>> Open(const SqliteOptions& options);
  ~SqliteStore() override;

  Result<std::unique_ptr<ReadTxn>> BeginRead() override;
  Result<std::unique_ptr<WriteTxn>> BeginWrite() override;

  // The schema version of the open database.
  Result<int> SchemaVersion();

 private:
  class ReadTxnImpl;
  class WriteTxnImpl;
  explicit SqliteStore(SqliteOptions options) : options_(std::move(options)) {}
  Status Migrate();
  std::unique_ptr<sqlite::Db> TakeReader();
  void ReturnReader(std::unique_ptr<sqlite::Db> db);

  const SqliteOptions options_;
  std::mutex write_mu_;
  std::unique_ptr<sqlite::Db> writer_;  // guarded by write_mu_
  std::mutex read_mu_;
  std::condition_variable reader_free_;
  std::vector<std::unique_ptr<sqlite::Db>> readers_;  // idle readers; guarded by read_mu_
};

}  // namespace anshin::store
