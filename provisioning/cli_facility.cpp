// anshin-admin facility add|list|set.
#include "provisioning/cli.hpp"

namespace anshin::admin {
namespace {

struct FacilityOptions {
  std::string code;
  FacilitySettings settings;
  std::string from, to, expected_by;
  bool closed = false, ordinary = false;
};

void AddFacilityFlags(CLI::App* cmd, FacilitySettings& s) {
  auto opt = [&](const char* flag, std::optional<std::string>& target, const char* help) {
    cmd->add_option_function<std::string>(
        flag, [&target](const std::string& v) { target = v; }, help);
  };
  opt("--name", s.name, "display name used in mails");
  opt("--tz", s.tz, "time zone (default Asia/Tokyo)");
  opt("--departure-from", s.departure_from,
      "a tap with no open visit from this time is a departure (16:30)");
  opt("--departure-margin", s.departure_margin, "margin before a child's expected departure (30m)");
  opt("--double-tap-window", s.double_tap_window,
      "taps this close to the last one are duplicates (120s)");
  opt("--closing-time", s.closing_time, "closing time (19:00)");
  opt("--closing-grace", s.closing_grace, "no-departure alerts this long after closing (15m)");
  opt("--late-after", s.late_after, "mails for taps received this late say so (5m)");
  opt("--opens", s.opens, "opening time on school days (13:00), for silence monitoring");
  opt("--expected-arrival-by", s.expected_arrival_by,
      "children expected that day and not arrived by this time raise not_arrived (16:00; "
      "\"none\": not used)");
  opt("--notify-not-arrived", s.notify_not_arrived,
      "on: a child not arrived by the expected time is also mailed to the guardians (the ward's "
      "decision; needs --expected-arrival-by); off (the default): the facility only");
}

}  // namespace

void AddFacilityCommands(Cli& cli) {
  auto& o = cli.Keep<FacilityOptions>();
  auto* facility = cli.app().add_subcommand("facility", "facilities and their engine parameters");
  facility->require_subcommand(1);

  auto* add = facility->add_subcommand("add", "add a facility");
  add->add_option("--code", o.code, "short unique code")->required();
  AddFacilityFlags(add, o.settings);
  add->callback([&cli, &o] {
    auto admin = cli.Open();
    if (!admin.ok()) return cli.Run(admin.status());
    auto id = (*admin)->FacilityAdd(o.code, o.settings);
    if (!id.ok()) return cli.Run(id.status());
    cli.out() << id->value << "\n";
  });

  auto* list = facility->add_subcommand("list", "list facilities");
  list->callback([&cli] {
    auto admin = cli.Open();
    if (!admin.ok()) return cli.Run(admin.status());
    auto facilities = (*admin)->FacilityList();
    if (!facilities.ok()) return cli.Run(facilities.status());
    auto& out = cli.out();
    out << "id\tcode\tname\ttz\tdeparture_from\tdeparture_margin\tdouble_tap_window\tclosing_"
           "time\tclosing_grace"
           "\tlate_after\topens\texpected_arrival_by\tnotify_not_arrived\n";
    for (const auto& f : *facilities) {
      out << f.id.value << '\t' << f.code << '\t' << f.name << '\t' << f.tz_name << '\t'
          << f.rules.departure_from.ToString() << '\t' << f.rules.departure_margin.count() << "m\t"
          << f.rules.double_tap_window.count() << "s\t" << f.rules.closing_time.ToString() << '\t'
          << f.rules.closing_grace.count() << "m\t" << f.rules.late_after.count() << "s\t"
          << f.opens.ToString() << '\t'
          << (f.expected_arrival_by ? f.expected_arrival_by->ToString() : std::string("none"))
          << '\t' << (f.notify_not_arrived ? "on" : "off") << '\n';
    }
  });

  auto* set = facility->add_subcommand("set", "change a facility's name or engine parameters");
  set->add_option("code", o.code, "facility code")->required();
  AddFacilityFlags(set, o.settings);
  set->callback([&cli, &o] {
    auto admin = cli.Open();
    if (!admin.ok()) return cli.Run(admin.status());
    cli.Run((*admin)->FacilitySet(o.code, o.settings));
    if (cli.ok()) cli.out() << "facility " << o.code << " updated\n";
  });

  auto* calendar = facility->add_subcommand(
      "calendar", "mark days closed, or give them their own expected-arrival time (holidays)");
  calendar->add_option("code", o.code, "facility code")->required();
  calendar->add_option("--date", o.from, "the day (YYYY-MM-DD), or the first of a range")
      ->required();
  calendar->add_option("--to", o.to, "the last day of the range (YYYY-MM-DD)");
  auto* closed = calendar->add_flag("--closed", o.closed, "closed: no one is expected");
  auto* by = calendar->add_option("--expected-arrival-by", o.expected_by,
                                  "expected by this time those days (HH:MM)");
  auto* ordinary =
      calendar->add_flag("--ordinary", o.ordinary, "back to an ordinary day of the facility");
  closed->excludes(by)->excludes(ordinary);
  by->excludes(ordinary);
  calendar->callback([&cli, &o] {
    auto from = LocalDate::Parse(o.from);
    if (!from.ok()) return cli.Run(Status::InvalidArgument("--date: " + from.status().message()));
    auto to = o.to.empty() ? from : LocalDate::Parse(o.to);
    if (!to.ok()) return cli.Run(Status::InvalidArgument("--to: " + to.status().message()));
    std::optional<LocalTime> expected;
    if (!o.expected_by.empty()) {
      auto t = LocalTime::Parse(o.expected_by);
      if (!t.ok())
        return cli.Run(Status::InvalidArgument("--expected-arrival-by: " + t.status().message()));
      expected = *t;
    }
    if (!o.closed && !expected && !o.ordinary) {
      return cli.Run(
          Status::InvalidArgument("give --closed, --expected-arrival-by HH:MM or --ordinary"));
    }
    auto admin = cli.Open();
    if (!admin.ok()) return cli.Run(admin.status());
    cli.Run((*admin)->FacilityCalendar(o.code, *from, *to, o.closed, expected));
    if (!cli.ok()) return;
    cli.out() << "facility " << o.code << ": " << o.from << (o.to.empty() ? "" : " to " + o.to)
              << (o.closed   ? " closed"
                  : expected ? " expected by " + o.expected_by
                             : " ordinary")
              << "\n";
  });
}

}  // namespace anshin::admin
