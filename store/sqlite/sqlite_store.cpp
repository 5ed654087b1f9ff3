#include "store/sqlite/sqlite_store.hpp"

#include <string>
#include <utility>

#include "store/sqlite/schema.hpp"
#include "store/sqlite/tables.hpp"

namespace anshin::store {

using sqlite_impl::SqliteTables;

// ---- transactions ------------------------------------------------------------------------

class SqliteStore::ReadTxnImpl final : public ReadTxn {
 public:
  ReadTxnImpl(SqliteStore& store, std::unique_ptr<sqlite::Db> db, sqlite::Transaction txn)
      : store_(store), db_(std::move(db)), txn_(std::move(txn)), tables_(*db_) {}
  ~ReadTxnImpl() override {
    // A read transaction changes nothing: ending it either way releases the snapshot.
    { sqlite::Transaction done = std::move(txn_); }
    store_.ReturnReader(std::move(db_));
  }

  FacilityView& facilities() override { return tables_.facilities; }
  AgentView& agents() override { return tables_.agents; }
  ChildView& children() override { return tables_.children; }
  GuardianView& guardians() override { return tables_.guardians; }
  CardView& cards() override { return tables_.cards; }
  AttendanceView& attendance() override { return tables_.attendance; }
  OutboxView& outbox() override { return tables_.outbox; }
  AlertView& alerts() override { return tables_.alerts; }
  AuditView& audit() override { return tables_.audit; }
  JobView& jobs() override { return tables_.jobs; }
  StaffView& staff() override { return tables_.staff; }

 private:
  SqliteStore& store_;
  std::unique_ptr<sqlite::Db> db_;
  sqlite::Transaction txn_;
  SqliteTables tables_;
};

class SqliteStore::WriteTxnImpl final : public WriteTxn {
 public:
  WriteTxnImpl(std::unique_lock<std::mutex> lock, sqlite::Db& db, sqlite::Transaction txn)
      : lock_(std::move(lock)), db_(db), txn_(std::move(txn)), tables_(db) {}

  FacilityTable& facilities() override { return tables_.facilities; }
  AgentTable& agents() override { return tables_.agents; }
  ChildTable& children() override { return tables_.children; }
  GuardianTable& guardians() override { return tables_.guardians; }
  CardTable& cards() override { return tables_.cards; }
  AttendanceTable& attendance() override { return tables_.attendance; }
  OutboxTable& outbox() override { return tables_.outbox; }
  AlertTable& alerts() override { return tables_.alerts; }
  AuditTable& audit() override { return tables_.audit; }
  JobTable& jobs() override { return tables_.jobs; }
  StaffTable& staff() override { return tables_.staff; }

  Status Savepoint() override { return db_.Exec("SAVEPOINT batch"); }
  Status ReleaseSavepoint() override { return db_.Exec("RELEASE batch"); }
  Status RollbackSavepoint() override {
    ANSHIN_RETURN_IF_ERROR(db_.Exec("ROLLBACK TO batch"));
    return db_.Exec("RELEASE batch");
  }
  Status Commit() override { return txn_.Commit(); }

 private:
  std::unique_lock<std::mutex> lock_;  // the writer is ours while we live
  sqlite::Db& db_;
  sqlite::Transaction txn_;  // destroyed (rolled back unless committed) before lock_
  SqliteTables tables_;
};

// ---- opening and migrations ----------------------------------------------------------------

int LatestSchemaVersion() { return sqlite_impl::SqliteMigrations().back().version; }

SqliteStore::~SqliteStore() = default;

Result<std::unique_ptr<SqliteStore>> SqliteStore::Open(const SqliteOptions& options) {
  sqlite::Db::Options o;
  o.synchronous = options.synchronous;
  o.busy_timeout_ms = options.busy_timeout_ms;
  o.file_mode = options.file_mode;
  std::unique_ptr<SqliteStore> store(new SqliteStore(options));
  ANSHIN_ASSIGN_OR_RETURN(store->writer_, sqlite::Db::Open(options.path, o));
  // Migrate before the readers open so they see the final schema.
  ANSHIN_RETURN_IF_ERROR(store->Migrate());
  // A restarted WAL is truncated to this size, so a burst does not leave a huge file behind.
  const std::string pragmas =
      "PRAGMA wal_autocheckpoint=" + std::to_string(options.wal_autocheckpoint_pages) +
      "; PRAGMA journal_size_limit=67108864";
  ANSHIN_RETURN_IF_ERROR(store->writer_->Exec(pragmas.c_str()));
  for (int i = 0; i < std::max(1, options.readers); ++i) {
    ANSHIN_ASSIGN_OR_RETURN(std::unique_ptr<sqlite::Db> reader, sqlite::Db::Open(options.path, o));
    store->readers_.push_back(std::move(reader));
  }
  return store;
}

Status SqliteStore::Migrate() {
  std::lock_guard lock(write_mu_);
  return sqlite_impl::ApplyMigrationsThrough(*writer_, LatestSchemaVersion());
}

Result<int> SqliteStore::SchemaVersion() {
  std::unique_ptr<sqlite::Db> db = TakeReader();
  Result<int> version = [&]() -> Result<int> {
    ANSHIN_ASSIGN_OR_RETURN(sqlite::Query q,
                            db->Prepare("SELECT COALESCE(MAX(version), 0) FROM schema_version"));
    ANSHIN_ASSIGN_OR_RETURN(bool row, q.Step());
    return row ? static_cast<int>(q.Int(0)) : 0;
  }();
  ReturnReader(std::move(db));
  return version;
}

// ---- connections -------------------------------------------------------------------------

std::unique_ptr<sqlite::Db> SqliteStore::TakeReader() {
  std::unique_lock lock(read_mu_);
  reader_free_.wait(lock, [&] { return !readers_.empty(); });
  std::unique_ptr<sqlite::Db> db = std::move(readers_.back());
  readers_.pop_back();
  return db;
}

void SqliteStore::ReturnReader(std::unique_ptr<sqlite::Db> db) {
  {
    std::lock_guard lock(read_mu_);
    readers_.push_back(std::move(db));
  }
  reader_free_.notify_one();
}

Result<std::unique_ptr<ReadTxn>> SqliteStore::BeginRead() {
  std::unique_ptr<sqlite::Db> db = TakeReader();
  Result<sqlite::Transaction> txn =
      sqlite::Transaction::Begin(*db, sqlite::Transaction::Kind::kDeferred);
  if (!txn.ok()) {
    ReturnReader(std::move(db));
    return txn.status();
  }
  return std::unique_ptr<ReadTxn>(new ReadTxnImpl(*this, std::move(db), std::move(*txn)));
}

Result<std::unique_ptr<WriteTxn>> SqliteStore::BeginWrite() {
  std::unique_lock lock(write_mu_);
  ANSHIN_ASSIGN_OR_RETURN(
      sqlite::Transaction txn,
      sqlite::Transaction::Begin(*writer_, sqlite::Transaction::Kind::kImmediate));
  return std::unique_ptr<WriteTxn>(new WriteTxnImpl(std::move(lock), *writer_, std::move(txn)));
}

}  // namespace anshin::store
