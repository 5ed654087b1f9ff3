// anshin-admin's entry: the global options, each command family's subcommands, the exit code.
#include "provisioning/cli.hpp"

namespace anshin::admin {

nlohmann::json TimeCell(const std::optional<TimePoint>& t, const TimeZone& zone) {
  if (!t) return nullptr;
  return FormatRfc3339(*t, zone);
}

std::shared_ptr<const TimeZone> DeploymentZone(Admin& admin) {
  auto utc = std::make_shared<const TimeZone>();
  auto facilities = admin.inquiries().Facilities();
  if (!facilities.ok() || facilities->empty()) return utc;
  for (const auto& f : *facilities) {
    if (f.tz_name != facilities->front().tz_name) return utc;
  }
  auto zone = admin.ZoneOf(facilities->front());
  return zone.ok() ? *zone : utc;
}

Result<std::optional<LocalDate>> ParseDateOption(const std::string& text) {
  if (text.empty()) return std::optional<LocalDate>();
  auto d = LocalDate::Parse(text);
  if (!d.ok()) return Status::InvalidArgument("--date: " + d.status().message());
  return std::optional<LocalDate>(*d);
}

std::string TokenCell(const CardToken& token) { return services::TokenPrefix(token); }

int RunCli(int argc, const char* const* argv, std::ostream& out, std::ostream& err) {
  CLI::App app{
      "anshin-admin: provisioning of an anshin deployment (CA and certificates, facilities, "
      "agents, children, cards, guardians, application import, the call centre's look-ups, "
      "alerts, backups, the year's rollover, purge and monthly reports)"};
  app.require_subcommand(1);
  Cli cli(app, out, err);
  cli.home_option() = DefaultHome().string();
  app.add_option("--home", cli.home_option(),
                 "deployment home holding anshin.db, pki/ and card.key ($ANSHIN_HOME)")
      ->capture_default_str();

  AddInitCommands(cli);
  AddFacilityCommands(cli);
  AddAgentCommands(cli);
  AddChildCommands(cli);
  AddCardCommands(cli);
  AddGuardianCommands(cli);
  AddAuditCommands(cli);
  AddTapCommands(cli);
  AddMailCommands(cli);
  AddAlertCommands(cli);
  AddImportCommands(cli);
  AddBackupCommands(cli);
  AddYearCommands(cli);
  AddReportCommands(cli);
  AddStaffCommands(cli);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e, out, err);
  }
  if (!cli.ok()) {
    err << "anshin-admin: " << cli.status().ToString() << "\n";
    return cli.status().code() == Status::Code::kInvalidArgument ? 2 : 1;
  }
  return 0;
}

}  // namespace anshin::admin
