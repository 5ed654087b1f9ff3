// alerts, audit_log and job_runs (docs/schema.md).
#include "store/sqlite/tables.hpp"

namespace anshin::store::sqlite_impl {

namespace {

#define ANSHIN_ALERT_COLS                                                                         \
  "id, kind, facility_id, child_id, at, detail, acknowledged, acknowledged_at, acknowledged_by, " \
  "ack_note, mailed_at"

Result<AlertRecord> ReadAlert(const Query& q) {
  AlertRecord a;
  a.id = q.Int(0);
  ANSHIN_ASSIGN_OR_RETURN(a.kind, ParseAlertKind(q.TextView(1)));
  if (auto f = q.OptInt(2)) a.facility = FacilityId{*f};
  if (auto c = q.OptInt(3)) a.child = ChildId{*c};
  a.at = FromUnixMillis(q.Int(4));
  a.detail = q.Text(5);
  a.acknowledged = q.Int(6) != 0;
  a.acknowledged_at = OptTime(q, 7);
  a.acknowledged_by = q.Text(8);
  a.ack_note = q.Text(9);
  a.mailed_at = OptTime(q, 10);
  return a;
}

void BindSituation(Query& q, int first, const AlertRecord& a) {
  if (a.facility) {
    q.Bind(first, a.facility->value);
  } else {
    q.BindNull(first);
  }
  if (a.child) {
    q.Bind(first + 1, a.child->value);
  } else {
    q.BindNull(first + 1);
  }
}

}  // namespace

Result<std::vector<AlertRecord>> SqliteAlerts::List(bool unacknowledged_only) {
  ANSHIN_ASSIGN_OR_RETURN(Query q, db_.Prepare("SELECT " ANSHIN_ALERT_COLS
                                               " FROM alerts WHERE acknowledged = 0 OR NOT ? "
                                               "ORDER BY id"));
  q.Bind(1, unacknowledged_only);
  std::vector<AlertRecord> out;
  ANSHIN_RETURN_IF_ERROR(q.ForEachRow([&]() -> Status {
    ANSHIN_ASSIGN_OR_RETURN(AlertRecord a, ReadAlert(q));
    out.push_back(std::move(a));
    return Status::Ok();
  }));
  return out;
}

Result<AlertRecord> SqliteAlerts::Get(std::int64_t id) {
  ANSHIN_ASSIGN_OR_RETURN(Query q,
                          db_.Prepare("SELECT " ANSHIN_ALERT_COLS " FROM alerts WHERE id = ?"));
  q.Bind(1, id);
  ANSHIN_ASSIGN_OR_RETURN(bool row, q.Step());
  ANSHIN_RETURN_IF_ERROR(NotFoundUnless(row, "alert " + std::to_string(id)));
  return ReadAlert(q);
}

Status SqliteAlerts::Acknowledge(std::int64_t id, const Actor& who, std::string_view note) {
  ANSHIN_ASSIGN_OR_RETURN(Query q,
                          db_.Prepare("UPDATE alerts SET acknowledged = 1, acknowledged_at = ?, "
                                      "acknowledged_by = ?, ack_note = ? WHERE id = ?"));
  q.Bind(1, ToUnixMillis(who.at)).Bind(2, who.user).Bind(3, note).Bind(4, id);
  ANSHIN_RETURN_IF_ERROR(q.Run());
  return NotFoundUnless(db_.Changes() > 0, "alert " + std::to_string(id));
}

Result<std::int64_t> SqliteAlerts::Insert(const AlertRecord& a) {
  ANSHIN_ASSIGN_OR_RETURN(Query q,
                          db_.Prepare("INSERT INTO alerts(kind, facility_id, child_id, at, detail) "
                                      "VALUES (?, ?, ?, ?, ?)"));
  q.Bind(1, AlertKindName(a.kind));
  BindSituation(q, 2, a);
  q.Bind(4, ToUnixMillis(a.at)).Bind(5, a.detail);
  ANSHIN_RETURN_IF_ERROR(q.Run());
  return db_.LastInsertRowid();
}

Result<std::optional<TimePoint>> SqliteAlerts::LastRaised(const AlertRecord& situation) {
  ANSHIN_ASSIGN_OR_RETURN(Query q,
                          db_.Prepare("SELECT MAX(at) FROM alerts WHERE kind = ? AND "
                                      "facility_id IS ? AND child_id IS ? AND detail = ?"));
  q.Bind(1, AlertKindName(situation.kind));
  BindSituation(q, 2, situation);
  q.Bind(4, situation.detail);
  ANSHIN_ASSIGN_OR_RETURN(bool row, q.Step());
  if (!row) return std::optional<TimePoint>();
  return OptTime(q, 0);
}

Result<std::vector<AlertRecord>> SqliteAlerts::Unmailed(int limit) {
  ANSHIN_ASSIGN_OR_RETURN(
      Query q, db_.Prepare("SELECT " ANSHIN_ALERT_COLS " FROM alerts WHERE mailed_at IS NULL "
                           "ORDER BY id LIMIT ?"));
  q.Bind(1, limit);
  std::vector<AlertRecord> out;
  ANSHIN_RETURN_IF_ERROR(q.ForEachRow([&]() -> Status {
    ANSHIN_ASSIGN_OR_RETURN(AlertRecord a, ReadAlert(q));
    out.push_back(std::move(a));
    return Status::Ok();
  }));
  return out;
}

Status SqliteAlerts::MarkMailed(std::int64_t id, TimePoint at) {
  ANSHIN_ASSIGN_OR_RETURN(Query q, db_.Prepare("UPDATE alerts SET mailed_at = ? WHERE id = ?"));
  q.Bind(1, ToUnixMillis(at)).Bind(2, id);
  ANSHIN_RETURN_IF_ERROR(q.Run());
  return NotFoundUnless(db_.Changes() > 0, "alert " + std::to_string(id));
}

namespace {

#define ANSHIN_AUDIT_COLS "id, at, actor, action, detail, prev_hash, hash"

AuditEntry ReadAudit(const Query& q) {
  return AuditEntry{q.Int(0), FromUnixMillis(q.Int(1)), q.Text(2), q.Text(3), q.Text(4), q.Text(5),
                    q.Text(6)};
}

}  // namespace

Result<std::optional<AuditEntry>> SqliteAudit::Last() {
  ANSHIN_ASSIGN_OR_RETURN(
      Query q, db_.Prepare("SELECT " ANSHIN_AUDIT_COLS " FROM audit_log ORDER BY id DESC LIMIT 1"));
  ANSHIN_ASSIGN_OR_RETURN(bool row, q.Step());
  if (!row) return std::optional<AuditEntry>();
  return std::optional<AuditEntry>(ReadAudit(q));
}

Result<std::vector<AuditEntry>> SqliteAudit::List() {
  ANSHIN_ASSIGN_OR_RETURN(Query q,
                          db_.Prepare("SELECT " ANSHIN_AUDIT_COLS " FROM audit_log ORDER BY id"));
  std::vector<AuditEntry> out;
  ANSHIN_RETURN_IF_ERROR(q.ForEachRow([&] { out.push_back(ReadAudit(q)); }));
  return out;
}

Result<std::int64_t> SqliteAudit::Append(const AuditEntry& e) {
  ANSHIN_ASSIGN_OR_RETURN(
      Query q, db_.Prepare("INSERT INTO audit_log(at, actor, action, detail, prev_hash, hash) "
                           "VALUES (?, ?, ?, ?, ?, ?)"));
  q.Bind(1, ToUnixMillis(e.at)).Bind(2, e.actor).Bind(3, e.action).Bind(4, e.detail);
  q.Bind(5, e.prev_hash).Bind(6, e.hash);
  ANSHIN_RETURN_IF_ERROR(q.Run());
  return db_.LastInsertRowid();
}

Result<bool> SqliteJobs::HasRun(std::string_view job, std::string_view period) {
  ANSHIN_ASSIGN_OR_RETURN(Query q,
                          db_.Prepare("SELECT 1 FROM job_runs WHERE job = ? AND period = ?"));
  q.Bind(1, job).Bind(2, period);
  return q.Step();
}

Result<bool> SqliteJobs::RecordRun(std::string_view job, std::string_view period, TimePoint at) {
  ANSHIN_ASSIGN_OR_RETURN(
      Query q, db_.Prepare("INSERT OR IGNORE INTO job_runs(job, period, at) VALUES (?, ?, ?)"));
  q.Bind(1, job).Bind(2, period).Bind(3, ToUnixMillis(at));
  ANSHIN_RETURN_IF_ERROR(q.Run());
  return db_.Changes() > 0;
}

}  // namespace anshin::store::sqlite_impl
