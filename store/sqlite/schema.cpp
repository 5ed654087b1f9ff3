#include "store/sqlite/schema.hpp"

#include <cstdint>
#include <string>

namespace anshin::store::sqlite_impl {
namespace {

// Times are Unix-epoch milliseconds (INTEGER); times of day are seconds after local midnight;
// local dates are "YYYY-MM-DD" text; booleans are 0/1.
constexpr const char* kV1 = R"sql(
CREATE TABLE facilities (
  id                    INTEGER PRIMARY KEY,
  code                  TEXT NOT NULL UNIQUE,
  name                  TEXT NOT NULL,
  tz_name               TEXT NOT NULL DEFAULT 'Asia/Tokyo',
  double_tap_window_s   INTEGER NOT NULL DEFAULT 120,
  departure_from_s      INTEGER NOT NULL DEFAULT 59400,
  departure_margin_min  INTEGER NOT NULL DEFAULT 30,
  closing_time_s        INTEGER NOT NULL DEFAULT 68400,
  closing_grace_min     INTEGER NOT NULL DEFAULT 15,
  late_after_s          INTEGER NOT NULL DEFAULT 300,
  opens_s               INTEGER NOT NULL DEFAULT 46800,
  closes_s              INTEGER NOT NULL DEFAULT 68400,
  created_at            INTEGER NOT NULL
);

CREATE TABLE agents (
  id            INTEGER PRIMARY KEY,
  name          TEXT NOT NULL UNIQUE,
  facility_id   INTEGER NOT NULL REFERENCES facilities(id),
  cert_sha256   TEXT NOT NULL,
  status        TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'disabled', 'revoked')),
  enrolled_at   INTEGER NOT NULL,
  last_contact  INTEGER,
  last_health   TEXT,
  skew_ms       INTEGER NOT NULL DEFAULT 0,
  acked_through INTEGER NOT NULL DEFAULT 0,
  gap_from      INTEGER,
  gap_to        INTEGER
);

CREATE TABLE children (
  id            INTEGER PRIMARY KEY,
  name          TEXT NOT NULL,
  facility_id   INTEGER NOT NULL REFERENCES facilities(id),
  dep_sun_s     INTEGER,
  dep_mon_s     INTEGER,
  dep_tue_s     INTEGER,
  dep_wed_s     INTEGER,
  dep_thu_s     INTEGER,
  dep_fri_s     INTEGER,
  dep_sat_s     INTEGER,
  status        TEXT NOT NULL DEFAULT 'enrolled' CHECK (status IN ('enrolled', 'withdrawn')),
  withdrawn_at  INTEGER,
  created_at    INTEGER NOT NULL
);
CREATE INDEX children_facility ON children(facility_id);

CREATE TABLE guardians (
  id                  INTEGER PRIMARY KEY,
  child_id            INTEGER NOT NULL REFERENCES children(id),
  email               TEXT NOT NULL,
  verified            INTEGER NOT NULL DEFAULT 0,
  verified_at         INTEGER,
  code_hash           TEXT,
  code_expires_at     INTEGER,
  code_attempts       INTEGER NOT NULL DEFAULT 0,
  sends_window_start  INTEGER,
  sends_in_window     INTEGER NOT NULL DEFAULT 0,
  link_hash           TEXT UNIQUE,
  wants_arrival       INTEGER NOT NULL DEFAULT 1,
  wants_departure     INTEGER NOT NULL DEFAULT 1,
  charset             TEXT NOT NULL DEFAULT 'utf-8' CHECK (charset IN ('utf-8', 'iso-2022-jp')),
  bouncing            INTEGER NOT NULL DEFAULT 0,
  created_at          INTEGER NOT NULL
);
CREATE INDEX guardians_child ON guardians(child_id);

