#include "services/expected.hpp"

#include <algorithm>

namespace anshin::services {

bool ExpectedDay::Absent(ChildId c) const {
  return std::binary_search(absent.begin(), absent.end(), c);
}

bool ExpectedDay::Expects(const store::Child& child, const LocalDate& date) const {
  if (closed || child.status != store::ChildStatus::kEnrolled || Absent(child.id)) return false;
  const int weekday = static_cast<int>(date.Weekday());
  if (child.attend_days.bits == 0) return weekday != 0;
  return child.attend_days.Has(weekday);
}

Result<ExpectedDay> ExpectedOn(store::ReadTxn& txn, const store::Facility& facility,
                               const LocalDate& date) {
  ExpectedDay out;
  ANSHIN_ASSIGN_OR_RETURN(std::optional<store::CalendarDay> day,
                          txn.facilities().Calendar(facility.id, date));
  out.closed = day && day->closed;
  if (!out.closed && facility.expected_arrival_by) {
    out.arrival_by =
        day && day->expected_arrival_by ? day->expected_arrival_by : facility.expected_arrival_by;
  }
  ANSHIN_ASSIGN_OR_RETURN(out.absent, txn.children().AbsentOn(facility.id, date));
  std::sort(out.absent.begin(), out.absent.end());
  return out;
}

}  // namespace anshin::services
