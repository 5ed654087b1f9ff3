#include "services/reports.hpp"

#include <map>

#include "services/audit_log.hpp"

namespace anshin::services {
namespace {

Status AuditReport(store::Store& store, const store::Actor& who, std::string_view action,
                   const std::string& detail) {
  return store::InWrite(
      store, [&](store::WriteTxn& txn) { return AppendAudit(txn, who, action, detail); });
}

std::string TimeOfDay(const std::optional<TimePoint>& t, const TimeZone& zone) {
  return t ? zone.ToLocal(*t).time.ToString() : std::string();
}

}  // namespace

Result<Month> ParseMonth(std::string_view text) {
  auto bad = [&] {
    return Status::InvalidArgument("--month: expected YYYY-MM, got \"" + std::string(text) + "\"");
  };
  if (text.size() != 7 || text[4] != '-') return bad();
  Result<LocalDate> first = LocalDate::Parse(std::string(text) + "-01");
  if (!first.ok()) return bad();
  Month m;
  m.first = *first;
  m.next = m.first;
  if (m.next.month == 12) {
    m.next.month = 1;
    ++m.next.year;
  } else {
    ++m.next.month;
  }
  return m;
}

Result<std::vector<SendLogLine>> SendLogReport(store::Store& store, const Month& month,
                                               const TimeZone& month_zone, const ZoneLoader& zones,
                                               const store::Actor& who) {
  const TimePoint from = month_zone.At(month.first, LocalTime{0});
  const TimePoint to = month_zone.At(month.next, LocalTime{0});
  std::vector<store::SendLogReportRow> rows;
  std::vector<store::Facility> facilities;
  ANSHIN_RETURN_IF_ERROR(store::InRead(store, [&](store::ReadTxn& txn) -> Status {
    ANSHIN_ASSIGN_OR_RETURN(rows, txn.outbox().SendLogBetween(from, to));
    ANSHIN_ASSIGN_OR_RETURN(facilities, txn.facilities().List());
    return Status::Ok();
  }));
  struct Place {
    std::string code;
    std::shared_ptr<const TimeZone> zone;
  };
  std::map<std::int64_t, Place> places;
  for (const store::Facility& f : facilities) {
    ANSHIN_ASSIGN_OR_RETURN(std::shared_ptr<const TimeZone> zone, zones(f.tz_name));
    places[f.id.value] = Place{f.code, zone};
  }
  std::vector<SendLogLine> out;
  out.reserve(rows.size());
  for (const store::SendLogReportRow& r : rows) {
    SendLogLine line;
    const TimeZone* zone = &month_zone;
    if (r.facility) {
      if (auto it = places.find(r.facility->value); it != places.end()) {
        line.facility = it->second.code;
        zone = it->second.zone.get();
      }
    }
    line.time = FormatRfc3339(r.at, *zone);
    line.child_number = r.child_number.value_or("");
    line.kind = std::string(store::kOutboxKindNames.Name(r.kind));
    line.result = r.result;
    line.smtp_code = r.smtp_code;
    out.push_back(std::move(line));
  }
  ANSHIN_RETURN_IF_ERROR(
      AuditReport(store, who, "report.sendlog",
                  "month=" + month.ToString() + " rows=" + std::to_string(out.size())));
  return out;
}

Result<std::vector<AttendanceLine>> AttendanceReport(store::Store& store, const Month& month,
                                                     const store::Facility& facility,
                                                     const TimeZone& zone,
                                                     const store::Actor& who) {
  std::vector<AttendanceLine> out;
  ANSHIN_RETURN_IF_ERROR(store::InRead(store, [&](store::ReadTxn& txn) -> Status {
    ANSHIN_ASSIGN_OR_RETURN(std::vector<store::StoredChildDay> days,
                            txn.attendance().DaysOfFacility(facility.id, month.first, month.next));
    const TimePoint from = zone.At(month.first, LocalTime{0});
    const TimePoint to = zone.At(month.next, LocalTime{0});
    std::optional<ChildId> current;
    store::Child child;
    std::map<std::string, bool> late_on;  // the current child's days with a late tap
    for (const store::StoredChildDay& d : days) {
      if (current != d.child) {
        current = d.child;
        ANSHIN_ASSIGN_OR_RETURN(child, txn.children().Get(d.child));
        late_on.clear();
        ANSHIN_ASSIGN_OR_RETURN(std::vector<store::TapRecord> taps,
                                txn.attendance().TapsOfChild(d.child, from, to));
        for (const store::TapRecord& t : taps) {
          if (t.late && t.facility == facility.id)
            late_on[zone.DateOf(t.corrected_at).ToString()] = true;
        }
      }
      if (d.day.visits.empty()) continue;
      AttendanceLine line;
      line.date = d.day.date;
      line.child_number = child.number.value_or("");
      line.name = child.name;
      line.arrival = TimeOfDay(d.day.visits.front().arrival, zone);
      line.departure = TimeOfDay(d.day.visits.back().departure, zone);
      line.visits = static_cast<int>(d.day.visits.size());
      for (const Visit& v : d.day.visits) {
        line.inferred = line.inferred || v.inferred;
        line.corrected = line.corrected || v.corrected;
      }
      line.late = late_on.count(d.day.date.ToString()) > 0;
      out.push_back(std::move(line));
    }
    return Status::Ok();
  }));
  ANSHIN_RETURN_IF_ERROR(AuditReport(store, who, "report.attendance",
                                     "month=" + month.ToString() +
                                         " facility=" + facility.id.ToString() +
                                         " rows=" + std::to_string(out.size())));
  return out;
}

}  // namespace anshin::services
