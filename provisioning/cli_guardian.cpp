// anshin-admin guardian add|verify|list|update|prefs|remove|resend-verification.
#include "provisioning/cli.hpp"

namespace anshin::admin {
namespace {

struct GuardianCliOptions {
  GuardianOptions add;
  std::int64_t child = 0, guardian = 0;
  bool no_arrival = false, no_departure = false;
  std::string code, reason, format;
  bool reveal = false;
  std::optional<std::string> email, arrival, departure, iso_2022_jp;  // update / prefs
};

std::optional<bool> OnOff(const std::optional<std::string>& v) {
  if (!v) return std::nullopt;
  return *v == "on";
}

void AddOnOff(CLI::App* cmd, const char* name, std::optional<std::string>& v, const char* what) {
  cmd->add_option(name, v, what)->check(CLI::IsMember({"on", "off"}));
}

// "email, arrival" or "nothing changed".
std::string ChangedInWords(const services::GuardianUpdate& u) {
  std::string out;
  for (const std::string& f : u.changed) out += (out.empty() ? "" : ", ") + f;
  return out;
}

void PrintUpdate(Cli& cli, std::int64_t id, const services::GuardianUpdate& u) {
  if (u.changed.empty()) {
    cli.out() << "guardian " << id << " unchanged (the values given are already set)\n";
    return;
  }
  cli.out() << "guardian " << id << " updated: " << ChangedInWords(u) << "\n";
  if (u.verification) {
    cli.out() << "  the new address is not verified yet: verification mail "
              << u.verification->outbox_id << " queued\n";
  }
  if (u.dropped_mails > 0) {
    cli.out() << "  " << u.dropped_mails << " queued mail(s) for the old address dropped\n";
  }
}

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

  auto* update = guardian->add_subcommand(
      "update", "change an address (it starts unverified again), choices or charset");
  update->add_option("--guardian", o.guardian, "guardian id")->required();
  update->add_option("--email", o.email, "the new mail address");
  AddOnOff(update, "--arrival", o.arrival, "arrival mails: on or off");
  AddOnOff(update, "--departure", o.departure, "departure mails: on or off");
  AddOnOff(update, "--iso-2022-jp", o.iso_2022_jp, "ISO-2022-JP mails for old handsets: on or off");
  update->callback([&cli, &o] {
    services::GuardianChange change;
    change.email = o.email;
    change.arrival = OnOff(o.arrival);
    change.departure = OnOff(o.departure);
    if (auto jis = OnOff(o.iso_2022_jp))
      change.charset = *jis ? store::Charset::kIso2022Jp : store::Charset::kUtf8;
    if (!change.email && !change.arrival && !change.departure && !change.charset) {
      return cli.Run(Status::InvalidArgument(
          "nothing to change: give --email, --arrival, --departure or --iso-2022-jp"));
    }
    auto admin = cli.Open();
    if (!admin.ok()) return cli.Run(admin.status());
    auto u = (*admin)->guardians().Update(GuardianId{o.guardian}, change, (*admin)->Who());
    if (!u.ok()) return cli.Run(u.status());
    PrintUpdate(cli, o.guardian, *u);
  });

  auto* prefs = guardian->add_subcommand("prefs", "which notices a guardian receives");
  prefs->add_option("--guardian", o.guardian, "guardian id")->required();
  AddOnOff(prefs, "--arrival", o.arrival, "arrival mails: on or off");
  AddOnOff(prefs, "--departure", o.departure, "departure mails: on or off");
  prefs->callback([&cli, &o] {
    services::GuardianChange change;
    change.arrival = OnOff(o.arrival);
    change.departure = OnOff(o.departure);
    if (!change.arrival && !change.departure)
      return cli.Run(Status::InvalidArgument("give --arrival on|off and/or --departure on|off"));
    auto admin = cli.Open();
    if (!admin.ok()) return cli.Run(admin.status());
    auto u = (*admin)->guardians().Update(GuardianId{o.guardian}, change, (*admin)->Who());
    if (!u.ok()) return cli.Run(u.status());
    PrintUpdate(cli, o.guardian, *u);
  });

  auto* remove = guardian->add_subcommand(
      "remove", "remove a guardian: the address is erased and gets no more mail");
  remove->add_option("--guardian", o.guardian, "guardian id")->required();
  remove->callback([&cli, &o] {
    auto admin = cli.Open();
    if (!admin.ok()) return cli.Run(admin.status());
    auto dropped = (*admin)->guardians().Remove(GuardianId{o.guardian}, (*admin)->Who());
    if (!dropped.ok()) return cli.Run(dropped.status());
    cli.out() << "guardian " << o.guardian << " removed: the address is erased";
    if (*dropped > 0) cli.out() << ", " << *dropped << " queued mail(s) dropped";
    cli.out() << "\n";
  });

  auto* resend = guardian->add_subcommand(
      "resend-verification", "send a new verification code and link (the old ones stop working)");
  resend->add_option("--guardian", o.guardian, "guardian id")->required();
  resend->callback([&cli, &o] {
    auto admin = cli.Open();
    if (!admin.ok()) return cli.Run(admin.status());
    auto t = (*admin)->guardians().ResendVerification(GuardianId{o.guardian}, (*admin)->Who());
    if (!t.ok()) return cli.Run(t.status());
    cli.out() << "guardian " << o.guardian << ": verification mail " << t->outbox_id
              << " queued (the earlier code and link no longer work)\n";
  });
}

}  // namespace anshin::admin
