// guardians (docs/schema.md).
#include "store/sqlite/tables.hpp"

namespace anshin::store::sqlite_impl {
namespace {

#define ANSHIN_GUARDIAN_COLS                                                           \
  "id, child_id, email, verified, wants_arrival, wants_departure, charset, bouncing, " \
  "removed_at IS NOT NULL"

Result<Guardian> ReadGuardian(const Query& q) {
  Guardian g;
  g.id = GuardianId{q.Int(0)};
  g.child = ChildId{q.Int(1)};
  g.email = q.Text(2);
  g.verified = q.Int(3) != 0;
  g.wants_arrival = q.Int(4) != 0;
  g.wants_departure = q.Int(5) != 0;
  ANSHIN_ASSIGN_OR_RETURN(g.charset, kCharsetNames.Parse(q.TextView(6)));
  g.bouncing = q.Int(7) != 0;
  g.removed = q.Int(8) != 0;
  return g;
}

std::optional<std::string> OptText(const Query& q, int col) {
  if (q.IsNull(col)) return std::nullopt;
  return q.Text(col);
}

}  // namespace

Result<Guardian> SqliteGuardians::Get(GuardianId id) {
  ANSHIN_ASSIGN_OR_RETURN(
      Query q, db_.Prepare("SELECT " ANSHIN_GUARDIAN_COLS " FROM guardians WHERE id = ?"));
  q.Bind(1, id.value);
  ANSHIN_ASSIGN_OR_RETURN(bool row, q.Step());
  ANSHIN_RETURN_IF_ERROR(NotFoundUnless(row, "guardian " + id.ToString()));
  return ReadGuardian(q);
}

Result<std::vector<Guardian>> SqliteGuardians::OfChild(ChildId child) {
  ANSHIN_ASSIGN_OR_RETURN(
      Query q,
      db_.Prepare("SELECT " ANSHIN_GUARDIAN_COLS
                  " FROM guardians WHERE child_id = ? AND removed_at IS NULL ORDER BY id"));
  q.Bind(1, child.value);
  std::vector<Guardian> out;
  ANSHIN_RETURN_IF_ERROR(q.ForEachRow([&]() -> Status {
    ANSHIN_ASSIGN_OR_RETURN(Guardian g, ReadGuardian(q));
    out.push_back(std::move(g));
    return Status::Ok();
  }));
  return out;
}

Result<std::vector<GuardianId>> SqliteGuardians::NoticeTargets(ChildId child, NoticeKind kind) {
  ANSHIN_ASSIGN_OR_RETURN(
      Query q,
      db_.Prepare("SELECT id FROM guardians WHERE child_id = ? AND verified = 1 AND "
                  "bouncing = 0 AND removed_at IS NULL AND (CASE WHEN ? THEN wants_arrival ELSE "
                  "wants_departure END) = 1 ORDER BY id"));
  q.Bind(1, child.value).Bind(2, IsArrivalNotice(kind));
  std::vector<GuardianId> out;
  ANSHIN_RETURN_IF_ERROR(q.ForEachRow([&] { out.push_back(GuardianId{q.Int(0)}); }));
  return out;
}

Result<VerificationState> SqliteGuardians::Verification(GuardianId id) {
  ANSHIN_ASSIGN_OR_RETURN(
      Query q, db_.Prepare("SELECT verified, verified_at, code_hash, code_expires_at, "
                           "code_attempts, link_hash, sends_window_start, sends_in_window FROM "
                           "guardians WHERE id = ?"));
  q.Bind(1, id.value);
  ANSHIN_ASSIGN_OR_RETURN(bool row, q.Step());
  ANSHIN_RETURN_IF_ERROR(NotFoundUnless(row, "guardian " + id.ToString()));
  VerificationState v;
  v.verified = q.Int(0) != 0;
  v.verified_at = OptTime(q, 1);
  v.code_hash = OptText(q, 2);
  v.code_expires_at = OptTime(q, 3);
  v.code_attempts = static_cast<int>(q.Int(4));
  v.link_hash = OptText(q, 5);
  v.sends_window_start = OptTime(q, 6);
  v.sends_in_window = static_cast<int>(q.Int(7));
  return v;
}

Result<std::vector<GuardianId>> SqliteGuardians::FindByEmail(std::string_view email) {
  ANSHIN_ASSIGN_OR_RETURN(Query q, db_.Prepare("SELECT id FROM guardians WHERE lower(email) = "
                                               "lower(?) AND removed_at IS NULL ORDER BY id"));
  q.Bind(1, email);
  std::vector<GuardianId> out;
  ANSHIN_RETURN_IF_ERROR(q.ForEachRow([&] { out.push_back(GuardianId{q.Int(0)}); }));
  return out;
}

Result<std::optional<GuardianId>> SqliteGuardians::FindByLinkHash(std::string_view link_hash) {
  ANSHIN_ASSIGN_OR_RETURN(Query q, db_.Prepare("SELECT id FROM guardians WHERE link_hash = ?"));
  q.Bind(1, link_hash);
  ANSHIN_ASSIGN_OR_RETURN(bool row, q.Step());
  if (!row) return std::optional<GuardianId>();
  return std::optional<GuardianId>(GuardianId{q.Int(0)});
}

Result<GuardianId> SqliteGuardians::Insert(const Guardian& g, TimePoint created_at) {
  ANSHIN_ASSIGN_OR_RETURN(
      Query q, db_.Prepare("INSERT INTO guardians(child_id, email, verified, wants_arrival, "
                           "wants_departure, charset, bouncing, created_at) VALUES (?, ?, ?, "
                           "?, ?, ?, ?, ?)"));
  q.Bind(1, g.child.value).Bind(2, g.email).Bind(3, g.verified).Bind(4, g.wants_arrival);
  q.Bind(5, g.wants_departure).Bind(6, kCharsetNames.Name(g.charset)).Bind(7, g.bouncing);
  q.Bind(8, ToUnixMillis(created_at));
  ANSHIN_RETURN_IF_ERROR(q.Run().WithContext("guardian of child " + g.child.ToString()));
  return GuardianId{db_.LastInsertRowid()};
}

Status SqliteGuardians::SetVerification(GuardianId id, const VerificationState& v) {
  ANSHIN_ASSIGN_OR_RETURN(
      Query q, db_.Prepare("UPDATE guardians SET verified = ?, verified_at = ?, code_hash = ?, "
                           "code_expires_at = ?, code_attempts = ?, link_hash = ?, "
                           "sends_window_start = ?, sends_in_window = ? WHERE id = ?"));
  q.Bind(1, v.verified);
  BindTime(q, 2, v.verified_at);
  q.Bind(3, v.code_hash);
  BindTime(q, 4, v.code_expires_at);
  q.Bind(5, v.code_attempts).Bind(6, v.link_hash);
  BindTime(q, 7, v.sends_window_start);
  q.Bind(8, v.sends_in_window).Bind(9, id.value);
  ANSHIN_RETURN_IF_ERROR(q.Run());
  return NotFoundUnless(db_.Changes() > 0, "guardian " + id.ToString());
}

Status SqliteGuardians::SetBouncing(GuardianId id, bool bouncing) {
  ANSHIN_ASSIGN_OR_RETURN(Query q, db_.Prepare("UPDATE guardians SET bouncing = ? WHERE id = ?"));
  q.Bind(1, bouncing).Bind(2, id.value);
  ANSHIN_RETURN_IF_ERROR(q.Run());
  return NotFoundUnless(db_.Changes() > 0, "guardian " + id.ToString());
}

Status SqliteGuardians::Update(const Guardian& g) {
  ANSHIN_ASSIGN_OR_RETURN(
      Query q, db_.Prepare("UPDATE guardians SET email = ?, verified = ?, verified_at = CASE WHEN "
                           "? THEN verified_at END, wants_arrival = ?, wants_departure = ?, "
                           "charset = ?, bouncing = ? WHERE id = ?"));
  q.Bind(1, g.email).Bind(2, g.verified).Bind(3, g.verified).Bind(4, g.wants_arrival);
  q.Bind(5, g.wants_departure).Bind(6, kCharsetNames.Name(g.charset)).Bind(7, g.bouncing);
  q.Bind(8, g.id.value);
  ANSHIN_RETURN_IF_ERROR(q.Run());
  return NotFoundUnless(db_.Changes() > 0, "guardian " + g.id.ToString());
}

Status SqliteGuardians::Remove(GuardianId id, TimePoint at) {
  ANSHIN_ASSIGN_OR_RETURN(
      Query q, db_.Prepare("UPDATE guardians SET removed_at = ?, email = '', verified = 0, "
                           "verified_at = NULL, code_hash = NULL, code_expires_at = NULL, "
                           "link_hash = NULL WHERE id = ?"));
  q.Bind(1, ToUnixMillis(at)).Bind(2, id.value);
  ANSHIN_RETURN_IF_ERROR(q.Run());
  return NotFoundUnless(db_.Changes() > 0, "guardian " + id.ToString());
}

Result<int> SqliteGuardians::DeleteOfChild(ChildId child) {
  ANSHIN_ASSIGN_OR_RETURN(
      Query log, db_.Prepare("DELETE FROM send_log WHERE outbox_id IN (SELECT o.id FROM outbox o "
                             "JOIN guardians g ON g.id = o.guardian_id WHERE g.child_id = ?)"));
  log.Bind(1, child.value);
  ANSHIN_RETURN_IF_ERROR(log.Run());
  ANSHIN_ASSIGN_OR_RETURN(
      Query mail, db_.Prepare("DELETE FROM outbox WHERE guardian_id IN (SELECT id FROM guardians "
                              "WHERE child_id = ?)"));
  mail.Bind(1, child.value);
  ANSHIN_RETURN_IF_ERROR(mail.Run());
  ANSHIN_ASSIGN_OR_RETURN(Query q, db_.Prepare("DELETE FROM guardians WHERE child_id = ?"));
  q.Bind(1, child.value);
  ANSHIN_RETURN_IF_ERROR(q.Run());
  return db_.Changes();
}

}  // namespace anshin::store::sqlite_impl
