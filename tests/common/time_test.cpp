#include <catch2/catch.hpp>

#include "common/sys/sys.hpp"
#include "common/time.hpp"

namespace anshin {
namespace {

TEST_CASE("RFC 3339 times parse with offsets and round-trip", "[time]") {
  auto t = ParseRfc3339("2026-11-26T15:02:00+09:00");
  REQUIRE(t.ok());
  CHECK(FormatRfc3339(*t) == "2026-11-26T06:02:00Z");
  CHECK(*ParseRfc3339("2026-11-26T06:02:00Z") == *t);
  CHECK(*ParseRfc3339("2026-11-26T06:02:00.250Z") == *t + Millis(250));
  CHECK(FormatRfc3339(*t + Millis(250)) == "2026-11-26T06:02:00.250Z");
  CHECK(FormatRfc3339(*t, TimeZone::Fixed("JST", 9 * 3600)) == "2026-11-26T15:02:00+09:00");
  for (const char* edge : {"0000-01-01T00:00:00Z", "9999-12-31T23:59:59.999Z"}) {
    INFO(edge);
    REQUIRE(ParseRfc3339(edge).ok());
    CHECK(FormatRfc3339(*ParseRfc3339(edge)) == edge);
  }
  for (const char* bad :
       {"2026-11-26T15:02:00", "2026-11-26 15:02", "2026-13-01T00:00:00Z", "2026-02-30T00:00:00Z",
        "2026-11-26T15:02:00+9:00", "yesterday", "",
        // Not digits, or outside the years FormatRfc3339 can write (found by
        // fuzz_wire's round trip: parse(serialize(x)) == x).
        "2026-11-26T-1:02:00Z", "-001-12-31T23:00:00Z", "2026-11-26T15:02:00+-1:00",
        "9999-12-31T23:59:59-01:00", "0000-01-01T00:00:00+01:00"}) {
    INFO(bad);
    CHECK_FALSE(ParseRfc3339(bad).ok());
  }
}

TEST_CASE("local dates and times parse strictly", "[time]") {
  CHECK(LocalDate::Parse("2026-11-26")->Weekday() == 4);
  CHECK_FALSE(LocalDate::Parse("2026-11-31").ok());
  CHECK(LocalTime::Parse("16:30")->seconds == 16 * 3600 + 30 * 60);
  CHECK(LocalTime::Parse("16:30:15")->ToString() == "16:30:15");
  CHECK_FALSE(LocalTime::Parse("24:00").ok());
  CHECK_FALSE(LocalTime::Parse("7:00").ok());
}

TEST_CASE("Asia/Tokyo from the system's zone data", "[time][tzdata]") {
  auto zone = sys::LoadTimeZone("Asia/Tokyo");
  REQUIRE(zone.ok());
  TimePoint t = *ParseRfc3339("2026-11-26T06:02:00Z");
  CHECK((*zone)->OffsetAt(t) == 9 * 3600);
  LocalDateTime l = (*zone)->ToLocal(t);
  CHECK(l.date == LocalDate{2026, 11, 26});
  CHECK(l.time == LocalTime::HM(15, 2));
  CHECK((*zone)->At(LocalDate{2026, 11, 26}, LocalTime::HM(15, 2)) == t);
  // Just after local midnight belongs to the next day.
  CHECK((*zone)->DateOf(*ParseRfc3339("2026-11-26T15:00:01Z")) == LocalDate{2026, 11, 27});
  CHECK_FALSE(sys::LoadTimeZone("Asia/Atlantis").ok());
  CHECK_FALSE(sys::LoadTimeZone("../etc/passwd").ok());
}

TEST_CASE("a zone with daylight saving time follows its rules past the last transition",
          "[time][tzdata]") {
  auto zone = sys::LoadTimeZone("America/New_York");
  REQUIRE(zone.ok());
  const TimeZone& z = **zone;
  CHECK(z.name() == "America/New_York");
  // Far in the future only the zone's POSIX rule applies.
  CHECK(z.OffsetAt(*ParseRfc3339("2080-07-01T12:00:00Z")) == -4 * 3600);
  CHECK(z.OffsetAt(*ParseRfc3339("2080-01-15T12:00:00Z")) == -5 * 3600);
  CHECK(z.OffsetAt(*ParseRfc3339("2026-07-01T12:00:00Z")) == -4 * 3600);
  CHECK(FormatRfc3339(*ParseRfc3339("2026-07-01T12:00:00.250Z"), z) ==
        "2026-07-01T08:00:00.250-04:00");
}

// One gap (DST start) and one overlap (DST end) of a zone, as wall times and what At() answers.
struct DstCase {
  const char* zone;
  LocalDate gap_date;
  LocalTime gap_time;       // does not exist on the wall clock
  const char* gap_instant;  // read with the offset before the gap
  LocalDate overlap_date;
  LocalTime overlap_time;       // happens twice
  const char* overlap_instant;  // the earlier of the two
  const char* overlap_later;    // the later one, one DST step after
};

TEST_CASE("DST gaps read the wall time with the offset before, overlaps give the earlier instant",
          "[time][tzdata]") {
  const DstCase cases[] = {
      {"America/New_York",
       {2026, 3, 8},
       LocalTime::HM(2, 30),
       "2026-03-08T07:30:00Z",
       {2026, 11, 1},
       LocalTime::HM(1, 30),
       "2026-11-01T05:30:00Z",
       "2026-11-01T06:30:00Z"},
      {"Europe/Berlin",
       {2026, 3, 29},
       LocalTime::HM(2, 30),
       "2026-03-29T01:30:00Z",
       {2026, 10, 25},
       LocalTime::HM(2, 30),
       "2026-10-25T00:30:00Z",
       "2026-10-25T01:30:00Z"},
      // A 30-minute DST: +10:30 in winter, +11:00 in summer.
      {"Australia/Lord_Howe",
       {2026, 10, 4},
       LocalTime::HM(2, 15),
       "2026-10-03T15:45:00Z",
       {2026, 4, 5},
       LocalTime::HM(1, 45),
       "2026-04-04T14:45:00Z",
       "2026-04-04T15:15:00Z"},
      // Japan kept DST from 1948 to 1951; the clocks went from 00:00 to 01:00.
      {"Asia/Tokyo",
       {1948, 5, 2},
       LocalTime::HM(0, 30),
       "1948-05-01T15:30:00Z",
       {1948, 9, 12},
       LocalTime::HM(0, 30),
       "1948-09-11T14:30:00Z",
       "1948-09-11T15:30:00Z"},
  };
  for (const DstCase& c : cases) {
    INFO(c.zone);
    auto zone = sys::LoadTimeZone(c.zone);
    REQUIRE(zone.ok());
    const TimeZone& z = **zone;
    CHECK(FormatRfc3339(z.At(c.gap_date, c.gap_time)) == c.gap_instant);
    CHECK(FormatRfc3339(z.At(c.overlap_date, c.overlap_time)) == c.overlap_instant);
    // Both readings of the repeated wall time show it, on the same date.
    for (const char* instant : {c.overlap_instant, c.overlap_later}) {
      LocalDateTime l = z.ToLocal(*ParseRfc3339(instant));
      CHECK(l.date == c.overlap_date);
      CHECK(l.time == c.overlap_time);
      CHECK(z.DateOf(*ParseRfc3339(instant)) == c.overlap_date);
    }
    CHECK(z.OffsetAt(*ParseRfc3339(c.overlap_instant)) >
          z.OffsetAt(*ParseRfc3339(c.overlap_later)));
  }
}

TEST_CASE("Lord Howe's half-hour step shows in offsets and local times", "[time][tzdata]") {
  auto zone = sys::LoadTimeZone("Australia/Lord_Howe");
  REQUIRE(zone.ok());
  const TimeZone& z = **zone;
  CHECK(z.OffsetAt(*ParseRfc3339("2026-07-01T00:00:00Z")) == 10 * 3600 + 1800);
  CHECK(z.OffsetAt(*ParseRfc3339("2026-12-01T00:00:00Z")) == 11 * 3600);
  // The last second before the spring step and the first after it.
  LocalDateTime before = z.ToLocal(*ParseRfc3339("2026-10-03T15:29:59Z"));
  LocalDateTime after = z.ToLocal(*ParseRfc3339("2026-10-03T15:30:00Z"));
  CHECK(before.time.ToString() == "01:59:59");
  CHECK(before.utc_offset_seconds == 10 * 3600 + 1800);
  CHECK(after.time.ToString() == "02:30");
  CHECK(after.utc_offset_seconds == 11 * 3600);
  CHECK(FormatRfc3339(*ParseRfc3339("2026-10-03T15:30:00Z"), z) == "2026-10-04T02:30:00+11:00");
}

TEST_CASE("local times that exist once round-trip through At", "[time][tzdata]") {
  for (const char* name :
       {"Asia/Tokyo", "America/New_York", "Europe/Berlin", "Australia/Lord_Howe"}) {
    INFO(name);
    auto zone = sys::LoadTimeZone(name);
    REQUIRE(zone.ok());
    // Every 7 hours 13 minutes through 2026: skips nothing systematically.
    TimePoint t = *ParseRfc3339("2026-01-01T00:00:00Z");
    for (int i = 0; i < 1300; ++i, t += Minutes(7 * 60 + 13)) {
      LocalDateTime l = (*zone)->ToLocal(t);
      TimePoint back = (*zone)->At(l.date, l.time);
      // An overlap's later reading comes back as the earlier one; everything else exactly.
      if (back != t) CHECK((*zone)->OffsetAt(back) > (*zone)->OffsetAt(t));
      CHECK((*zone)->DateOf(t) == l.date);
    }
  }
}

TEST_CASE("fixed zones and UTC", "[time]") {
  TimeZone utc;
  CHECK(utc.name() == "UTC");
  CHECK(utc.OffsetAt(*ParseRfc3339("2026-07-01T00:00:00Z")) == 0);
  TimeZone z = TimeZone::Fixed("X", -(3 * 3600 + 1800));
  CHECK(z.name() == "X");
  TimePoint t = *ParseRfc3339("2026-01-01T01:00:00.007Z");
  LocalDateTime l = z.ToLocal(t);
  CHECK(l.date == LocalDate{2025, 12, 31});
  CHECK(l.time == LocalTime::HM(21, 30));
  CHECK(l.millis == 7);
  CHECK(l.utc_offset_seconds == -(3 * 3600 + 1800));
  CHECK(z.At(LocalDate{2025, 12, 31}, LocalTime::HM(21, 30)) == t - Millis(7));
  // Instants before 1970 round down to the second, not towards zero.
  LocalDateTime early = TimeZone().ToLocal(FromUnixMillis(-1));
  CHECK(early.date == LocalDate{1969, 12, 31});
  CHECK(early.time.ToString() == "23:59:59");
  CHECK(early.millis == 999);
  // A time of day past midnight is on the next day.
  CHECK(FormatRfc3339(utc.At(LocalDate{2026, 12, 31}, LocalTime{86400 + 60})) ==
        "2027-01-01T00:01:00Z");
}

TEST_CASE("durations in config files", "[time][config]") {
  CHECK(*sys::ParseDuration("120s") == Millis(120000));
  CHECK(*sys::ParseDuration("5m") == Millis(300000));
  CHECK(*sys::ParseDuration("250ms") == Millis(250));
  CHECK(*sys::ParseDuration("90") == Millis(90000));
  CHECK_FALSE(sys::ParseDuration("5 minutes").ok());
  CHECK_FALSE(sys::ParseDuration("").ok());
  // A bare number of seconds is bounded like "120s" (fuzz_config: 9223372036854775807 seconds
  // overflowed when made milliseconds, undefined behaviour).
  auto c = sys::Config::Parse("[server]\nidle_timeout = 9223372036854775807\nok = 100000000000\n");
  REQUIRE(c.ok());
  CHECK_FALSE(c->Duration("server.idle_timeout", Millis(0)).ok());
  CHECK(*c->Duration("server.ok", Millis(0)) == Millis(100'000'000'000'000LL));
}

TEST_CASE("config errors name the key", "[config]") {
  auto c = sys::Config::Parse("[server]\nworkers = \"two\"\nidle = \"3x\"\nlisten = \"x\"\n",
                              "server.toml");
  REQUIRE(c.ok());
  auto w = c->Int("server.workers", 2, 1, 64);
  REQUIRE_FALSE(w.ok());
  CHECK_THAT(w.status().message(), Catch::Matchers::Contains("server.workers"));
  auto d = c->Duration("server.idle", Millis(1000));
  REQUIRE_FALSE(d.ok());
  CHECK_THAT(d.status().message(), Catch::Matchers::Contains("server.idle"));
  CHECK(*c->Int("server.missing", 7, 1, 64) == 7);
  auto unknown = c->RejectUnknownKeys({"server.workers", "server.idle"});
  REQUIRE_FALSE(unknown.ok());
  CHECK_THAT(unknown.message(), Catch::Matchers::Contains("server.listen"));
  CHECK(c->RejectUnknownKeys({"server.*"}).ok());
  auto broken = sys::Config::Parse("[server\nx=1", "bad.toml");
  REQUIRE_FALSE(broken.ok());
  CHECK_THAT(broken.status().message(), Catch::Matchers::StartsWith("bad.toml:1:"));
}

}  // namespace
}  // namespace anshin
