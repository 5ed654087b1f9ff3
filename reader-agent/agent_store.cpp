#include "reader-agent/agent_store.hpp"

namespace anshin::agent {
namespace {

using sqlite::Query;

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
CREATE TABLE IF NOT EXISTS allowlist_lost (  -- of allowlist, the cards reported lost
  card TEXT PRIMARY KEY
) STRICT, WITHOUT ROWID;
INSERT OR IGNORE INTO meta(key, value) VALUES ('last_seq', 0), ('allowlist_version', 0),
  ('rejected_batches', 0), ('unknown_taps', 0), ('rejected_taps', 0);
)sql";

Result<sqlite::Transaction> BeginImmediate(sqlite::Db& db) {
  return sqlite::Transaction::Begin(db, sqlite::Transaction::Kind::kImmediate);
}

}  // namespace

Result<std::unique_ptr<AgentStore>> AgentStore::Open(const std::filesystem::path& path, Mode mode) {
  sqlite::Db::Options o;
  o.synchronous = sqlite::SyncMode::kFull;
  o.busy_timeout_ms = 5000;  // `anshin-agent status` may read at the same moment
  o.create = mode == Mode::kCreate;
  Result<std::unique_ptr<sqlite::Db>> db = sqlite::Db::Open(path, o);
  if (!db.ok()) return db.status();
  std::unique_ptr<AgentStore> store(new AgentStore(std::move(db).value()));
  // An agent.db from before lost cards were listed: its allowlist says nothing of them, so the
  // next refresh must fetch the full list (dropping the fetch time makes it do so).
  ANSHIN_ASSIGN_OR_RETURN(Query had_lost,
                          store->db_->Prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' "
                                              "AND name = 'allowlist_lost'"));
  ANSHIN_ASSIGN_OR_RETURN(bool lost_known, had_lost.Step());
  had_lost.Reset();
  if (Status s = store->db_->Exec(kSchema); !s.ok()) return s.WithContext(path.string());
  if (!lost_known) {
    ANSHIN_RETURN_IF_ERROR(store->db_->Exec("DELETE FROM meta WHERE key = 'allowlist_fetched_at'"));
  }
  return store;
}

AgentStore::AgentStore(std::unique_ptr<sqlite::Db> db) : db_(std::move(db)) {}
AgentStore::~AgentStore() = default;

Result<std::uint64_t> AgentStore::AppendTap(const CardToken& card, TimePoint at,
                                            const std::string& reader, Direction direction) {
  std::lock_guard lock(mu_);
  ANSHIN_ASSIGN_OR_RETURN(sqlite::Transaction txn, BeginImmediate(*db_));
  std::int64_t seq = 0;
  {
    ANSHIN_ASSIGN_OR_RETURN(
        Query q,
        db_->Prepare("UPDATE meta SET value = value + 1 WHERE key = 'last_seq' RETURNING value"));
    ANSHIN_ASSIGN_OR_RETURN(bool row, q.Step());
    if (!row) return Status::Internal("agent.db: meta.last_seq is missing");
    seq = q.Int(0);
    ANSHIN_RETURN_IF_ERROR(q.Run());
  }
  ANSHIN_ASSIGN_OR_RETURN(
      Query q,
      db_->Prepare("INSERT INTO taps(seq, card, at_ms, reader, direction) VALUES (?,?,?,?,?)"));
  q.Bind(1, seq).Bind(2, card.hex()).Bind(3, ToUnixMillis(at)).Bind(4, reader);
  q.Bind(5, DirectionName(direction));
  ANSHIN_RETURN_IF_ERROR(q.Run());
  ANSHIN_RETURN_IF_ERROR(txn.Commit());
  return static_cast<std::uint64_t>(seq);
}

Result<std::vector<wire::Tap>> AgentStore::PendingTaps(std::size_t limit) {
  std::lock_guard lock(mu_);
  ANSHIN_ASSIGN_OR_RETURN(
      Query q,
      db_->Prepare("SELECT seq, card, at_ms, reader, direction FROM taps ORDER BY seq LIMIT ?"));
  q.Bind(1, static_cast<std::int64_t>(limit));
  std::vector<wire::Tap> taps;
  ANSHIN_RETURN_IF_ERROR(q.ForEachRow([&]() -> Status {
    wire::Tap tap;
    tap.seq = static_cast<std::uint64_t>(q.Int(0));
    const std::string where = "agent.db taps seq " + std::to_string(tap.seq) + ": ";
    Result<CardToken> card = CardToken::Parse(q.TextView(1));
    if (!card.ok()) return Status::Internal(where + card.status().message());
    tap.card = *card;
    tap.at = FromUnixMillis(q.Int(2));
    tap.reader = q.Text(3);
    // A direction this agent never writes means the file was damaged: refuse loudly rather
    // than send the tap as something it was not.
    Result<Direction> direction = ParseDirection(q.TextView(4));
    if (!direction.ok()) return Status::Internal(where + direction.status().message());
    tap.direction = *direction;
    taps.push_back(std::move(tap));
    return Status::Ok();
  }));
  return taps;
}

Result<std::uint64_t> AgentStore::DeleteThrough(std::uint64_t acked_through) {
  std::lock_guard lock(mu_);
  ANSHIN_ASSIGN_OR_RETURN(Query q, db_->Prepare("DELETE FROM taps WHERE seq <= ?"));
  q.Bind(1, acked_through);
  ANSHIN_RETURN_IF_ERROR(q.Run());
  return static_cast<std::uint64_t>(db_->Changes());
}

