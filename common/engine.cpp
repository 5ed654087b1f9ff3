#include "common/engine.hpp"

#include <algorithm>

namespace anshin {
namespace {

// The instant a visit starts: its arrival, or for an inferred departure its (only) tap.
TimePoint VisitStart(const Visit& v) { return v.arrival ? *v.arrival : *v.departure; }

// The open visit of the day, if any (there is at most one, and it is the last).
Visit* OpenVisit(ChildDay& day) {
  if (!day.visits.empty() && day.visits.back().open()) return &day.visits.back();
  return nullptr;
}

// "Within the window" includes its end; with a zero window only a tap at the very same instant
// is a duplicate.
bool IsDuplicate(const ChildDay& day, TimePoint t, Seconds window) {
  // Accepted taps are sorted; only the neighbours of t can be within the window.
  auto it = std::lower_bound(day.accepted_taps.begin(), day.accepted_taps.end(), t);
  if (it != day.accepted_taps.end() && *it - t <= window) return true;
  if (it != day.accepted_taps.begin() && t - *std::prev(it) <= window) return true;
  return false;
}

void Accept(ChildDay& day, TimePoint t) {
  day.accepted_taps.insert(std::upper_bound(day.accepted_taps.begin(), day.accepted_taps.end(), t),
                           t);
}

Notice MakeNotice(NoticeKind kind, const TapEvent& tap, ChildId child, TimePoint at, bool late) {
  Notice n;
  n.kind = kind;
  n.child = child;
  n.facility = tap.facility;
  n.at = at;
  n.late = late;
  return n;
}

// Rules 3-7 for a tap at or after every tap already judged today.
void JudgeInOrder(const FacilityRules& rules, const ChildSchedule& schedule, const TapEvent& tap,
                  ChildDay& day, Decision& d) {
  const TimePoint t = d.tap_time;
  const ChildId child = *d.child;
  auto arrival = [&] {
    day.visits.push_back(Visit{.arrival = t});
    d.reason = Reason::kArrival;
    d.notice = MakeNotice(NoticeKind::kArrival, tap, child, t, d.late);
  };
  auto departure = [&](Visit& v) {
    v.departure = t;
    d.reason = Reason::kDeparture;
    d.notice = MakeNotice(NoticeKind::kDeparture, tap, child, t, d.late);
  };
  auto inferred_departure = [&] {
    // The arrival mailed earlier today, if any: the child left and came back without tapping,
    // and the mail must not say that no arrival was mailed today.
    std::optional<TimePoint> mailed_arrival;
    for (const Visit& v : day.visits) {
      if (v.arrival) mailed_arrival = v.arrival;
    }
    day.visits.push_back(Visit{.departure = t, .inferred = true});
    d.reason = Reason::kInferredDeparture;
    d.notice = MakeNotice(NoticeKind::kInferredDeparture, tap, child, t, d.late);
    d.notice->arrival_at = mailed_arrival;
  };

  Visit* open = OpenVisit(day);
  switch (tap.direction) {
    case Direction::kEntry:
      // An entry while a visit is open: the child left without tapping out and came back.
      if (open) open->departure_unknown = true;
      arrival();
      return;
    case Direction::kExit:
      if (open) {
        departure(*open);
      } else {
        inferred_departure();
      }
      return;
    case Direction::kAuto:
      break;
  }

  if (open) {  // rule 5
    departure(*open);
    return;
  }
  if (!day.visits.empty()) {  // rule 6: the inferred departure was really a late arrival
    Visit& last = day.visits.back();
    if (last.inferred && !last.arrival && !last.corrected) {
      last.arrival = last.departure;
      last.departure = t;
      last.corrected = true;
      d.reason = Reason::kCorrection;
      d.notice = MakeNotice(NoticeKind::kCorrection, tap, child, t, d.late);
      d.notice->arrival_at = last.arrival;
      return;
    }
  }
  // Rules 4 and 7: no open visit.
  if (t >= DepartureThreshold(rules, schedule, day.date)) {
    inferred_departure();
  } else {
    arrival();
  }
}

// A tap older than one already judged today. It may supply the missing arrival of a visit
// closed by an inferred departure; it never reverses what was already decided and mailed.
void JudgeOutOfOrder(const TapEvent& tap, ChildDay& day, Decision& d) {
  const TimePoint t = d.tap_time;
  d.reason = Reason::kOutOfOrder;
  // The first visit that starts after t.
  auto next = std::find_if(day.visits.begin(), day.visits.end(),
                           [&](const Visit& v) { return VisitStart(v) > t; });
  if (next == day.visits.end() || next->arrival || !next->inferred) return;
  if (next != day.visits.begin()) {
    const Visit& prev = *std::prev(next);
    // t lies inside the previous visit (or it is still open): nothing to fill in.
    if (prev.open() || (prev.departure && *prev.departure >= t) || prev.departure_unknown) return;
  }
  next->arrival = t;
  d.reason = Reason::kBackfilledArrival;
  d.notice = MakeNotice(NoticeKind::kArrival, tap, *d.child, t, /*late=*/true);
}

}  // namespace

TimePoint CorrectedTapTime(const TapEvent& tap) { return tap.tapped_at - tap.agent_skew; }

LocalDate JudgedDay(const FacilityRules& rules, const TapEvent& tap) {
  return rules.zone->DateOf(CorrectedTapTime(tap));
}

TimePoint DepartureThreshold(const FacilityRules& rules, const ChildSchedule& schedule,
                             const LocalDate& date) {
  if (const auto& expected = schedule.expected_departure[date.Weekday()]) {
    return rules.zone->At(date, *expected) - rules.departure_margin;
  }
  return rules.zone->At(date, rules.departure_from);
}

Judgement Judge(const FacilityRules& rules, const TapEvent& tap,
                const std::optional<CardInfo>& card, const ChildSchedule& schedule, ChildDay day) {
  Decision d;
  d.tap_time = CorrectedTapTime(tap);
  d.late = tap.received_at - d.tap_time > rules.late_after;

  // Rule 1: only an active card of a child is judged further.
  if (!card) {
    d.reason = Reason::kUnknownCard;
    return {std::move(d), std::move(day)};
  }
  d.child = card->child;
  if (card->status == CardStatus::kLost) {
    d.reason = Reason::kLostCard;
    d.alerts.push_back(Alert{AlertKind::kLostCardSeen, tap.facility, card->child, d.tap_time});
    return {std::move(d), std::move(day)};
  }
  if (card->status == CardStatus::kRetired) {
    d.reason = Reason::kRetiredCard;
    return {std::move(d), std::move(day)};
  }

  // A visit never spans midnight: a state of another day does not apply.
  LocalDate date = rules.zone->DateOf(d.tap_time);
  if (day.date != date) day = ChildDay{.date = date};

  // Rule 2.
  if (IsDuplicate(day, d.tap_time, rules.double_tap_window)) {
    d.reason = Reason::kDuplicate;
    return {std::move(d), std::move(day)};
  }
  bool in_order = day.accepted_taps.empty() || d.tap_time >= day.accepted_taps.back();
  Accept(day, d.tap_time);
  if (in_order) {
    JudgeInOrder(rules, schedule, tap, day, d);
  } else {
    JudgeOutOfOrder(tap, day, d);
  }
  return {std::move(d), std::move(day)};
}

TimePoint ClosingCheckDue(const FacilityRules& rules, const LocalDate& date) {
  return rules.zone->At(date, rules.closing_time) + rules.closing_grace;
}

std::vector<Alert> CheckClosing(const FacilityRules& rules, FacilityId facility, ChildId child,
                                ChildDay& day, TimePoint now) {
  if (day.closing_alerted || now < ClosingCheckDue(rules, day.date)) return {};
  if (day.visits.empty() || !day.visits.back().open()) return {};
  day.closing_alerted = true;
  return {Alert{AlertKind::kNoDeparture, facility, child, now}};
}

}  // namespace anshin
