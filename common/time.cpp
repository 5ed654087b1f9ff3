#include "common/time.hpp"

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <cstring>

namespace anshin {
namespace {

using std::chrono::days;
using std::chrono::sys_days;
using std::chrono::year_month_day;

constexpr std::int64_t kSecondsPerDay = 86400;

sys_days ToSysDays(const LocalDate& d) {
  return sys_days(year_month_day(std::chrono::year(d.year), std::chrono::month(d.month),
                                 std::chrono::day(d.day)));
}

LocalDate FromSysDays(sys_days sd) {
  year_month_day ymd(sd);
  return LocalDate{int(ymd.year()), unsigned(ymd.month()), unsigned(ymd.day())};
}

std::int64_t FloorDiv(std::int64_t a, std::int64_t b) {
  return a / b - ((a % b != 0) && ((a < 0) != (b < 0)));
}

bool ParseInt(std::string_view s, int& out) {
  if (s.empty()) return false;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && p == s.data() + s.size();
}

// Reads big-endian integers out of TZif data.
class Reader {
 public:
  explicit Reader(std::string_view d) : d_(d) {}
  bool Has(size_t n) const { return pos_ + n <= d_.size(); }
  std::int64_t Be(int bytes) {
    std::uint64_t v = 0;
    for (int i = 0; i < bytes; ++i) v = (v << 8) | static_cast<unsigned char>(d_[pos_ + i]);
    pos_ += bytes;
    if (bytes == 4) return static_cast<std::int32_t>(static_cast<std::uint32_t>(v));
    return static_cast<std::int64_t>(v);
  }
  unsigned char Byte() { return static_cast<unsigned char>(d_[pos_++]); }
  void Skip(size_t n) { pos_ += n; }
  size_t pos() const { return pos_; }
  std::string_view rest() const { return d_.substr(pos_); }

 private:
  std::string_view d_;
  size_t pos_ = 0;
};

// Day of month of the w-th (5 = last) weekday `wday` of month m in year y.
unsigned NthWeekday(int y, unsigned m, unsigned w, unsigned wday) {
  using namespace std::chrono;
  if (w >= 5) {
    sys_days last = sys_days(year_month_day_last(year(y), month_day_last(month(m))));
    unsigned lw = weekday(last).c_encoding();
    return unsigned(year_month_day(last).day()) - (lw + 7 - wday) % 7;
  }
  sys_days first = sys_days(year_month_day(year(y), month(m), day(1)));
  unsigned fw = weekday(first).c_encoding();
  return 1 + (wday + 7 - fw) % 7 + (w - 1) * 7;
}

}  // namespace

TimePoint SystemClock::Now() const {
  return std::chrono::time_point_cast<Millis>(std::chrono::system_clock::now());
}

unsigned LocalDate::Weekday() const { return std::chrono::weekday(ToSysDays(*this)).c_encoding(); }

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
  TimeZone z;
  z.name_ = std::move(name);
  z.initial_offset_ = utc_offset_seconds;
  return z;
}

