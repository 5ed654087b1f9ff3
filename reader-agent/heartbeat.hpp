// HeartbeatSchedule: when the agent may report its health to the server without a tap.
//
// Ward requirement 2 says the facility PC connects only when a registered child taps. The
// heartbeat is the one configurable exception (docs/agent.md, "Heartbeat"): so that a broken
// reader or a stuck queue is seen centrally, the agent posts its health (an upload with no
// taps) at most once per `interval`, and only within the opening hours of the opening days, in
// the PC's local time. It is off by default. Any contact (an upload caused by a tap) counts:
// the heartbeat only fills silences, and an attempt counts even when it fails, so a server that
// is down does not make the agent retry more often than once per interval.
//
// A plain value type; Due() is a pure function of the times it is given.
#pragma once

#include <array>
#include <optional>
#include <string>
#include <string_view>

#include "common/status.hpp"
#include "common/time.hpp"

namespace anshin::agent {

struct HeartbeatSchedule {
  Millis interval{0};  // 0: off
  LocalTime from;      // opening hours [from, until) in local time
  LocalTime until = LocalTime{86'400};
  std::array<bool, 7> days{true, true, true, true, true, true, true};  // [0] = Sunday

  bool enabled() const { return interval > Millis(0); }
  // Whether `now` (at `utc_offset_seconds` east of UTC) is within the opening hours.
  bool InHours(TimePoint now, int utc_offset_seconds) const;
  // Whether a health contact is due: enabled, within hours, and neither a contact nor a
  // heartbeat attempt within `interval` before `now` (a time after `now` — the clock was set
  // back — does not hold it off).
  bool Due(TimePoint now, int utc_offset_seconds, std::optional<TimePoint> last_contact,
           std::optional<TimePoint> last_attempt) const;

  // The historical `uplink.daily_health = true`: once a day, at any hour.
  static HeartbeatSchedule Daily();
  // From the configuration's strings: `interval` "off" or a duration of at least 1s;
  // `hours` "HH:MM-HH:MM" (until may be 24:00); `days` "mon-sat", "mon,wed,fri", "sun-sat".
  // Errors name the key ("uplink.heartbeat_hours: ...").
  static Result<HeartbeatSchedule> Parse(std::string_view interval, std::string_view hours,
                                         std::string_view days);
};

}  // namespace anshin::agent
