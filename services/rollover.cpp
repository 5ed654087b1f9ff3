#include "services/rollover.hpp"

#include <limits>
#include <set>

#include "services/audit_log.hpp"
#include "services/children.hpp"

namespace anshin::services {
namespace {

constexpr const char* kJob = "rollover";

std::string JobOf(const store::Facility& f) { return std::string(kJob) + ":" + f.code; }

// The facilities this run leaves out; already_ran when the run itself was made.
Result<std::set<std::int64_t>> SkippedFacilities(store::ReadTxn& txn,
                                                 const RolloverOptions& options,
                                                 const std::string& period, bool& already_ran) {
  std::set<std::int64_t> skipped;
  ANSHIN_ASSIGN_OR_RETURN(bool whole_ran, txn.jobs().HasRun(kJob, period));
  if (options.facility) {
    ANSHIN_ASSIGN_OR_RETURN(store::Facility f, txn.facilities().Get(*options.facility));
    ANSHIN_ASSIGN_OR_RETURN(bool ran, txn.jobs().HasRun(JobOf(f), period));
    already_ran = whole_ran || ran;
    return skipped;
  }
  already_ran = whole_ran;
  ANSHIN_ASSIGN_OR_RETURN(std::vector<store::Facility> facilities, txn.facilities().List());
  for (const store::Facility& f : facilities) {
    ANSHIN_ASSIGN_OR_RETURN(bool ran, txn.jobs().HasRun(JobOf(f), period));
    if (ran) skipped.insert(f.id.value);
  }
  return skipped;
}

}  // namespace

std::string RolloverCountsText(const RolloverCounts& c) {
  if (c.already_ran) return "already ran for this date: nothing changed";
  std::string out = "promoted " + std::to_string(c.promoted) + ", withdrawn " +
                    std::to_string(c.withdrawn) + " (" + std::to_string(c.cards_retired) +
                    (c.cards_retired == 1 ? " card" : " cards") + " retired), " +
                    std::to_string(c.no_grade) + " without a grade left as they are";
  if (c.kept > 0) out += ", " + std::to_string(c.kept) + " in grade 6 kept";
  if (c.skipped_facilities > 0) {
    out += ", " + std::to_string(c.skipped_facilities) +
           " facilities skipped (rolled over on their own)";
  }
  return out;
}

Result<RolloverCounts> Rollover(store::Store& store, const RolloverOptions& options,
                                const store::Actor& who) {
  if (options.leave_after_grade < 1 || options.leave_after_grade > 6) {
    return Status::InvalidArgument("leave-after-grade: must be 1 to 6");
  }
  const std::string period = options.date.ToString();
  ANSHIN_ASSIGN_OR_RETURN(std::unique_ptr<store::WriteTxn> txn, store.BeginWrite());
  RolloverCounts counts;
  ANSHIN_ASSIGN_OR_RETURN(std::set<std::int64_t> skipped,
                          SkippedFacilities(*txn, options, period, counts.already_ran));
  if (counts.already_ran) return counts;
  counts.skipped_facilities = static_cast<int>(skipped.size());

  store::ChildQuery query;
  query.facility = options.facility;
  query.limit = std::numeric_limits<int>::max();
  ANSHIN_ASSIGN_OR_RETURN(std::vector<store::Child> children, txn->children().Find(query));
  Children registry(store);
  for (store::Child& c : children) {
    if (skipped.count(c.facility.value) > 0) continue;
    if (!c.grade) {
      ++counts.no_grade;
    } else if (*c.grade == options.leave_after_grade) {
      ANSHIN_ASSIGN_OR_RETURN(int retired, registry.WithdrawIn(*txn, c.id, options.at, who));
      ++counts.withdrawn;
      counts.cards_retired += retired;
    } else if (*c.grade < 6) {
      c.grade = *c.grade + 1;
      ANSHIN_RETURN_IF_ERROR(txn->children().Update(c));
      ++counts.promoted;
    } else {
      ++counts.kept;
    }
  }

  std::string job = kJob;
  std::string scope = "all";
  if (options.facility) {
    ANSHIN_ASSIGN_OR_RETURN(store::Facility f, txn->facilities().Get(*options.facility));
    job = JobOf(f);
    scope = options.facility->ToString();
  }
  ANSHIN_RETURN_IF_ERROR(txn->jobs().RecordRun(job, period, who.at).status());
  ANSHIN_RETURN_IF_ERROR(AppendAudit(
      *txn, who, "rollover",
      "date=" + period + " facility=" + scope +
          " leave_after_grade=" + std::to_string(options.leave_after_grade) + " promoted=" +
          std::to_string(counts.promoted) + " withdrawn=" + std::to_string(counts.withdrawn) +
          " cards_retired=" + std::to_string(counts.cards_retired) +
          " no_grade=" + std::to_string(counts.no_grade)));
  if (!options.dry_run) ANSHIN_RETURN_IF_ERROR(txn->Commit());
  return counts;
}

}  // namespace anshin::services