Result<TimeZone::Footer> TimeZone::ParseFooter(std::string_view tz) {
  // std offset [dst [offset] [,rule,rule]]; names are alphabetic or <quoted>.
  size_t i = 0;
  auto bad = [&](const char* what) {
    return Status::InvalidArgument(std::string("POSIX TZ \"") + std::string(tz) + "\": " + what);
  };
  auto name = [&]() -> bool {
    if (i < tz.size() && tz[i] == '<') {
      size_t e = tz.find('>', i);
      if (e == std::string_view::npos) return false;
      i = e + 1;
      return true;
    }
    size_t s = i;
    while (i < tz.size() && std::isalpha(static_cast<unsigned char>(tz[i]))) ++i;
    return i - s >= 3;
  };
  // [+-]hh[:mm[:ss]] -> seconds
  auto hms = [&](int& out) -> bool {
    int sign = 1;
    if (i < tz.size() && (tz[i] == '+' || tz[i] == '-')) sign = tz[i++] == '-' ? -1 : 1;
    int parts[3] = {0, 0, 0};
    for (int p = 0; p < 3; ++p) {
      size_t s = i;
      while (i < tz.size() && std::isdigit(static_cast<unsigned char>(tz[i]))) ++i;
      if (s == i || !ParseInt(tz.substr(s, i - s), parts[p])) return p > 0 && false;
      if (i < tz.size() && tz[i] == ':' && p < 2) {
        ++i;
      } else {
        break;
      }
    }
    out = sign * (parts[0] * 3600 + parts[1] * 60 + parts[2]);
    return true;
  };
  auto rule = [&](unsigned& m, unsigned& w, unsigned& d, int& t) -> bool {
    if (i >= tz.size() || tz[i] != 'M') return false;
    ++i;
    int vals[3];
    for (int p = 0; p < 3; ++p) {
      size_t s = i;
      while (i < tz.size() && std::isdigit(static_cast<unsigned char>(tz[i]))) ++i;
      if (!ParseInt(tz.substr(s, i - s), vals[p])) return false;
      if (p < 2) {
        if (i >= tz.size() || tz[i] != '.') return false;
        ++i;
      }
    }
    m = vals[0], w = vals[1], d = vals[2];
    t = 7200;
    if (i < tz.size() && tz[i] == '/') {
      ++i;
      if (!hms(t)) return false;
    }
    return m >= 1 && m <= 12 && w >= 1 && w <= 5 && d <= 6;
  };

  Footer f;
  int off;
  if (!name() || !hms(off)) return bad("cannot read the standard offset");
  f.std_offset = -off;  // POSIX offsets are west-positive
  if (i == tz.size()) return f;
  if (!name()) return bad("cannot read the DST name");
  f.dst_offset = f.std_offset + 3600;
  if (i < tz.size() && tz[i] != ',') {
    if (!hms(off)) return bad("cannot read the DST offset");
    f.dst_offset = -off;
  }
  if (i >= tz.size() || tz[i] != ',') return bad("DST without rules");
  ++i;
  if (!rule(f.start_month, f.start_week, f.start_wday, f.start_time))
    return bad("unsupported DST start rule");
  if (i >= tz.size() || tz[i] != ',') return bad("DST without an end rule");
  ++i;
  if (!rule(f.end_month, f.end_week, f.end_wday, f.end_time))
    return bad("unsupported DST end rule");
  return f;
}

int TimeZone::FooterOffset(std::int64_t t) const {
  const Footer& f = *footer_;
  if (!f.dst_offset) return f.std_offset;
  // Year of t in standard time.
  int y = int(year_month_day(sys_days(days(FloorDiv(t + f.std_offset, kSecondsPerDay)))).year());
  auto at = [&](unsigned m, unsigned w, unsigned d, int time, int offset_before) {
    LocalDate ld{y, m, NthWeekday(y, m, w, d)};
    return std::int64_t(ToSysDays(ld).time_since_epoch().count()) * kSecondsPerDay + time -
           offset_before;
  };
  std::int64_t start = at(f.start_month, f.start_week, f.start_wday, f.start_time, f.std_offset);
  std::int64_t end = at(f.end_month, f.end_week, f.end_wday, f.end_time, *f.dst_offset);
  bool dst = start < end ? (t >= start && t < end) : !(t >= end && t < start);
  return dst ? *f.dst_offset : f.std_offset;
}

