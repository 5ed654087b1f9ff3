#include "reader-agent/agent_store.hpp"

#include <sqlite3.h>

namespace anshin::agent {
namespace {

constexpr const char* kSchema = R"sql(
CREATE TABLE IF NOT EXISTS meta (
  key   TEXT PRIMARY KEY,
  value ANY
) STRICT;
CREATE TABLE IF NOT EXISTS taps (
  seq       INTEGER PRIMARY KEY,  -- never reused: taken from meta.last_seq
  card      TEXT NOT NULL,        -- card token (HMAC of the IDm), never the IDm
  at_ms     INTEGER NOT NULL,     -- tap time, unix ms, agent clock
  reader    TEXT NOT NULL,
  direction TEXT NOT NULL
) STRICT;
CREATE TABLE IF NOT EXISTS allowlist (
  card TEXT PRIMARY KEY
) STRICT, WITHOUT ROWID;
INSERT OR IGNORE INTO meta(key, value) VALUES ('last_seq', 0), ('allowlist_version', 0),
  ('rejected_batches', 0), ('unknown_taps', 0);
)sql";

// Resets a statement when a scope ends, so the next use starts clean and no read transaction
// stays open.
class StmtScope {
 public:
  explicit StmtScope(sqlite3_stmt* s) : s_(s) {}
  ~StmtScope() {
    sqlite3_reset(s_);
    sqlite3_clear_bindings(s_);
  }
  StmtScope(const StmtScope&) = delete;
  StmtScope& operator=(const StmtScope&) = delete;

 private:
  sqlite3_stmt* s_;
};

void BindText(sqlite3_stmt* s, int i, const std::string& v) {
  sqlite3_bind_text(s, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
}

std::string ColumnText(sqlite3_stmt* s, int i) {
  const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(s, i));
  return p ? std::string(p, static_cast<std::size_t>(sqlite3_column_bytes(s, i))) : std::string();
}

}  // namespace

Result<std::unique_ptr<AgentStore>> AgentStore::Open(const std::filesystem::path& path, Mode mode) {
  std::unique_ptr<AgentStore> store(new AgentStore());
  Status s = store->Init(path, mode);
  if (!s.ok()) return s.WithContext(path.string());
  return store;
}

AgentStore::~AgentStore() {
  for (sqlite3_stmt* s : {begin_, commit_, rollback_, next_seq_, insert_tap_, pending_,
                          delete_through_, queue_stats_, get_meta_, set_meta_, increment_,
                          allowlist_all_, allowlist_add_, allowlist_remove_, allowlist_clear_}) {
    sqlite3_finalize(s);
  }
  sqlite3_close(db_);
}

Status AgentStore::Error(const char* what) const {
  return Status::Internal(std::string(what) + ": " + sqlite3_errmsg(db_));
}

Status AgentStore::Exec(const char* sql) {
  char* err = nullptr;
  if (sqlite3_exec(db_, sql, nullptr, nullptr, &err) != SQLITE_OK) {
    Status s = Status::Internal(err ? err : sqlite3_errmsg(db_));
    sqlite3_free(err);
    return s;
  }
  return Status::Ok();
}

Status AgentStore::Prepare(sqlite3_stmt** stmt, const char* sql) {
  if (sqlite3_prepare_v3(db_, sql, -1, SQLITE_PREPARE_PERSISTENT, stmt, nullptr) != SQLITE_OK) {
    return Error(sql);
  }
  return Status::Ok();
}

