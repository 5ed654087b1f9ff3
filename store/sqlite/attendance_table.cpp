// taps and child_days (docs/schema.md).
#include "common/day_codec.hpp"
#include "store/sqlite/tables.hpp"

namespace anshin::store::sqlite_impl {
namespace {

#define ANSHIN_TAP_COLS                                                                     \
  "seq, card_token, facility_id, reader, direction, tapped_at, corrected_at, received_at, " \
  "reason, child_id, late, recorded_by, note"

Result<TapRecord> ReadTap(const Query& q, AgentId agent) {
  TapRecord t;
  t.agent = agent;
  t.seq = static_cast<std::uint64_t>(q.Int(0));
  ANSHIN_ASSIGN_OR_RETURN(t.card, CardToken::Parse(q.TextView(1)));
  t.facility = FacilityId{q.Int(2)};
  t.reader = q.Text(3);
  ANSHIN_ASSIGN_OR_RETURN(t.direction, ParseDirection(q.TextView(4)));
  t.tapped_at = FromUnixMillis(q.Int(5));
  t.corrected_at = FromUnixMillis(q.Int(6));
  t.received_at = FromUnixMillis(q.Int(7));
  ANSHIN_ASSIGN_OR_RETURN(t.reason, ParseReason(q.TextView(8)));
  if (auto c = q.OptInt(9)) t.child = ChildId{*c};
  t.late = q.Int(10) != 0;
  t.recorded_by = q.Text(11);
  t.note = q.Text(12);
  return t;
}

bool HasOpenVisit(const ChildDay& day) {
  for (const Visit& v : day.visits) {
    if (v.open()) return true;
  }
  return false;
}

Result<ChildDay> DecodeStoredDay(const LocalDate& date, std::string_view text, ChildId child) {
  Result<ChildDay> day = DecodeChildDay(date, text);
  if (!day.ok()) {
    return Status::Internal("child_days of child " + child.ToString() + " on " + date.ToString() +
                            ": " + day.status().message());
  }
  return day;
}

}  // namespace

Result<std::optional<TapRecord>> SqliteAttendance::FindTap(AgentId agent, std::uint64_t seq) {
  ANSHIN_ASSIGN_OR_RETURN(
      Query q, db_.Prepare("SELECT " ANSHIN_TAP_COLS " FROM taps WHERE agent_id = ? AND seq = ?"));
  q.Bind(1, agent.value).Bind(2, seq);
  ANSHIN_ASSIGN_OR_RETURN(bool row, q.Step());
  if (!row) return std::optional<TapRecord>();
  ANSHIN_ASSIGN_OR_RETURN(TapRecord t, ReadTap(q, agent));
  return std::optional<TapRecord>(std::move(t));
}

Result<std::vector<TapRecord>> SqliteAttendance::TapsOfAgent(AgentId agent, std::uint64_t after_seq,
                                                             int limit) {
  ANSHIN_ASSIGN_OR_RETURN(
      Query q, db_.Prepare("SELECT " ANSHIN_TAP_COLS
                           " FROM taps WHERE agent_id = ? AND seq > ? ORDER BY seq LIMIT ?"));
  q.Bind(1, agent.value).Bind(2, after_seq).Bind(3, limit);
  std::vector<TapRecord> out;
  ANSHIN_RETURN_IF_ERROR(q.ForEachRow([&]() -> Status {
    ANSHIN_ASSIGN_OR_RETURN(TapRecord t, ReadTap(q, agent));
    out.push_back(std::move(t));
    return Status::Ok();
  }));
  return out;
}

Result<std::uint64_t> SqliteAttendance::LastSeq(AgentId agent) {
  ANSHIN_ASSIGN_OR_RETURN(Query q,
                          db_.Prepare("SELECT COALESCE(MAX(seq), 0) FROM taps WHERE agent_id = ?"));
  q.Bind(1, agent.value);
  ANSHIN_ASSIGN_OR_RETURN(bool row, q.Step());
  return row ? static_cast<std::uint64_t>(q.Int(0)) : 0;
}

Result<std::vector<TapRecord>> SqliteAttendance::TapsOfChild(ChildId child, TimePoint from,
                                                             TimePoint to) {
  ANSHIN_ASSIGN_OR_RETURN(
      Query q, db_.Prepare("SELECT " ANSHIN_TAP_COLS ", agent_id FROM taps WHERE child_id = ? "
                           "AND corrected_at >= ? AND corrected_at < ? "
                           "ORDER BY corrected_at, agent_id, seq"));
  q.Bind(1, child.value).Bind(2, ToUnixMillis(from)).Bind(3, ToUnixMillis(to));
  std::vector<TapRecord> out;
  ANSHIN_RETURN_IF_ERROR(q.ForEachRow([&]() -> Status {
    ANSHIN_ASSIGN_OR_RETURN(TapRecord t, ReadTap(q, AgentId{q.Int(13)}));
    out.push_back(std::move(t));
    return Status::Ok();
  }));
  return out;
}

Result<std::pair<std::uint64_t, std::optional<wire::SeqGap>>> SqliteAttendance::ContiguousThrough(
    AgentId agent, std::uint64_t acked_through) {
  // Walks the (agent_id, seq) index forward from acked_through; stops at the first hole.
  ANSHIN_ASSIGN_OR_RETURN(
      Query q, db_.Prepare("SELECT seq FROM taps WHERE agent_id = ? AND seq > ? ORDER BY seq"));
  q.Bind(1, agent.value).Bind(2, acked_through);
  std::uint64_t end = acked_through;
  std::optional<wire::SeqGap> gap;
  for (;;) {
    ANSHIN_ASSIGN_OR_RETURN(bool row, q.Step());
    if (!row) break;
    auto seq = static_cast<std::uint64_t>(q.Int(0));
    if (seq == end + 1) {
      end = seq;
      continue;
    }
    gap = wire::SeqGap{end + 1, seq - 1};
    break;
  }
  return std::make_pair(end, gap);
}

Result<ChildDay> SqliteAttendance::LoadChildDay(ChildId child, FacilityId facility,
                                                const LocalDate& date) {
  ANSHIN_ASSIGN_OR_RETURN(Query q, db_.Prepare("SELECT state FROM child_days WHERE child_id = ? "
                                               "AND facility_id = ? AND date = ?"));
  q.Bind(1, child.value).Bind(2, facility.value).Bind(3, date.ToString());
  ANSHIN_ASSIGN_OR_RETURN(bool row, q.Step());
  if (!row) {
    ChildDay day;
    day.date = date;
    return day;
  }
  return DecodeStoredDay(date, q.TextView(0), child);
}

Result<std::vector<OpenDay>> SqliteAttendance::OpenDays(FacilityId facility,
                                                        const LocalDate& date) {
  ANSHIN_ASSIGN_OR_RETURN(
      Query q, db_.Prepare("SELECT child_id, state FROM child_days WHERE facility_id = ? "
                           "AND date = ? AND open_visit = 1 AND closing_alerted = 0"));
  q.Bind(1, facility.value).Bind(2, date.ToString());
  std::vector<OpenDay> out;
  ANSHIN_RETURN_IF_ERROR(q.ForEachRow([&]() -> Status {
    ChildId child{q.Int(0)};
    ANSHIN_ASSIGN_OR_RETURN(ChildDay day, DecodeStoredDay(date, q.TextView(1), child));
    out.push_back(OpenDay{child, facility, std::move(day)});
    return Status::Ok();
  }));
  return out;
}

Status SqliteAttendance::InsertTap(const TapRecord& t) {
  ANSHIN_ASSIGN_OR_RETURN(
      Query q, db_.Prepare("INSERT INTO taps(agent_id, seq, card_token, facility_id, reader, "
                           "direction, tapped_at, corrected_at, received_at, reason, "
                           "child_id, late, recorded_by, note) "
                           "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"));
  q.Bind(1, t.agent.value).Bind(2, t.seq).Bind(3, t.card.hex()).Bind(4, t.facility.value);
  q.Bind(5, t.reader).Bind(6, DirectionName(t.direction)).Bind(7, ToUnixMillis(t.tapped_at));
  q.Bind(8, ToUnixMillis(t.corrected_at)).Bind(9, ToUnixMillis(t.received_at));
  q.Bind(10, ReasonName(t.reason));
  if (t.child) {
    q.Bind(11, t.child->value);
  } else {
    q.BindNull(11);
  }
  q.Bind(12, t.late).Bind(13, t.recorded_by).Bind(14, t.note);
  return q.Run();
}

Status SqliteAttendance::SaveChildDay(ChildId child, FacilityId facility, const ChildDay& day) {
  ANSHIN_ASSIGN_OR_RETURN(Query q,
                          db_.Prepare("INSERT INTO child_days(child_id, facility_id, date, state, "
                                      "open_visit, closing_alerted) VALUES (?, ?, ?, ?, ?, ?) "
                                      "ON CONFLICT(child_id, facility_id, date) DO UPDATE SET "
                                      "state = excluded.state, open_visit = excluded.open_visit, "
                                      "closing_alerted = excluded.closing_alerted"));
  q.Bind(1, child.value).Bind(2, facility.value).Bind(3, day.date.ToString());
  q.Bind(4, EncodeChildDay(day)).Bind(5, HasOpenVisit(day)).Bind(6, day.closing_alerted);
  return q.Run();
}

Result<std::vector<StoredChildDay>> SqliteAttendance::DaysOfFacility(FacilityId facility,
                                                                     const LocalDate& from,
                                                                     const LocalDate& to) {
  ANSHIN_ASSIGN_OR_RETURN(
      Query q, db_.Prepare("SELECT child_id, date, state FROM child_days WHERE facility_id = ? "
                           "AND date >= ? AND date < ? ORDER BY child_id, date"));
  q.Bind(1, facility.value).Bind(2, from.ToString()).Bind(3, to.ToString());
  std::vector<StoredChildDay> out;
  ANSHIN_RETURN_IF_ERROR(q.ForEachRow([&]() -> Status {
    ChildId child{q.Int(0)};
    ANSHIN_ASSIGN_OR_RETURN(LocalDate date, LocalDate::Parse(q.TextView(1)));
    ANSHIN_ASSIGN_OR_RETURN(ChildDay day, DecodeStoredDay(date, q.TextView(2), child));
    out.push_back(StoredChildDay{child, std::move(day)});
    return Status::Ok();
  }));
  return out;
}

Result<int> SqliteAttendance::DeleteTapsBefore(TimePoint cutoff, int limit) {
  ANSHIN_ASSIGN_OR_RETURN(Query q, db_.Prepare("DELETE FROM taps WHERE id IN (SELECT id FROM taps "
                                               "WHERE corrected_at < ? ORDER BY id LIMIT ?)"));
  q.Bind(1, ToUnixMillis(cutoff)).Bind(2, limit);
  ANSHIN_RETURN_IF_ERROR(q.Run());
  return db_.Changes();
}

Result<int> SqliteAttendance::DeleteChildDaysBefore(const LocalDate& date, int limit) {
  ANSHIN_ASSIGN_OR_RETURN(
      Query q, db_.Prepare("DELETE FROM child_days WHERE (child_id, facility_id, date) IN "
                           "(SELECT child_id, facility_id, date FROM child_days WHERE date < ? "
                           "LIMIT ?)"));
  q.Bind(1, date.ToString()).Bind(2, limit);
  ANSHIN_RETURN_IF_ERROR(q.Run());
  return db_.Changes();
}

}  // namespace anshin::store::sqlite_impl
