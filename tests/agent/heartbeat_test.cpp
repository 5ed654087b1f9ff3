// The heartbeat: a health-only upload at most once per interval, only within opening hours,
// never when off (HeartbeatSchedule, and the Uplinker driven turn by turn with a fake clock
// and the recording FakeUplink).
#include "reader-agent/heartbeat.hpp"

#include <catch2/catch.hpp>

#include "reader-agent/uplinker.hpp"
#include "tests/agent/test_util.hpp"

namespace anshin::agent {
namespace {

using testing::FakeUplink;
using testing::ManualClock;
using testing::TempDir;
using testing::Token;

constexpr int kJst = 9 * 3600;
constexpr Millis kMinute = std::chrono::minutes(1);
// ManualClock's default start: Wednesday 2025-11-26 06:00Z = 15:00 in Tokyo.
const TimePoint kWednesday15h = FromUnixMillis(1'764'136'800'000);

HeartbeatSchedule ClubHours(Millis interval = std::chrono::minutes(30)) {
  return HeartbeatSchedule::Parse(
             interval == Millis(0) ? "off" : std::to_string(interval.count() / 1000) + "s",
             "13:00-19:00", "mon-sat")
      .value();
}

TEST_CASE("heartbeat settings parse, and errors name the key", "[heartbeat]") {
  auto off = HeartbeatSchedule::Parse("off", "", "mon-sat");
  REQUIRE(off.ok());
  CHECK_FALSE(off->enabled());
  auto s = HeartbeatSchedule::Parse("30m", "13:00-19:00", "mon-fri, sat");
  REQUIRE(s.ok());
  CHECK(s->interval == Millis(1'800'000));
  CHECK(s->from == LocalTime::HM(13, 0));
  CHECK(s->until == LocalTime::HM(19, 0));
  CHECK(s->days == std::array<bool, 7>{false, true, true, true, true, true, true});
  auto weekend = HeartbeatSchedule::Parse("1h", "00:00-24:00", "fri-mon");
  REQUIRE(weekend.ok());
  CHECK(weekend->days == std::array<bool, 7>{true, true, false, false, false, true, true});
  CHECK(weekend->until.seconds == 86'400);

  struct Bad {
    std::string interval, hours, days, key;
  };
  for (const Bad& b : std::vector<Bad>{
           {"soon", "13:00-19:00", "mon", "uplink.heartbeat:"},
           {"0s", "13:00-19:00", "mon", "uplink.heartbeat:"},
           {"2d", "13:00-19:00", "mon", "uplink.heartbeat:"},
           {"30m", "", "mon", "uplink.heartbeat_hours: required"},
           {"30m", "19:00-13:00", "mon", "uplink.heartbeat_hours:"},
           {"30m", "13:00", "mon", "uplink.heartbeat_hours:"},
           {"30m", "13:00-25:00", "mon", "uplink.heartbeat_hours:"},
           {"30m", "13:00-19:00", "monday", "uplink.heartbeat_days:"},
           {"30m", "13:00-19:00", "", "uplink.heartbeat_days:"},
       }) {
    auto r = HeartbeatSchedule::Parse(b.interval, b.hours, b.days);
    INFO(b.interval << " " << b.hours << " " << b.days);
    REQUIRE_FALSE(r.ok());
    CHECK_THAT(r.status().message(), Catch::StartsWith(b.key));
  }
}

TEST_CASE("the schedule is due once per interval, within hours, in local time", "[heartbeat]") {
  HeartbeatSchedule s = ClubHours();
  const TimePoint t = kWednesday15h;
  CHECK(s.Due(t, kJst, std::nullopt, std::nullopt));
  CHECK_FALSE(s.Due(t, kJst, t - std::chrono::minutes(29), std::nullopt));  // contact recent
  CHECK(s.Due(t, kJst, t - std::chrono::minutes(30), std::nullopt));
  CHECK_FALSE(s.Due(t, kJst, std::nullopt, t - kMinute));  // an attempt counts too
  // 15:00 in Tokyo is 06:00 UTC: outside the hours for a PC whose clock runs in UTC.
  CHECK_FALSE(s.Due(t, 0, std::nullopt, std::nullopt));
  // 12:59 and 19:00 are outside; 13:00 and 18:59 inside.
  CHECK_FALSE(s.InHours(t - std::chrono::minutes(121), kJst));
  CHECK(s.InHours(t - std::chrono::minutes(120), kJst));
  CHECK(s.InHours(t + std::chrono::minutes(239), kJst));
  CHECK_FALSE(s.InHours(t + std::chrono::minutes(240), kJst));
  // Sunday 2025-11-30 15:00 JST: not an opening day.
  CHECK_FALSE(s.InHours(t + std::chrono::days(4), kJst));
  CHECK(s.InHours(t + std::chrono::days(3), kJst));  // Saturday
  // A contact "in the future" (the clock was set back) does not hold the heartbeat off.
  CHECK(s.Due(t, kJst, t + std::chrono::hours(2), std::nullopt));
  // Off: never.
  CHECK_FALSE(ClubHours(Millis(0)).Due(t, kJst, std::nullopt, std::nullopt));
}

struct Fixture {
  TempDir dir;
  ManualClock clock{kWednesday15h};
  std::unique_ptr<AgentStore> store = AgentStore::Open(dir.path() / "agent.db").value();
  FakeUplink uplink;
  AllowlistCache allowlist;
  std::unique_ptr<Uplinker> uplinker;

  explicit Fixture(HeartbeatSchedule heartbeat) {
    uplink.allowlist = {.version = 2, .full = true, .added = {Token('a')}};
    REQUIRE(store->ApplyAllowlist(uplink.allowlist, clock.Now()).ok());
    Uplinker::Options options{.agent_name = "club-1",
                              .backoff_min = Millis(10),
                              .backoff_max = Millis(50),
                              .heartbeat = heartbeat,
                              .utc_offset = [](TimePoint) { return kJst; },
                              .agent_version = "9.9"};
    uplinker =
        std::make_unique<Uplinker>(*store, uplink, allowlist, clock, options, [](wire::Health& h) {
          h.reader_state = "error";
          h.reader_error = "device unplugged";
        });
    REQUIRE(uplinker->Init().ok());
  }
  // Advances the clock minute by minute over `span`, running the uplinker's due work at each
  // step; returns how many heartbeats (empty batches) were posted meanwhile.
  int RunFor(Millis span) {
    std::size_t before = Heartbeats();
    for (Millis t{0}; t < span; t += kMinute) {
      (void)uplinker->RunDueWork();
      clock.Advance(kMinute);
    }
    return static_cast<int>(Heartbeats() - before);
  }
  std::size_t Heartbeats() const {
    std::size_t n = 0;
    for (const auto& b : uplink.log().batches) n += b.taps.empty() ? 1 : 0;
    return n;
  }
};

TEST_CASE("a heartbeat posts the health with no taps, at most once per interval",
          "[heartbeat][uplinker]") {
  Fixture f(ClubHours());
  REQUIRE(f.uplinker->RunDueWork().value());
  auto log = f.uplink.log();
  REQUIRE(log.batches.size() == 1);
  CHECK(log.batches[0].taps.empty());
  REQUIRE(log.batches[0].health.has_value());
  CHECK(log.batches[0].health->reader_state == "error");
  CHECK(log.batches[0].health->reader_error == "device unplugged");
  CHECK(log.batches[0].health->queue_depth == 0);
  CHECK_FALSE(f.uplinker->RunDueWork().value());  // not again at once
  // 15:00 .. 19:00 with a 30 minute interval: 15:30, 16:00, ... 18:30 — 7 more, none after 19:00.
  f.clock.Advance(kMinute);
  CHECK(f.RunFor(std::chrono::hours(4)) == 7);
  CHECK(f.RunFor(std::chrono::hours(17)) == 0);  // 19:00 .. 12:00 the next day
  CHECK(f.RunFor(std::chrono::hours(2)) == 3);   // 12:01 .. 14:00: 13:00, 13:30, 14:00
}

TEST_CASE("an upload caused by a tap counts as the heartbeat's contact", "[heartbeat][uplinker]") {
  Fixture f(ClubHours());
  REQUIRE(f.store->AppendTap(Token('a'), f.clock.Now(), "entrance", Direction::kAuto).ok());
  REQUIRE(f.uplinker->RunDueWork().value());  // the tap's upload
  CHECK(f.Heartbeats() == 0);
  CHECK(f.RunFor(std::chrono::minutes(30)) == 0);
  CHECK(f.RunFor(std::chrono::minutes(2)) == 1);  // 30 minutes after the upload
}

TEST_CASE("a failed heartbeat is not retried before the next interval", "[heartbeat][uplinker]") {
  Fixture f(ClubHours());
  f.uplink.post_results = {Status::Unavailable("connection refused"),
                           Status::Unavailable("connection refused")};
  auto first = f.uplinker->RunDueWork();
  REQUIRE_FALSE(first.ok());
  CHECK(f.uplink.log().batches.size() == 1);
  f.clock.Advance(kMinute);
  f.RunFor(std::chrono::minutes(28));
  CHECK(f.uplink.log().batches.size() == 1);  // no retry within the interval
  f.RunFor(std::chrono::minutes(2));
  CHECK(f.uplink.log().batches.size() == 2);
}

TEST_CASE("with the heartbeat off an idle agent never connects", "[heartbeat][uplinker]") {
  Fixture f(ClubHours(Millis(0)));
  CHECK(f.RunFor(std::chrono::days(8)) == 0);
  CHECK(f.uplink.log().sessions == 0);
}

TEST_CASE("outside opening hours and days no heartbeat is sent", "[heartbeat][uplinker]") {
  Fixture f(HeartbeatSchedule::Parse("10m", "08:00-09:00", "sun").value());
  CHECK(f.RunFor(std::chrono::hours(24 * 3)) == 0);  // Wednesday 15:00 .. Saturday 15:00
  CHECK(f.RunFor(std::chrono::hours(24)) == 6);      // Sunday 08:00 .. 09:00, every 10 min
  CHECK(f.uplink.log().sessions == 6);
}

}  // namespace
}  // namespace anshin::agent
