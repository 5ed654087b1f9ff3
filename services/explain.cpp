#include "services/explain.hpp"

#include <algorithm>
#include <map>

#include "services/cards.hpp"

namespace anshin::services {
namespace {

struct Words {
  const TimeZone& zone;
  // "16:30", or "16:30:12" when the seconds matter.
  std::string At(TimePoint t) const {
    const LocalTime lt = zone.ToLocal(t).time;
    std::string s = lt.ToString();
    if (lt.seconds % 60 != 0) {
      const int sec = lt.seconds % 60;
      s += (sec < 10 ? ":0" : ":") + std::to_string(sec);
    }
    return s;
  }
};

std::string Seconds(std::chrono::seconds s) { return std::to_string(s.count()) + " s"; }

// The visit open before the tap, if any.
const Visit* OpenVisit(const ChildDay& day) {
  for (auto it = day.visits.rbegin(); it != day.visits.rend(); ++it) {
    if (it->open()) return &*it;
  }
  return nullptr;
}

// The last accepted tap at or before t.
std::optional<TimePoint> AcceptedBefore(const ChildDay& day, TimePoint t) {
  std::optional<TimePoint> out;
  for (TimePoint a : day.accepted_taps) {
    if (a <= t) out = a;
  }
  return out;
}

std::string Why(const FacilityRules& rules, const Words& w, TimePoint threshold,
                const ChildDay& before, const ExplainedTap& e) {
  const Decision& d = e.decision;
  const TimePoint t = d.tap_time;
  std::string why;
  switch (d.reason) {
    case Reason::kArrival:
      why = "no visit was open: a visit begins (arrival)";
      if (e.tap.direction == Direction::kEntry) why += " at the entrance reader";
      break;
    case Reason::kDeparture: {
      const Visit* open = OpenVisit(before);
      why = "closes the visit";
      if (open && open->arrival) why += " that began at " + w.At(*open->arrival);
      why += " (departure)";
      break;
    }
    case Reason::kInferredDeparture:
      why = "no visit was open and " + w.At(t) + " is at or after today's departure threshold " +
            w.At(threshold) + ": read as a departure whose arrival tap was missing";
      break;
    case Reason::kCorrection:
      why = "a tap after a departure inferred at ";
      for (const Visit& v : before.visits) {
        if (v.inferred && v.departure)
          why = "a tap after the departure inferred at " + w.At(*v.departure);
      }
      why += ": that tap was the arrival, this one is the departure (a correction is mailed)";
      break;
    case Reason::kBackfilledArrival:
      why =
          "arrived after later taps of the day: it supplies a visit's missing arrival, mailed "
          "as late";
      break;
    case Reason::kDuplicate: {
      const auto last = AcceptedBefore(before, t);
      why = "within the double-tap window (" + Seconds(rules.double_tap_window) + ")";
      if (last) why += " of the tap accepted at " + w.At(*last);
      why += ": no mail";
      break;
    }
    case Reason::kOutOfOrder: {
      why = "older than taps already judged";
      if (!before.accepted_taps.empty())
        why += " (the latest at " + w.At(before.accepted_taps.back()) + ")";
      why += " and fits no visit: recorded, no mail";
      break;
    }
    case Reason::kUnknownCard:
      why = "the card was not registered: no mail";
      break;
    case Reason::kLostCard:
      why = "the card was reported lost at the tap's time: no mail, staff alerted";
      break;
    case Reason::kRetiredCard:
      why = "the card was retired at the tap's time (replaced, or the child left): no mail";
      break;
    case Reason::kImpossibleTime:
      why = "the tap's time cannot be true: set aside, not judged, no mail";
      break;
  }
  if (d.late) {
    why += "; received at " + w.At(e.tap.received_at) + ", later than " +
           Seconds(rules.late_after) + " after the tap: the mail says it is late";
  }
  return why;
}

}  // namespace

Result<DayExplanation> ExplainDay(store::ReadTxn& txn, const ZoneLoader& zones, ChildId child,
                                  const LocalDate& date) {
  DayExplanation out;
  out.date = date;
  ANSHIN_ASSIGN_OR_RETURN(out.child, txn.children().Get(child));
  ANSHIN_ASSIGN_OR_RETURN(store::Facility home, txn.facilities().Get(out.child.facility));
  ANSHIN_ASSIGN_OR_RETURN(std::shared_ptr<const TimeZone> home_zone, zones(home.tz_name));
  // The calendar day in the home zone, widened by a day on each side: a hall in another zone
  // judges its own local day, filtered below by JudgedDay.
  const TimePoint from = home_zone->At(date, LocalTime{0}) - std::chrono::hours(24);
  const TimePoint to = home_zone->At(date, LocalTime{0}) + std::chrono::hours(48);
  ANSHIN_ASSIGN_OR_RETURN(std::vector<store::TapRecord> taps,
                          txn.attendance().TapsOfChild(child, from, to));
  std::stable_sort(taps.begin(), taps.end(),
                   [](const store::TapRecord& a, const store::TapRecord& b) {
                     if (a.received_at != b.received_at) return a.received_at < b.received_at;
                     if (a.agent != b.agent) return a.agent.value < b.agent.value;
                     return a.seq < b.seq;
                   });
  ANSHIN_ASSIGN_OR_RETURN(ChildSchedule schedule, txn.children().Schedule(child));

  std::map<std::int64_t, store::Facility> facilities;  // with their zones loaded
  std::map<std::int64_t, std::size_t> index;           // facility id → out.facilities
  std::map<std::string, std::vector<store::CardStatusChange>> histories;
  for (const store::TapRecord& tap : taps) {
    auto known = facilities.find(tap.facility.value);
    if (known == facilities.end()) {
      ANSHIN_ASSIGN_OR_RETURN(store::Facility f, txn.facilities().Get(tap.facility));
      ANSHIN_ASSIGN_OR_RETURN(f.rules.zone, zones(f.tz_name));
      known = facilities.emplace(tap.facility.value, std::move(f)).first;
    }
    const FacilityRules& rules = known->second.rules;

    TapEvent ev;
    ev.card = tap.card;
    ev.facility = tap.facility;
    ev.reader = tap.reader;
    ev.direction = tap.direction;
    ev.tapped_at = tap.tapped_at;
    ev.agent_skew = std::chrono::duration_cast<Millis>(tap.tapped_at - tap.corrected_at);
    ev.received_at = tap.received_at;
    if (JudgedDay(rules, ev) != date) continue;
    auto it = index.find(tap.facility.value);
    if (it == index.end()) {
      FacilityDay fd;
      fd.facility = known->second;
      fd.day.date = date;
      fd.departure_threshold = DepartureThreshold(rules, schedule, date);
      it = index.emplace(tap.facility.value, out.facilities.size()).first;
      out.facilities.push_back(std::move(fd));
    }
    FacilityDay& fd = out.facilities[it->second];

    ExplainedTap e;
    e.tap = tap;
    auto hist = histories.find(tap.card.hex());
    if (hist == histories.end()) {
      ANSHIN_ASSIGN_OR_RETURN(std::vector<store::CardStatusChange> h,
                              txn.cards().StatusHistory(tap.card));
      hist = histories.emplace(tap.card.hex(), std::move(h)).first;
    }
    ANSHIN_ASSIGN_OR_RETURN(std::optional<store::Card> card, txn.cards().Find(tap.card));
    const Words words{*rules.zone};
    if (tap.reason == Reason::kImpossibleTime) {
      e.judged = false;
      e.decision.reason = Reason::kImpossibleTime;
      e.decision.tap_time = tap.corrected_at;
      e.why = Why(rules, words, fd.departure_threshold, fd.day, e);
      fd.taps.push_back(std::move(e));
      continue;
    }
    std::optional<CardInfo> info;
    if (card) {
      e.card_status = CardStatusAt(hist->second, CorrectedTapTime(ev), card->status);
      info = CardInfo{card->child, e.card_status};
    }
    const ChildDay before = fd.day;
    Judgement j = Judge(rules, ev, info, schedule, fd.day);
    e.decision = std::move(j.decision);
    fd.day = std::move(j.day);
    e.why = Why(rules, words, fd.departure_threshold, before, e);
    fd.taps.push_back(std::move(e));
  }
  for (FacilityDay& fd : out.facilities) {
    ChildDay after = fd.day;
    fd.closing = CheckClosing(fd.facility.rules, fd.facility.id, child, after,
                              ClosingCheckDue(fd.facility.rules, date));
  }
  std::stable_partition(out.facilities.begin(), out.facilities.end(),
                        [&](const FacilityDay& fd) { return fd.facility.id == home.id; });
  return out;
}

}  // namespace anshin::services