CREATE TABLE cards (
  token       TEXT PRIMARY KEY,
  child_id    INTEGER NOT NULL REFERENCES children(id),
  status      TEXT NOT NULL CHECK (status IN ('active', 'lost', 'retired')),
  issued_at   INTEGER NOT NULL,
  retired_at  INTEGER
) WITHOUT ROWID;
CREATE INDEX cards_child ON cards(child_id);
CREATE UNIQUE INDEX cards_one_active_per_child ON cards(child_id) WHERE status = 'active';

CREATE TABLE taps (
  id            INTEGER PRIMARY KEY,
  agent_id      INTEGER NOT NULL REFERENCES agents(id),
  seq           INTEGER NOT NULL,
  card_token    TEXT NOT NULL,
  facility_id   INTEGER NOT NULL REFERENCES facilities(id),
  reader        TEXT NOT NULL,
  direction     TEXT NOT NULL CHECK (direction IN ('auto', 'entry', 'exit')),
  tapped_at     INTEGER NOT NULL,
  corrected_at  INTEGER NOT NULL,
  received_at   INTEGER NOT NULL,
  reason        TEXT NOT NULL,
  child_id      INTEGER REFERENCES children(id),
  late          INTEGER NOT NULL DEFAULT 0,
  UNIQUE (agent_id, seq)
);
CREATE INDEX taps_child ON taps(child_id, corrected_at);

CREATE TABLE child_days (
  child_id         INTEGER NOT NULL REFERENCES children(id),
  facility_id      INTEGER NOT NULL REFERENCES facilities(id),
  date             TEXT NOT NULL,
  state            TEXT NOT NULL,
  open_visit       INTEGER NOT NULL,
  closing_alerted  INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (child_id, facility_id, date)
) WITHOUT ROWID;
CREATE INDEX child_days_open ON child_days(facility_id, date)
  WHERE open_visit = 1 AND closing_alerted = 0;

CREATE TABLE outbox (
  id                 INTEGER PRIMARY KEY,
  kind               TEXT NOT NULL CHECK (kind IN ('arrival', 'departure', 'inferred_departure',
                                                   'correction', 'verification', 'test')),
  guardian_id        INTEGER NOT NULL REFERENCES guardians(id),
  child_id           INTEGER REFERENCES children(id),
  facility_id        INTEGER REFERENCES facilities(id),
  tap_at             INTEGER,
  arrival_at         INTEGER,
  late               INTEGER NOT NULL DEFAULT 0,
  verification_code  TEXT,
  link_token         TEXT,
  state              TEXT NOT NULL DEFAULT 'queued'
                     CHECK (state IN ('queued', 'sending', 'sent', 'retrying', 'failed')),
  attempts           INTEGER NOT NULL DEFAULT 0,
  next_attempt_at    INTEGER NOT NULL,
  created_at         INTEGER NOT NULL,
  last_error         TEXT,
  relay_reply        TEXT,
  message_id         TEXT,
  sent_at            INTEGER
);
CREATE INDEX outbox_due ON outbox(next_attempt_at) WHERE state IN ('queued', 'retrying');
CREATE INDEX outbox_pending ON outbox(created_at) WHERE state IN ('queued', 'sending', 'retrying');
CREATE INDEX outbox_child ON outbox(child_id);
CREATE INDEX outbox_guardian ON outbox(guardian_id);

CREATE TABLE send_log (
  id          INTEGER PRIMARY KEY,
  outbox_id   INTEGER NOT NULL REFERENCES outbox(id),
  at          INTEGER NOT NULL,
  result      TEXT NOT NULL CHECK (result IN ('sent', 'retry', 'failed')),
  smtp_code   INTEGER NOT NULL DEFAULT 0,
  reply       TEXT NOT NULL DEFAULT '',
  message_id  TEXT
);
CREATE INDEX send_log_outbox ON send_log(outbox_id);

