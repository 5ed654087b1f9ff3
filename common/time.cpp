#include "common/time.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstdio>

namespace anshin {
namespace {

using std::chrono::sys_days;
using std::chrono::year_month_day;

constexpr std::int64_t kSecondsPerDay = 86400;

sys_days ToSysDays(const LocalDate& d) {
  return sys_days(year_month_day(std::chrono::year(d.year), std::chrono::month(d.month),
                                 std::chrono::day(d.day)));
}

bool ParseInt(std::string_view s, int& out) {
  if (s.empty()) return false;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && p == s.data() + s.size();
}

}  // namespace

TimePoint SystemClock::Now() const {
  return std::chrono::time_point_cast<Millis>(std::chrono::system_clock::now());
}

unsigned LocalDate::Weekday() const { return std::chrono::weekday(ToSysDays(*this)).c_encoding(); }

LocalDate LocalDate::AddDays(int days) const {
  const std::chrono::year_month_day ymd{ToSysDays(*this) + std::chrono::days(days)};
  return LocalDate{static_cast<int>(ymd.year()), static_cast<unsigned>(ymd.month()),
                   static_cast<unsigned>(ymd.day())};
}

std::string LocalDate::ToString() const {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02u", year, month, day);
  return buf;
}

Result<LocalDate> LocalDate::Parse(std::string_view iso) {
  int y, m, d;
  if (iso.size() != 10 || iso[4] != '-' || iso[7] != '-' || !ParseInt(iso.substr(0, 4), y) ||
      !ParseInt(iso.substr(5, 2), m) || !ParseInt(iso.substr(8, 2), d)) {
    return Status::InvalidArgument("expected a date as YYYY-MM-DD, got \"" + std::string(iso) +
                                   "\"");
  }
  year_month_day ymd{std::chrono::year(y), std::chrono::month(m), std::chrono::day(d)};
  if (!ymd.ok()) return Status::InvalidArgument("no such date: " + std::string(iso));
  return LocalDate{y, unsigned(m), unsigned(d)};
}

std::string LocalTime::ToString() const {
  char buf[16];
  if (seconds % 60 == 0) {
    std::snprintf(buf, sizeof buf, "%02d:%02d", hour(), minute());
  } else {
    std::snprintf(buf, sizeof buf, "%02d:%02d:%02d", hour(), minute(), seconds % 60);
  }
  return buf;
}

Result<LocalTime> LocalTime::Parse(std::string_view s) {
  int h, m, sec = 0;
  bool shape = (s.size() == 5 || (s.size() == 8 && s[5] == ':')) && s[2] == ':';
  if (!shape || !ParseInt(s.substr(0, 2), h) || !ParseInt(s.substr(3, 2), m) ||
      (s.size() == 8 && !ParseInt(s.substr(6, 2), sec)) || h > 23 || m > 59 || sec > 59 || h < 0 ||
      m < 0 || sec < 0) {
    return Status::InvalidArgument("expected a time of day as HH:MM, got \"" + std::string(s) +
                                   "\"");
  }
  return LocalTime{h * 3600 + m * 60 + sec};
}

TimeZone TimeZone::Fixed(std::string name, int utc_offset_seconds) {
  return TimeZone(std::move(name), cctz::fixed_time_zone(Seconds(utc_offset_seconds)));
}

int TimeZone::OffsetAt(TimePoint t) const {
  return zone_.lookup(std::chrono::floor<Seconds>(t)).offset;
}

LocalDateTime TimeZone::ToLocal(TimePoint t) const {
  auto secs = std::chrono::floor<Seconds>(t);
  cctz::time_zone::absolute_lookup al = zone_.lookup(secs);
  LocalDateTime l;
  l.date = LocalDate{int(al.cs.year()), unsigned(al.cs.month()), unsigned(al.cs.day())};
  l.time = LocalTime{al.cs.hour() * 3600 + al.cs.minute() * 60 + al.cs.second()};
  l.millis = int((t - secs).count());
  l.utc_offset_seconds = al.offset;
  return l;
}

LocalDate TimeZone::DateOf(TimePoint t) const {
  cctz::civil_second cs = zone_.lookup(std::chrono::floor<Seconds>(t)).cs;
  return LocalDate{int(cs.year()), unsigned(cs.month()), unsigned(cs.day())};
}

TimePoint TimeZone::At(const LocalDate& date, LocalTime time) const {
  // civil_second normalises the seconds field, so a time past midnight lands on the next day.
  cctz::civil_second cs(date.year, date.month, date.day, 0, 0, time.seconds);
  // `pre` reads the wall time with the offset in effect before a transition: in a gap that is
  // the offset before the gap, in an overlap it is the earlier of the two instants.
  return zone_.lookup(cs).pre;
}

Result<TimePoint> ParseRfc3339(std::string_view s) {
  auto bad = [&]() {
    // At most 40 bytes of the text, cut before a UTF-8 continuation byte, never inside a
    // character (the message reaches JSON error bodies, which must be UTF-8).
    std::size_t cut = std::min<std::size_t>(s.size(), 40);
    while (cut > 0 && cut < s.size() && (static_cast<unsigned char>(s[cut]) & 0xC0) == 0x80) --cut;
    return Status::InvalidArgument("not an RFC 3339 time with offset: \"" +
                                   std::string(s.substr(0, cut)) + "\"");
  };
  // YYYY-MM-DDTHH:MM:SS[.frac](Z|+HH:MM|-HH:MM)
  if (s.size() < 20 || s[4] != '-' || s[7] != '-' ||
      (s[10] != 'T' && s[10] != 't' && s[10] != ' ') || s[13] != ':' || s[16] != ':') {
    return bad();
  }
  // Every field is digits: from_chars alone would take "-1" for an hour and "-001" for a year.
  for (std::size_t at : {0, 1, 2, 3, 5, 6, 8, 9, 11, 12, 14, 15, 17, 18}) {
    if (!std::isdigit(static_cast<unsigned char>(s[at]))) return bad();
  }
  auto date = LocalDate::Parse(s.substr(0, 10));
  if (!date.ok()) return bad();
  int h, m, sec;
  if (!ParseInt(s.substr(11, 2), h) || !ParseInt(s.substr(14, 2), m) ||
      !ParseInt(s.substr(17, 2), sec) || h > 23 || m > 59 || sec > 60) {
    return bad();
  }
  size_t i = 19;
  int millis = 0;
  if (i < s.size() && s[i] == '.') {
    size_t start = ++i;
    int scale = 100;
    while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) {
      millis += (s[i] - '0') * scale;
      scale /= 10;
      ++i;
    }
    if (i == start) return bad();
  }
  int off = 0;
  if (i < s.size() && (s[i] == 'Z' || s[i] == 'z')) {
    ++i;
  } else if (i + 6 == s.size() && (s[i] == '+' || s[i] == '-') && s[i + 3] == ':') {
    int oh, om;
    for (std::size_t at : {i + 1, i + 2, i + 4, i + 5}) {
      if (!std::isdigit(static_cast<unsigned char>(s[at]))) return bad();
    }
    if (!ParseInt(s.substr(i + 1, 2), oh) || !ParseInt(s.substr(i + 4, 2), om) || oh > 23 ||
        om > 59) {
      return bad();
    }
    off = (oh * 3600 + om * 60) * (s[i] == '-' ? -1 : 1);
    i += 6;
  } else {
    return bad();
  }
  if (i != s.size()) return bad();
  if (sec == 60) sec = 59;  // leap second: clamp
  std::int64_t secs = std::int64_t(ToSysDays(*date).time_since_epoch().count()) * kSecondsPerDay +
                      h * 3600 + m * 60 + sec - off;
  // FormatRfc3339 writes UTC years 0000..9999: an offset must not move the instant outside them,
  // or a time that was accepted could not be written back (9999-12-31T23:59:59-01:00 is in the
  // year 10000).
  constexpr std::int64_t kFirstSecond = -62'167'219'200;  // 0000-01-01T00:00:00Z
  constexpr std::int64_t kLastSecond = 253'402'300'799;   // 9999-12-31T23:59:59Z
  if (secs < kFirstSecond || secs > kLastSecond) return bad();
  return FromUnixMillis(secs * 1000 + millis);
}

namespace {
std::string Format(const LocalDateTime& l, bool utc) {
  char buf[48];
  int n = std::snprintf(buf, sizeof buf, "%04d-%02u-%02uT%02d:%02d:%02d", l.date.year, l.date.month,
                        l.date.day, l.time.hour(), l.time.minute(), l.time.seconds % 60);
  if (l.millis) n += std::snprintf(buf + n, sizeof buf - n, ".%03d", l.millis);
  if (utc) {
    std::snprintf(buf + n, sizeof buf - n, "Z");
  } else {
    int o = l.utc_offset_seconds;
    char sign = o < 0 ? '-' : '+';
    o = o < 0 ? -o : o;
    std::snprintf(buf + n, sizeof buf - n, "%c%02d:%02d", sign, o / 3600, o / 60 % 60);
  }
  return buf;
}
}  // namespace

std::string FormatRfc3339(TimePoint t) { return Format(TimeZone().ToLocal(t), true); }

std::string FormatRfc3339(TimePoint t, const TimeZone& zone) {
  return Format(zone.ToLocal(t), false);
}

}  // namespace anshin
