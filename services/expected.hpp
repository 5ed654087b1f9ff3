// Expected attendance (DESIGN.md §8; docs/console.md, "Expected attendance"): who a facility
// expects on a day, and by when. A child is expected when the facility is not closed that day
// (its calendar), the day is one of the child's attend_days (none recorded: every day the
// facility opens, Monday to Saturday) and no absence covers it; expected by the calendar's time
// for that day, else the facility's expected_arrival_by. A facility without an
// expected_arrival_by does not use this (no not_arrived alerts).
#pragma once

#include <optional>
#include <vector>

#include "common/status.hpp"
#include "common/time.hpp"
#include "store/store.hpp"

namespace anshin::services {

struct ExpectedDay {
  bool closed = false;
  std::optional<LocalTime> arrival_by;  // none: not used at this facility (or closed)
  std::vector<ChildId> absent;          // recorded absent that day, by id
  bool Absent(ChildId c) const;
  // Whether `child` (of this facility) is expected on `date`.
  bool Expects(const store::Child& child, const LocalDate& date) const;
};

Result<ExpectedDay> ExpectedOn(store::ReadTxn& txn, const store::Facility& facility,
                               const LocalDate& date);

}  // namespace anshin::services