CREATE TABLE alerts (
  id            INTEGER PRIMARY KEY,
  kind          TEXT NOT NULL CHECK (kind IN ('lost_card_seen', 'no_departure')),
  facility_id   INTEGER NOT NULL REFERENCES facilities(id),
  child_id      INTEGER REFERENCES children(id),
  at            INTEGER NOT NULL,
  detail        TEXT NOT NULL DEFAULT '',
  acknowledged  INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX alerts_open ON alerts(at) WHERE acknowledged = 0;

CREATE TABLE allowlist_changes (
  version  INTEGER PRIMARY KEY,
  token    TEXT NOT NULL,
  op       TEXT NOT NULL CHECK (op IN ('add', 'remove')),
  at       INTEGER NOT NULL
);
CREATE INDEX allowlist_changes_token ON allowlist_changes(token, version);

CREATE TABLE audit_log (
  id         INTEGER PRIMARY KEY,
  at         INTEGER NOT NULL,
  actor      TEXT NOT NULL,
  action     TEXT NOT NULL,
  detail     TEXT NOT NULL,
  prev_hash  TEXT NOT NULL,
  hash       TEXT NOT NULL
);
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
  BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
  BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
)sql";

// v2: runs of scheduled jobs (the monthly test mail is queued once per facility and month,
// whatever restarts happen on the 1st).
constexpr const char* kV2 = R"sql(
CREATE TABLE job_runs (
  job     TEXT NOT NULL,
  period  TEXT NOT NULL,
  at      INTEGER NOT NULL,
  PRIMARY KEY (job, period)
) WITHOUT ROWID;
)sql";

// v3: what the ward's application form records of a child: the child number (unique when
// given; rows from before have none), the reading of the name, the school grade and the days
// of attendance (bit d for weekday d, 0 = Sunday).
constexpr const char* kV3 = R"sql(
ALTER TABLE children ADD COLUMN child_number TEXT;
ALTER TABLE children ADD COLUMN kana TEXT NOT NULL DEFAULT '';
ALTER TABLE children ADD COLUMN grade INTEGER CHECK (grade BETWEEN 1 AND 6);
ALTER TABLE children ADD COLUMN attend_days INTEGER NOT NULL DEFAULT 0
  CHECK (attend_days BETWEEN 0 AND 127);
CREATE UNIQUE INDEX children_number ON children(child_number) WHERE child_number IS NOT NULL;
)sql";

// v4: each card's status history (a tap is judged by the status its card had when it was
// made), and the lost flag of allowlist changes (agents give a lost card distinct feedback).
// Cards already lost or retired get their change at the time known best (retired_at, else the
// issue: such taps are judged as before); lost cards get a change that lists them as lost.
constexpr const char* kV4 = R"sql(
CREATE TABLE card_status_history (
  id      INTEGER PRIMARY KEY,
  token   TEXT NOT NULL REFERENCES cards(token),
  status  TEXT NOT NULL CHECK (status IN ('active', 'lost', 'retired')),
  at      INTEGER NOT NULL
);
CREATE INDEX card_status_history_token ON card_status_history(token, at);
INSERT INTO card_status_history(token, status, at)
  SELECT token, 'active', issued_at FROM cards ORDER BY issued_at;
INSERT INTO card_status_history(token, status, at)
  SELECT token, status, COALESCE(retired_at, issued_at) FROM cards WHERE status <> 'active';

ALTER TABLE allowlist_changes ADD COLUMN lost INTEGER NOT NULL DEFAULT 0;
INSERT INTO allowlist_changes(token, op, at, lost)
  SELECT token, 'add', CAST(strftime('%s', 'now') AS INTEGER) * 1000, 1 FROM cards
  WHERE status = 'lost' ORDER BY token;
)sql";

// v5: who acknowledged an alert, when, and why (the console and `alert ack --note`).
constexpr const char* kV5 = R"sql(
ALTER TABLE alerts ADD COLUMN acknowledged_at INTEGER;
ALTER TABLE alerts ADD COLUMN acknowledged_by TEXT NOT NULL DEFAULT '';
ALTER TABLE alerts ADD COLUMN ack_note TEXT NOT NULL DEFAULT '';
)sql";

