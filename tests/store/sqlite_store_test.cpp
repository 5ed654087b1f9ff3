// What only the SQLite store promises: migrations, WAL, private files, reading older spellings
// of stored state, the append-only audit table, and the shared adapter's binding and errors.
#include <sqlite3.h>
#include <sys/stat.h>

#include <catch2/catch.hpp>

#include "common/sqlite/sqlite.hpp"
#include "services/audit_log.hpp"
#include "store/sqlite/sqlite_store.hpp"
#include "tests/fakes/temp_dir.hpp"

namespace anshin::store {
namespace {

TimePoint T(const char* rfc3339) { return ParseRfc3339(rfc3339).value(); }

// Runs one statement on a separate connection (another process, or someone with file access).
void Sql(const std::filesystem::path& db_path, const char* sql, bool expect_ok = true) {
  sqlite3* db = nullptr;
  REQUIRE(sqlite3_open(db_path.c_str(), &db) == SQLITE_OK);
  int rc = sqlite3_exec(db, sql, nullptr, nullptr, nullptr);
  sqlite3_close(db);
  CHECK((rc == SQLITE_OK) == expect_ok);
}

std::string SqlText(const std::filesystem::path& db_path, const char* sql) {
  sqlite3* db = nullptr;
  REQUIRE(sqlite3_open(db_path.c_str(), &db) == SQLITE_OK);
  sqlite3_stmt* st = nullptr;
  REQUIRE(sqlite3_prepare_v2(db, sql, -1, &st, nullptr) == SQLITE_OK);
  REQUIRE(sqlite3_step(st) == SQLITE_ROW);
  std::string out = reinterpret_cast<const char*>(sqlite3_column_text(st, 0));
  sqlite3_finalize(st);
  sqlite3_close(db);
  return out;
}

mode_t ModeOf(const std::filesystem::path& p) {
  struct stat st {};
  REQUIRE(::stat(p.c_str(), &st) == 0);
  return st.st_mode & 0777;
}

// Restores the process's umask when a test ends.
struct Umask {
  explicit Umask(mode_t m) : old(::umask(m)) {}
  ~Umask() { ::umask(old); }
  mode_t old;
};

TEST_CASE("migrations are applied once and recorded, the journal is WAL", "[store][sqlite]") {
  fakes::TempDir dir{"sqlite-store"};
  SqliteOptions o;
  o.path = dir / "anshin.db";
  {
    auto s = SqliteStore::Open(o).value();
    CHECK(s->SchemaVersion().value() == LatestSchemaVersion());
  }
  auto s = SqliteStore::Open(o).value();  // reopening applies nothing twice
  CHECK(s->SchemaVersion().value() == LatestSchemaVersion());
  CHECK(SqlText(o.path, "SELECT COUNT(*) FROM schema_version") ==
        std::to_string(LatestSchemaVersion()));
  CHECK(SqlText(o.path, "PRAGMA journal_mode") == "wal");
}

TEST_CASE("database files are created 0600 whatever the umask", "[store][sqlite]") {
  // Defect: anshin.db, -wal and -shm (and the agent's agent.db) were created 0644.
  Umask permissive(0);
  fakes::TempDir dir{"sqlite-perms"};
  SqliteOptions o;
  o.path = dir / "anshin.db";
  auto s = SqliteStore::Open(o).value();
  {
    auto txn = s->BeginWrite().value();
    Facility f;
    f.code = "x";
    f.name = "x";
    REQUIRE(txn->facilities().Insert(f, T("2026-11-26T09:00:00Z")).ok());
    REQUIRE(txn->Commit().ok());
  }
  CHECK(ModeOf(o.path) == 0600);
  CHECK(ModeOf(dir / "anshin.db-wal") == 0600);
  CHECK(ModeOf(dir / "anshin.db-shm") == 0600);
}

TEST_CASE("an existing database that others could read is tightened, 0640 is kept for a group",
          "[store][sqlite]") {
  fakes::TempDir dir{"sqlite-perms"};
  SqliteOptions o;
  o.path = dir / "anshin.db";
  { SqliteStore::Open(o).value(); }
  REQUIRE(::chmod(o.path.c_str(), 0644) == 0);
  { SqliteStore::Open(o).value(); }
  CHECK(ModeOf(o.path) == 0600);
  o.file_mode = 0640;
  REQUIRE(::chmod(o.path.c_str(), 0640) == 0);
  { SqliteStore::Open(o).value(); }
  CHECK(ModeOf(o.path) == 0640);
}

TEST_CASE("a day state written by another tool in spaced JSON is still read", "[store][sqlite]") {
  fakes::TempDir dir{"sqlite-day"};
  SqliteOptions o;
  o.path = dir / "anshin.db";
  auto s = SqliteStore::Open(o).value();
  ChildId child;
  FacilityId facility;
  {
    auto txn = s->BeginWrite().value();
    Facility f;
    f.code = "x";
    f.name = "x";
    facility = txn->facilities().Insert(f, T("2026-11-26T09:00:00Z")).value();
    Child c;
    c.name = "c";
    c.facility = facility;
    child = txn->children().Insert(c, T("2026-11-26T09:00:00Z")).value();
    ChildDay day;
    day.date = LocalDate{2026, 11, 26};
    REQUIRE(txn->attendance().SaveChildDay(child, facility, day).ok());
    REQUIRE(txn->Commit().ok());
  }
  Sql(o.path,
      "UPDATE child_days SET state = '{ \"v\": [[1000, null, 1]], \"t\": [1000], \"c\": 0 }'");
  auto txn = s->BeginWrite().value();
  ChildDay spaced =
      txn->attendance().LoadChildDay(child, facility, LocalDate{2026, 11, 26}).value();
  REQUIRE(spaced.visits.size() == 1);
  CHECK(spaced.visits[0].arrival == FromUnixMillis(1000));
  CHECK(spaced.visits[0].inferred);
  txn.reset();
  Sql(o.path, "UPDATE child_days SET state = 'garbage'");
  txn = s->BeginWrite().value();
  Status bad = txn->attendance().LoadChildDay(child, facility, LocalDate{2026, 11, 26}).status();
  CHECK(bad.code() == Status::Code::kInternal);
  CHECK(bad.message().find("child " + child.ToString()) != std::string::npos);
}

TEST_CASE("the audit table is append-only and tampering shows in the chain", "[store][sqlite]") {
  fakes::TempDir dir{"sqlite-audit"};
  SqliteOptions o;
  o.path = dir / "anshin.db";
  auto s = SqliteStore::Open(o).value();
  const Actor who{"tester", T("2026-11-26T09:00:00Z")};
  for (int i = 0; i < 3; ++i) {
    REQUIRE(InWrite(*s, [&](WriteTxn& txn) {
              return services::AppendAudit(txn, who, "test.event", "n=" + std::to_string(i));
            }).ok());
  }
  REQUIRE(InRead(*s, [](ReadTxn& txn) { return services::VerifyAuditChain(txn); }).ok());
  Sql(o.path, "UPDATE audit_log SET detail = 'forged' WHERE id = 2", /*expect_ok=*/false);
  Sql(o.path, "DELETE FROM audit_log", /*expect_ok=*/false);
  // Someone with file access drops the trigger and edits a row: the chain shows it.
  Sql(o.path,
      "DROP TRIGGER audit_log_no_update; UPDATE audit_log SET detail = 'forged' WHERE id = 2");
  Status st = InRead(*s, [](ReadTxn& txn) { return services::VerifyAuditChain(txn); });
  CHECK(st.code() == Status::Code::kInternal);
  CHECK(st.message().find("row 2") != std::string::npos);
}

TEST_CASE("adapter: text bound from a temporary is copied, never dangling", "[store][sqlite]") {
  fakes::TempDir dir{"sqlite-bind"};
  auto db = sqlite::Db::Open(dir / "x.db", {}).value();
  REQUIRE(db->Exec("CREATE TABLE t (v TEXT)").ok());
  {
    auto q = db->Prepare("INSERT INTO t(v) VALUES (?)").value();
    q.Bind(1, std::string(100, 'a') + "-temporary");  // destroyed before Run()
    std::string overwrite(200, 'z');                  // reuses the freed memory
    REQUIRE(q.Run().ok());
  }
  auto q = db->Prepare("SELECT v FROM t").value();
  REQUIRE(q.Step().value());
  CHECK(q.Text(0) == std::string(100, 'a') + "-temporary");
}

TEST_CASE("adapter: a failed bind is reported by the next step", "[store][sqlite]") {
  fakes::TempDir dir{"sqlite-bind"};
  auto db = sqlite::Db::Open(dir / "x.db", {}).value();
  REQUIRE(db->Exec("CREATE TABLE t (v INTEGER)").ok());
  auto q = db->Prepare("INSERT INTO t(v) VALUES (?)").value();
  q.Bind(2, std::int64_t{1});  // no parameter 2: SQLITE_RANGE
  Status s = q.Run();
  CHECK(s.code() == Status::Code::kInternal);
  CHECK(s.message().find("binding") != std::string::npos);
  auto count = db->Prepare("SELECT COUNT(*) FROM t").value();
  REQUIRE(count.Step().value());
  CHECK(count.Int(0) == 0);  // nothing ran with the missing value
}

TEST_CASE("adapter: a database locked by another writer is Unavailable", "[store][sqlite]") {
  fakes::TempDir dir{"sqlite-busy"};
  sqlite::Db::Options o;
  o.busy_timeout_ms = 50;
  auto a = sqlite::Db::Open(dir / "x.db", o).value();
  auto b = sqlite::Db::Open(dir / "x.db", o).value();
  auto held = sqlite::Transaction::Begin(*a, sqlite::Transaction::Kind::kImmediate);
  REQUIRE(held.ok());
  auto blocked = sqlite::Transaction::Begin(*b, sqlite::Transaction::Kind::kImmediate);
  REQUIRE_FALSE(blocked.ok());
  CHECK(blocked.status().code() == Status::Code::kUnavailable);
}

}  // namespace
}  // namespace anshin::store
