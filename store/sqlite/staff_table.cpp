// staff and staff_sessions (docs/schema.md).
#include "store/sqlite/tables.hpp"

namespace anshin::store::sqlite_impl {
namespace {

#define ANSHIN_STAFF_COLS                                                                    \
  "id, name, role, facility_id, email, password_hash, status, failed_logins, locked_until, " \
  "created_at, password_changed_at"

Result<Staff> ReadStaff(const Query& q) {
  Staff s;
  s.id = StaffId{q.Int(0)};
  s.name = q.Text(1);
  ANSHIN_ASSIGN_OR_RETURN(s.role, kStaffRoleNames.Parse(q.TextView(2)));
  if (auto f = q.OptInt(3)) s.facility = FacilityId{*f};
  s.email = q.Text(4);
  s.password_hash = q.Text(5);
  ANSHIN_ASSIGN_OR_RETURN(s.status, kStaffStatusNames.Parse(q.TextView(6)));
  s.failed_logins = static_cast<int>(q.Int(7));
  s.locked_until = OptTime(q, 8);
  s.created_at = FromUnixMillis(q.Int(9));
  s.password_changed_at = FromUnixMillis(q.Int(10));
  return s;
}

}  // namespace

Result<Staff> SqliteStaff::Get(StaffId id) {
  ANSHIN_ASSIGN_OR_RETURN(Query q,
                          db_.Prepare("SELECT " ANSHIN_STAFF_COLS " FROM staff WHERE id = ?"));
  q.Bind(1, id.value);
  ANSHIN_ASSIGN_OR_RETURN(bool row, q.Step());
  ANSHIN_RETURN_IF_ERROR(NotFoundUnless(row, "staff " + id.ToString()));
  return ReadStaff(q);
}

Result<std::optional<Staff>> SqliteStaff::FindByName(std::string_view name) {
  ANSHIN_ASSIGN_OR_RETURN(Query q,
                          db_.Prepare("SELECT " ANSHIN_STAFF_COLS " FROM staff WHERE name = ?"));
  q.Bind(1, name);
  ANSHIN_ASSIGN_OR_RETURN(bool row, q.Step());
  if (!row) return std::optional<Staff>();
  ANSHIN_ASSIGN_OR_RETURN(Staff s, ReadStaff(q));
  return std::optional<Staff>(std::move(s));
}

Result<std::vector<Staff>> SqliteStaff::List() {
  ANSHIN_ASSIGN_OR_RETURN(Query q,
                          db_.Prepare("SELECT " ANSHIN_STAFF_COLS " FROM staff ORDER BY name"));
  std::vector<Staff> out;
  ANSHIN_RETURN_IF_ERROR(q.ForEachRow([&]() -> Status {
    ANSHIN_ASSIGN_OR_RETURN(Staff s, ReadStaff(q));
    out.push_back(std::move(s));
    return Status::Ok();
  }));
  return out;
}

Result<std::optional<StaffSession>> SqliteStaff::FindSession(std::string_view id_hash) {
  ANSHIN_ASSIGN_OR_RETURN(Query q,
                          db_.Prepare("SELECT id_hash, staff_id, csrf_token, created_at, "
                                      "last_seen_at FROM staff_sessions WHERE id_hash = ?"));
  q.Bind(1, id_hash);
  ANSHIN_ASSIGN_OR_RETURN(bool row, q.Step());
  if (!row) return std::optional<StaffSession>();
  StaffSession s;
  s.id_hash = q.Text(0);
  s.staff = StaffId{q.Int(1)};
  s.csrf_token = q.Text(2);
  s.created_at = FromUnixMillis(q.Int(3));
  s.last_seen_at = FromUnixMillis(q.Int(4));
  return std::optional<StaffSession>(std::move(s));
}

Result<StaffId> SqliteStaff::Insert(const Staff& s) {
  ANSHIN_ASSIGN_OR_RETURN(
      Query q, db_.Prepare("INSERT INTO staff(name, role, facility_id, email, password_hash, "
                           "status, failed_logins, locked_until, created_at, password_changed_at) "
                           "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"));
  q.Bind(1, s.name).Bind(2, kStaffRoleNames.Name(s.role));
  if (s.facility) {
    q.Bind(3, s.facility->value);
  } else {
    q.BindNull(3);
  }
  q.Bind(4, s.email).Bind(5, s.password_hash).Bind(6, kStaffStatusNames.Name(s.status));
  q.Bind(7, s.failed_logins);
  BindTime(q, 8, s.locked_until);
  q.Bind(9, ToUnixMillis(s.created_at)).Bind(10, ToUnixMillis(s.password_changed_at));
  ANSHIN_RETURN_IF_ERROR(q.Run().WithContext("staff " + s.name));
  return StaffId{db_.LastInsertRowid()};
}

Status SqliteStaff::SetPassword(StaffId id, std::string_view password_hash, TimePoint at) {
  ANSHIN_ASSIGN_OR_RETURN(
      Query q,
      db_.Prepare("UPDATE staff SET password_hash = ?, password_changed_at = ? WHERE id = ?"));
  q.Bind(1, password_hash).Bind(2, ToUnixMillis(at)).Bind(3, id.value);
  ANSHIN_RETURN_IF_ERROR(q.Run());
  return NotFoundUnless(db_.Changes() > 0, "staff " + id.ToString());
}

Status SqliteStaff::SetStatus(StaffId id, StaffStatus status) {
  ANSHIN_ASSIGN_OR_RETURN(Query q, db_.Prepare("UPDATE staff SET status = ? WHERE id = ?"));
  q.Bind(1, kStaffStatusNames.Name(status)).Bind(2, id.value);
  ANSHIN_RETURN_IF_ERROR(q.Run());
  return NotFoundUnless(db_.Changes() > 0, "staff " + id.ToString());
}

Status SqliteStaff::SetLoginState(StaffId id, int failed_logins,
                                  std::optional<TimePoint> locked_until) {
  ANSHIN_ASSIGN_OR_RETURN(
      Query q, db_.Prepare("UPDATE staff SET failed_logins = ?, locked_until = ? WHERE id = ?"));
  q.Bind(1, failed_logins);
  BindTime(q, 2, locked_until);
  q.Bind(3, id.value);
  ANSHIN_RETURN_IF_ERROR(q.Run());
  return NotFoundUnless(db_.Changes() > 0, "staff " + id.ToString());
}

Status SqliteStaff::InsertSession(const StaffSession& s) {
  ANSHIN_ASSIGN_OR_RETURN(Query q,
                          db_.Prepare("INSERT INTO staff_sessions(id_hash, staff_id, csrf_token, "
                                      "created_at, last_seen_at) VALUES (?, ?, ?, ?, ?)"));
  q.Bind(1, s.id_hash).Bind(2, s.staff.value).Bind(3, s.csrf_token);
  q.Bind(4, ToUnixMillis(s.created_at)).Bind(5, ToUnixMillis(s.last_seen_at));
  return q.Run().WithContext("staff session of " + s.staff.ToString());
}

Status SqliteStaff::TouchSession(std::string_view id_hash, TimePoint at) {
  ANSHIN_ASSIGN_OR_RETURN(
      Query q, db_.Prepare("UPDATE staff_sessions SET last_seen_at = ? WHERE id_hash = ?"));
  q.Bind(1, ToUnixMillis(at)).Bind(2, id_hash);
  ANSHIN_RETURN_IF_ERROR(q.Run());
  return NotFoundUnless(db_.Changes() > 0, "staff session");
}

Status SqliteStaff::DeleteSession(std::string_view id_hash) {
  ANSHIN_ASSIGN_OR_RETURN(Query q, db_.Prepare("DELETE FROM staff_sessions WHERE id_hash = ?"));
  q.Bind(1, id_hash);
  return q.Run();
}

Result<int> SqliteStaff::DeleteSessionsOf(StaffId id) {
  ANSHIN_ASSIGN_OR_RETURN(Query q, db_.Prepare("DELETE FROM staff_sessions WHERE staff_id = ?"));
  q.Bind(1, id.value);
  ANSHIN_RETURN_IF_ERROR(q.Run());
  return db_.Changes();
}

}  // namespace anshin::store::sqlite_impl
