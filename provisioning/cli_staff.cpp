// anshin-admin staff add|disable|enable|passwd|list: console accounts (services/staff.hpp,
// docs/console.md). A password is read from stdin, never from the command line (where other
// users and the shell history would see it): one line from a pipe, or typed twice without echo
// on a terminal.
#include <termios.h>
#include <unistd.h>

#include <iostream>
#include <map>

#include "provisioning/cli.hpp"
#include "services/staff.hpp"

namespace anshin::admin {
namespace {

struct StaffOptions {
  std::string name, role, facility, email, format;
};

// One line of stdin, echo off while it is typed on a terminal.
std::string ReadSecretLine(std::ostream& err, const char* prompt, bool tty) {
  termios saved{};
  if (tty) {
    err << prompt << std::flush;
    tcgetattr(STDIN_FILENO, &saved);
    termios quiet = saved;
    quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
    tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
  }
  std::string line;
  if (!std::getline(std::cin, line)) line.clear();
  if (tty) {
    tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved);
    err << "\n";
  }
  if (!line.empty() && line.back() == '\r') line.pop_back();
  return line;
}

Result<std::string> ReadPassword(std::ostream& err) {
  const bool tty = ::isatty(STDIN_FILENO) == 1;
  std::string first = ReadSecretLine(err, "password: ", tty);
  if (first.empty()) return Status::InvalidArgument("password: none given on stdin");
  if (tty && ReadSecretLine(err, "again: ", tty) != first)
    return Status::InvalidArgument("password: the two entries differ");
  return first;
}

}  // namespace

void AddStaffCommands(Cli& cli) {
  auto& o = cli.Keep<StaffOptions>();
  auto* staff = cli.app().add_subcommand("staff", "console accounts (password from stdin)");
  staff->require_subcommand(1);

  auto* add = staff->add_subcommand("add", "create a console account; its password from stdin");
  add->add_option("--name", o.name, "login name")->required();
  add->add_option("--role", o.role, "facility, callcenter, operator, admin or auditor")
      ->required()
      ->check(CLI::IsMember({"facility", "callcenter", "operator", "admin", "auditor"}));
  add->add_option("--facility", o.facility, "the facility role's facility (code)");
  add->add_option("--email", o.email, "where this person's alert mails go");
  add->callback([&cli, &o] {
    auto role = store::kStaffRoleNames.Parse(o.role);
    if (!role.ok()) return cli.Run(role.status());
    auto admin = cli.Open();
    if (!admin.ok()) return cli.Run(admin.status());
    auto password = ReadPassword(cli.err());
    if (!password.ok()) return cli.Run(password.status());
    SystemClock clock;
    services::StaffAccounts accounts((*admin)->store(), clock);
    auto id = accounts.Add({o.name, *role, o.facility, o.email}, *password, (*admin)->Who());
    if (!id.ok()) return cli.Run(id.status());
    cli.out() << "staff " << o.name << " added (id " << id->value << ", role " << o.role << ")\n";
  });

  for (auto [verb, help] : {std::pair{"disable", "disable an account and end its sessions"},
                            std::pair{"enable", "re-enable a disabled account"}}) {
    auto* cmd = staff->add_subcommand(verb, help);
    cmd->add_option("--name", o.name, "login name")->required();
    cmd->callback([&cli, &o, verb = std::string(verb)] {
      auto admin = cli.Open();
      if (!admin.ok()) return cli.Run(admin.status());
      SystemClock clock;
      services::StaffAccounts accounts((*admin)->store(), clock);
      cli.Run(verb == "disable" ? accounts.Disable(o.name, (*admin)->Who())
                                : accounts.Enable(o.name, (*admin)->Who()));
      if (cli.ok()) cli.out() << "staff " << o.name << ": " << verb << "d\n";
    });
  }

  auto* passwd = staff->add_subcommand(
      "passwd", "set an account's password from stdin (clears a lock-out, ends its sessions)");
  passwd->add_option("--name", o.name, "login name")->required();
  passwd->callback([&cli, &o] {
    auto admin = cli.Open();
    if (!admin.ok()) return cli.Run(admin.status());
    auto password = ReadPassword(cli.err());
    if (!password.ok()) return cli.Run(password.status());
    SystemClock clock;
    services::StaffAccounts accounts((*admin)->store(), clock);
    cli.Run(accounts.SetPassword(o.name, *password, (*admin)->Who()));
    if (cli.ok()) cli.out() << "staff " << o.name << ": password changed\n";
  });

  auto* list = staff->add_subcommand("list", "console accounts with role and state");
  Cli::AddFormatOption(list, o.format);
  list->callback([&cli, &o] {
    auto admin = cli.Open();
    if (!admin.ok()) return cli.Run(admin.status());
    SystemClock clock;
    services::StaffAccounts accounts((*admin)->store(), clock);
    auto rows = accounts.List();
    if (!rows.ok()) return cli.Run(rows.status());
    auto facilities = (*admin)->inquiries().Facilities();
    if (!facilities.ok()) return cli.Run(facilities.status());
    std::map<std::int64_t, std::string> codes;
    for (const auto& f : *facilities) codes[f.id.value] = f.code;
    auto zone = DeploymentZone(**admin);
    const TimePoint now = clock.Now();
    Listing l{{"name", "role", "facility", "email", "status", "locked_until", "failed_logins",
               "password_changed_at"},
              {}};
    for (const auto& s : *rows) {
      const bool locked = s.locked_until && *s.locked_until > now;
      l.Add({s.name, std::string(store::kStaffRoleNames.Name(s.role)),
             s.facility ? nlohmann::json(codes[s.facility->value]) : nlohmann::json(nullptr),
             s.email.empty() ? nlohmann::json(nullptr) : nlohmann::json(s.email),
             std::string(store::kStaffStatusNames.Name(s.status)),
             locked ? TimeCell(s.locked_until, *zone) : nlohmann::json(nullptr), s.failed_logins,
             TimeCell(s.password_changed_at, *zone)});
    }
    cli.Print(l, o.format);
  });
}

}  // namespace anshin::admin
