// Table-driven days that read like a club's day (tests/common/days/*.day, format in
// common/day_script.hpp). Each `expect=` in a script is checked, plus what the guardian gets.
#include <catch2/catch.hpp>

#include <fstream>
#include <sstream>

#include "common/day_script.hpp"
#include "tests/common/engine_test_util.hpp"

namespace anshin {
namespace {

DayResult RunScript(const std::string& name) {
  std::ifstream in(std::string(ANSHIN_DAYS_DIR) + "/" + name);
  REQUIRE(in);
  std::stringstream ss;
  ss << in.rdbuf();
  auto script = ParseDayScript(ss.str(), testing::Tokyo());
  INFO(script.status().ToString());
  REQUIRE(script.ok());
  // Keep the script alive with the result (steps are referenced by pointer).
  static std::vector<std::unique_ptr<DayScript>> keep;
  keep.push_back(std::make_unique<DayScript>(std::move(script).value()));
  DayResult r = ReplayDay(*keep.back());
  for (const auto& m : r.mismatches) UNSCOPED_INFO(m);
  CHECK(r.mismatches.empty());
  return r;
}

std::vector<NoticeKind> NoticesOf(const DayResult& r) {
  std::vector<NoticeKind> kinds;
  for (const auto& t : r.taps) {
    if (t.decision.notice) kinds.push_back(t.decision.notice->kind);
  }
  return kinds;
}

TEST_CASE("scenario: pilot bug, no arrival tap and a departure tap at 18:05", "[scenario]") {
  DayResult r = RunScript("pilot_bug.day");
  REQUIRE(r.taps.size() == 1);
  REQUIRE(r.taps[0].decision.notice);
  CHECK(r.taps[0].decision.notice->kind == NoticeKind::kInferredDeparture);
  CHECK(NoticesOf(r) == std::vector{NoticeKind::kInferredDeparture});  // never an arrival
  CHECK(r.closings[0].second.empty());  // the visit is closed: no closing alert
}

TEST_CASE("scenario: late arrival at 16:45 then departure at 18:30 is a correction", "[scenario]") {
  DayResult r = RunScript("late_arrival_correction.day");
  CHECK(NoticesOf(r) == std::vector{NoticeKind::kInferredDeparture, NoticeKind::kCorrection});
  const ChildDay& day = r.days.at("haruto");
  REQUIRE(day.visits.size() == 1);
  CHECK(day.visits[0].arrival == testing::At("16:45"));
  CHECK(day.visits[0].departure == testing::At("18:30"));
  CHECK(r.closings[0].second.empty());
}

TEST_CASE("scenario: a double read 3 s apart sends one mail", "[scenario]") {
  DayResult r = RunScript("double_read.day");
  CHECK(NoticesOf(r) == std::vector{NoticeKind::kArrival, NoticeKind::kDeparture});
}

TEST_CASE("scenario: leaves at 15:30 for a lesson and comes back at 17:00", "[scenario]") {
  DayResult r = RunScript("lesson_and_return.day");
  CHECK(NoticesOf(r) == std::vector{NoticeKind::kArrival, NoticeKind::kDeparture,
                                    NoticeKind::kArrival, NoticeKind::kDeparture});
  CHECK(r.days.at("yui").visits.size() == 2);
}

TEST_CASE("scenario: explicit entry and exit readers", "[scenario]") {
  DayResult r = RunScript("entry_exit_readers.day");
  CHECK(r.taps.size() == 5);
}

TEST_CASE("scenario: the closing check at 19:15", "[scenario]") {
  DayResult r = RunScript("closing_check.day");
  REQUIRE(r.closings.size() == 3);
  CHECK(r.closings[0].second.empty());        // 19:14: not yet
  REQUIRE(r.closings[1].second.size() == 1);  // 19:15: haruto is still inside
  CHECK(r.closings[1].second[0].kind == AlertKind::kNoDeparture);
  CHECK(r.closings[2].second.empty());  // once only
}

TEST_CASE("scenario: an agent 3 hours offline replays a whole afternoon", "[scenario]") {
  DayResult r = RunScript("offline_afternoon.day");
  int late = 0;
  for (const auto& t : r.taps) {
    if (t.decision.notice) {
      CHECK(t.decision.notice->at == t.step->tap.tapped_at);  // the real tap time, not 18:00
      late += t.decision.notice->late;
    }
  }
  CHECK(late == 5);  // all but the 18:01 tap, which arrived on time
}

TEST_CASE("scenario: a facility PC clock 7 minutes fast", "[scenario]") {
  DayResult r = RunScript("clock_fast.day");
  REQUIRE(r.taps[0].decision.notice);
  CHECK(r.taps[0].step->tap.tapped_at == testing::At("16:34"));  // what the PC said
  CHECK(r.taps[0].decision.notice->at == testing::At("16:27"));  // what is mailed
  CHECK(r.taps[0].decision.notice->kind == NoticeKind::kArrival);
}

TEST_CASE("scenario: the demo afternoon", "[scenario]") {
  DayResult r = RunScript("demo_afternoon.day");
  CHECK(r.taps.size() == 11);
}

TEST_CASE("day scripts: errors name the line", "[scenario]") {
  auto s = ParseDayScript("date 2026-11-26\nchild a A\ntap 25:00 a\n", testing::Tokyo());
  REQUIRE_FALSE(s.ok());
  CHECK_THAT(s.status().message(), Catch::Matchers::StartsWith("line 3:"));
  CHECK_FALSE(ParseDayScript("tap 15:00 a\n", testing::Tokyo()).ok());
  CHECK_FALSE(ParseDayScript("date 2026-11-26\nfly away\n", testing::Tokyo()).ok());
}

}  // namespace
}  // namespace anshin
