// anshin-admin tap list: a child's taps with the engine's decisions; explain: a child's day
// re-derived with the engine, each rule in words.
#include <cstdio>

#include "provisioning/cli.hpp"

namespace anshin::admin {
namespace {

struct TapOptions {
  std::int64_t child = 0;
  std::string date, reason, format;
};

// "15:02:07" in the zone.
std::string ClockTime(TimePoint t, const TimeZone& zone) {
  const int s = zone.ToLocal(t).time.seconds;
  char buf[16];
  std::snprintf(buf, sizeof buf, "%02d:%02d:%02d", s / 3600, s / 60 % 60, s % 60);
  return buf;
}

std::string NoticeCell(const Decision& d) {
  return d.notice ? std::string(NoticeKindName(d.notice->kind)) : std::string();
}

// The explanation as a person reads it: per facility, the threshold, each tap with its rule,
// and what the closing check finds.
void PrintExplanation(std::ostream& out, const services::DayExplanation& x, const TimeZone& zone) {
  out << "child " << x.child.id.value << " (" << x.child.name << "), " << x.date.ToString();
  if (x.facilities.empty()) {
    out << ": no taps that day\n";
    return;
  }
  out << "\n";
  for (const auto& fd : x.facilities) {
    out << "\nat " << fd.facility.name << " (" << fd.facility.code << "); departure threshold "
        << zone.ToLocal(fd.departure_threshold).time.ToString() << "\n";
    for (const auto& e : fd.taps) {
      out << "  " << ClockTime(e.decision.tap_time, zone) << "  " << ReasonName(e.decision.reason)
          << (e.decision.notice ? ", mailed" : "") << " — " << e.why << "\n";
      if (!e.agrees()) {
        out << "      stored then as " << ReasonName(e.tap.reason)
            << ": the child's schedule, the facility's rules or the card changed since\n";
      }
    }
    if (fd.closing.empty()) {
      out << "  closing check: no visit left open\n";
    } else {
      out << "  closing check at "
          << zone.ToLocal(ClosingCheckDue(fd.facility.rules, x.date)).time.ToString()
          << ": a visit is still open: \"no departure\" alert for staff\n";
    }
  }
}

}  // namespace

void AddTapCommands(Cli& cli) {
  auto& o = cli.Keep<TapOptions>();
  auto* tap = cli.app().add_subcommand("tap", "taps and the engine's decisions");
  tap->require_subcommand(1);
  auto* list = tap->add_subcommand("list", "a child's taps, with decision, reason, late, reader");
  list->add_option("--child", o.child, "child id")->required();
  list->add_option("--date", o.date, "only this day (YYYY-MM-DD, the facility's time)");
  list->add_option("--reason", o.reason, "why you look (written to the audit log)");
  Cli::AddFormatOption(list, o.format);
  list->callback([&cli, &o] {
    auto date = ParseDateOption(o.date);
    if (!date.ok()) return cli.Run(date.status());
    auto admin = cli.Open();
    if (!admin.ok()) return cli.Run(admin.status());
    auto taps = (*admin)->inquiries().Taps(ChildId{o.child}, *date, (*admin)->Who(), o.reason);
    if (!taps.ok()) return cli.Run(taps.status());
    auto zone = DeploymentZone(**admin);
    Listing l{{"at", "reason", "decision", "late", "reader", "direction", "card", "agent", "seq",
               "received_at"},
              {}};
    for (const auto& t : *taps) {
      l.Add({TimeCell(t.corrected_at, *zone), std::string(ReasonName(t.reason)),
             std::string(services::ReasonInWords(t.reason)), t.late, t.reader,
             std::string(DirectionName(t.direction)), TokenCell(t.card), t.agent.value, t.seq,
             TimeCell(t.received_at, *zone)});
    }
    cli.Print(l, o.format);
  });

  auto* explain = cli.app().add_subcommand(
      "explain", "why each tap of a child's day was judged as it was (re-derived, in words)");
  explain->add_option("--child", o.child, "child id")->required();
  explain->add_option("--date", o.date, "the day (YYYY-MM-DD, the facility's time)")->required();
  explain->add_option("--reason", o.reason, "why you look (written to the audit log)");
  Cli::AddFormatOption(explain, o.format);
  explain->callback([&cli, &o] {
    auto date = ParseDateOption(o.date);
    if (!date.ok()) return cli.Run(date.status());
    auto admin = cli.Open();
    if (!admin.ok()) return cli.Run(admin.status());
    auto x = (*admin)->inquiries().Explain(ChildId{o.child}, **date, (*admin)->Who(), o.reason);
    if (!x.ok()) return cli.Run(x.status());
    auto zone = DeploymentZone(**admin);
    if (o.format.empty() || o.format == "table") return PrintExplanation(cli.out(), *x, *zone);
    Listing l{{"facility", "at", "reason", "mailed", "late", "why", "stored_reason", "agrees",
               "reader", "agent", "seq"},
              {}};
    for (const auto& fd : x->facilities) {
      for (const auto& e : fd.taps) {
        l.Add({fd.facility.code, TimeCell(e.decision.tap_time, *zone),
               std::string(ReasonName(e.decision.reason)), NoticeCell(e.decision), e.decision.late,
               e.why, std::string(ReasonName(e.tap.reason)), e.agrees(), e.tap.reader,
               e.tap.agent.value, e.tap.seq});
      }
    }
    cli.Print(l, o.format);
  });
}

}  // namespace anshin::admin
