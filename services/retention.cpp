#include "services/retention.hpp"

#include <functional>

#include "services/audit_log.hpp"
#include "services/cards.hpp"

namespace anshin::services {
namespace {

constexpr int kChildrenPerTxn = 100;

unsigned DaysIn(int year, unsigned month) {
  static constexpr unsigned kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  const bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
  return month == 2 && leap ? 29 : kDays[month - 1];
}

LocalDate MonthsBefore(const LocalDate& d, int months) {
  int index = d.year * 12 + static_cast<int>(d.month) - 1 - months;
  LocalDate out;
  out.year = index / 12;
  out.month = static_cast<unsigned>(index % 12) + 1;
  out.day = std::min(d.day, DaysIn(out.year, out.month));
  return out;
}

// Runs `batch` until it deletes fewer than `limit` rows: each in its own transaction, or all in
// `dry` (a transaction the caller rolls back). Returns the total.
using BatchFn = std::function<Result<int>(store::WriteTxn&)>;
Result<std::int64_t> InBatches(store::Store& store, store::WriteTxn* dry, int limit,
                               const BatchFn& batch) {
  std::int64_t total = 0;
  for (;;) {
    int n = 0;
    if (dry != nullptr) {
      ANSHIN_ASSIGN_OR_RETURN(n, batch(*dry));
    } else {
      ANSHIN_ASSIGN_OR_RETURN(n, store::InWrite(store, batch));
    }
    total += n;
    if (n < limit) return total;
  }
}

// Removes the personal data of up to kChildrenPerTxn children withdrawn before the cutoff;
// returns how many children.
Result<int> PurgeWithdrawnBatch(store::WriteTxn& txn, TimePoint cutoff, const store::Actor& who,
                                PurgeCounts& counts) {
  ANSHIN_ASSIGN_OR_RETURN(std::vector<ChildId> ids,
                          txn.children().WithdrawnBefore(cutoff, kChildrenPerTxn));
  for (ChildId id : ids) {
    ANSHIN_ASSIGN_OR_RETURN(int retired, RetireCardsOfChildIn(txn, id, who));
    ANSHIN_ASSIGN_OR_RETURN(int guardians, txn.guardians().DeleteOfChild(id));
    ANSHIN_RETURN_IF_ERROR(txn.children().MarkPurged(id, who.at));
    counts.cards_retired += retired;
    counts.guardians += guardians;
  }
  return static_cast<int>(ids.size());
}

Status PurgeAll(store::Store& store, store::WriteTxn* dry, const RetentionPolicy& policy,
                const PurgeCutoffs& cut, const store::Actor& who, PurgeCounts& counts) {
  const int limit = policy.batch;
  // Children first: their guardians' mail goes with them whatever its age.
  ANSHIN_ASSIGN_OR_RETURN(counts.children,
                          InBatches(store, dry, kChildrenPerTxn, [&](store::WriteTxn& txn) {
                            return PurgeWithdrawnBatch(txn, cut.withdrawn_before, who, counts);
                          }));
  ANSHIN_ASSIGN_OR_RETURN(counts.send_log, InBatches(store, dry, limit, [&](store::WriteTxn& txn) {
                            return txn.outbox().DeleteSendLogBefore(cut.before, limit);
                          }));
  ANSHIN_ASSIGN_OR_RETURN(counts.outbox, InBatches(store, dry, limit, [&](store::WriteTxn& txn) {
                            return txn.outbox().DeleteOutboxBefore(cut.before, limit);
                          }));
  ANSHIN_ASSIGN_OR_RETURN(counts.taps, InBatches(store, dry, limit, [&](store::WriteTxn& txn) {
                            return txn.attendance().DeleteTapsBefore(cut.before, limit);
                          }));
  ANSHIN_ASSIGN_OR_RETURN(counts.child_days,
                          InBatches(store, dry, limit, [&](store::WriteTxn& txn) {
                            return txn.attendance().DeleteChildDaysBefore(cut.before_date, limit);
                          }));
  const TimePoint skew_before = who.at - std::chrono::hours(24) * kSkewHistoryDays;
  ANSHIN_ASSIGN_OR_RETURN(counts.skew_samples,
                          InBatches(store, dry, limit, [&](store::WriteTxn& txn) {
                            return txn.agents().DeleteSkewSamplesBefore(skew_before, limit);
                          }));
  return Status::Ok();
}

}  // namespace

Status CheckRetentionPolicy(const RetentionPolicy& p) {
  if (p.months < 1 || p.months > 120)
    return Status::InvalidArgument("retention.months: must be 1 to 120");
  if (p.withdrawn_grace_days < 0 || p.withdrawn_grace_days > 3650)
    return Status::InvalidArgument("retention.withdrawn_grace_days: must be 0 to 3650");
  if (p.batch < 1) return Status::InvalidArgument("retention batch: must be positive");
  return Status::Ok();
}

PurgeCutoffs CutoffsAt(const RetentionPolicy& p, TimePoint now, const TimeZone& zone) {
  PurgeCutoffs c;
  c.before_date = MonthsBefore(zone.DateOf(now), p.months);
  c.before = zone.At(c.before_date, LocalTime{0});
  c.withdrawn_before = now - std::chrono::hours(24) * p.withdrawn_grace_days;
  return c;
}

std::string PurgeCountsText(const PurgeCounts& c) {
  return std::to_string(c.taps) + " taps, " + std::to_string(c.child_days) + " visit days, " +
         std::to_string(c.outbox) + " mails, " + std::to_string(c.send_log) + " send attempts, " +
         std::to_string(c.skew_samples) + " skew samples deleted; " + std::to_string(c.children) +
         " withdrawn children purged (" + std::to_string(c.guardians) + " guardians deleted, " +
         std::to_string(c.cards_retired) + " cards retired)";
}

Result<PurgeCounts> Purge(store::Store& store, const RetentionPolicy& policy, TimePoint now,
                          const TimeZone& zone, bool dry_run, const store::Actor& who) {
  ANSHIN_RETURN_IF_ERROR(CheckRetentionPolicy(policy));
  const PurgeCutoffs cut = CutoffsAt(policy, now, zone);
  PurgeCounts counts;
  if (dry_run) {
    ANSHIN_ASSIGN_OR_RETURN(std::unique_ptr<store::WriteTxn> txn, store.BeginWrite());
    ANSHIN_RETURN_IF_ERROR(PurgeAll(store, txn.get(), policy, cut, who, counts));
    return counts;  // rolled back when txn goes
  }
  ANSHIN_RETURN_IF_ERROR(PurgeAll(store, nullptr, policy, cut, who, counts));
  ANSHIN_RETURN_IF_ERROR(store::InWrite(store, [&](store::WriteTxn& txn) {
    return AppendAudit(txn, who, "purge",
                       "before=" + cut.before_date.ToString() +
                           " withdrawn_before=" + FormatRfc3339(cut.withdrawn_before) +
                           " taps=" + std::to_string(counts.taps) +
                           " child_days=" + std::to_string(counts.child_days) +
                           " outbox=" + std::to_string(counts.outbox) +
                           " send_log=" + std::to_string(counts.send_log) +
                           " children=" + std::to_string(counts.children) +
                           " guardians=" + std::to_string(counts.guardians) +
                           " cards_retired=" + std::to_string(counts.cards_retired) +
                           " skew_samples=" + std::to_string(counts.skew_samples));
  }));
  return counts;
}

Result<std::optional<PurgeCounts>> PurgeIfDue(store::Store& store, const RetentionPolicy& policy,
                                              TimePoint now, const TimeZone& zone, LocalTime from) {
  const LocalDateTime local = zone.ToLocal(now);
  if (local.time < from) return std::optional<PurgeCounts>();
  const std::string period = local.date.ToString();
  ANSHIN_ASSIGN_OR_RETURN(bool ran, store::InRead(store, [&](store::ReadTxn& txn) {
                            return txn.jobs().HasRun("purge", period);
                          }));
  if (ran) return std::optional<PurgeCounts>();
  // Recorded after the purge: one that failed half-way is tried again at the next call (what
  // it already deleted stays deleted; the rest is found again).
  ANSHIN_ASSIGN_OR_RETURN(PurgeCounts counts,
                          Purge(store, policy, now, zone, false, store::Actor{"scheduler", now}));
  ANSHIN_RETURN_IF_ERROR(store::InWrite(store, [&](store::WriteTxn& txn) {
                           return txn.jobs().RecordRun("purge", period, now);
                         }).status());
  return std::optional<PurgeCounts>(counts);
}

Result<std::optional<PurgeCounts>> DailyPurge(store::Store& store, const RetentionPolicy& policy,
                                              TimePoint now, const ZoneLoader& zones) {
  ANSHIN_ASSIGN_OR_RETURN(
      std::vector<store::Facility> facilities,
      store::InRead(store, [](store::ReadTxn& txn) { return txn.facilities().List(); }));
  const std::string name = facilities.empty() ? "Asia/Tokyo" : facilities.front().tz_name;
  ANSHIN_ASSIGN_OR_RETURN(std::shared_ptr<const TimeZone> zone, zones(name));
  return PurgeIfDue(store, policy, now, *zone);
}

}  // namespace anshin::services
