// The encrypted backup format (store/sqlite/backup_file.hpp) on memory, and backup / restore
// of the SQLite store (store/sqlite/backup.hpp) on real files in a temp dir.
#include <sqlite3.h>
#include <sys/stat.h>

#include <algorithm>
#include <atomic>
#include <catch2/catch.hpp>
#include <cstring>
#include <fstream>
#include <sstream>
#include <thread>

#include "store/sqlite/backup.hpp"
#include "store/sqlite/sqlite_store.hpp"
#include "tests/fakes/temp_dir.hpp"

namespace anshin::store {
namespace {

using Bytes = std::vector<std::uint8_t>;

ReadFn ReadFrom(const Bytes& data) {
  auto pos = std::make_shared<std::size_t>(0);
  return [&data, pos](std::span<std::uint8_t> buf) -> Result<std::size_t> {
    // Hands out at most 1000 bytes at a time, as a pipe or a slow disk may.
    const std::size_t n = std::min({buf.size(), data.size() - *pos, std::size_t{1000}});
    if (n == 0) return std::size_t{0};
    std::memcpy(buf.data(), data.data() + *pos, n);
    *pos += n;
    return n;
  };
}

WriteFn WriteTo(Bytes& out) {
  return [&out](std::span<const std::uint8_t> d) {
    out.insert(out.end(), d.begin(), d.end());
    return Status::Ok();
  };
}

Bytes Pattern(std::size_t n) {
  Bytes b(n);
  for (std::size_t i = 0; i < n; ++i) b[i] = static_cast<std::uint8_t>((i * 131 + i / 977) & 0xff);
  return b;
}

Bytes Seal(const Bytes& plain, const BackupKey& key) {
  Bytes sealed;
  REQUIRE(EncryptBackup(ReadFrom(plain), WriteTo(sealed), key).ok());
  return sealed;
}

Status Open(const Bytes& sealed, const BackupKey& key, Bytes* plain = nullptr) {
  Bytes out;
  Status s = DecryptBackup(ReadFrom(sealed), WriteTo(out), key);
  if (plain != nullptr) *plain = out;
  return s;
}

constexpr std::size_t kSealed = kBackupChunkSize + 17;  // one full chunk on disk

TEST_CASE("backup encryption round-trips images of every size around the chunk size",
          "[backup][format]") {
  const BackupKey key = BackupKey::Generate();
  for (std::size_t n : {std::size_t{0}, std::size_t{1}, kBackupChunkSize - 1, kBackupChunkSize,
                        kBackupChunkSize + 1, 3 * kBackupChunkSize, 3 * kBackupChunkSize + 77}) {
    INFO("plain size " << n);
    const Bytes plain = Pattern(n);
    const Bytes sealed = Seal(plain, key);
    CHECK(sealed.size() == kBackupHeaderSize + (n / kBackupChunkSize + 1) * 17 + n);
    CHECK(DetectBackupFormat(sealed) == BackupFormat::kEncrypted);
    Bytes back;
    REQUIRE(Open(sealed, key, &back).ok());
    CHECK(back == plain);
  }
}

TEST_CASE("a sealed backup does not contain its image in clear and differs every time",
          "[backup][format]") {
  const BackupKey key = BackupKey::Generate();
  Bytes plain(5000, 0);
  const char marker[] = "SQLite format 3";
  std::memcpy(plain.data(), marker, sizeof marker);
  const Bytes a = Seal(plain, key);
  const Bytes b = Seal(plain, key);
  CHECK(a != b);  // a fresh stream header each time
  const std::string text(a.begin(), a.end());
  CHECK(text.find("SQLite") == std::string::npos);
  CHECK(text.find(std::string(64, '\0')) == std::string::npos);
}

TEST_CASE("a backup sealed with another key is refused as the wrong key", "[backup][format]") {
  const Bytes sealed = Seal(Pattern(200'000), BackupKey::Generate());
  Bytes out;
  Status s = Open(sealed, BackupKey::Generate(), &out);
  CHECK(s.code() == Status::Code::kPermissionDenied);
  CHECK(s.message().find("wrong key") != std::string::npos);
  CHECK(out.empty());
}

TEST_CASE("an altered byte anywhere in a sealed backup is refused", "[backup][format]") {
  const BackupKey key = BackupKey::Generate();
  const Bytes sealed = Seal(Pattern(3 * kBackupChunkSize + 500), key);
  // The format version, the stream header, the first, a middle and the last chunk.
  for (std::size_t at :
       {std::size_t{30}, std::size_t{kBackupHeaderSize + 5}, kBackupHeaderSize + kSealed + 100,
        kBackupHeaderSize + 2 * kSealed + 3, sealed.size() - 1}) {
    INFO("byte " << at);
    Bytes bad = sealed;
    bad[at] ^= 0x01;
    Status s = Open(bad, key);
    CHECK_FALSE(s.ok());
    CHECK(s.message().find("altered") != std::string::npos);
  }
  Bytes version = sealed;
  version[8] = 2;
  CHECK(Open(version, key).message().find("format version 2") != std::string::npos);
}

TEST_CASE("a truncated sealed backup is refused as truncated", "[backup][format]") {
  const BackupKey key = BackupKey::Generate();
  const Bytes sealed = Seal(Pattern(3 * kBackupChunkSize + 500), key);
  SECTION("cut at a chunk boundary") {
    Bytes cut(sealed.begin(), sealed.begin() + kBackupHeaderSize + 2 * kSealed);
    Status s = Open(cut, key);
    CHECK(s.code() == Status::Code::kFailedPrecondition);
    CHECK(s.message().find("truncated") != std::string::npos);
    CHECK(s.message().find("after chunk 2") != std::string::npos);
  }
  SECTION("cut inside a chunk") {
    Bytes cut(sealed.begin(), sealed.begin() + kBackupHeaderSize + kSealed + 1000);
    CHECK(Open(cut, key).message().find("truncated") != std::string::npos);
  }
  SECTION("cut inside the header") {
    Bytes cut(sealed.begin(), sealed.begin() + 20);
    CHECK(Open(cut, key).message().find("truncated") != std::string::npos);
  }
  SECTION("bytes appended after the final chunk") {
    // Read with the final chunk (always short), they make it fail to authenticate.
    for (std::size_t extra : {std::size_t{1}, std::size_t{17}, kSealed}) {
      Bytes longer = sealed;
      longer.insert(longer.end(), extra, 0);
      CHECK(Open(longer, key).message().find("altered") != std::string::npos);
    }
  }
}

TEST_CASE("backup key files are 64 hex digits and nothing else parses", "[backup][format]") {
  const BackupKey key = BackupKey::Generate();
  const std::string text = key.FileText();
  CHECK(text.size() == 65);
  CHECK(text.back() == '\n');
  auto back = BackupKey::Parse(text);
  REQUIRE(back.ok());
  CHECK(std::memcmp(back->bytes().data(), key.bytes().data(), 32) == 0);
  const std::string raw(reinterpret_cast<const char*>(key.bytes().data()), 32);
  REQUIRE(BackupKey::Parse(raw).ok());
  CHECK(std::memcmp(BackupKey::Parse(raw)->bytes().data(), key.bytes().data(), 32) == 0);
  for (std::string bad : {std::string(""), text.substr(0, 63), text.substr(0, 64) + "00",
                          std::string(64, 'g'), std::string(31, 'a')}) {
    Result<BackupKey> k = BackupKey::Parse(bad);
    CHECK_FALSE(k.ok());
    if (!k.ok() && !bad.empty()) CHECK(k.status().message().find(bad) == std::string::npos);
  }
}

// ---- backup and restore on files ---------------------------------------------------------

TimePoint T(const char* rfc3339) { return ParseRfc3339(rfc3339).value(); }

// A store with one facility, agent and child, to which `Tap(seq)` adds taps.
struct LiveStore {
  fakes::TempDir dir{"backup-test"};
  std::filesystem::path db = dir / "anshin.db";
  std::unique_ptr<SqliteStore> store = [&] {
    SqliteOptions o;
    o.path = db;
    return SqliteStore::Open(o).value();
  }();
  AgentId agent;
  FacilityId facility;

  LiveStore() {
    auto txn = store->BeginWrite().value();
    Facility f;
    f.code = "hikari-1";
    f.name = "光が丘第一学童クラブ";
    facility = txn->facilities().Insert(f, T("2026-11-26T09:00:00Z")).value();
    Agent a;
    a.name = "hikari-1-entrance";
    a.facility = facility;
    a.cert_sha256 = std::string(64, 'a');
    a.enrolled_at = T("2026-11-26T09:00:00Z");
    agent = txn->agents().Insert(a).value();
    REQUIRE(txn->Commit().ok());
  }

  Status Tap(std::uint64_t seq) {
    auto txn = store->BeginWrite();
    if (!txn.ok()) return txn.status();
    TapRecord t;
    t.agent = agent;
    t.seq = seq;
    t.card = CardToken::Parse(std::string(32, 'b')).value();
    t.facility = facility;
    t.reader = "entrance";
    t.tapped_at = t.corrected_at = t.received_at = T("2026-11-26T16:00:00+09:00");
    ANSHIN_RETURN_IF_ERROR((*txn)->attendance().InsertTap(t));
    return (*txn)->Commit();
  }
};

std::int64_t Count(const std::filesystem::path& db, const char* sql) {
  sqlite3* h = nullptr;
  REQUIRE(sqlite3_open_v2(db.c_str(), &h, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK);
  sqlite3_stmt* st = nullptr;
  REQUIRE(sqlite3_prepare_v2(h, sql, -1, &st, nullptr) == SQLITE_OK);
  REQUIRE(sqlite3_step(st) == SQLITE_ROW);
  const std::int64_t n = sqlite3_column_int64(st, 0);
  sqlite3_finalize(st);
  sqlite3_close(h);
  return n;
}

std::string Text(const std::filesystem::path& db, const char* sql) {
  sqlite3* h = nullptr;
  REQUIRE(sqlite3_open_v2(db.c_str(), &h, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK);
  sqlite3_stmt* st = nullptr;
  REQUIRE(sqlite3_prepare_v2(h, sql, -1, &st, nullptr) == SQLITE_OK);
  REQUIRE(sqlite3_step(st) == SQLITE_ROW);
  std::string out = reinterpret_cast<const char*>(sqlite3_column_text(st, 0));
  sqlite3_finalize(st);
  sqlite3_close(h);
  return out;
}

// Temporary files left in a folder (their names start with '.').
std::vector<std::string> LeftOver(const std::filesystem::path& dir) {
  std::vector<std::string> out;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    if (e.path().filename().string().starts_with(".")) out.push_back(e.path().filename());
  }
  return out;
}

sys::InstanceLock LockOf(const std::filesystem::path& db) {
  return sys::InstanceLock::Acquire(sys::InstanceLock::ForDatabase(db), "test").value();
}

TEST_CASE("a backup taken while taps are written is a snapshot that restores", "[backup]") {
  LiveStore live;
  for (std::uint64_t seq = 1; seq <= 200; ++seq) REQUIRE(live.Tap(seq).ok());
  std::atomic<bool> stop{false};
  std::atomic<std::uint64_t> committed{200};
  std::thread writer([&] {
    for (std::uint64_t seq = 201; !stop; ++seq) {
      if (!live.Tap(seq).ok()) break;
      committed = seq;
    }
  });
  const std::uint64_t before = committed;
  auto s = BackupSqliteDatabase({.database = live.db, .out = live.dir / "b.db"});
  stop = true;
  writer.join();
  REQUIRE(s.ok());
  CHECK(s->schema_version == LatestSchemaVersion());
  CHECK(s->taps >= static_cast<std::int64_t>(before));
  CHECK_FALSE(s->encrypted);
  struct stat st {};
  REQUIRE(::stat((live.dir / "b.db").c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
  CHECK(static_cast<std::uint64_t>(st.st_size) == s->file_bytes);
  // A rollback-journal file: it opens anywhere, read-only.
  CHECK(Text(live.dir / "b.db", "PRAGMA journal_mode") == "delete");
  // Seqs are contiguous: the copy is one snapshot, not a mix of moments.
  CHECK(Count(live.dir / "b.db", "SELECT MAX(seq) FROM taps") == s->taps);
  CHECK(LeftOver(live.dir.path()).empty());

  fakes::TempDir fresh{"backup-restore"};
  const auto target = fresh / "anshin.db";
  auto r = RestoreSqliteDatabase({.from = live.dir / "b.db", .database = target}, LockOf(target));
  REQUIRE(r.ok());
  CHECK(r->taps == s->taps);
  CHECK(Count(target, "SELECT COUNT(*) FROM taps") == s->taps);
  auto reopened = SqliteStore::Open(SqliteOptions{.path = target});
  REQUIRE(reopened.ok());
  CHECK((*reopened)->SchemaVersion().value() == LatestSchemaVersion());
}

TEST_CASE("an encrypted backup restores with its key and only with it", "[backup]") {
  LiveStore live;
  for (std::uint64_t seq = 1; seq <= 50; ++seq) REQUIRE(live.Tap(seq).ok());
  const BackupKey key = BackupKey::Generate();
  const auto file = live.dir / "b.anshin";
  auto s = BackupSqliteDatabase({.database = live.db, .out = file, .key = key});
  REQUIRE(s.ok());
  CHECK(s->encrypted);
  CHECK(s->taps == 50);
  CHECK(LeftOver(live.dir.path()).empty());  // the staged plain image is gone
  std::ifstream in(file, std::ios::binary);
  const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  CHECK(bytes.starts_with("ANSHINBK"));
  CHECK(bytes.find("hikari-1") == std::string::npos);

  fakes::TempDir fresh{"backup-restore"};
  const auto target = fresh / "anshin.db";
  auto lock = LockOf(target);
  auto no_key = RestoreSqliteDatabase({.from = file, .database = target}, lock);
  CHECK(no_key.status().message().find("is encrypted: give its --key-file") != std::string::npos);
  auto wrong =
      RestoreSqliteDatabase({.from = file, .database = target, .key = BackupKey::Generate()}, lock);
  CHECK(wrong.status().message().find("wrong key") != std::string::npos);
  CHECK_FALSE(std::filesystem::exists(target));
  CHECK(LeftOver(fresh.path()).empty());
  auto r = RestoreSqliteDatabase({.from = file, .database = target, .key = key}, lock);
  REQUIRE(r.ok());
  CHECK(r->encrypted);
  CHECK(Count(target, "SELECT COUNT(*) FROM taps") == 50);
  CHECK(Count(target, "SELECT COUNT(*) FROM facilities WHERE code = 'hikari-1'") == 1);
}

TEST_CASE("restore replaces an existing database only with force and drops its stale WAL",
          "[backup]") {
  LiveStore source;
  for (std::uint64_t seq = 1; seq <= 10; ++seq) REQUIRE(source.Tap(seq).ok());
  const auto file = source.dir / "b.db";
  REQUIRE(BackupSqliteDatabase({.database = source.db, .out = file}).ok());

  LiveStore other;  // a different database, still open: its -wal holds uncheckpointed pages
  for (std::uint64_t seq = 1; seq <= 3; ++seq) REQUIRE(other.Tap(seq).ok());
  REQUIRE(std::filesystem::exists(other.db.string() + "-wal"));
  auto lock = LockOf(other.db);
  auto refused = RestoreSqliteDatabase({.from = file, .database = other.db}, lock);
  CHECK(refused.status().code() == Status::Code::kAlreadyExists);
  CHECK(refused.status().message().find("--force") != std::string::npos);
  // A WAL left by a crash: without its removal it would be replayed onto the restored file.
  const auto saved = other.dir / "saved-wal";
  std::filesystem::copy_file(other.db.string() + "-wal", saved);
  other.store.reset();  // closing checkpoints and removes the WAL; put the crash's back
  std::filesystem::copy_file(saved, other.db.string() + "-wal",
                             std::filesystem::copy_options::overwrite_existing);
  auto r = RestoreSqliteDatabase({.from = file, .database = other.db, .force = true}, lock);
  REQUIRE(r.ok());
  CHECK_FALSE(std::filesystem::exists(other.db.string() + "-wal"));
  CHECK(Count(other.db, "SELECT COUNT(*) FROM taps") == 10);
  CHECK(Text(other.db, "PRAGMA integrity_check") == "ok");
}

TEST_CASE("restore refuses a file that is not a sound anshin backup", "[backup]") {
  LiveStore live;
  REQUIRE(live.Tap(1).ok());
  const auto file = live.dir / "b.db";
  REQUIRE(BackupSqliteDatabase({.database = live.db, .out = file}).ok());
  fakes::TempDir fresh{"backup-restore"};
  const auto target = fresh / "anshin.db";
  auto lock = LockOf(target);
  auto restore = [&](const std::filesystem::path& from) {
    return RestoreSqliteDatabase({.from = from, .database = target}, lock).status();
  };

  SECTION("not a backup at all") {
    std::ofstream(fresh / "notes.txt") << "hello, this is not a database at all\n";
    CHECK(restore(fresh / "notes.txt").message().find("not an anshin backup") != std::string::npos);
  }
  SECTION("a SQLite database of something else") {
    sqlite3* h = nullptr;
    REQUIRE(sqlite3_open((fresh / "other.db").c_str(), &h) == SQLITE_OK);
    REQUIRE(sqlite3_exec(h, "CREATE TABLE t(x)", nullptr, nullptr, nullptr) == SQLITE_OK);
    sqlite3_close(h);
    CHECK(restore(fresh / "other.db").message().find("not an anshin database") !=
          std::string::npos);
  }
  SECTION("a schema newer than this build's") {
    sqlite3* h = nullptr;
    REQUIRE(sqlite3_open(file.c_str(), &h) == SQLITE_OK);
    REQUIRE(sqlite3_exec(h, "INSERT INTO schema_version(version) VALUES (999)", nullptr, nullptr,
                         nullptr) == SQLITE_OK);
    sqlite3_close(h);
    CHECK(restore(file).message().find("schema v999, newer than this build's") !=
          std::string::npos);
  }
  SECTION("damaged pages") {
    // Every b-tree page after the first gets an invalid header; the file header stays valid.
    std::fstream f(file, std::ios::in | std::ios::out | std::ios::binary);
    const auto size = std::filesystem::file_size(file);
    REQUIRE(size >= 3 * 4096);
    for (std::uintmax_t page = 4096; page + 4096 <= size; page += 4096) {
      f.seekp(static_cast<std::streamoff>(page));
      f << std::string(12, '\xff');
    }
    f.close();
    Status s = restore(file);
    CHECK_FALSE(s.ok());
    INFO(s.ToString());
    CHECK(s.code() == Status::Code::kFailedPrecondition);
  }
  CHECK_FALSE(std::filesystem::exists(target));
  CHECK(LeftOver(fresh.path()).empty());
}

}  // namespace
}  // namespace anshin::store
