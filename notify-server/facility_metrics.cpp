#include "notify-server/facility_metrics.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <map>

#include "common/wire.hpp"
#include "notify-server/metrics_text.hpp"

namespace anshin::server {
namespace {

struct FacilityFigures {
  std::optional<TimePoint> last_contact;
  std::optional<TimePoint> oldest_report;
  bool open = false;
  bool reader_ok = true;
  bool reported = false;
  std::uint64_t queue_depth = 0;
  std::uint64_t unknown_taps = 0;
};

std::string Series(std::string_view name, std::string_view label, std::string_view value) {
  std::string s(name);
  s += '{';
  s += label;
  s += "=\"";
  s += value;  // facility codes and alert kinds: [a-z0-9_-] by their validators
  s += "\"}";
  return s;
}

double Seconds(Millis d) { return static_cast<double>(d.count()) / 1000.0; }

}  // namespace

std::string FacilityMetricsText(store::Store& store, const services::ZoneLoader& zones,
                                TimePoint now) {
  struct Snapshot {
    std::vector<store::Facility> facilities;
    std::vector<store::Agent> agents;
    std::vector<store::AlertRecord> open_alerts;
  };
  Result<Snapshot> snap = store::InRead(store, [](store::ReadTxn& txn) -> Result<Snapshot> {
    Snapshot s;
    ANSHIN_ASSIGN_OR_RETURN(s.facilities, txn.facilities().List());
    ANSHIN_ASSIGN_OR_RETURN(s.agents, txn.agents().List());
    ANSHIN_ASSIGN_OR_RETURN(s.open_alerts, txn.alerts().List(true));
    return s;
  });
  std::string out;
  if (!snap.ok()) {
    spdlog::warn("metrics: reading facilities and agents failed: {}", snap.status().ToString());
    return out;
  }
  std::map<std::int64_t, FacilityFigures> figures;
  for (const store::Facility& f : snap->facilities) {
    FacilityFigures& fig = figures[f.id.value];
    auto zone = zones(f.tz_name);
    if (!zone.ok()) continue;
    const LocalDateTime local = (*zone)->ToLocal(now);
    const unsigned weekday = local.date.Weekday();
    fig.open = weekday != 0 && local.time >= f.opens && local.time < f.closes;
  }
  for (const store::Agent& a : snap->agents) {
    if (a.status != store::AgentStatus::kActive) continue;
    FacilityFigures& fig = figures[a.facility.value];
    if (a.last_contact && (!fig.last_contact || *a.last_contact > *fig.last_contact))
      fig.last_contact = a.last_contact;
    if (a.last_health_json.empty()) continue;
    auto h = wire::ParseHealth(a.last_health_json);
    if (!h.ok()) continue;
    fig.reported = true;
    fig.reader_ok = fig.reader_ok && h->reader_state == "ok";
    fig.queue_depth += h->queue_depth;
    fig.unknown_taps += h->unknown_taps;
    if (a.last_contact && (!fig.oldest_report || *a.last_contact < *fig.oldest_report))
      fig.oldest_report = a.last_contact;
  }

  PrometheusText text(out);
  auto per_facility = [&](std::string_view name, std::string_view help, auto value_of) {
    text.Header(name, help, "gauge");
    for (const store::Facility& f : snap->facilities) {
      const FacilityFigures& fig = figures[f.id.value];
      if (auto v = value_of(fig)) text.Sample(Series(name, "facility", f.code), *v);
    }
  };
  per_facility("anshin_facility_last_contact_age_seconds",
               "Seconds since any of the facility's PCs last reached the server.",
               [&](const FacilityFigures& f) -> std::optional<double> {
                 if (!f.last_contact) return std::nullopt;
                 return Seconds(std::chrono::duration_cast<Millis>(now - *f.last_contact));
               });
  per_facility("anshin_facility_open", "1 during the facility's opening hours (Mon-Sat).",
               [](const FacilityFigures& f) -> std::optional<int> { return f.open ? 1 : 0; });
  per_facility("anshin_facility_reader_ok",
               "1 when every active PC of the facility last reported its reader ok.",
               [](const FacilityFigures& f) -> std::optional<int> {
                 if (!f.reported) return std::nullopt;
                 return f.reader_ok ? 1 : 0;
               });
  per_facility("anshin_facility_queue_depth",
               "Taps queued on the facility's PCs, as they last reported.",
               [](const FacilityFigures& f) -> std::optional<std::uint64_t> {
                 if (!f.reported) return std::nullopt;
                 return f.queue_depth;
               });
  per_facility("anshin_facility_unknown_taps",
               "Taps of unregistered cards counted by the facility's PCs, as last reported.",
               [](const FacilityFigures& f) -> std::optional<std::uint64_t> {
                 if (!f.reported) return std::nullopt;
                 return f.unknown_taps;
               });
  per_facility("anshin_facility_report_age_seconds",
               "Age of the oldest health report behind the facility's figures.",
               [&](const FacilityFigures& f) -> std::optional<double> {
                 if (!f.oldest_report) return std::nullopt;
                 return Seconds(std::chrono::duration_cast<Millis>(now - *f.oldest_report));
               });

  // Agents with a client certificate of known expiry (the facility board's uploader has none;
  // an agent enrolled before expiries were recorded has none until renewed). Revoked agents
  // are left out: their certificate is refused anyway.
  std::map<std::int64_t, std::string> codes;
  for (const store::Facility& f : snap->facilities) codes[f.id.value] = f.code;
  text.Header("anshin_agent_cert_expiry_seconds",
              "Seconds until the agent's client certificate expires (negative: expired).", "gauge");
  for (const store::Agent& a : snap->agents) {
    if (a.status == store::AgentStatus::kRevoked || !a.cert_not_after) continue;
    // Agent names are [A-Za-z0-9._-] (services::CheckAgentName): no escaping needed.
    text.Sample("anshin_agent_cert_expiry_seconds{agent=\"" + a.name + "\",facility=\"" +
                    codes[a.facility.value] + "\"}",
                Seconds(std::chrono::duration_cast<Millis>(*a.cert_not_after - now)));
  }

  // Every kind has its series, 0 when none is open, so an alerting rule never meets a series
  // that is missing rather than zero.
  std::map<std::string, int> by_kind;
  for (const auto& [kind, name] : kAlertKindNames.entries()) by_kind[std::string(name)] = 0;
  for (const store::AlertRecord& a : snap->open_alerts)
    ++by_kind[std::string(AlertKindName(a.kind))];
  text.Header("anshin_alerts_open", "Alerts not acknowledged yet, by kind.", "gauge");
  for (const auto& [kind, n] : by_kind) text.Sample(Series("anshin_alerts_open", "kind", kind), n);
  return out;
}

}  // namespace anshin::server