// v6: the console and the year's work. Staff accounts (argon2id hashes, lock-out, facility
// binding) and their sessions; each card's letter shipment; attendance expectations (the
// facility's expected arrival time, its calendar of closed days and holiday hours, absences
// recorded for a child); the wider set of alert kinds with the staff mail each one got; and
// the purge of a withdrawn child's personal data; guardians removed (their address erased,
// their send history kept). The alerts table is rebuilt because its kind
// CHECK grows (SQLite cannot alter a CHECK).
constexpr const char* kV6 = R"sql(
CREATE TABLE staff (
  id                   INTEGER PRIMARY KEY,
  name                 TEXT NOT NULL UNIQUE,
  role                 TEXT NOT NULL
                       CHECK (role IN ('facility', 'callcenter', 'operator', 'admin', 'auditor')),
  facility_id          INTEGER REFERENCES facilities(id),
  email                TEXT NOT NULL DEFAULT '',
  password_hash        TEXT NOT NULL,
  status               TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'disabled')),
  failed_logins        INTEGER NOT NULL DEFAULT 0,
  locked_until         INTEGER,
  created_at           INTEGER NOT NULL,
  password_changed_at  INTEGER NOT NULL,
  CHECK ((role = 'facility') = (facility_id IS NOT NULL))
);

CREATE TABLE staff_sessions (
  id_hash       TEXT PRIMARY KEY,
  staff_id      INTEGER NOT NULL REFERENCES staff(id),
  csrf_token    TEXT NOT NULL,
  created_at    INTEGER NOT NULL,
  last_seen_at  INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX staff_sessions_staff ON staff_sessions(staff_id);

ALTER TABLE cards ADD COLUMN shipped_at INTEGER;

ALTER TABLE facilities ADD COLUMN expected_arrival_by_s INTEGER;
ALTER TABLE facilities ADD COLUMN notify_not_arrived INTEGER NOT NULL DEFAULT 0;
CREATE TABLE facility_calendar (
  facility_id            INTEGER NOT NULL REFERENCES facilities(id),
  date                   TEXT NOT NULL,
  closed                 INTEGER NOT NULL DEFAULT 0,
  expected_arrival_by_s  INTEGER,
  PRIMARY KEY (facility_id, date)
) WITHOUT ROWID;

CREATE TABLE absences (
  id           INTEGER PRIMARY KEY,
  child_id     INTEGER NOT NULL REFERENCES children(id),
  from_date    TEXT NOT NULL,
  to_date      TEXT NOT NULL CHECK (to_date >= from_date),
  reason       TEXT NOT NULL DEFAULT '',
  recorded_by  TEXT NOT NULL,
  recorded_at  INTEGER NOT NULL
);
CREATE INDEX absences_child ON absences(child_id, from_date);

ALTER TABLE children ADD COLUMN purged_at INTEGER;
ALTER TABLE guardians ADD COLUMN removed_at INTEGER;

CREATE TABLE alerts_v6 (
  id               INTEGER PRIMARY KEY,
  kind             TEXT NOT NULL CHECK (kind IN ('lost_card_seen', 'no_departure', 'not_arrived',
                                                 'agent_silent', 'reader_error', 'mail_failing',
                                                 'address_bouncing', 'unusual_access',
                                                 'clock_skew')),
  facility_id      INTEGER REFERENCES facilities(id),
  child_id         INTEGER REFERENCES children(id),
  at               INTEGER NOT NULL,
  detail           TEXT NOT NULL DEFAULT '',
  acknowledged     INTEGER NOT NULL DEFAULT 0,
  acknowledged_at  INTEGER,
  acknowledged_by  TEXT NOT NULL DEFAULT '',
  ack_note         TEXT NOT NULL DEFAULT '',
  mailed_at        INTEGER
);
INSERT INTO alerts_v6(id, kind, facility_id, child_id, at, detail, acknowledged,
                      acknowledged_at, acknowledged_by, ack_note)
  SELECT id, kind, facility_id, child_id, at, detail, acknowledged, acknowledged_at,
         acknowledged_by, ack_note FROM alerts ORDER BY id;
DROP TABLE alerts;
ALTER TABLE alerts_v6 RENAME TO alerts;
CREATE INDEX alerts_open ON alerts(at) WHERE acknowledged = 0;
CREATE INDEX alerts_unmailed ON alerts(id) WHERE mailed_at IS NULL;
)sql";

