// anshin-admin mail list: a child's notices with their delivery state.
#include "provisioning/cli.hpp"

namespace anshin::admin {
namespace {

struct MailOptions {
  std::int64_t child = 0;
  std::string date, reason, format;
};

}  // namespace

void AddMailCommands(Cli& cli) {
  auto& o = cli.Keep<MailOptions>();
  auto* mail = cli.app().add_subcommand("mail", "notices to guardians and their delivery");
  mail->require_subcommand(1);
  auto* list = mail->add_subcommand(
      "list", "a child's notices: kind, guardian, state, attempts, the relay's last reply");
  list->add_option("--child", o.child, "child id")->required();
  list->add_option("--date", o.date, "only those queued this day (YYYY-MM-DD, facility time)");
  list->add_option("--reason", o.reason, "why you look (written to the audit log)");
  Cli::AddFormatOption(list, o.format);
  list->callback([&cli, &o] {
    auto date = ParseDateOption(o.date);
    if (!date.ok()) return cli.Run(date.status());
    auto admin = cli.Open();
    if (!admin.ok()) return cli.Run(admin.status());
    auto mails = (*admin)->inquiries().Mails(ChildId{o.child}, *date, (*admin)->Who(), o.reason);
    if (!mails.ok()) return cli.Run(mails.status());
    auto zone = DeploymentZone(**admin);
    Listing l{{"id", "kind", "guardian", "tap_at", "queued_at", "state", "attempts", "sent_at",
               "relay_reply", "last_error"},
              {}};
    for (const auto& m : *mails) {
      const auto& r = m.row;
      std::string reply = r.relay_reply;
      if (reply.empty() && !m.attempts.empty()) reply = m.attempts.back().reply;
      l.Add({r.id, std::string(store::kOutboxKindNames.Name(r.message.kind)),
             r.message.guardian.value, TimeCell(r.message.tap_at, *zone),
             TimeCell(r.message.created_at, *zone),
             std::string(store::kOutboxStateNames.Name(r.state)), r.attempts,
             TimeCell(r.sent_at, *zone), reply, r.last_error});
    }
    cli.Print(l, o.format);
  });
}

}  // namespace anshin::admin
