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
  for (const char* bad : {"2026-11-26T15:02:00", "2026-11-26 15:02", "2026-13-01T00:00:00Z",
                          "2026-02-30T00:00:00Z", "2026-11-26T15:02:00+9:00", "yesterday", ""}) {
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
  // Far in the future only the POSIX footer rule applies.
  CHECK(z.OffsetAt(*ParseRfc3339("2080-07-01T12:00:00Z")) == -4 * 3600);
  CHECK(z.OffsetAt(*ParseRfc3339("2080-01-15T12:00:00Z")) == -5 * 3600);
  CHECK(z.OffsetAt(*ParseRfc3339("2026-07-01T12:00:00Z")) == -4 * 3600);
  // 2026-03-08 02:30 does not exist in New York; 01:30 on 2026-11-01 happens twice.
  TimePoint gap = z.At(LocalDate{2026, 3, 8}, LocalTime::HM(2, 30));
  CHECK(FormatRfc3339(gap) == "2026-03-08T07:30:00Z");
  TimePoint overlap = z.At(LocalDate{2026, 11, 1}, LocalTime::HM(1, 30));
  CHECK(FormatRfc3339(overlap) == "2026-11-01T05:30:00Z");  // the earlier (EDT) one
}

TEST_CASE("TZif parsing rejects garbage", "[time]") {
  CHECK_FALSE(TimeZone::FromTzif("x", "not a zone").ok());
  CHECK_FALSE(TimeZone::FromTzif("x", std::string("TZif2") + std::string(50, '\0')).ok());
}

TEST_CASE("durations in config files", "[time][config]") {
  CHECK(*sys::ParseDuration("120s") == Millis(120000));
  CHECK(*sys::ParseDuration("5m") == Millis(300000));
  CHECK(*sys::ParseDuration("250ms") == Millis(250));
  CHECK(*sys::ParseDuration("90") == Millis(90000));
  CHECK_FALSE(sys::ParseDuration("5 minutes").ok());
  CHECK_FALSE(sys::ParseDuration("").ok());
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
