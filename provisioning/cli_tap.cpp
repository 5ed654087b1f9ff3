// anshin-admin tap list: a child's taps with the engine's decisions.
#include "provisioning/cli.hpp"

namespace anshin::admin {
namespace {

struct TapOptions {
  std::int64_t child = 0;
  std::string date, reason, format;
};

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
}

}  // namespace anshin::admin