// v7: taps staff record on the facility board (a forgotten tap: who recorded it and why, under
// the facility's own "console" uploader, which numbers them but never connects); each agent's
// client-certificate expiry (renewal, the expiry metric); the agents' clock-skew history (the
// clock-skew alert and its graph).
constexpr const char* kV7 = R"sql(
ALTER TABLE taps ADD COLUMN recorded_by TEXT NOT NULL DEFAULT '';
ALTER TABLE taps ADD COLUMN note TEXT NOT NULL DEFAULT '';
ALTER TABLE agents ADD COLUMN kind TEXT NOT NULL DEFAULT 'pc' CHECK (kind IN ('pc', 'console'));
ALTER TABLE agents ADD COLUMN cert_not_after INTEGER;
CREATE TABLE agent_skew_samples (
  agent_id  INTEGER NOT NULL REFERENCES agents(id),
  at        INTEGER NOT NULL,
  skew_ms   INTEGER NOT NULL,
  PRIMARY KEY (agent_id, at)
) WITHOUT ROWID;
)sql";

// v8: a notice of a tap staff recorded says so in the guardian's mail; a facility's day read
// whole (the facility board, the operations page, the not-arrived check) by index.
constexpr const char* kV8 = R"sql(
ALTER TABLE outbox ADD COLUMN staff_recorded INTEGER NOT NULL DEFAULT 0;
CREATE INDEX child_days_facility ON child_days(facility_id, date);
)sql";

// v9: a guardian's "not arrived" mail (the ward enables it per facility:
// facilities.notify_not_arrived). The outbox is rebuilt because its kind CHECK grows; send_log
// refers to it, so this runs with foreign keys off (Migration::rebuilds_referenced_table) and
// send_log's reference names the rebuilt table once it is renamed. Row ids are kept.
constexpr const char* kV9 = R"sql(
CREATE TABLE outbox_v9 (
  id                 INTEGER PRIMARY KEY,
  kind               TEXT NOT NULL CHECK (kind IN ('arrival', 'departure', 'inferred_departure',
                                                   'correction', 'verification', 'test',
                                                   'not_arrived')),
  guardian_id        INTEGER NOT NULL REFERENCES guardians(id),
  child_id           INTEGER REFERENCES children(id),
  facility_id        INTEGER REFERENCES facilities(id),
  tap_at             INTEGER,
  arrival_at         INTEGER,
  late               INTEGER NOT NULL DEFAULT 0,
  verification_code  TEXT,
  link_token         TEXT,
  state              TEXT NOT NULL DEFAULT 'queued'
                     CHECK (state IN ('queued', 'sending', 'sent', 'retrying', 'failed')),
  attempts           INTEGER NOT NULL DEFAULT 0,
  next_attempt_at    INTEGER NOT NULL,
  created_at         INTEGER NOT NULL,
  last_error         TEXT,
  relay_reply        TEXT,
  message_id         TEXT,
  sent_at            INTEGER,
  staff_recorded     INTEGER NOT NULL DEFAULT 0
);
INSERT INTO outbox_v9(id, kind, guardian_id, child_id, facility_id, tap_at, arrival_at, late,
                      verification_code, link_token, state, attempts, next_attempt_at,
                      created_at, last_error, relay_reply, message_id, sent_at, staff_recorded)
  SELECT id, kind, guardian_id, child_id, facility_id, tap_at, arrival_at, late,
         verification_code, link_token, state, attempts, next_attempt_at, created_at,
         last_error, relay_reply, message_id, sent_at, staff_recorded FROM outbox ORDER BY id;
