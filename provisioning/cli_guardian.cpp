// anshin-admin guardian add|verify|list.
#include "provisioning/cli.hpp"

namespace anshin::admin {
namespace {

struct GuardianCliOptions {
  GuardianOptions add;
  std::int64_t child = 0, guardian = 0;
  bool no_arrival = false, no_departure = false;
  std::string code, reason, format;
  bool reveal = false;
};

}  // namespace

void AddGuardianCommands(Cli& cli) {
  auto& o = cli.Keep<GuardianCliOptions>();
  auto* guardian = cli.app().add_subcommand("guardian", "guardians' mail addresses");
  guardian->require_subcommand(1);

  auto* add =
      guardian->add_subcommand("add", "add an unverified address and queue its verification mail");
  add->add_option("--child", o.child, "child id")->required();
  add->add_option("--email", o.add.email, "mail address")->required();
  add->add_flag("--no-arrival", o.no_arrival, "no arrival mails");
  add->add_flag("--no-departure", o.no_departure, "no departure mails");
  add->add_flag("--iso-2022-jp", o.add.iso_2022_jp, "ISO-2022-JP mails for old handsets");
  add->add_option("--format", o.format, "text (the default) or id (the bare id, for scripts)")
      ->check(CLI::IsMember({"text", "id"}));
  add->callback([&cli, &o] {
    o.add.child = ChildId{o.child};
    o.add.arrival = !o.no_arrival;
    o.add.departure = !o.no_departure;
    auto admin = cli.Open();
    if (!admin.ok()) return cli.Run(admin.status());
    auto t = (*admin)->GuardianAdd(o.add);
    if (!t.ok()) return cli.Run(t.status());
    if (o.format == "id") {
      cli.out() << t->guardian.value << "\n";
    } else {
      cli.out() << "guardian " << t->guardian.value << " added to child " << o.child
                << ", not verified yet: verification mail " << t->outbox_id << " queued\n";
    }
  });

  auto* verify = guardian->add_subcommand(
      "verify", "enter the code the guardian read from the verification mail");
  verify->add_option("--guardian", o.guardian, "guardian id")->required();
  verify->add_option("--code", o.code, "the 6-digit code")->required();
  verify->callback([&cli, &o] {
    auto admin = cli.Open();
    if (!admin.ok()) return cli.Run(admin.status());
    cli.Run((*admin)->GuardianVerify(GuardianId{o.guardian}, o.code));
    if (cli.ok()) cli.out() << "guardian " << o.guardian << " verified\n";
  });

  auto* list = guardian->add_subcommand(
      "list", "a child's guardians, addresses masked unless --reveal (audited)");
  list->add_option("--child", o.child, "child id")->required();
  list->add_flag("--reveal", o.reveal, "show the addresses in clear (needs --reason)");
  list->add_option("--reason", o.reason, "why (written to the audit log)");
  Cli::AddFormatOption(list, o.format);
  list->callback([&cli, &o] {
    auto admin = cli.Open();
    if (!admin.ok()) return cli.Run(admin.status());
    auto shown =
        (*admin)->inquiries().Guardians(ChildId{o.child}, o.reveal, (*admin)->Who(), o.reason);
    if (!shown.ok()) return cli.Run(shown.status());
    Listing l{{"id", "email", "verified", "arrival", "departure", "charset", "bouncing"}, {}};
    for (const auto& s : *shown) {
      const auto& g = s.guardian;
      l.Add({g.id.value, g.email, g.verified, g.wants_arrival, g.wants_departure,
             std::string(store::kCharsetNames.Name(g.charset)), g.bouncing});
    }
    cli.Print(l, o.format);
  });
}

}  // namespace anshin::admin
