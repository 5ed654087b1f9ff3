// A scripted club day: a small text format that reads like a facility's afternoon, used by the
// scenario tests and by `anshin-replay` (scripts/demo). Parsing and replaying are pure.
//
//   # comments and blank lines are ignored
//   date 2026-11-26                     the facility-local day (required, first)
//   zone Asia/Tokyo                     informational; the caller supplies the TimeZone
//   rules departure_from=16:30 double_tap_window=120s departure_margin=30m
//         closing_time=19:00 closing_grace=15m late_after=5m
//   facility 光が丘第一学童クラブ
//   child sakura 練馬 さくら            a child key and display name
//   expect-departure sakura thu=17:30   expected departure per weekday
//   card sakura lost|retired            the child's card status (default active)
//   skew 7m                             agent clock minus true time from here on (may be -7m)
//   tap 15:02 sakura [entry|exit|auto] [received=18:02] [expect=arrival]
//   tap 15:10 stranger                  a key that is not a child = an unknown card
//   closing 19:15 [expect=no_departure:sakura,...]
//
// Times are facility-local HH:MM[:SS] on `date`. A tap's receive time defaults to its true
// tap time (no delay).
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/engine.hpp"

namespace anshin {

struct DayScript {
  struct Child {
    ChildId id;
    std::string name;
    ChildSchedule schedule;
    CardStatus card = CardStatus::kActive;
  };
  struct Step {
    int line = 0;
    enum class Kind { kTap, kClosing } kind = Kind::kTap;
    std::string who;  // child key or unknown card key
    TapEvent tap;
    std::optional<Reason> expect;
    std::vector<std::string> expect_alerts;  // "no_departure:sakura"
    TimePoint closing_at;
  };

  LocalDate date;
  std::string facility_name = "光が丘第一学童クラブ";
  FacilityRules rules;
  std::map<std::string, Child> children;  // by key
  std::vector<Step> steps;
};

// Parses a script; errors name the line. `zone` is used for rules.zone and to place times.
Result<DayScript> ParseDayScript(std::string_view text, std::shared_ptr<const TimeZone> zone);

struct DayResult {
  struct Judged {
    const DayScript::Step* step;
    Decision decision;
  };
  std::vector<Judged> taps;
  std::vector<std::pair<const DayScript::Step*, std::vector<Alert>>> closings;
  std::map<std::string, ChildDay> days;  // by child key
  // Lines whose `expect=` did not match: "line 12: expected arrival, got duplicate".
  std::vector<std::string> mismatches;
};

// Feeds every step through the engine in script order.
DayResult ReplayDay(const DayScript& script);

}  // namespace anshin
