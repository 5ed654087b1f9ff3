// One test per rule of DESIGN.md §4, named after the rule.
#include <catch2/catch.hpp>

#include "tests/common/engine_test_util.hpp"

namespace anshin {
namespace {

using namespace anshin::testing;
using namespace std::chrono_literals;

TEST_CASE("rule 1: an unknown card gets no mail and no child", "[engine][rule1]") {
  Judgement j =
      Judge(DefaultRules(), TapAt("15:00"), std::nullopt, {}, ChildDay{.date = kThursday});
  CHECK(j.decision.reason == Reason::kUnknownCard);
  CHECK_FALSE(j.decision.child);
  CHECK_FALSE(j.decision.notice);
  CHECK(j.decision.alerts.empty());
  CHECK(j.day.visits.empty());
}

TEST_CASE("rule 1: a lost card raises a staff alert and no mail", "[engine][rule1]") {
  Judgement j = Judge(DefaultRules(), TapAt("15:00"), CardInfo{ChildId{7}, CardStatus::kLost}, {},
                      ChildDay{.date = kThursday});
  CHECK(j.decision.reason == Reason::kLostCard);
  CHECK_FALSE(j.decision.notice);
  REQUIRE(j.decision.alerts.size() == 1);
  CHECK(j.decision.alerts[0].kind == AlertKind::kLostCardSeen);
  CHECK(j.decision.alerts[0].facility == FacilityId{1});
  CHECK(j.day.visits.empty());
}

TEST_CASE("rule 1: a retired card gets no mail", "[engine][rule1]") {
  Judgement j = Judge(DefaultRules(), TapAt("15:00"), CardInfo{ChildId{7}, CardStatus::kRetired},
                      {}, ChildDay{.date = kThursday});
  CHECK(j.decision.reason == Reason::kRetiredCard);
  CHECK_FALSE(j.decision.notice);
  CHECK(j.decision.alerts.empty());
}

TEST_CASE("rule 2: a tap within the double-tap window is a duplicate without mail",
          "[engine][rule2]") {
  ChildDayRunner r;
  CHECK(r.Tap("15:00:00").reason == Reason::kArrival);
  Decision dup = r.Tap("15:01:59");
  CHECK(dup.reason == Reason::kDuplicate);
  CHECK_FALSE(dup.notice);
  CHECK(r.Tap("15:02:00").reason == Reason::kDuplicate);  // the window includes its end
  // The window runs from the last *accepted* tap, so later duplicates do not extend it.
  CHECK(r.Tap("15:02:01").reason == Reason::kDeparture);
  CHECK(r.day().accepted_taps.size() == 2);
}

TEST_CASE("rule 2: the window is configurable per facility", "[engine][rule2]") {
  FacilityRules rules = DefaultRules();
  rules.double_tap_window = 10s;
  ChildDayRunner r(rules);
  CHECK(r.Tap("15:00:00").reason == Reason::kArrival);
  CHECK(r.Tap("15:00:09").reason == Reason::kDuplicate);
  CHECK(r.Tap("15:00:30").reason == Reason::kDeparture);
}

TEST_CASE("rule 2: with a zero window a tap at the same instant is still one tap",
          "[engine][rule2]") {
  FacilityRules rules = DefaultRules();
  rules.double_tap_window = 0s;
  ChildDayRunner r(rules);
  CHECK(r.Tap("16:45").reason == Reason::kInferredDeparture);
  CHECK(r.Tap("16:45").reason == Reason::kDuplicate);
  CHECK(r.Tap("16:45:01").reason == Reason::kCorrection);
}

TEST_CASE("rule 3: an entry reader decides arrival even after the departure threshold",
          "[engine][rule3]") {
  ChildDayRunner r;
  Decision d = r.Tap("17:45", Direction::kEntry);
  CHECK(d.reason == Reason::kArrival);
  REQUIRE(d.notice);
  CHECK(d.notice->kind == NoticeKind::kArrival);
}

TEST_CASE("rule 3: an exit reader decides departure, and without a visit an inferred one",
          "[engine][rule3]") {
  ChildDayRunner r;
  Decision d = r.Tap("14:30", Direction::kExit);  // before the threshold, still an exit
  CHECK(d.reason == Reason::kInferredDeparture);
  CHECK(d.notice->kind == NoticeKind::kInferredDeparture);
  CHECK(r.Tap("15:00", Direction::kEntry).reason == Reason::kArrival);
  CHECK(r.Tap("18:00", Direction::kExit).reason == Reason::kDeparture);
}

TEST_CASE("rule 3: two entries in a row close the first visit with an unknown departure",
          "[engine][rule3]") {
  ChildDayRunner r;
  CHECK(r.Tap("15:00", Direction::kEntry).reason == Reason::kArrival);
  CHECK(r.Tap("17:00", Direction::kEntry).reason == Reason::kArrival);
  REQUIRE(r.day().visits.size() == 2);
  CHECK(r.day().visits[0].departure_unknown);
  CHECK(r.day().visits[1].open());
}

TEST_CASE("rule 4: an inferred departure carries the arrival mailed earlier that day",
          "[engine][rule4]") {
  ChildDayRunner r;
  Decision first = r.Tap("16:30");
  REQUIRE(first.notice);
  CHECK_FALSE(first.notice->arrival_at);  // no arrival today: "no arrival mail was sent"
  ChildDayRunner back;
  CHECK(back.Tap("15:02").reason == Reason::kArrival);
  CHECK(back.Tap("15:40").reason == Reason::kDeparture);
  // Came back without tapping, and leaves: the 15:02 arrival was mailed.
  Decision d = back.Tap("18:10");
  CHECK(d.reason == Reason::kInferredDeparture);
  REQUIRE(d.notice);
  CHECK(d.notice->arrival_at == At("15:02"));
}

TEST_CASE("rule 4: no open visit before the threshold is an arrival", "[engine][rule4]") {
  ChildDayRunner r;
  Decision d = r.Tap("16:29:59");
  CHECK(d.reason == Reason::kArrival);
  REQUIRE(d.notice);
  CHECK(d.notice->kind == NoticeKind::kArrival);
  CHECK(d.notice->at == At("16:29:59"));
}

TEST_CASE("rule 4: no open visit at departure_from is an inferred departure, never an arrival",
          "[engine][rule4]") {
  ChildDayRunner r;
  Decision d = r.Tap("16:30");
  CHECK(d.reason == Reason::kInferredDeparture);
  REQUIRE(d.notice);
  CHECK(d.notice->kind == NoticeKind::kInferredDeparture);
  REQUIRE(r.day().visits.size() == 1);
  CHECK_FALSE(r.day().visits[0].arrival);
  CHECK(r.day().visits[0].departure == At("16:30"));
  CHECK(r.day().visits[0].inferred);
}

TEST_CASE("rule 4: the child's expected departure minus the margin moves the threshold",
          "[engine][rule4]") {
  ChildSchedule s;
  s.expected_departure[kThursday.Weekday()] = LocalTime::HM(18, 0);
  {
    ChildDayRunner r(DefaultRules(), s);
    CHECK(r.Tap("17:29").reason == Reason::kArrival);  // later than departure_from, before 17:30
  }
  {
    ChildDayRunner r(DefaultRules(), s);
    CHECK(r.Tap("17:30").reason == Reason::kInferredDeparture);
  }
  // Another weekday without an expected time falls back to departure_from.
  ChildSchedule other;
  other.expected_departure[1] = LocalTime::HM(18, 0);
  ChildDayRunner r(DefaultRules(), other);
  CHECK(r.Tap("17:00").reason == Reason::kInferredDeparture);
}

TEST_CASE("rule 5: a tap with an open visit is a departure closing it", "[engine][rule5]") {
  ChildDayRunner r;
  r.Tap("15:02");
  Decision d = r.Tap("18:10");
  CHECK(d.reason == Reason::kDeparture);
  CHECK(d.notice->kind == NoticeKind::kDeparture);
  REQUIRE(r.day().visits.size() == 1);
  CHECK(r.day().visits[0].arrival == At("15:02"));
  CHECK(r.day().visits[0].departure == At("18:10"));
}

TEST_CASE("rule 6: a tap after an inferred departure corrects it into a late arrival",
          "[engine][rule6]") {
  ChildDayRunner r;
  CHECK(r.Tap("16:45").reason == Reason::kInferredDeparture);
  Decision d = r.Tap("18:30");
  CHECK(d.reason == Reason::kCorrection);
  REQUIRE(d.notice);
  CHECK(d.notice->kind == NoticeKind::kCorrection);
  CHECK(d.notice->arrival_at == At("16:45"));
  CHECK(d.notice->at == At("18:30"));
  REQUIRE(r.day().visits.size() == 1);
  CHECK(r.day().visits[0].arrival == At("16:45"));
  CHECK(r.day().visits[0].departure == At("18:30"));
  CHECK(r.day().visits[0].corrected);
  // A further tap is judged as a re-entry, not a second correction.
  CHECK(r.Tap("18:50").reason == Reason::kInferredDeparture);
}

TEST_CASE("rule 7: a tap after a closed visit opens a new visit", "[engine][rule7]") {
  ChildSchedule s;
  s.expected_departure[kThursday.Weekday()] = LocalTime::HM(18, 30);
  ChildDayRunner r(DefaultRules(), s);
  CHECK(r.Tap("14:50").reason == Reason::kArrival);
  CHECK(r.Tap("15:30").reason == Reason::kDeparture);
  CHECK(r.Tap("17:00").reason == Reason::kArrival);  // back from a lesson
  CHECK(r.Tap("18:35").reason == Reason::kDeparture);
  CHECK(r.day().visits.size() == 2);
}

TEST_CASE("rule 7: a re-entry at or after the threshold follows rule 4", "[engine][rule7]") {
  ChildDayRunner r;
  r.Tap("14:50");
  r.Tap("15:30");
  CHECK(r.Tap("17:00").reason == Reason::kInferredDeparture);
}

TEST_CASE("rule 8: the closing check raises one no-departure alert for an open visit",
          "[engine][rule8]") {
  ChildDayRunner r;
  r.Tap("15:00");
  auto rules = r.rules();
  CHECK(ClosingCheckDue(rules, kThursday) == At("19:15"));
  CHECK(CheckClosing(rules, FacilityId{1}, ChildId{7}, r.day(), At("19:14:59")).empty());
  auto alerts = CheckClosing(rules, FacilityId{1}, ChildId{7}, r.day(), At("19:15"));
  REQUIRE(alerts.size() == 1);
  CHECK(alerts[0].kind == AlertKind::kNoDeparture);
  CHECK(alerts[0].child == ChildId{7});
  CHECK(CheckClosing(rules, FacilityId{1}, ChildId{7}, r.day(), At("19:30")).empty());  // once
}

TEST_CASE("rule 8: a child who left raises no closing alert", "[engine][rule8]") {
  ChildDayRunner r;
  r.Tap("15:00");
  r.Tap("18:00");
  CHECK(CheckClosing(r.rules(), FacilityId{1}, ChildId{7}, r.day(), At("19:15")).empty());
}

TEST_CASE("rule 9: taps are judged by tap time corrected for the agent's clock skew",
          "[engine][rule9]") {
  ChildDayRunner r;
  TapEvent t = TapAt("16:35");  // the PC's clock says 16:35 ...
  t.agent_skew = 7min;          // ... but it is 7 minutes fast: really 16:28
  t.received_at = At("16:28");
  Decision d = r.Tap(t);
  CHECK(d.reason == Reason::kArrival);
  CHECK(d.tap_time == At("16:28"));
  CHECK(d.notice->at == At("16:28"));
  CHECK_FALSE(d.late);
}

TEST_CASE("rule 9: a tap received after late_after is mailed as late with the real time",
          "[engine][rule9]") {
  ChildDayRunner r;
  TapEvent t = TapAt("15:02");
  t.received_at = At("15:07:01");
  Decision d = r.Tap(t);
  CHECK(d.late);
  CHECK(d.notice->late);
  CHECK(d.notice->at == At("15:02"));
  TapEvent on_time = TapAt("18:00");
  on_time.received_at = At("18:05");  // exactly late_after: not late
  CHECK_FALSE(r.Tap(on_time).late);
}

TEST_CASE("rule 10: every decision carries a reason code with a stable name", "[engine][rule10]") {
  for (Reason r :
       {Reason::kArrival, Reason::kDeparture, Reason::kInferredDeparture, Reason::kCorrection,
        Reason::kBackfilledArrival, Reason::kDuplicate, Reason::kOutOfOrder, Reason::kUnknownCard,
        Reason::kLostCard, Reason::kRetiredCard}) {
    auto back = ParseReason(ReasonName(r));
    REQUIRE(back.ok());
    CHECK(*back == r);
  }
  CHECK(ReasonName(Reason::kInferredDeparture) == "inferred_departure");
  CHECK_FALSE(ParseReason("arrived").ok());
}

TEST_CASE("day boundary: a visit never spans midnight", "[engine][day]") {
  FacilityRules rules = DefaultRules();
  TapEvent late_evening = TapAt("23:59:30");
  Judgement j1 = Judge(rules, late_evening, kSakura, {}, ChildDay{.date = kThursday});
  CHECK(j1.decision.reason == Reason::kInferredDeparture);
  TapEvent after_midnight = late_evening;
  after_midnight.tapped_at = late_evening.tapped_at + 60s;
  after_midnight.received_at = after_midnight.tapped_at;
  CHECK(JudgedDay(rules, after_midnight) == LocalDate{2026, 11, 27});
  // Passing yesterday's state: the engine starts a fresh day and does not see a duplicate.
  Judgement j2 = Judge(rules, after_midnight, kSakura, {}, j1.day);
  CHECK(j2.decision.reason == Reason::kArrival);
  CHECK(j2.day.date == LocalDate{2026, 11, 27});
  CHECK(j2.day.visits.size() == 1);
}

TEST_CASE("out of order: a replayed arrival after a mailed departure fills the gap, late",
          "[engine][order]") {
  ChildDayRunner r;
  // The exit PC was online: the 18:00 tap is judged first, as an inferred departure.
  CHECK(r.Tap("18:00").reason == Reason::kInferredDeparture);
  // The entrance PC comes back online with the 15:00 tap.
  TapEvent replay = TapAt("15:00");
  replay.received_at = At("18:20");
  Decision d = r.Tap(replay);
  CHECK(d.reason == Reason::kBackfilledArrival);
  REQUIRE(d.notice);
  CHECK(d.notice->kind == NoticeKind::kArrival);
  CHECK(d.notice->late);
  REQUIRE(r.day().visits.size() == 1);
  CHECK(r.day().visits[0].arrival == At("15:00"));
  CHECK(r.day().visits[0].departure == At("18:00"));  // never reversed
}

TEST_CASE("out of order: a tap inside a mailed visit changes nothing and sends nothing",
          "[engine][order]") {
  ChildDayRunner r;
  r.Tap("15:00");
  r.Tap("18:00");
  ChildDay before = r.day();
  Decision d = r.Tap("16:00");
  CHECK(d.reason == Reason::kOutOfOrder);
  CHECK_FALSE(d.notice);
  CHECK(r.day().visits == before.visits);
}

TEST_CASE("out of order: an old tap near an accepted one is still a duplicate", "[engine][order]") {
  ChildDayRunner r;
  r.Tap("15:00:30");
  CHECK(r.Tap("15:00:00").reason == Reason::kDuplicate);
}

}  // namespace
}  // namespace anshin
