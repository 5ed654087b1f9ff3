// The anshin-admin command line, one file per command family (cli_<family>.cpp). Each family
// adds its subcommands to the app through Add<Family>Commands(Cli&); the callbacks parse,
// call Admin (admin.hpp) and print. Option storage lives in Cli::Keep<T>() until parse ends.
#pragma once

#include <CLI/CLI.hpp>
#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include "common/status.hpp"
#include "provisioning/admin.hpp"
#include "provisioning/output.hpp"

namespace anshin::admin {

class Cli {
 public:
  Cli(CLI::App& app, std::ostream& out, std::ostream& err) : app_(app), out_(out), err_(err) {}

  CLI::App& app() { return app_; }
  std::ostream& out() { return out_; }
  std::ostream& err() { return err_; }
  const std::string& home() const { return home_; }
  std::string& home_option() { return home_; }

  // The command's outcome; RunCli turns it into the exit code and message.
  void Run(Status s) { status_ = std::move(s); }
  const Status& status() const { return status_; }
  bool ok() const { return status_.ok(); }

  // Opens the deployment home as the operator.
  Result<std::unique_ptr<Admin>> Open() const { return Admin::Open(home_, OperatorName()); }

  // Adds --format table|csv|json to a command that lists, storing the name in `format`.
  static void AddFormatOption(CLI::App* cmd, std::string& format) {
    cmd->add_option("--format", format, "table (aligned, the default), csv or json")
        ->check(CLI::IsMember({"table", "csv", "json"}));
  }
  // Writes the listing in the format named (table when empty).
  void Print(const Listing& listing, const std::string& format) {
    auto f = ParseOutputFormat(format.empty() ? "table" : format);
    if (!f.ok()) return Run(f.status());
    WriteListing(listing, *f, out_);
  }

  // Storage for a family's option values that outlives the callbacks' registration.
  template <typename T>
  T& Keep() {
    auto p = std::make_shared<T>();
    T& ref = *p;
    kept_.push_back(std::move(p));
    return ref;
  }

 private:
  CLI::App& app_;
  std::ostream& out_;
  std::ostream& err_;
  std::string home_;
  Status status_;
  std::vector<std::shared_ptr<void>> kept_;
};

void AddInitCommands(Cli& cli);
void AddFacilityCommands(Cli& cli);
void AddAgentCommands(Cli& cli);
void AddChildCommands(Cli& cli);
void AddCardCommands(Cli& cli);
void AddGuardianCommands(Cli& cli);
void AddAuditCommands(Cli& cli);
void AddTapCommands(Cli& cli);
void AddMailCommands(Cli& cli);
void AddAlertCommands(Cli& cli);

// Shared by the families' listings: a time in the facility's zone with its offset
// ("2026-12-02T15:02:11+09:00"), or null.
nlohmann::json TimeCell(const std::optional<TimePoint>& t, const TimeZone& zone);
// The zone times are shown in where no facility is at hand: the facilities' zone when they
// all share one (a ward), else UTC.
std::shared_ptr<const TimeZone> DeploymentZone(Admin& admin);
// A --date option's day (YYYY-MM-DD), nullopt when not given; InvalidArgument naming --date.
Result<std::optional<LocalDate>> ParseDateOption(const std::string& text);
// "3f2a9c1e…", the shown form of a card token.
std::string TokenCell(const CardToken& token);
void AddImportCommands(Cli& cli);
void AddBackupCommands(Cli& cli);
void AddYearCommands(Cli& cli);
void AddReportCommands(Cli& cli);
void AddStaffCommands(Cli& cli);
// card enroll (card_enroll.cpp), added under `card`.
void AddCardEnrollCommand(CLI::App* card, Cli& cli);

}  // namespace anshin::admin
