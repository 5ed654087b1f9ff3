// anshin-admin audit verify|list.
#include "provisioning/cli.hpp"

namespace anshin::admin {
namespace {

struct AuditOptions {
  std::string since, format;
};

}  // namespace

void AddAuditCommands(Cli& cli) {
  auto& o = cli.Keep<AuditOptions>();
  auto* audit = cli.app().add_subcommand("audit", "the audit log");
  audit->require_subcommand(1);
  auto* verify = audit->add_subcommand("verify", "check the audit log's hash chain");
  verify->callback([&cli] {
    auto admin = cli.Open();
    if (!admin.ok()) return cli.Run(admin.status());
    cli.Run((*admin)->AuditVerify());
    if (cli.ok()) cli.out() << "audit log chain verifies\n";
  });

  auto* list = audit->add_subcommand("list", "the audit log: who did or looked at what, when");
  list->add_option("--since", o.since,
                   "from this day (YYYY-MM-DD, deployment time) or instant (RFC 3339) on");
  Cli::AddFormatOption(list, o.format);
  list->callback([&cli, &o] {
    auto admin = cli.Open();
    if (!admin.ok()) return cli.Run(admin.status());
    auto zone = DeploymentZone(**admin);
    std::optional<TimePoint> since;
    if (!o.since.empty()) {
      if (auto day = LocalDate::Parse(o.since); day.ok()) {
        since = zone->At(*day, LocalTime{0});
      } else if (auto t = ParseRfc3339(o.since); t.ok()) {
        since = *t;
      } else {
        return cli.Run(
            Status::InvalidArgument("--since: not a date (2026-12-01) nor an RFC 3339 "
                                    "time (2026-12-01T09:00:00+09:00)"));
      }
    }
    auto entries = (*admin)->inquiries().AuditLog(since);
    if (!entries.ok()) return cli.Run(entries.status());
    Listing l{{"id", "at", "actor", "action", "detail"}, {}};
    for (const auto& e : *entries) {
      l.Add({e.id, TimeCell(e.at, *zone), e.actor, e.action, e.detail});
    }
    cli.Print(l, o.format);
  });
}

}  // namespace anshin::admin
