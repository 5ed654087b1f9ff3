// facilities (docs/schema.md).
#include "store/sqlite/tables.hpp"

namespace anshin::store::sqlite_impl {
namespace {

#define ANSHIN_FACILITY_COLS                                                                    \
  "id, code, name, tz_name, double_tap_window_s, departure_from_s, departure_margin_min, "      \
  "closing_time_s, closing_grace_min, late_after_s, opens_s, closes_s, expected_arrival_by_s, " \
  "notify_not_arrived"

Facility ReadFacility(const Query& q) {
  Facility f;
  f.id = FacilityId{q.Int(0)};
  f.code = q.Text(1);
  f.name = q.Text(2);
  f.tz_name = q.Text(3);
  f.rules.double_tap_window = Seconds(q.Int(4));
  f.rules.departure_from = LocalTime{static_cast<int>(q.Int(5))};
  f.rules.departure_margin = Minutes(q.Int(6));
  f.rules.closing_time = LocalTime{static_cast<int>(q.Int(7))};
  f.rules.closing_grace = Minutes(q.Int(8));
  f.rules.late_after = Seconds(q.Int(9));
  f.opens = LocalTime{static_cast<int>(q.Int(10))};
  f.closes = LocalTime{static_cast<int>(q.Int(11))};
  if (auto by = q.OptInt(12)) f.expected_arrival_by = LocalTime{static_cast<int>(*by)};
  f.notify_not_arrived = q.Int(13) != 0;
  return f;
}

// Parameters 1..13 in the column order of ANSHIN_FACILITY_COLS after id.
void BindFacility(Query& q, const Facility& f) {
  q.Bind(1, f.code).Bind(2, f.name).Bind(3, f.tz_name);
  q.Bind(4, static_cast<std::int64_t>(f.rules.double_tap_window.count()));
  q.Bind(5, f.rules.departure_from.seconds);
  q.Bind(6, static_cast<std::int64_t>(f.rules.departure_margin.count()));
  q.Bind(7, f.rules.closing_time.seconds);
  q.Bind(8, static_cast<std::int64_t>(f.rules.closing_grace.count()));
  q.Bind(9, static_cast<std::int64_t>(f.rules.late_after.count()));
  q.Bind(10, f.opens.seconds);
  q.Bind(11, f.closes.seconds);
  if (f.expected_arrival_by) {
    q.Bind(12, f.expected_arrival_by->seconds);
  } else {
    q.BindNull(12);
  }
  q.Bind(13, f.notify_not_arrived);
}

}  // namespace

Result<Facility> SqliteFacilities::Get(FacilityId id) {
  ANSHIN_ASSIGN_OR_RETURN(
      Query q, db_.Prepare("SELECT " ANSHIN_FACILITY_COLS " FROM facilities WHERE id = ?"));
  q.Bind(1, id.value);
  ANSHIN_ASSIGN_OR_RETURN(bool row, q.Step());
  ANSHIN_RETURN_IF_ERROR(NotFoundUnless(row, "facility " + id.ToString()));
  return ReadFacility(q);
}

Result<std::optional<Facility>> SqliteFacilities::FindByCode(std::string_view code) {
  ANSHIN_ASSIGN_OR_RETURN(
      Query q, db_.Prepare("SELECT " ANSHIN_FACILITY_COLS " FROM facilities WHERE code = ?"));
  q.Bind(1, code);
  ANSHIN_ASSIGN_OR_RETURN(bool row, q.Step());
  if (!row) return std::optional<Facility>();
  return std::optional<Facility>(ReadFacility(q));
}

Result<std::vector<Facility>> SqliteFacilities::List() {
  ANSHIN_ASSIGN_OR_RETURN(
      Query q, db_.Prepare("SELECT " ANSHIN_FACILITY_COLS " FROM facilities ORDER BY code"));
  std::vector<Facility> out;
  ANSHIN_RETURN_IF_ERROR(q.ForEachRow([&] { out.push_back(ReadFacility(q)); }));
  return out;
}

Result<FacilityId> SqliteFacilities::Insert(const Facility& f, TimePoint created_at) {
  ANSHIN_ASSIGN_OR_RETURN(
      Query q, db_.Prepare("INSERT INTO facilities(code, name, tz_name, double_tap_window_s, "
                           "departure_from_s, departure_margin_min, closing_time_s, "
                           "closing_grace_min, late_after_s, opens_s, closes_s, "
                           "expected_arrival_by_s, notify_not_arrived, created_at) "
                           "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"));
  BindFacility(q, f);
  q.Bind(14, ToUnixMillis(created_at));
  ANSHIN_RETURN_IF_ERROR(q.Run().WithContext("facility " + f.code));
  return FacilityId{db_.LastInsertRowid()};
}

Status SqliteFacilities::Update(const Facility& f) {
  ANSHIN_ASSIGN_OR_RETURN(
      Query q, db_.Prepare("UPDATE facilities SET code = ?, name = ?, tz_name = ?, "
                           "double_tap_window_s = ?, departure_from_s = ?, "
                           "departure_margin_min = ?, closing_time_s = ?, closing_grace_min "
                           "= ?, late_after_s = ?, opens_s = ?, closes_s = ?, "
                           "expected_arrival_by_s = ?, notify_not_arrived = ? WHERE id = ?"));
  BindFacility(q, f);
  q.Bind(14, f.id.value);
  ANSHIN_RETURN_IF_ERROR(q.Run().WithContext("facility " + f.code));
  return NotFoundUnless(db_.Changes() > 0, "facility " + f.id.ToString());
}

Result<std::optional<CalendarDay>> SqliteFacilities::Calendar(FacilityId facility,
                                                              const LocalDate& date) {
  ANSHIN_ASSIGN_OR_RETURN(Query q,
                          db_.Prepare("SELECT closed, expected_arrival_by_s FROM facility_calendar "
                                      "WHERE facility_id = ? AND date = ?"));
  q.Bind(1, facility.value).Bind(2, date.ToString());
  ANSHIN_ASSIGN_OR_RETURN(bool row, q.Step());
  if (!row) return std::optional<CalendarDay>();
  CalendarDay d{facility, date, q.Int(0) != 0, std::nullopt};
  if (auto by = q.OptInt(1)) d.expected_arrival_by = LocalTime{static_cast<int>(*by)};
  return std::optional<CalendarDay>(d);
}

Status SqliteFacilities::SetCalendar(const CalendarDay& d) {
  ANSHIN_ASSIGN_OR_RETURN(
      Query q, db_.Prepare("INSERT INTO facility_calendar(facility_id, date, closed, "
                           "expected_arrival_by_s) VALUES (?, ?, ?, ?) "
                           "ON CONFLICT(facility_id, date) DO UPDATE SET closed = excluded.closed, "
                           "expected_arrival_by_s = excluded.expected_arrival_by_s"));
  q.Bind(1, d.facility.value).Bind(2, d.date.ToString()).Bind(3, d.closed);
  if (d.expected_arrival_by) {
    q.Bind(4, d.expected_arrival_by->seconds);
  } else {
    q.BindNull(4);
  }
  return q.Run().WithContext("calendar of facility " + d.facility.ToString());
}

}  // namespace anshin::store::sqlite_impl