DROP TABLE outbox;
ALTER TABLE outbox_v9 RENAME TO outbox;
CREATE INDEX outbox_due ON outbox(next_attempt_at) WHERE state IN ('queued', 'retrying');
CREATE INDEX outbox_pending ON outbox(created_at) WHERE state IN ('queued', 'sending', 'retrying');
CREATE INDEX outbox_child ON outbox(child_id);
CREATE INDEX outbox_guardian ON outbox(guardian_id);
)sql";

constexpr Migration kMigrations[] = {
    {1, kV1}, {2, kV2}, {3, kV3},
    {4, kV4}, {5, kV5}, {6, kV6},
    {7, kV7}, {8, kV8}, {9, kV9, /*rebuilds_referenced_table=*/true},
};

// Fails when a row refers to one that does not exist (after a table was rebuilt).
Status CheckForeignKeys(sqlite::Db& db, int version) {
  ANSHIN_ASSIGN_OR_RETURN(sqlite::Query q, db.Prepare("PRAGMA foreign_key_check"));
  ANSHIN_ASSIGN_OR_RETURN(bool row, q.Step());
  if (!row) return Status::Ok();
  return Status::Internal("migration " + std::to_string(version) + ": a row of " + q.Text(0) +
                          " (rowid " + std::to_string(q.Int(1)) + ") refers to a missing row of " +
                          q.Text(2));
}

// Applies one migration in its own transaction with its schema_version row; nothing when the
// version is recorded already.
Status ApplyMigration(sqlite::Db& db, const Migration& m) {
  ANSHIN_ASSIGN_OR_RETURN(sqlite::Transaction txn,
                          sqlite::Transaction::Begin(db, sqlite::Transaction::Kind::kImmediate));
  ANSHIN_ASSIGN_OR_RETURN(sqlite::Query q,
                          db.Prepare("SELECT COALESCE(MAX(version), 0) FROM schema_version"));
  ANSHIN_ASSIGN_OR_RETURN(bool row, q.Step());
  const std::int64_t current = row ? q.Int(0) : 0;
  q.Reset();
  if (current >= m.version) return Status::Ok();  // rolled back: nothing was written
  ANSHIN_RETURN_IF_ERROR(db.Exec(m.sql).WithContext("migration " + std::to_string(m.version)));
  if (m.rebuilds_referenced_table) ANSHIN_RETURN_IF_ERROR(CheckForeignKeys(db, m.version));
  ANSHIN_ASSIGN_OR_RETURN(sqlite::Query ins,
                          db.Prepare("INSERT INTO schema_version(version) VALUES (?)"));
  ins.Bind(1, m.version);
  ANSHIN_RETURN_IF_ERROR(ins.Run());
  return txn.Commit();
}

}  // namespace

std::span<const Migration> SqliteMigrations() { return kMigrations; }

Status ApplyMigrationsThrough(sqlite::Db& db, int through) {
  ANSHIN_RETURN_IF_ERROR(
      db.Exec("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL, "
              "applied_at INTEGER NOT NULL DEFAULT (CAST((julianday('now') - 2440587.5) * "
              "86400000 AS INTEGER)))"));
  for (const Migration& m : SqliteMigrations()) {
    if (m.version > through) break;
    if (!m.rebuilds_referenced_table) {
      ANSHIN_RETURN_IF_ERROR(ApplyMigration(db, m));
      continue;
    }
    // PRAGMA foreign_keys is a no-op inside a transaction: it is set around one.
    ANSHIN_RETURN_IF_ERROR(db.Exec("PRAGMA foreign_keys=OFF"));
    Status applied = ApplyMigration(db, m);
    Status back_on = db.Exec("PRAGMA foreign_keys=ON");
    ANSHIN_RETURN_IF_ERROR(applied);
    ANSHIN_RETURN_IF_ERROR(back_on);
  }
  return Status::Ok();
}

}  // namespace anshin::store::sqlite_impl
