// Generated days (seeded, reproducible) checked against the engine's invariants.
// ANSHIN_SEED=<n> replays one run; ANSHIN_RANDOM_DAYS=<n> changes how many days are generated.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdlib>
#include <iostream>
#include <map>
#include <random>

#include "tests/common/engine_test_util.hpp"

namespace anshin {
namespace {

using namespace anshin::testing;
using namespace std::chrono_literals;

std::uint64_t EnvOr(const char* name, std::uint64_t def) {
  const char* v = std::getenv(name);
  return v && *v ? std::strtoull(v, nullptr, 10) : def;
}

struct GeneratedTap {
  int child;  // index; -1 = unknown card
  TapEvent event;
};

struct GeneratedDay {
  FacilityRules rules = DefaultRules();
  std::vector<ChildSchedule> schedules;
  std::vector<CardStatus> cards;
  std::vector<GeneratedTap> taps;  // in the order the server receives them
};

GeneratedDay Generate(std::mt19937_64& rng) {
  auto pick = [&](int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng); };
  GeneratedDay g;
  g.rules.double_tap_window = Seconds(pick(0, 3) * 60);
  g.rules.departure_from = LocalTime::HM(pick(15, 17), pick(0, 59));
  g.rules.late_after = Seconds(pick(1, 10) * 60);
  int children = pick(1, 4);
  for (int c = 0; c < children; ++c) {
    ChildSchedule s;
    if (pick(0, 2) == 0)
      s.expected_departure[kThursday.Weekday()] = LocalTime::HM(pick(16, 19), pick(0, 59));
    g.schedules.push_back(s);
    int status = pick(0, 19);
    g.cards.push_back(status == 0   ? CardStatus::kLost
                      : status == 1 ? CardStatus::kRetired
                                    : CardStatus::kActive);
  }
  int taps = pick(0, 14);
  Millis skew = Millis(pick(-1, 1) * pick(0, 600) * 1000);  // one agent clock for the day
  for (int i = 0; i < taps; ++i) {
    GeneratedTap t;
    t.child = pick(0, 15) == 0 ? -1 : pick(0, children - 1);
    TapEvent& e = t.event;
    e.card = *CardToken::Parse("0123456789abcdef0123456789abcdef");
    e.facility = FacilityId{1};
    e.reader = "entrance";
    int dir = pick(0, 9);
    e.direction = dir == 0 ? Direction::kEntry : dir == 1 ? Direction::kExit : Direction::kAuto;
    // Mostly afternoon, sometimes bursts of double reads.
    TimePoint real = At("13:00") + Seconds(pick(0, 7 * 3600));
    if (i > 0 && pick(0, 4) == 0)
      real =
          g.taps.back().event.received_at - g.taps.back().event.agent_skew + Seconds(pick(1, 10));
    e.agent_skew = skew;
    e.tapped_at = real + skew;
    e.received_at = real + (pick(0, 5) == 0 ? Seconds(pick(0, 4 * 3600)) : Seconds(pick(0, 5)));
    g.taps.push_back(t);
  }
  // The server sees taps in order of receipt (several agents, one of them offline for a while).
  std::stable_sort(g.taps.begin(), g.taps.end(), [](const GeneratedTap& a, const GeneratedTap& b) {
    return a.event.received_at < b.event.received_at;
  });
  return g;
}

struct Outcome {
  std::vector<Decision> decisions;
  std::map<int, ChildDay> days;
};

Outcome Run(const GeneratedDay& g) {
  Outcome o;
  for (const GeneratedTap& t : g.taps) {
    std::optional<CardInfo> card;
    ChildSchedule schedule;
    ChildDay day{.date = JudgedDay(g.rules, t.event)};
    if (t.child >= 0) {
      card = CardInfo{ChildId{t.child + 1}, g.cards[t.child]};
      schedule = g.schedules[t.child];
      if (auto it = o.days.find(t.child); it != o.days.end()) day = it->second;
    }
    Judgement j = Judge(g.rules, t.event, card, schedule, day);
    if (t.child >= 0) o.days[t.child] = j.day;
    o.decisions.push_back(j.decision);
  }
  return o;
}

TEST_CASE("randomized days keep the engine's invariants", "[engine][random]") {
  const std::uint64_t seed = EnvOr("ANSHIN_SEED", 20261126);
  const std::uint64_t days = EnvOr("ANSHIN_RANDOM_DAYS", 10000);
  std::cout << "randomized engine test: seed=" << seed << " days=" << days
            << " (rerun with ANSHIN_SEED=" << seed << ")" << std::endl;
  std::mt19937_64 rng(seed);
  std::uint64_t taps = 0, notices = 0, inferred = 0, corrections = 0, backfilled = 0;

  for (std::uint64_t n = 0; n < days; ++n) {
    GeneratedDay g = Generate(rng);
    Outcome o = Run(g);
    INFO("seed=" << seed << " day=" << n);

    // Every tap gets exactly one decision.
    REQUIRE(o.decisions.size() == g.taps.size());
    taps += g.taps.size();

    for (size_t i = 0; i < g.taps.size(); ++i) {
      const Decision& d = o.decisions[i];
      const GeneratedTap& t = g.taps[i];
      INFO("tap " << i << " reason=" << ReasonName(d.reason));
      CHECK(d.tap_time == CorrectedTapTime(t.event));
      if (d.notice) {
        ++notices;
        CHECK(d.notice->at == d.tap_time);
        CHECK(d.child);
      }
      switch (d.reason) {
        case Reason::kDuplicate:
        case Reason::kOutOfOrder:
        case Reason::kUnknownCard:
        case Reason::kRetiredCard:
          CHECK_FALSE(d.notice);  // a duplicate (or a card without a child) never notifies
          break;
        case Reason::kLostCard:
          CHECK_FALSE(d.notice);
          CHECK(d.alerts.size() == 1);
          break;
        case Reason::kArrival:
          REQUIRE(d.notice);
          CHECK(d.notice->kind == NoticeKind::kArrival);
          // Never an arrival for an auto tap at/after the threshold with no visit open.
          if (t.event.direction == Direction::kAuto) {
            CHECK(d.tap_time <
                  DepartureThreshold(g.rules, g.schedules[t.child], JudgedDay(g.rules, t.event)));
          }
          break;
        case Reason::kInferredDeparture:
          ++inferred;
          REQUIRE(d.notice);
          CHECK(d.notice->kind == NoticeKind::kInferredDeparture);
          break;
        case Reason::kCorrection:
          ++corrections;
          REQUIRE(d.notice);
          REQUIRE(d.notice->arrival_at);
          CHECK(*d.notice->arrival_at < d.notice->at);
          break;
        case Reason::kBackfilledArrival:
          ++backfilled;
          REQUIRE(d.notice);
          CHECK(d.notice->late);  // only ever mailed as late
          break;
        case Reason::kDeparture:
          REQUIRE(d.notice);
          CHECK(d.notice->kind == NoticeKind::kDeparture);
          break;
        case Reason::kImpossibleTime:
          FAIL("the engine never sets impossible_time; only ingest does");
          break;
      }
    }

    for (const auto& [child, day] : o.days) {
      int open = 0;
      std::optional<TimePoint> prev_end;
      for (const Visit& v : day.visits) {
        // Every visit's departure is after its arrival.
        if (v.arrival && v.departure) CHECK(*v.arrival < *v.departure);
        CHECK((v.arrival || v.departure));
        open += v.open();
        // Visits do not overlap and are in time order.
        TimePoint start = v.arrival ? *v.arrival : *v.departure;
        if (prev_end) CHECK(*prev_end <= start);
        prev_end = v.departure ? v.departure : std::optional<TimePoint>(start);
      }
      CHECK(open <= 1);
      if (open) CHECK(day.visits.back().open());
      CHECK(std::is_sorted(day.accepted_taps.begin(), day.accepted_taps.end()));
    }

    // Replaying the same taps gives the same decisions.
    Outcome again = Run(g);
    for (size_t i = 0; i < g.taps.size(); ++i) {
      CHECK(again.decisions[i].reason == o.decisions[i].reason);
      CHECK(again.decisions[i].notice == o.decisions[i].notice);
    }
    CHECK(again.days == o.days);
  }
  std::cout << "  taps=" << taps << " notices=" << notices << " inferred=" << inferred
            << " corrections=" << corrections << " backfilled=" << backfilled << std::endl;
  // The generator must actually reach the interesting rules.
  CHECK(inferred > 0);
  CHECK(corrections > 0);
  CHECK(backfilled > 0);
}

}  // namespace
}  // namespace anshin
