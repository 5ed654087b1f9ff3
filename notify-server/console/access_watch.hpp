// AccessWatch: the council's "unusual access" measure. Counts, per staff account, the distinct
// children whose record it opened in the last hour; the view that takes an account above the
// limit (alerts.unusual_access_per_hour) is reported once per hour, and the console raises an
// `unusual_access` alert for it. In memory: one server per database (the instance lock), and a
// restart forgets at most one hour. Thread-safe.
#pragma once

#include <deque>
#include <map>
#include <mutex>
#include <utility>

#include "common/time.hpp"
#include "common/types.hpp"
#include "store/records.hpp"

namespace anshin::console {

class AccessWatch {
 public:
  explicit AccessWatch(int per_hour) : per_hour_(per_hour) {}
  void SetLimit(int per_hour);

  // Records that `staff` opened `child`'s record at `at`; true when this view takes the
  // account above the limit and it was not reported in the hour before.
  bool Record(store::StaffId staff, ChildId child, TimePoint at);

 private:
  std::mutex mu_;
  int per_hour_;
  std::map<store::StaffId, std::deque<std::pair<TimePoint, ChildId>>> views_;
  std::map<store::StaffId, TimePoint> reported_;
};

}  // namespace anshin::console