Status AgentStore::Init(const std::filesystem::path& path, Mode mode) {
  int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX;
  if (mode == Mode::kCreate) flags |= SQLITE_OPEN_CREATE;
  if (sqlite3_open_v2(path.c_str(), &db_, flags, nullptr) != SQLITE_OK) {
    return Status::Unavailable(db_ ? sqlite3_errmsg(db_) : "cannot allocate a SQLite handle");
  }
  sqlite3_busy_timeout(db_, 5000);  // `anshin-agent status` may read at the same moment
  ANSHIN_RETURN_IF_ERROR(Exec("PRAGMA journal_mode=WAL"));
  ANSHIN_RETURN_IF_ERROR(Exec("PRAGMA synchronous=FULL"));
  ANSHIN_RETURN_IF_ERROR(Exec(kSchema));
  ANSHIN_RETURN_IF_ERROR(Prepare(&begin_, "BEGIN IMMEDIATE"));
  ANSHIN_RETURN_IF_ERROR(Prepare(&commit_, "COMMIT"));
  ANSHIN_RETURN_IF_ERROR(Prepare(&rollback_, "ROLLBACK"));
  ANSHIN_RETURN_IF_ERROR(Prepare(
      &next_seq_, "UPDATE meta SET value = value + 1 WHERE key = 'last_seq' RETURNING value"));
  ANSHIN_RETURN_IF_ERROR(Prepare(
      &insert_tap_, "INSERT INTO taps(seq, card, at_ms, reader, direction) VALUES (?,?,?,?,?)"));
  ANSHIN_RETURN_IF_ERROR(Prepare(
      &pending_, "SELECT seq, card, at_ms, reader, direction FROM taps ORDER BY seq LIMIT ?"));
  ANSHIN_RETURN_IF_ERROR(Prepare(&delete_through_, "DELETE FROM taps WHERE seq <= ?"));
  ANSHIN_RETURN_IF_ERROR(Prepare(&queue_stats_, "SELECT count(*), min(at_ms), min(seq) FROM taps"));
  ANSHIN_RETURN_IF_ERROR(Prepare(&get_meta_, "SELECT value FROM meta WHERE key = ?"));
  ANSHIN_RETURN_IF_ERROR(
      Prepare(&set_meta_,
              "INSERT INTO meta(key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = "
              "excluded.value"));
  ANSHIN_RETURN_IF_ERROR(Prepare(&increment_,
                                 "INSERT INTO meta(key, value) VALUES (?, 1) ON CONFLICT(key) DO "
                                 "UPDATE SET value = value + 1 RETURNING value"));
  ANSHIN_RETURN_IF_ERROR(Prepare(&allowlist_all_, "SELECT card FROM allowlist ORDER BY card"));
  ANSHIN_RETURN_IF_ERROR(
      Prepare(&allowlist_add_, "INSERT OR IGNORE INTO allowlist(card) VALUES (?)"));
  ANSHIN_RETURN_IF_ERROR(Prepare(&allowlist_remove_, "DELETE FROM allowlist WHERE card = ?"));
  ANSHIN_RETURN_IF_ERROR(Prepare(&allowlist_clear_, "DELETE FROM allowlist"));
  return Status::Ok();
}

// Runs `body` between BEGIN IMMEDIATE and COMMIT; any failure (of the body or of COMMIT) rolls
// the transaction back and is returned. The caller holds mu_.
template <typename Body>
Status AgentStore::InTransactionLocked(const char* what, Body&& body) {
  {
    StmtScope scope(begin_);
    if (sqlite3_step(begin_) != SQLITE_DONE) return Error("begin");
  }
  Status s = body();
  if (s.ok()) {
    StmtScope scope(commit_);
    if (sqlite3_step(commit_) == SQLITE_DONE) return Status::Ok();
    s = Error(what);
  }
  StmtScope scope(rollback_);
  sqlite3_step(rollback_);
  return s;
}

