#include "common/day_script.hpp"

#include <sstream>

namespace anshin {
namespace {

std::vector<std::string> Words(std::string_view line) {
  std::vector<std::string> out;
  std::istringstream in{std::string(line)};
  for (std::string w; in >> w;) out.push_back(w);
  return out;
}

Result<Millis> Duration(std::string_view s) {
  bool neg = !s.empty() && s.front() == '-';
  if (neg) s.remove_prefix(1);
  size_t i = 0;
  long long n = 0;
  while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i])))
    n = n * 10 + (s[i++] - '0');
  std::string_view unit = s.substr(i);
  long long ms;
  if (i == 0) return Status::InvalidArgument("bad duration \"" + std::string(s) + "\"");
  if (unit == "ms") {
    ms = n;
  } else if (unit == "s" || unit.empty()) {
    ms = n * 1000;
  } else if (unit == "m") {
    ms = n * 60'000;
  } else if (unit == "h") {
    ms = n * 3'600'000;
  } else {
    return Status::InvalidArgument("bad duration unit in \"" + std::string(s) + "\"");
  }
  return Millis(neg ? -ms : ms);
}

Result<unsigned> WeekdayIndex(std::string_view s) {
  static constexpr std::string_view kNames[] = {"sun", "mon", "tue", "wed", "thu", "fri", "sat"};
  for (unsigned i = 0; i < 7; ++i) {
    if (kNames[i] == s) return i;
  }
  return Status::InvalidArgument("unknown weekday \"" + std::string(s) + "\" (use sun..sat)");
}

}  // namespace

Result<DayScript> ParseDayScript(std::string_view text, std::shared_ptr<const TimeZone> zone) {
  DayScript script;
  script.rules.zone = zone;
  bool have_date = false;
  Millis skew{0};
  std::int64_t next_child = 1;
  int line_no = 0;
  std::istringstream in{std::string(text)};
  for (std::string raw; std::getline(in, raw);) {
    ++line_no;
    auto fail = [&](const std::string& why) {
      return Status::InvalidArgument("line " + std::to_string(line_no) + ": " + why);
    };
    if (auto hash = raw.find('#'); hash != std::string::npos) raw.erase(hash);
    auto w = Words(raw);
    if (w.empty()) continue;
    const std::string& cmd = w[0];
    if (cmd != "date" && !have_date) return fail("the script must start with `date YYYY-MM-DD`");
    auto at = [&](const std::string& hhmm) -> Result<TimePoint> {
      auto t = LocalTime::Parse(hhmm);
      if (!t.ok()) return fail(t.status().message());
      return zone->At(script.date, *t);
    };

    if (cmd == "date") {
      if (w.size() != 2) return fail("usage: date YYYY-MM-DD");
      auto d = LocalDate::Parse(w[1]);
      if (!d.ok()) return fail(d.status().message());
      script.date = *d;
      have_date = true;
    } else if (cmd == "zone") {
      // The caller chose the zone; the line documents it.
    } else if (cmd == "facility") {
      if (w.size() < 2) return fail("usage: facility NAME");
      script.facility_name = raw.substr(raw.find(w[1]));
      while (!script.facility_name.empty() &&
             std::isspace(static_cast<unsigned char>(script.facility_name.back()))) {
        script.facility_name.pop_back();
      }
    } else if (cmd == "rules") {
      for (size_t i = 1; i < w.size(); ++i) {
        auto eq = w[i].find('=');
        if (eq == std::string::npos) return fail("expected key=value, got " + w[i]);
        std::string key = w[i].substr(0, eq), val = w[i].substr(eq + 1);
        FacilityRules& r = script.rules;
        if (key == "departure_from" || key == "closing_time") {
          auto t = LocalTime::Parse(val);
          if (!t.ok()) return fail(key + ": " + t.status().message());
          (key == "departure_from" ? r.departure_from : r.closing_time) = *t;
          continue;
        }
        auto d = Duration(val);
        if (!d.ok()) return fail(key + ": " + d.status().message());
        if (key == "double_tap_window") {
          r.double_tap_window = std::chrono::duration_cast<Seconds>(*d);
        } else if (key == "departure_margin") {
          r.departure_margin = std::chrono::duration_cast<Minutes>(*d);
        } else if (key == "closing_grace") {
          r.closing_grace = std::chrono::duration_cast<Minutes>(*d);
        } else if (key == "late_after") {
          r.late_after = std::chrono::duration_cast<Seconds>(*d);
        } else {
          return fail("unknown rule " + key);
        }
      }
    } else if (cmd == "child") {
      if (w.size() < 3) return fail("usage: child KEY DISPLAY NAME");
      std::string name = raw.substr(raw.find(w[2], raw.find(w[1]) + w[1].size()));
      while (!name.empty() && std::isspace(static_cast<unsigned char>(name.back())))
        name.pop_back();
      script.children[w[1]] =
          DayScript::Child{ChildId{next_child++}, name, {}, CardStatus::kActive};
    } else if (cmd == "expect-departure") {
      if (w.size() < 3 || !script.children.count(w[1]))
        return fail("usage: expect-departure CHILD wday=HH:MM...");
      for (size_t i = 2; i < w.size(); ++i) {
        auto eq = w[i].find('=');
        if (eq == std::string::npos) return fail("expected wday=HH:MM, got " + w[i]);
        auto wd = WeekdayIndex(w[i].substr(0, eq));
        auto t = LocalTime::Parse(w[i].substr(eq + 1));
        if (!wd.ok()) return fail(wd.status().message());
        if (!t.ok()) return fail(t.status().message());
        script.children[w[1]].schedule.expected_departure[*wd] = *t;
      }
    } else if (cmd == "card") {
      if (w.size() != 3 || !script.children.count(w[1]))
        return fail("usage: card CHILD active|lost|retired");
      auto s = ParseCardStatus(w[2]);
      if (!s.ok()) return fail(s.status().message());
      script.children[w[1]].card = *s;
    } else if (cmd == "skew") {
      if (w.size() != 2) return fail("usage: skew DURATION");
      auto d = Duration(w[1]);
      if (!d.ok()) return fail(d.status().message());
      skew = *d;
    } else if (cmd == "tap") {
      if (w.size() < 3)
        return fail("usage: tap HH:MM WHO [entry|exit|auto] [received=HH:MM] [expect=REASON]");
      DayScript::Step step;
      step.line = line_no;
      step.who = w[2];
      ANSHIN_ASSIGN_OR_RETURN(TimePoint true_time, at(w[1]));
      step.tap.facility = FacilityId{1};
      step.tap.reader = "entrance";
      step.tap.agent_skew = skew;
      step.tap.tapped_at = true_time + skew;
      step.tap.received_at = true_time;
      for (size_t i = 3; i < w.size(); ++i) {
        const std::string& a = w[i];
        if (a == "entry" || a == "exit" || a == "auto") {
          step.tap.direction = *ParseDirection(a);
        } else if (a.starts_with("received=")) {
          ANSHIN_ASSIGN_OR_RETURN(step.tap.received_at, at(a.substr(9)));
        } else if (a.starts_with("expect=")) {
          auto r = ParseReason(a.substr(7));
          if (!r.ok()) return fail(r.status().message());
          step.expect = *r;
        } else {
          return fail("unknown tap option " + a);
        }
      }
      script.steps.push_back(std::move(step));
    } else if (cmd == "closing") {
      if (w.size() < 2) return fail("usage: closing HH:MM [expect=no_departure:CHILD,...]");
      DayScript::Step step;
      step.line = line_no;
      step.kind = DayScript::Step::Kind::kClosing;
      ANSHIN_ASSIGN_OR_RETURN(step.closing_at, at(w[1]));
      for (size_t i = 2; i < w.size(); ++i) {
        if (!w[i].starts_with("expect=")) return fail("unknown closing option " + w[i]);
        std::istringstream list(w[i].substr(7));
        for (std::string item; std::getline(list, item, ',');) {
          if (!item.empty()) step.expect_alerts.push_back(item);
        }
      }
      script.steps.push_back(std::move(step));
    } else {
      return fail("unknown command \"" + cmd + "\"");
    }
  }
  if (!have_date)
    return Status::InvalidArgument("line 1: the script must start with `date YYYY-MM-DD`");
  return script;
}

