#include "notify-server/ingest/alert_checks.hpp"

#include <spdlog/spdlog.h>

#include <map>

#include "common/sys/logging.hpp"
#include "common/wire.hpp"
#include "services/expected.hpp"

namespace anshin::ingest {
namespace {

// When the facility opened today, if it is open now (Monday to Saturday, opens..closes).
Result<std::optional<TimePoint>> OpenedToday(const store::Facility& f,
                                             const services::ZoneLoader& zones, TimePoint now) {
  ANSHIN_ASSIGN_OR_RETURN(auto zone, zones(f.tz_name));
  const LocalDateTime local = zone->ToLocal(now);
  if (local.date.Weekday() == 0 || local.time < f.opens || local.time >= f.closes)
    return std::optional<TimePoint>();
  return std::optional<TimePoint>(zone->At(local.date, f.opens));
}

class Raiser {
 public:
  Raiser(store::WriteTxn& txn, TimePoint now) : txn_(txn), now_(now) {}

  // Raises the alert unless the same situation was raised at or after `since`; true when it
  // raised it now.
  Result<bool> RaiseUnlessSince(store::AlertRecord a, TimePoint since) {
    ANSHIN_ASSIGN_OR_RETURN(std::optional<TimePoint> last, txn_.alerts().LastRaised(a));
    if (last && *last >= since) return false;
    a.at = now_;
    ANSHIN_ASSIGN_OR_RETURN(a.id, txn_.alerts().Insert(a));
    raised_.push_back(std::move(a));
    return true;
  }
  std::vector<store::AlertRecord> raised() && { return std::move(raised_); }

