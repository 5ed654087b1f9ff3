// Helpers for the engine's tests: taps at facility-local times on a fixed Thursday.
#pragma once

#include <memory>
#include <string>

#include "common/engine.hpp"

namespace anshin::testing {

// 2026-11-26 is a Thursday (weekday 4).
inline const LocalDate kThursday{2026, 11, 26};

inline std::shared_ptr<const TimeZone> Tokyo() {
  static auto zone = std::make_shared<const TimeZone>(TimeZone::Fixed("Asia/Tokyo", 9 * 3600));
  return zone;
}

inline FacilityRules DefaultRules() {
  FacilityRules r;
  r.zone = Tokyo();
  return r;
}

inline TimePoint At(const std::string& hhmm, const LocalDate& date = kThursday) {
  return Tokyo()->At(date, *LocalTime::Parse(hhmm));
}

inline TapEvent TapAt(const std::string& hhmm, Direction dir = Direction::kAuto) {
  TapEvent t;
  t.card = *CardToken::Parse("0123456789abcdef0123456789abcdef");
  t.facility = FacilityId{1};
  t.reader = "entrance";
  t.direction = dir;
  t.tapped_at = At(hhmm);
  t.received_at = t.tapped_at;
  return t;
}

inline const CardInfo kSakura{ChildId{7}, CardStatus::kActive};

// Judges a sequence of taps for one child and keeps the day.
class ChildDayRunner {
 public:
  explicit ChildDayRunner(FacilityRules rules = DefaultRules(), ChildSchedule schedule = {})
      : rules_(std::move(rules)), schedule_(schedule) {
    day_.date = kThursday;
  }
  Decision Tap(const TapEvent& tap, CardInfo card = kSakura) {
    Judgement j = Judge(rules_, tap, card, schedule_, day_);
    day_ = std::move(j.day);
    return j.decision;
  }
  Decision Tap(const std::string& hhmm, Direction dir = Direction::kAuto) {
    return Tap(TapAt(hhmm, dir));
  }
  ChildDay& day() { return day_; }
  const FacilityRules& rules() const { return rules_; }

 private:
  FacilityRules rules_;
  ChildSchedule schedule_;
  ChildDay day_;
};

}  // namespace anshin::testing
