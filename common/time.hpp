// Time values used across anshin, and the one place that converts between instants and a
// facility's local civil time.
//
// Instants are TimePoint (UTC, millisecond resolution). A facility works in its local time zone
// (Asia/Tokyo by default); LocalDate / LocalTime are civil values in that zone. libstdc++ 12 has
// no chrono time-zone database, so TimeZone wraps Google's cctz (Debian libcctz-dev), which reads
// the system's tzdata. Loading a zone is I/O and lives in common/sys (sys::LoadTimeZone,
// sys::TimeZones); a TimeZone here only wraps an already-loaded cctz::time_zone, so this file
// does no I/O. A TimeZone is immutable and thread-safe (cctz zones are).
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <cctz/time_zone.h>

#include "common/status.hpp"

namespace anshin {

using Millis = std::chrono::milliseconds;
using Seconds = std::chrono::seconds;
using Minutes = std::chrono::minutes;
using TimePoint = std::chrono::sys_time<Millis>;

// The source of "now". Injected everywhere; never read the system clock deep in logic.
// Implementations must be thread-safe.
class Clock {
 public:
  virtual ~Clock() = default;
  virtual TimePoint Now() const = 0;
};

// The real clock (std::chrono::system_clock).
class SystemClock final : public Clock {
 public:
  TimePoint Now() const override;
};

// A calendar day in some zone.
struct LocalDate {
  int year = 1970;
  unsigned month = 1;  // 1..12
  unsigned day = 1;    // 1..31

  // 0 = Sunday ... 6 = Saturday.
  unsigned Weekday() const;
  LocalDate AddDays(int days) const;  // the calendar day `days` later (earlier when negative)
  std::string ToString() const;       // "2026-11-26"
  static Result<LocalDate> Parse(std::string_view iso);
  friend auto operator<=>(const LocalDate&, const LocalDate&) = default;
};

// A time of day, as seconds after local midnight (0 .. 86399).
struct LocalTime {
  int seconds = 0;

  static constexpr LocalTime HM(int h, int m) { return LocalTime{h * 3600 + m * 60}; }
  int hour() const { return seconds / 3600; }
  int minute() const { return seconds / 60 % 60; }
  std::string ToString() const;                           // "16:30"
  static Result<LocalTime> Parse(std::string_view hhmm);  // "16:30" or "16:30:00"
  friend auto operator<=>(const LocalTime&, const LocalTime&) = default;
};

struct LocalDateTime {
  LocalDate date;
  LocalTime time;
  int millis = 0;
  int utc_offset_seconds = 0;
};

class TimeZone {
 public:
  // UTC; also what a zone without transitions behaves like.
  TimeZone() = default;
  // Wraps a zone loaded by cctz (see sys::LoadTimeZone); `name` is the IANA name it was
  // loaded under ("Asia/Tokyo").
  TimeZone(std::string name, cctz::time_zone zone) : name_(std::move(name)), zone_(zone) {}
  // A fixed offset (tests, and zones that never change). |offset| must be at most 24 hours.
  static TimeZone Fixed(std::string name, int utc_offset_seconds);

  const std::string& name() const { return name_; }
  int OffsetAt(TimePoint t) const;  // seconds east of UTC in effect at t
  LocalDateTime ToLocal(TimePoint t) const;
  LocalDate DateOf(TimePoint t) const;
  // The instant at which the wall clock shows `time` on `date`. In a gap (DST start) the time
  // is read with the offset before the gap; in an overlap the earlier instant is returned.
  TimePoint At(const LocalDate& date, LocalTime time) const;

 private:
  std::string name_ = "UTC";
  cctz::time_zone zone_;  // default: UTC
};

// RFC 3339 with a mandatory offset ("2026-11-26T15:02:00+09:00", "...Z", fractional seconds
// allowed). Formatting uses UTC with milliseconds only when non-zero.
Result<TimePoint> ParseRfc3339(std::string_view text);
std::string FormatRfc3339(TimePoint t);
// Formats in a zone's local time with its offset: "2026-11-26T15:02:00+09:00".
std::string FormatRfc3339(TimePoint t, const TimeZone& zone);

// Unix-epoch milliseconds, for storage.
inline std::int64_t ToUnixMillis(TimePoint t) { return t.time_since_epoch().count(); }
inline TimePoint FromUnixMillis(std::int64_t ms) { return TimePoint(Millis(ms)); }

}  // namespace anshin
