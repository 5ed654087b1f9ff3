// Facilities: adding and changing facilities (学童クラブ, 児童館) and their engine parameters,
// with the rules a facility must satisfy before it is stored:
//   - code: 1 to 64 characters of ASCII letters, digits, '-' and '_' (used on the command line,
//     in URLs and in agent bundles), unique;
//   - name: a display name (CheckName; it goes into every guardian's mail);
//   - tz_name: a zone the system's zone data knows;
//   - engine parameters: durations not negative, times of day within a day, closing after
//     opening;
//   - notify_not_arrived (guardians are mailed "not arrived" too): only with an
//     expected_arrival_by.
// Every change is audited in its own transaction. Thread-safe; blocks on the store.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.hpp"
#include "common/time.hpp"
#include "store/store.hpp"

namespace anshin::services {

// Loads a time zone by name (sys::TimeZones in the binaries, a fixed zone in tests).
using ZoneLoader = std::function<Result<std::shared_ptr<const TimeZone>>(const std::string&)>;

// Checks everything above except uniqueness.
Status CheckFacility(const store::Facility& f, const ZoneLoader& zones);

class Facilities {
 public:
  Facilities(store::Store& store, ZoneLoader zones) : store_(store), zones_(std::move(zones)) {}

  Result<FacilityId> Add(const store::Facility& f, const store::Actor& who);
  Status Update(const store::Facility& f, const store::Actor& who);  // by f.id
  // NotFound("facility <code>") for an unknown code.
  Result<store::Facility> ByCode(std::string_view code);
  Result<std::vector<store::Facility>> List();
  // The facility's calendar for each day from..to (inclusive, at most 366 days): closed, or an
  // expected-arrival time of its own (holidays), or back to an ordinary day (neither); audited.
  Status SetCalendar(FacilityId facility, const LocalDate& from, const LocalDate& to, bool closed,
                     std::optional<LocalTime> expected_arrival_by, const store::Actor& who);

 private:
  store::Store& store_;
  const ZoneLoader zones_;
};

}  // namespace anshin::services