DayResult ReplayDay(const DayScript& script) {
  DayResult result;
  for (const auto& [key, child] : script.children) result.days[key] = ChildDay{.date = script.date};
  for (const DayScript::Step& step : script.steps) {
    if (step.kind == DayScript::Step::Kind::kClosing) {
      std::vector<Alert> alerts;
      std::vector<std::string> got;
      for (auto& [key, day] : result.days) {
        const auto& child = script.children.at(key);
        for (Alert& a : CheckClosing(script.rules, FacilityId{1}, child.id, day, step.closing_at)) {
          got.push_back(std::string(AlertKindName(a.kind)) + ":" + key);
          alerts.push_back(a);
        }
      }
      if (got != step.expect_alerts && !(step.expect_alerts.empty() && got.empty())) {
        std::string g, e;
        for (auto& s : got) g += (g.empty() ? "" : ",") + s;
        for (auto& s : step.expect_alerts) e += (e.empty() ? "" : ",") + s;
        result.mismatches.push_back("line " + std::to_string(step.line) + ": expected alerts [" +
                                    e + "], got [" + g + "]");
      }
      result.closings.emplace_back(&step, std::move(alerts));
      continue;
    }
    auto it = script.children.find(step.who);
    std::optional<CardInfo> card;
    ChildSchedule schedule;
    ChildDay day;
    if (it != script.children.end()) {
      card = CardInfo{it->second.id, it->second.card};
      schedule = it->second.schedule;
      day = result.days[step.who];
    }
    Judgement j = Judge(script.rules, step.tap, card, schedule, std::move(day));
    if (it != script.children.end()) result.days[step.who] = std::move(j.day);
    if (step.expect && *step.expect != j.decision.reason) {
      result.mismatches.push_back("line " + std::to_string(step.line) + ": expected " +
                                  std::string(ReasonName(*step.expect)) + ", got " +
                                  std::string(ReasonName(j.decision.reason)));
    }
    result.taps.push_back({&step, std::move(j.decision)});
  }
  return result;
}

}  // namespace anshin