Result<std::uint64_t> AgentStore::AppendTap(const CardToken& card, TimePoint at,
                                            const std::string& reader, Direction direction) {
  std::lock_guard lock(mu_);
  std::int64_t seq = 0;
  ANSHIN_RETURN_IF_ERROR(InTransactionLocked("commit tap", [&]() -> Status {
    {
      StmtScope scope(next_seq_);
      if (sqlite3_step(next_seq_) != SQLITE_ROW) return Error("next seq");
      seq = sqlite3_column_int64(next_seq_, 0);
      if (sqlite3_step(next_seq_) != SQLITE_DONE) return Error("next seq");
    }
    StmtScope scope(insert_tap_);
    sqlite3_bind_int64(insert_tap_, 1, seq);
    BindText(insert_tap_, 2, card.hex());
    sqlite3_bind_int64(insert_tap_, 3, ToUnixMillis(at));
    BindText(insert_tap_, 4, reader);
    BindText(insert_tap_, 5, std::string(DirectionName(direction)));
    if (sqlite3_step(insert_tap_) != SQLITE_DONE) return Error("insert tap");
    return Status::Ok();
  }));
  return static_cast<std::uint64_t>(seq);
}

Result<std::vector<wire::Tap>> AgentStore::PendingTaps(std::size_t limit) {
  std::lock_guard lock(mu_);
  StmtScope scope(pending_);
  sqlite3_bind_int64(pending_, 1, static_cast<std::int64_t>(limit));
  std::vector<wire::Tap> taps;
  int rc;
  while ((rc = sqlite3_step(pending_)) == SQLITE_ROW) {
    wire::Tap tap;
    tap.seq = static_cast<std::uint64_t>(sqlite3_column_int64(pending_, 0));
    auto card = CardToken::Parse(ColumnText(pending_, 1));
    if (!card.ok()) {
      return Status::Internal("taps row " + std::to_string(tap.seq) + ": " +
                              card.status().message());
    }
    tap.card = *card;
    tap.at = FromUnixMillis(sqlite3_column_int64(pending_, 2));
    tap.reader = ColumnText(pending_, 3);
    auto direction = ParseDirection(ColumnText(pending_, 4));
    tap.direction = direction.ok() ? *direction : Direction::kAuto;
    taps.push_back(std::move(tap));
  }
  if (rc != SQLITE_DONE) return Error("read queue");
  return taps;
}

Result<std::uint64_t> AgentStore::DeleteThrough(std::uint64_t acked_through) {
  std::lock_guard lock(mu_);
  StmtScope scope(delete_through_);
  sqlite3_bind_int64(delete_through_, 1, static_cast<std::int64_t>(acked_through));
  if (sqlite3_step(delete_through_) != SQLITE_DONE) return Error("delete acknowledged taps");
  return static_cast<std::uint64_t>(sqlite3_changes(db_));
}

Result<QueueStats> AgentStore::Queue() {
  std::lock_guard lock(mu_);
  StmtScope scope(queue_stats_);
  if (sqlite3_step(queue_stats_) != SQLITE_ROW) return Error("queue stats");
  QueueStats stats;
  stats.depth = static_cast<std::uint64_t>(sqlite3_column_int64(queue_stats_, 0));
  if (sqlite3_column_type(queue_stats_, 1) != SQLITE_NULL) {
    stats.oldest_at = FromUnixMillis(sqlite3_column_int64(queue_stats_, 1));
    stats.first_seq = static_cast<std::uint64_t>(sqlite3_column_int64(queue_stats_, 2));
  }
  return stats;
}

Result<std::uint64_t> AgentStore::LastSeq() {
  ANSHIN_ASSIGN_OR_RETURN(auto v, GetInt(meta::kLastSeq));
  return static_cast<std::uint64_t>(v.value_or(0));
}

Result<AgentStore::Allowlist> AgentStore::LoadAllowlist() {
  Allowlist list;
  ANSHIN_ASSIGN_OR_RETURN(auto version, GetInt(meta::kAllowlistVersion));
  ANSHIN_ASSIGN_OR_RETURN(auto fetched, GetInt(meta::kAllowlistFetchedAt));
  list.version = static_cast<std::uint64_t>(version.value_or(0));
  list.fetched = fetched.has_value();
  std::lock_guard lock(mu_);
  StmtScope scope(allowlist_all_);
  int rc;
  while ((rc = sqlite3_step(allowlist_all_)) == SQLITE_ROW) {
    auto token = CardToken::Parse(ColumnText(allowlist_all_, 0));
    if (!token.ok()) return Status::Internal("allowlist: " + token.status().message());
    list.tokens.push_back(*token);
  }
  if (rc != SQLITE_DONE) return Error("read allowlist");
  return list;
}

