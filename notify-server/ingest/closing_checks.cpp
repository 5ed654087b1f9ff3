#include "notify-server/ingest/closing_checks.hpp"

#include <spdlog/spdlog.h>

#include "common/sys/logging.hpp"
#include "notify-server/metrics_text.hpp"

namespace anshin::ingest {

Result<std::vector<Alert>> ClosingChecks::Run(TimePoint now) {
  std::vector<Alert> raised;
  ANSHIN_RETURN_IF_ERROR(store::InWrite(store_, [&](store::WriteTxn& txn) -> Status {
    ANSHIN_ASSIGN_OR_RETURN(std::vector<store::Facility> facilities, txn.facilities().List());
    for (const store::Facility& f : facilities) {
      FacilityRules rules = f.rules;
      ANSHIN_ASSIGN_OR_RETURN(rules.zone, zones_(f.tz_name));
      const LocalDate today = rules.zone->DateOf(now);
      const LocalDate yesterday = rules.zone->DateOf(now - std::chrono::hours(24));
      for (const LocalDate& date : {yesterday, today}) {
        if (ClosingCheckDue(rules, date) > now) continue;
        ANSHIN_ASSIGN_OR_RETURN(std::vector<store::OpenDay> open,
                                txn.attendance().OpenDays(f.id, date));
        for (store::OpenDay& od : open) {
          std::vector<Alert> alerts = CheckClosing(rules, f.id, od.child, od.day, now);
          ANSHIN_RETURN_IF_ERROR(txn.attendance().SaveChildDay(od.child, f.id, od.day));
          for (const Alert& a : alerts) {
            store::AlertRecord ar;
            ar.kind = a.kind;
            ar.facility = a.facility;
            ar.child = a.child;
            ar.at = a.at;
            ar.detail = "date=" + date.ToString();
            ANSHIN_RETURN_IF_ERROR(txn.alerts().Insert(ar).status());
            raised.push_back(a);
          }
        }
      }
    }
    return Status::Ok();
  }));
  raised_.fetch_add(raised.size(), std::memory_order_relaxed);
  for (const Alert& a : raised) {
    sys::LogEvent(spdlog::level::warn, "alert",
                  {{"kind", AlertKindName(a.kind)},
                   {"facility", a.facility.value},
                   {"child", a.child ? a.child->ToString() : std::string("-")}});
  }
  return raised;
}

std::string ClosingChecks::MetricsText() const {
  std::string out;
  server::PrometheusText(out).Counter("anshin_closing_alerts_total",
                                      "No-departure alerts raised by closing checks.",
                                      raised_.load());
  return out;
}

}  // namespace anshin::ingest
