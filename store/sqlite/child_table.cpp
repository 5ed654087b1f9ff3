// children (docs/schema.md).
#include "store/sqlite/tables.hpp"

namespace anshin::store::sqlite_impl {
namespace {

// Columns dep_sun_s .. dep_sat_s starting at `first`.
ChildSchedule ReadSchedule(const Query& q, int first) {
  ChildSchedule s;
  for (int d = 0; d < 7; ++d) {
    if (auto v = q.OptInt(first + d)) s.expected_departure[d] = LocalTime{static_cast<int>(*v)};
  }
  return s;
}

}  // namespace

Result<Child> SqliteChildren::Get(ChildId id) {
  ANSHIN_ASSIGN_OR_RETURN(
      Query q, db_.Prepare("SELECT id, name, facility_id, dep_sun_s, dep_mon_s, dep_tue_s, "
                           "dep_wed_s, dep_thu_s, dep_fri_s, dep_sat_s, status, withdrawn_at "
                           "FROM children WHERE id = ?"));
  q.Bind(1, id.value);
  ANSHIN_ASSIGN_OR_RETURN(bool row, q.Step());
  ANSHIN_RETURN_IF_ERROR(NotFoundUnless(row, "child " + id.ToString()));
  Child c;
  c.id = id;
  c.name = q.Text(1);
  c.facility = FacilityId{q.Int(2)};
  c.schedule = ReadSchedule(q, 3);
  ANSHIN_ASSIGN_OR_RETURN(c.status, kChildStatusNames.Parse(q.TextView(10)));
  c.withdrawn_at = OptTime(q, 11);
  return c;
}

Result<ChildSchedule> SqliteChildren::Schedule(ChildId id) {
  ANSHIN_ASSIGN_OR_RETURN(
      Query q, db_.Prepare("SELECT dep_sun_s, dep_mon_s, dep_tue_s, dep_wed_s, dep_thu_s, "
                           "dep_fri_s, dep_sat_s FROM children WHERE id = ?"));
  q.Bind(1, id.value);
  ANSHIN_ASSIGN_OR_RETURN(bool row, q.Step());
  ANSHIN_RETURN_IF_ERROR(NotFoundUnless(row, "child " + id.ToString()));
  return ReadSchedule(q, 0);
}

Result<ChildId> SqliteChildren::Insert(const Child& c, TimePoint created_at) {
  ANSHIN_ASSIGN_OR_RETURN(
      Query q,
      db_.Prepare("INSERT INTO children(name, facility_id, dep_sun_s, dep_mon_s, "
                  "dep_tue_s, dep_wed_s, dep_thu_s, dep_fri_s, dep_sat_s, status, "
                  "withdrawn_at, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"));
  q.Bind(1, c.name).Bind(2, c.facility.value);
  for (int d = 0; d < 7; ++d) {
    const auto& t = c.schedule.expected_departure[d];
    if (t) {
      q.Bind(3 + d, t->seconds);
    } else {
      q.BindNull(3 + d);
    }
  }
  q.Bind(10, kChildStatusNames.Name(c.status));
  BindTime(q, 11, c.withdrawn_at);
  q.Bind(12, ToUnixMillis(created_at));
  ANSHIN_RETURN_IF_ERROR(q.Run().WithContext("child"));
  return ChildId{db_.LastInsertRowid()};
}

}  // namespace anshin::store::sqlite_impl