Result<TimeZone> TimeZone::FromTzif(std::string name, std::string_view data) {
  auto bad = [&](const std::string& what) {
    return Status::InvalidArgument("time zone " + name + ": " + what);
  };
  Reader r(data);
  auto header = [&](std::int64_t(&c)[6], int& version) -> bool {
    if (!r.Has(44) || r.rest().substr(0, 4) != "TZif") return false;
    r.Skip(4);
    unsigned char v = r.Byte();
    version = v == 0 ? 1 : v - '0';
    r.Skip(15);
    for (auto& x : c) x = r.Be(4);
    return true;
  };
  std::int64_t c[6];  // isutcnt isstdcnt leapcnt timecnt typecnt charcnt
  int version;
  if (!header(c, version)) return bad("not TZif data");
  int tsize = 4;
  if (version >= 2) {
    size_t v1 = c[3] * 4 + c[3] + c[4] * 6 + c[5] + c[2] * 8 + c[1] + c[0];
    if (!r.Has(v1)) return bad("truncated");
    r.Skip(v1);
    if (!header(c, version)) return bad("missing the version 2 header");
    tsize = 8;
  }
  std::int64_t timecnt = c[3], typecnt = c[4];
  size_t need = timecnt * tsize + timecnt + typecnt * 6 + c[5] + c[2] * (tsize + 4) + c[1] + c[0];
  if (typecnt < 1 || !r.Has(need)) return bad("truncated");

  TimeZone z;
  z.name_ = std::move(name);
  z.transitions_.resize(timecnt);
  for (auto& t : z.transitions_) t = r.Be(tsize);
  std::vector<unsigned char> idx(timecnt);
  for (auto& x : idx) x = r.Byte();
  std::vector<int> type_offsets(typecnt);
  for (auto& o : type_offsets) {
    o = static_cast<int>(r.Be(4));
    r.Skip(2);  // isdst, abbreviation index
  }
  r.Skip(c[5] + c[2] * (tsize + 4) + c[1] + c[0]);
  for (auto i : idx) {
    if (i >= typecnt) return bad("transition names a missing type");
    z.offsets_after_.push_back(type_offsets[i]);
  }
  z.initial_offset_ = type_offsets[0];
  if (version >= 2) {
    std::string_view rest = r.rest();
    if (rest.size() >= 2 && rest[0] == '\n') {
      size_t e = rest.find('\n', 1);
      std::string_view tz = rest.substr(1, e == std::string_view::npos ? 0 : e - 1);
      if (!tz.empty()) {
        auto f = ParseFooter(tz);
        if (!f.ok()) return f.status();
        z.footer_ = *f;
      }
    }
  }
  return z;
}

int TimeZone::OffsetAt(TimePoint t) const {
  std::int64_t s = FloorDiv(ToUnixMillis(t), 1000);
  if (transitions_.empty() || s < transitions_.front()) {
    if (transitions_.empty() && footer_) return FooterOffset(s);
    return initial_offset_;
  }
  if (s >= transitions_.back() && footer_) return FooterOffset(s);
  auto it = std::upper_bound(transitions_.begin(), transitions_.end(), s);
  return offsets_after_[it - transitions_.begin() - 1];
}

LocalDateTime TimeZone::ToLocal(TimePoint t) const {
  int off = OffsetAt(t);
  std::int64_t ms = ToUnixMillis(t) + std::int64_t(off) * 1000;
  std::int64_t day = FloorDiv(ms, kSecondsPerDay * 1000);
  std::int64_t in_day = ms - day * kSecondsPerDay * 1000;
  LocalDateTime l;
  l.date = FromSysDays(sys_days(days(day)));
  l.time = LocalTime{int(in_day / 1000)};
  l.millis = int(in_day % 1000);
  l.utc_offset_seconds = off;
  return l;
}

TimePoint TimeZone::At(const LocalDate& date, LocalTime time) const {
  std::int64_t local =
      std::int64_t(ToSysDays(date).time_since_epoch().count()) * kSecondsPerDay + time.seconds;
  // Try the offset in effect a day before and after; pick the earliest consistent reading.
  auto instant = [&](int off) { return FromUnixMillis((local - off) * 1000); };
  int before = OffsetAt(FromUnixMillis((local - kSecondsPerDay) * 1000));
  int after = OffsetAt(FromUnixMillis((local + kSecondsPerDay) * 1000));
  TimePoint a = instant(before), b = instant(after);
  bool a_ok = OffsetAt(a) == before, b_ok = OffsetAt(b) == after;
  if (a_ok && b_ok) return std::min(a, b);
  if (a_ok) return a;
  if (b_ok) return b;
  return a;  // in a gap: read with the offset before it
}

Result<TimePoint> ParseRfc3339(std::string_view s) {
  auto bad = [&]() {
    return Status::InvalidArgument("not an RFC 3339 time with offset: \"" +
                                   std::string(s.substr(0, 40)) + "\"");
  };
  // YYYY-MM-DDTHH:MM:SS[.frac](Z|+HH:MM|-HH:MM)
  if (s.size() < 20 || s[4] != '-' || s[7] != '-' ||
      (s[10] != 'T' && s[10] != 't' && s[10] != ' ') || s[13] != ':' || s[16] != ':') {
    return bad();
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
