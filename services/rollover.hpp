// The year-end rollover (年度更新, DESIGN.md §8): on the first day of the school year every
// enrolled child moves up a grade and the children of the leaving grade leave the club.
//
//   grade 1..5, not leaving  -> grade + 1 (grade 6 that does not leave stays 6)
//   grade == leaving grade   -> withdrawn from the date on, every card retired (Children::
//                               WithdrawIn: the agents drop the cards, a later tap gets no mail)
//   no grade recorded        -> untouched, counted
//
// The leaving grade is 3 by default (the ward's 学童 take grades 1 to 3); a facility that keeps
// children longer is rolled over on its own with `facility` and its own leaving grade.
// Everything happens in one write transaction, audited "rollover" with the counts (plus one
// child.withdraw and card.retire entry per leaver). It runs once per date: recorded in job_runs
// as job "rollover" (all facilities) or "rollover:<code>" (one), period = the date; a whole run
// skips facilities already rolled over on their own for that date, and a facility's run is
// refused once the whole run was made. A dry run does the same work in a transaction that is
// rolled back, so its counts are exactly what the real run would do.
// Thread-safe; blocks on the store.
#pragma once

#include <optional>
#include <string>

#include "common/status.hpp"
#include "common/time.hpp"
#include "store/store.hpp"

namespace anshin::services {

struct RolloverOptions {
  LocalDate date;  // the first day of the new school year
  TimePoint at;    // the start of that day: the leavers' withdrawn_at
  int leave_after_grade = 3;
  std::optional<FacilityId> facility;  // only this facility (with its own leaving grade)
  bool dry_run = false;
};

struct RolloverCounts {
  bool already_ran = false;  // nothing was done: the date's rollover was made before
  int promoted = 0;
  int withdrawn = 0;
  int cards_retired = 0;
  int no_grade = 0;            // children without a grade, left as they are
  int kept = 0;                // grade 6 children of a facility whose leaving grade is not 6
  int skipped_facilities = 0;  // rolled over on their own before this whole run
};

// "promoted 120, withdrawn 38 (41 cards retired), 3 without a grade left as they are".
std::string RolloverCountsText(const RolloverCounts& c);

Result<RolloverCounts> Rollover(store::Store& store, const RolloverOptions& options,
                                const store::Actor& who);

}  // namespace anshin::services