Status AgentStore::ApplyAllowlist(const wire::AllowlistDelta& delta, TimePoint now) {
  std::lock_guard lock(mu_);
  return InTransactionLocked("commit allowlist", [&]() -> Status {
    auto step = [](sqlite3_stmt* s) {
      StmtScope scope(s);
      return sqlite3_step(s) == SQLITE_DONE;
    };
    if (delta.full && !step(allowlist_clear_)) return Error("clear allowlist");
    for (const CardToken& t : delta.removed) {
      BindText(allowlist_remove_, 1, t.hex());
      if (!step(allowlist_remove_)) return Error("remove from allowlist");
    }
    for (const CardToken& t : delta.added) {
      BindText(allowlist_add_, 1, t.hex());
      if (!step(allowlist_add_)) return Error("add to allowlist");
    }
    std::string version_key = meta::kAllowlistVersion, fetched_key = meta::kAllowlistFetchedAt;
    ANSHIN_RETURN_IF_ERROR(
        SetValueLocked(version_key, nullptr, static_cast<std::int64_t>(delta.version)));
    return SetValueLocked(fetched_key, nullptr, ToUnixMillis(now));
  });
}

Status AgentStore::SetValueLocked(const std::string& key, const std::string* text,
                                  std::int64_t number) {
  StmtScope scope(set_meta_);
  BindText(set_meta_, 1, key);
  if (text) {
    BindText(set_meta_, 2, *text);
  } else {
    sqlite3_bind_int64(set_meta_, 2, number);
  }
  if (sqlite3_step(set_meta_) != SQLITE_DONE) return Error(key.c_str());
  return Status::Ok();
}

Status AgentStore::SetText(const std::string& key, const std::string& value) {
  std::lock_guard lock(mu_);
  return SetValueLocked(key, &value, 0);
}

Status AgentStore::SetInt(const std::string& key, std::int64_t value) {
  std::lock_guard lock(mu_);
  return SetValueLocked(key, nullptr, value);
}

Result<std::int64_t> AgentStore::Increment(const std::string& key) {
  std::lock_guard lock(mu_);
  StmtScope scope(increment_);
  BindText(increment_, 1, key);
  if (sqlite3_step(increment_) != SQLITE_ROW) return Error(key.c_str());
  std::int64_t v = sqlite3_column_int64(increment_, 0);
  if (sqlite3_step(increment_) != SQLITE_DONE) return Error(key.c_str());
  return v;
}

Result<std::optional<std::string>> AgentStore::GetText(const std::string& key) {
  std::lock_guard lock(mu_);
  StmtScope scope(get_meta_);
  BindText(get_meta_, 1, key);
  int rc = sqlite3_step(get_meta_);
  if (rc == SQLITE_DONE) return std::optional<std::string>();
  if (rc != SQLITE_ROW) return Error(key.c_str());
  if (sqlite3_column_type(get_meta_, 0) == SQLITE_NULL) return std::optional<std::string>();
  return std::optional<std::string>(ColumnText(get_meta_, 0));
}

Result<std::optional<std::int64_t>> AgentStore::GetInt(const std::string& key) {
  std::lock_guard lock(mu_);
  StmtScope scope(get_meta_);
  BindText(get_meta_, 1, key);
  int rc = sqlite3_step(get_meta_);
  if (rc == SQLITE_DONE) return std::optional<std::int64_t>();
  if (rc != SQLITE_ROW) return Error(key.c_str());
  if (sqlite3_column_type(get_meta_, 0) == SQLITE_NULL) return std::optional<std::int64_t>();
  return std::optional<std::int64_t>(sqlite3_column_int64(get_meta_, 0));
}

}  // namespace anshin::agent
