#include "services/facilities.hpp"

#include "common/validate.hpp"
#include "services/audit_log.hpp"

namespace anshin::services {

Status CheckFacility(const store::Facility& f, const ZoneLoader& zones) {
  if (f.code.empty() || f.code.size() > 64)
    return Status::InvalidArgument("code: must be 1 to 64 characters");
  for (char c : f.code) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '-' || c == '_';
    if (!ok) return Status::InvalidArgument("code: only letters, digits, '-' and '_' are allowed");
  }
  ANSHIN_RETURN_IF_ERROR(CheckName("name", f.name));
  if (Result<std::shared_ptr<const TimeZone>> z = zones(f.tz_name); !z.ok())
    return Status::InvalidArgument("tz: " + z.status().message());
  const FacilityRules& r = f.rules;
  if (r.double_tap_window.count() < 0 || r.departure_margin.count() < 0 ||
      r.closing_grace.count() < 0 || r.late_after.count() < 0) {
    return Status::InvalidArgument("durations must not be negative");
  }
  for (const auto& [name, t] :
       {std::pair{"departure-from", r.departure_from}, std::pair{"closing-time", r.closing_time},
        std::pair{"opens", f.opens}, std::pair{"closes", f.closes}}) {
    if (t.seconds < 0 || t.seconds >= 24 * 3600)
      return Status::InvalidArgument(std::string(name) + ": not a time of day");
  }
  if (f.opens >= f.closes) return Status::InvalidArgument("opens: must be before closing time");
  if (f.notify_not_arrived && !f.expected_arrival_by) {
    return Status::InvalidArgument(
        "notify-not-arrived: needs an expected-arrival-by time (when a child is \"not arrived\")");
  }
  return Status::Ok();
}

namespace {

// The ward's switch for guardian mail is part of every audit entry: an auditor sees who set it.
std::string AuditDetail(FacilityId id, const store::Facility& f) {
  return "facility=" + id.ToString() + " code=" + f.code +
         " notify_not_arrived=" + (f.notify_not_arrived ? "on" : "off");
}

}  // namespace

Result<FacilityId> Facilities::Add(const store::Facility& f, const store::Actor& who) {
  ANSHIN_RETURN_IF_ERROR(CheckFacility(f, zones_));
  return store::InWrite(store_, [&](store::WriteTxn& txn) -> Result<FacilityId> {
    ANSHIN_ASSIGN_OR_RETURN(std::optional<store::Facility> existing,
                            txn.facilities().FindByCode(f.code));
    if (existing) return Status::AlreadyExists("facility " + f.code + " already exists");
    ANSHIN_ASSIGN_OR_RETURN(FacilityId id, txn.facilities().Insert(f, who.at));
    ANSHIN_RETURN_IF_ERROR(AppendAudit(txn, who, "facility.add", AuditDetail(id, f)));
    return id;
  });
}

Status Facilities::Update(const store::Facility& f, const store::Actor& who) {
  ANSHIN_RETURN_IF_ERROR(CheckFacility(f, zones_));
  return store::InWrite(store_, [&](store::WriteTxn& txn) -> Status {
    ANSHIN_ASSIGN_OR_RETURN(std::optional<store::Facility> same_code,
                            txn.facilities().FindByCode(f.code));
    if (same_code && same_code->id != f.id)
      return Status::AlreadyExists("facility " + f.code + " already exists");
    ANSHIN_RETURN_IF_ERROR(txn.facilities().Update(f));
    return AppendAudit(txn, who, "facility.set", AuditDetail(f.id, f));
  });
}

Status Facilities::SetCalendar(FacilityId facility, const LocalDate& from, const LocalDate& to,
                               bool closed, std::optional<LocalTime> expected_arrival_by,
                               const store::Actor& who) {
  if (to < from) return Status::InvalidArgument("to: before from");
  if (from.AddDays(366) < to) return Status::InvalidArgument("to: more than a year after from");
  if (closed && expected_arrival_by)
    return Status::InvalidArgument("a closed day has no expected arrival time");
  return store::InWrite(store_, [&](store::WriteTxn& txn) -> Status {
    ANSHIN_RETURN_IF_ERROR(txn.facilities().Get(facility).status());
    for (LocalDate d = from; d <= to; d = d.AddDays(1)) {
      ANSHIN_RETURN_IF_ERROR(txn.facilities().SetCalendar(
          store::CalendarDay{facility, d, closed, expected_arrival_by}));
    }
    std::string detail =
        "facility=" + facility.ToString() + " from=" + from.ToString() + " to=" + to.ToString();
    if (closed) detail += " closed";
    if (expected_arrival_by) detail += " expected_arrival_by=" + expected_arrival_by->ToString();
    return AppendAudit(txn, who, "facility.calendar", detail);
  });
}

Result<store::Facility> Facilities::ByCode(std::string_view code) {
  return store::InRead(store_, [&](store::ReadTxn& txn) -> Result<store::Facility> {
    ANSHIN_ASSIGN_OR_RETURN(std::optional<store::Facility> f, txn.facilities().FindByCode(code));
    if (!f) return Status::NotFound("facility " + std::string(code));
    return *std::move(f);
  });
}

Result<std::vector<store::Facility>> Facilities::List() {
  return store::InRead(store_, [](store::ReadTxn& txn) { return txn.facilities().List(); });
}

}  // namespace anshin::services