Result<QueueStats> AgentStore::Queue() {
  std::lock_guard lock(mu_);
  ANSHIN_ASSIGN_OR_RETURN(Query q, db_->Prepare("SELECT count(*), min(at_ms), min(seq) FROM taps"));
  ANSHIN_ASSIGN_OR_RETURN(bool row, q.Step());
  QueueStats stats;
  if (!row) return stats;
  stats.depth = static_cast<std::uint64_t>(q.Int(0));
  if (!q.IsNull(1)) {
    stats.oldest_at = FromUnixMillis(q.Int(1));
    stats.first_seq = static_cast<std::uint64_t>(q.Int(2));
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
  ANSHIN_ASSIGN_OR_RETURN(Query q, db_->Prepare("SELECT card FROM allowlist ORDER BY card"));
  ANSHIN_RETURN_IF_ERROR(q.ForEachRow([&]() -> Status {
    Result<CardToken> token = CardToken::Parse(q.TextView(0));
    if (!token.ok()) return Status::Internal("agent.db allowlist: " + token.status().message());
    list.tokens.push_back(*token);
    return Status::Ok();
  }));
  ANSHIN_ASSIGN_OR_RETURN(Query lost,
                          db_->Prepare("SELECT card FROM allowlist_lost ORDER BY card"));
  ANSHIN_RETURN_IF_ERROR(lost.ForEachRow([&]() -> Status {
    Result<CardToken> token = CardToken::Parse(lost.TextView(0));
    if (!token.ok())
      return Status::Internal("agent.db allowlist_lost: " + token.status().message());
    list.lost.push_back(*token);
    return Status::Ok();
  }));
  return list;
}

Status AgentStore::ApplyAllowlist(const wire::AllowlistDelta& delta, TimePoint now) {
  std::lock_guard lock(mu_);
  ANSHIN_ASSIGN_OR_RETURN(sqlite::Transaction txn, BeginImmediate(*db_));
  if (delta.full) {
    ANSHIN_RETURN_IF_ERROR(db_->Exec("DELETE FROM allowlist; DELETE FROM allowlist_lost"));
  }
  auto run = [this](const char* sql, const CardToken& t) -> Status {
    ANSHIN_ASSIGN_OR_RETURN(Query q, db_->Prepare(sql));
    q.Bind(1, t.hex());
    return q.Run();
  };
  for (const CardToken& t : delta.removed) {
    ANSHIN_RETURN_IF_ERROR(run("DELETE FROM allowlist WHERE card = ?", t));
    ANSHIN_RETURN_IF_ERROR(run("DELETE FROM allowlist_lost WHERE card = ?", t));
  }
  // An added token is not lost unless `lost` says so (a found card is re-added unflagged).
  for (const CardToken& t : delta.added) {
    ANSHIN_RETURN_IF_ERROR(run("INSERT OR IGNORE INTO allowlist(card) VALUES (?)", t));
    ANSHIN_RETURN_IF_ERROR(run("DELETE FROM allowlist_lost WHERE card = ?", t));
  }
  for (const CardToken& t : delta.lost) {
    ANSHIN_RETURN_IF_ERROR(run("INSERT OR IGNORE INTO allowlist_lost(card) VALUES (?)", t));
  }
  ANSHIN_RETURN_IF_ERROR(
      SetValueLocked(meta::kAllowlistVersion, nullptr, static_cast<std::int64_t>(delta.version)));
  ANSHIN_RETURN_IF_ERROR(SetValueLocked(meta::kAllowlistFetchedAt, nullptr, ToUnixMillis(now)));
  return txn.Commit();
}

Status AgentStore::SetValueLocked(std::string_view key, const std::string* text,
                                  std::int64_t number) {
  ANSHIN_ASSIGN_OR_RETURN(
      Query q, db_->Prepare("INSERT INTO meta(key, value) VALUES (?, ?) ON CONFLICT(key) DO "
                            "UPDATE SET value = excluded.value"));
  q.Bind(1, key);
  if (text) {
    q.Bind(2, *text);
  } else {
    q.Bind(2, number);
  }
  return q.Run().WithContext(std::string(key));
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
  ANSHIN_ASSIGN_OR_RETURN(
      Query q, db_->Prepare("INSERT INTO meta(key, value) VALUES (?, 1) ON CONFLICT(key) DO "
                            "UPDATE SET value = value + 1 RETURNING value"));
  q.Bind(1, key);
  ANSHIN_ASSIGN_OR_RETURN(bool row, q.Step());
  if (!row) return Status::Internal(key + ": no value returned");
  const std::int64_t v = q.Int(0);
  ANSHIN_RETURN_IF_ERROR(q.Run());
  return v;
}

Result<std::optional<std::string>> AgentStore::GetText(const std::string& key) {
  std::lock_guard lock(mu_);
  ANSHIN_ASSIGN_OR_RETURN(Query q, db_->Prepare("SELECT value FROM meta WHERE key = ?"));
  q.Bind(1, key);
  ANSHIN_ASSIGN_OR_RETURN(bool row, q.Step());
  if (!row || q.IsNull(0)) return std::optional<std::string>();
  return std::optional<std::string>(q.Text(0));
}

Result<std::optional<std::int64_t>> AgentStore::GetInt(const std::string& key) {
  std::lock_guard lock(mu_);
  ANSHIN_ASSIGN_OR_RETURN(Query q, db_->Prepare("SELECT value FROM meta WHERE key = ?"));
  q.Bind(1, key);
  ANSHIN_ASSIGN_OR_RETURN(bool row, q.Step());
  if (!row || q.IsNull(0)) return std::optional<std::int64_t>();
  return std::optional<std::int64_t>(q.Int(0));
}

}  // namespace anshin::agent