 private:
  store::WriteTxn& txn_;
  const TimePoint now_;
  std::vector<store::AlertRecord> raised_;
};

store::AlertRecord AboutAgent(AlertKind kind, const store::Agent& agent) {
  store::AlertRecord a;
  a.kind = kind;
  a.facility = agent.facility;
  a.detail = "agent=" + agent.id.ToString();
  return a;
}

// not_arrived: each child the facility expects today (services/expected.hpp) with no arrival
// by the expected time, once per child and day, while the facility is open. Where the ward
// lets the facility mail guardians (notify_not_arrived), the alert queues a mail to each
// guardian who gets arrival mail, in the same transaction; `mails` counts them.
Status CheckNotArrived(store::WriteTxn& txn, Raiser& raiser, const store::Facility& f,
                       const services::ZoneLoader& zones, TimePoint now, int& mails) {
  if (!f.expected_arrival_by) return Status::Ok();
  ANSHIN_ASSIGN_OR_RETURN(auto zone, zones(f.tz_name));
  const LocalDateTime local = zone->ToLocal(now);
  if (local.time >= f.closes) return Status::Ok();
  ANSHIN_ASSIGN_OR_RETURN(services::ExpectedDay expected, services::ExpectedOn(txn, f, local.date));
  if (!expected.arrival_by || local.time < *expected.arrival_by) return Status::Ok();
  store::ChildQuery q;
  q.facility = f.id;
  q.limit = 100000;
  ANSHIN_ASSIGN_OR_RETURN(std::vector<store::Child> children, txn.children().Find(q));
  ANSHIN_ASSIGN_OR_RETURN(std::vector<store::StoredChildDay> days,
                          txn.attendance().DaysOfFacility(f.id, local.date, local.date.AddDays(1)));
  std::map<ChildId, bool> came;
  for (const auto& d : days) came[d.child] = !d.day.visits.empty();
  for (const store::Child& c : children) {
    if (!expected.Expects(c, local.date) || came[c.id]) continue;
    store::AlertRecord a;
    a.kind = AlertKind::kNotArrived;
    a.facility = f.id;
    a.child = c.id;
    a.detail = "date=" + local.date.ToString();
    ANSHIN_ASSIGN_OR_RETURN(bool raised, raiser.RaiseUnlessSince(a, TimePoint::min()));
    if (!raised || !f.notify_not_arrived) continue;
    // The guardians an arrival would have been mailed to (verified, not bouncing, not removed).
    ANSHIN_ASSIGN_OR_RETURN(std::vector<GuardianId> targets,
                            txn.guardians().NoticeTargets(c.id, NoticeKind::kArrival));
    for (GuardianId g : targets) {
      store::OutboxMessage m;
      m.kind = store::OutboxKind::kNotArrived;
      m.guardian = g;
      m.child = c.id;
      m.facility = f.id;
      m.tap_at = zone->At(local.date, *expected.arrival_by);  // the time expected by
      m.created_at = now;
      ANSHIN_RETURN_IF_ERROR(txn.outbox().Insert(m).status());
      ++mails;
    }
  }
  return Status::Ok();
}

}  // namespace

Result<std::vector<store::AlertRecord>> AlertChecks::Run(TimePoint now) {
  std::vector<store::AlertRecord> raised;
  int mails = 0;
  ANSHIN_RETURN_IF_ERROR(store::InWrite(store_, [&](store::WriteTxn& txn) -> Status {
    mails = 0;  // a retried transaction starts again
    Raiser raiser(txn, now);
    ANSHIN_ASSIGN_OR_RETURN(std::vector<store::Facility> facilities, txn.facilities().List());
    std::map<FacilityId, std::optional<TimePoint>> opened;
    for (const store::Facility& f : facilities) {
      ANSHIN_ASSIGN_OR_RETURN(opened[f.id], OpenedToday(f, zones_, now));
      ANSHIN_RETURN_IF_ERROR(CheckNotArrived(txn, raiser, f, zones_, now, mails));
    }
    ANSHIN_ASSIGN_OR_RETURN(std::vector<store::Agent> agents, txn.agents().List());
    for (const store::Agent& agent : agents) {
      // The facility board's own uploader (no certificate) never connects.
      if (agent.status != store::AgentStatus::kActive || agent.cert_sha256.empty()) continue;
      const std::optional<TimePoint> opens = opened[agent.facility];
      const TimePoint heard = agent.last_contact.value_or(agent.enrolled_at);
      if (opens && now - *opens >= options_.agent_silent && now - heard >= options_.agent_silent) {
        // Once per silence: not again until the PC was heard from after the last alert.
        ANSHIN_RETURN_IF_ERROR(
            raiser.RaiseUnlessSince(AboutAgent(AlertKind::kAgentSilent, agent), heard).status());
      }
      if (opens && agent.last_contact && !agent.last_health_json.empty()) {
        auto health = wire::ParseHealth(agent.last_health_json);
        if (health.ok() && !health->reader_state.empty() && health->reader_state != "ok") {
          ANSHIN_RETURN_IF_ERROR(raiser
                                     .RaiseUnlessSince(AboutAgent(AlertKind::kReaderError, agent),
                                                       now - options_.repeat)
                                     .status());
        }
      }
      if (opens && agent.last_contact && agent.skew_flagged()) {
        ANSHIN_RETURN_IF_ERROR(
            raiser.RaiseUnlessSince(AboutAgent(AlertKind::kClockSkew, agent), now - options_.repeat)
                .status());
      }
    }
    ANSHIN_ASSIGN_OR_RETURN(store::OutboxStats mail, txn.outbox().Stats(now));
    if (mail.depth > 0 && mail.oldest_age >= options_.mail_stuck) {
      store::AlertRecord a;
      a.kind = AlertKind::kMailFailing;
      a.detail = "outbox";
      ANSHIN_RETURN_IF_ERROR(raiser.RaiseUnlessSince(a, now - options_.repeat).status());
    }
    raised = std::move(raiser).raised();
    return Status::Ok();
  }));
  if (mails > 0) {
    sys::LogEvent(spdlog::level::info, "not_arrived_mail", {{"mails", mails}});
    if (options_.mail_queued) options_.mail_queued();
  }
  for (const store::AlertRecord& a : raised) {
    sys::LogEvent(spdlog::level::warn, "alert",
                  {{"kind", AlertKindName(a.kind)},
                   {"facility", a.facility ? a.facility->ToString() : std::string("-")},
                   {"child", a.child ? a.child->ToString() : std::string("-")},
                   {"detail", a.detail}});
  }
  return raised;
}

}  // namespace anshin::ingest
