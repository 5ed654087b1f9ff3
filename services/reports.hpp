// The ward's monthly reports (DESIGN.md §8), as rows for a CSV file:
//
//   send log     every send attempt of the month: time (RFC 3339 with the offset of the
//                facility's zone), facility code, child number, kind, result, the relay's
//                reply code. Never an address, a name or the relay's reply text.
//   attendance   one row per child and day of a facility: date, child number, name, first
//                arrival, last departure (HH:MM in the facility's zone, "" when missing),
//                visits, whether a departure was inferred or an inferred one corrected, and
//                whether any of the day's taps reached the server late (its mail went late).
//
// A month is "YYYY-MM"; the send log's month is read in `month_zone` (the deployment's), the
// attendance's in the facility's zone. Each report is audited (report.sendlog,
// report.attendance) with the month and the number of rows: the attendance report shows names.
// Thread-safe; blocks on the store.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.hpp"
#include "common/time.hpp"
#include "services/facilities.hpp"
#include "store/store.hpp"

namespace anshin::services {

struct Month {
  LocalDate first;  // its first day
  LocalDate next;   // the first day of the month after
  std::string ToString() const { return first.ToString().substr(0, 7); }
};
// "2026-11"; InvalidArgument naming --month otherwise.
Result<Month> ParseMonth(std::string_view text);

struct SendLogLine {
  std::string time;  // RFC 3339 in the facility's zone (the month zone without a facility)
  std::string facility;
  std::string child_number;
  std::string kind;
  std::string result;
  int smtp_code = 0;
};

struct AttendanceLine {
  LocalDate date;
  std::string child_number;
  std::string name;
  std::string arrival;    // "15:02", "" when the arrival tap was missing
  std::string departure;  // "17:31", "" when none was recorded
  int visits = 0;
  bool inferred = false;
  bool corrected = false;
  bool late = false;
};

Result<std::vector<SendLogLine>> SendLogReport(store::Store& store, const Month& month,
                                               const TimeZone& month_zone, const ZoneLoader& zones,
                                               const store::Actor& who);

Result<std::vector<AttendanceLine>> AttendanceReport(store::Store& store, const Month& month,
                                                     const store::Facility& facility,
                                                     const TimeZone& zone, const store::Actor& who);

}  // namespace anshin::services
