// Time values used across anshin, and the one place that converts between instants and a
// facility's local civil time.
//
// Instants are TimePoint (UTC, millisecond resolution). A facility works in its local time zone
// (Asia/Tokyo by default); LocalDate / LocalTime are civil values in that zone. libstdc++ 12 has
// no chrono time-zone database, so TimeZone parses the system's TZif data itself (the bytes are
// read by common/sys; this file does no I/O). A TimeZone is immutable and thread-safe.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

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
  std::string ToString() const;  // "2026-11-26"
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
  // A fixed offset (tests, and zones that never change).
  static TimeZone Fixed(std::string name, int utc_offset_seconds);
  // Parses TZif (RFC 8536) bytes, versions 1 to 4, including the POSIX TZ footer that
  // describes times after the last transition.
  static Result<TimeZone> FromTzif(std::string name, std::string_view tzif);

  const std::string& name() const { return name_; }
  int OffsetAt(TimePoint t) const;  // seconds east of UTC in effect at t
  LocalDateTime ToLocal(TimePoint t) const;
  LocalDate DateOf(TimePoint t) const { return ToLocal(t).date; }
  // The instant at which the wall clock shows `time` on `date`. In a gap (DST start) the time
  // is read with the offset before the gap; in an overlap the earlier instant is returned.
  TimePoint At(const LocalDate& date, LocalTime time) const;

 private:
  struct Rule;  // POSIX TZ footer rule
  struct Footer {
    int std_offset = 0;
    std::optional<int> dst_offset;
    // "Mm.w.d/time" transition rules; only meaningful with dst_offset.
    unsigned start_month = 0, start_week = 0, start_wday = 0;
    int start_time = 7200;
    unsigned end_month = 0, end_week = 0, end_wday = 0;
    int end_time = 7200;
  };
  static Result<Footer> ParseFooter(std::string_view tz);
  int FooterOffset(std::int64_t unix_seconds) const;

  std::string name_ = "UTC";
  std::vector<std::int64_t> transitions_;  // unix seconds, ascending
  std::vector<int> offsets_after_;         // offset in effect from transitions_[i]
  int initial_offset_ = 0;                 // before the first transition
  std::optional<Footer> footer_;
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
