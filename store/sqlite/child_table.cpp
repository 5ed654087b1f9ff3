// children (docs/schema.md).
#include "store/sqlite/tables.hpp"

namespace anshin::store::sqlite_impl {
namespace {

// Get() reads and Insert()/Update() write these columns in this order (id and created_at
// apart): name, facility_id, dep_sun_s .. dep_sat_s, status, withdrawn_at, child_number, kana,
// grade, attend_days. The statements are literals because the connection caches them by text.
constexpr int kColumnCount = 15;

#define ANSHIN_CHILD_COLS                                                                     \
  "id, name, facility_id, dep_sun_s, dep_mon_s, dep_tue_s, dep_wed_s, dep_thu_s, dep_fri_s, " \
  "dep_sat_s, status, withdrawn_at, child_number, kana, grade, attend_days"

// Columns dep_sun_s .. dep_sat_s starting at `first`.
ChildSchedule ReadSchedule(const Query& q, int first) {
  ChildSchedule s;
  for (int d = 0; d < 7; ++d) {
    if (auto v = q.OptInt(first + d)) s.expected_departure[d] = LocalTime{static_cast<int>(*v)};
  }
  return s;
}

// Binds kColumns from parameter `first` on.
void BindChild(Query& q, int first, const Child& c) {
  q.Bind(first, c.name).Bind(first + 1, c.facility.value);
  for (int d = 0; d < 7; ++d) {
    const auto& t = c.schedule.expected_departure[d];
    if (t) {
      q.Bind(first + 2 + d, t->seconds);
    } else {
      q.BindNull(first + 2 + d);
    }
  }
  q.Bind(first + 9, kChildStatusNames.Name(c.status));
  BindTime(q, first + 10, c.withdrawn_at);
  q.Bind(first + 11, c.number);
  q.Bind(first + 12, c.kana);
  q.Bind(first + 13, c.grade);
  q.Bind(first + 14, static_cast<int>(c.attend_days.bits));
}

// Reads a row of ANSHIN_CHILD_COLS.
Result<Child> ReadChild(const Query& q) {
  Child c;
  c.id = ChildId{q.Int(0)};
  c.name = q.Text(1);
  c.facility = FacilityId{q.Int(2)};
  c.schedule = ReadSchedule(q, 3);
  ANSHIN_ASSIGN_OR_RETURN(c.status, kChildStatusNames.Parse(q.TextView(10)));
  c.withdrawn_at = OptTime(q, 11);
  if (!q.IsNull(12)) c.number = q.Text(12);
  c.kana = q.Text(13);
  if (auto g = q.OptInt(14)) c.grade = static_cast<int>(*g);
  c.attend_days.bits = static_cast<std::uint8_t>(q.Int(15));
  return c;
}

}  // namespace

Result<Child> SqliteChildren::Get(ChildId id) {
  ANSHIN_ASSIGN_OR_RETURN(Query q,
                          db_.Prepare("SELECT " ANSHIN_CHILD_COLS " FROM children WHERE id = ?"));
  q.Bind(1, id.value);
  ANSHIN_ASSIGN_OR_RETURN(bool row, q.Step());
  ANSHIN_RETURN_IF_ERROR(NotFoundUnless(row, "child " + id.ToString()));
  return ReadChild(q);
}

Result<std::vector<Child>> SqliteChildren::Find(const ChildQuery& query) {
  // ?1 facility or NULL, ?2 withdrawn too, ?3 the text ('' matches all), ?4 the limit.
  ANSHIN_ASSIGN_OR_RETURN(
      Query q,
      db_.Prepare("SELECT " ANSHIN_CHILD_COLS " FROM children c"
                  " WHERE (?1 IS NULL OR c.facility_id = ?1) AND (?2 OR c.status = 'enrolled')"
                  " AND (?3 = '' OR instr(lower(c.name), lower(?3)) > 0"
                  " OR instr(lower(c.kana), lower(?3)) > 0"
                  " OR substr(lower(c.child_number), 1, length(?3)) = lower(?3)"
                  " OR EXISTS (SELECT 1 FROM facilities f WHERE f.id = c.facility_id"
                  " AND lower(f.code) = lower(?3))"
                  " OR EXISTS (SELECT 1 FROM cards k WHERE k.child_id = c.id"
                  " AND substr(k.token, 1, length(?3)) = lower(?3)))"
                  " ORDER BY c.id LIMIT ?4"));
  if (query.facility) {
    q.Bind(1, query.facility->value);
  } else {
    q.BindNull(1);
  }
  q.Bind(2, query.withdrawn_too).Bind(3, query.text).Bind(4, query.limit);
  std::vector<Child> out;
  ANSHIN_RETURN_IF_ERROR(q.ForEachRow([&]() -> Status {
    ANSHIN_ASSIGN_OR_RETURN(Child c, ReadChild(q));
    out.push_back(std::move(c));
    return Status::Ok();
  }));
  return out;
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

Result<std::optional<ChildId>> SqliteChildren::FindByNumber(std::string_view number) {
  ANSHIN_ASSIGN_OR_RETURN(Query q, db_.Prepare("SELECT id FROM children WHERE child_number = ?"));
  q.Bind(1, number);
  ANSHIN_ASSIGN_OR_RETURN(bool row, q.Step());
  if (!row) return std::optional<ChildId>();
  return std::optional<ChildId>(ChildId{q.Int(0)});
}

Result<ChildId> SqliteChildren::Insert(const Child& c, TimePoint created_at) {
  ANSHIN_ASSIGN_OR_RETURN(
      Query q,
      db_.Prepare("INSERT INTO children(name, facility_id, dep_sun_s, dep_mon_s, dep_tue_s, "
                  "dep_wed_s, dep_thu_s, dep_fri_s, dep_sat_s, status, withdrawn_at, "
                  "child_number, kana, grade, attend_days, created_at) VALUES "
                  "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"));
  BindChild(q, 1, c);
  q.Bind(kColumnCount + 1, ToUnixMillis(created_at));
  ANSHIN_RETURN_IF_ERROR(q.Run().WithContext("child"));
  return ChildId{db_.LastInsertRowid()};
}

Status SqliteChildren::Update(const Child& c) {
  ANSHIN_ASSIGN_OR_RETURN(
      Query q, db_.Prepare("UPDATE children SET name = ?, facility_id = ?, dep_sun_s = ?, "
                           "dep_mon_s = ?, dep_tue_s = ?, dep_wed_s = ?, dep_thu_s = ?, "
                           "dep_fri_s = ?, dep_sat_s = ?, status = ?, withdrawn_at = ?, "
                           "child_number = ?, kana = ?, grade = ?, attend_days = ? WHERE id = ?"));
  BindChild(q, 1, c);
  q.Bind(kColumnCount + 1, c.id.value);
  ANSHIN_RETURN_IF_ERROR(q.Run().WithContext("child " + c.id.ToString()));
  return NotFoundUnless(db_.Changes() > 0, "child " + c.id.ToString());
}

Result<std::vector<ChildId>> SqliteChildren::WithdrawnBefore(TimePoint cutoff, int limit) {
  ANSHIN_ASSIGN_OR_RETURN(
      Query q, db_.Prepare("SELECT id FROM children WHERE status = 'withdrawn' AND withdrawn_at "
                           "< ? AND purged_at IS NULL ORDER BY id LIMIT ?"));
  q.Bind(1, ToUnixMillis(cutoff)).Bind(2, limit);
  std::vector<ChildId> out;
  ANSHIN_RETURN_IF_ERROR(q.ForEachRow([&] { out.push_back(ChildId{q.Int(0)}); }));
  return out;
}

Status SqliteChildren::MarkPurged(ChildId id, TimePoint at) {
  ANSHIN_ASSIGN_OR_RETURN(
      Query q, db_.Prepare("UPDATE children SET name = '', kana = '', purged_at = ? WHERE id = ?"));
  q.Bind(1, ToUnixMillis(at)).Bind(2, id.value);
  ANSHIN_RETURN_IF_ERROR(q.Run().WithContext("child " + id.ToString()));
  return NotFoundUnless(db_.Changes() > 0, "child " + id.ToString());
}

Result<std::vector<Absence>> SqliteChildren::Absences(ChildId child, const LocalDate& from,
                                                      const LocalDate& to) {
  ANSHIN_ASSIGN_OR_RETURN(
      Query q, db_.Prepare("SELECT id, from_date, to_date, reason, recorded_by, recorded_at "
                           "FROM absences WHERE child_id = ? AND from_date <= ? AND to_date >= ? "
                           "ORDER BY from_date, id"));
  q.Bind(1, child.value).Bind(2, to.ToString()).Bind(3, from.ToString());
  std::vector<Absence> out;
  ANSHIN_RETURN_IF_ERROR(q.ForEachRow([&]() -> Status {
    Absence a;
    a.id = q.Int(0);
    a.child = child;
    ANSHIN_ASSIGN_OR_RETURN(a.from, LocalDate::Parse(q.TextView(1)));
    ANSHIN_ASSIGN_OR_RETURN(a.to, LocalDate::Parse(q.TextView(2)));
    a.reason = q.Text(3);
    a.recorded_by = q.Text(4);
    a.recorded_at = FromUnixMillis(q.Int(5));
    out.push_back(std::move(a));
    return Status::Ok();
  }));
  return out;
}

Result<std::vector<ChildId>> SqliteChildren::AbsentOn(FacilityId facility, const LocalDate& date) {
  ANSHIN_ASSIGN_OR_RETURN(
      Query q, db_.Prepare("SELECT DISTINCT a.child_id FROM absences a JOIN children c ON "
                           "c.id = a.child_id WHERE c.facility_id = ? AND a.from_date <= ? AND "
                           "a.to_date >= ? ORDER BY a.child_id"));
  const std::string day = date.ToString();
  q.Bind(1, facility.value).Bind(2, day).Bind(3, day);
  std::vector<ChildId> out;
  ANSHIN_RETURN_IF_ERROR(q.ForEachRow([&] { out.push_back(ChildId{q.Int(0)}); }));
  return out;
}

Result<std::int64_t> SqliteChildren::InsertAbsence(const Absence& a) {
  ANSHIN_ASSIGN_OR_RETURN(Query q,
                          db_.Prepare("INSERT INTO absences(child_id, from_date, to_date, reason, "
                                      "recorded_by, recorded_at) VALUES (?, ?, ?, ?, ?, ?)"));
  q.Bind(1, a.child.value).Bind(2, a.from.ToString()).Bind(3, a.to.ToString());
  q.Bind(4, a.reason).Bind(5, a.recorded_by).Bind(6, ToUnixMillis(a.recorded_at));
  ANSHIN_RETURN_IF_ERROR(q.Run().WithContext("absence of child " + a.child.ToString()));
  return db_.LastInsertRowid();
}

}  // namespace anshin::store::sqlite_impl
