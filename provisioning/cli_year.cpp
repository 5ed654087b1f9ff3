// anshin-admin rollover and purge: the school year's turn and the retention of data
// (services/rollover.hpp, services/retention.hpp).
#include <filesystem>

#include "common/sys/sys.hpp"
#include "provisioning/cli.hpp"
#include "services/retention.hpp"
#include "services/rollover.hpp"

namespace anshin::admin {
namespace {

struct YearOptions {
  std::string date, facility, now;
  int leave_after_grade = 3;
  bool dry_run = false;
};

// The policy anshin-server applies: the [retention] keys of the home's server.toml, or the
// defaults when the file or the keys are absent.
Result<services::RetentionPolicy> HomeRetentionPolicy(const std::string& home) {
  services::RetentionPolicy p;
  const std::filesystem::path file = std::filesystem::path(home) / "server.toml";
  std::error_code ec;
  if (!std::filesystem::exists(file, ec)) return p;
  ANSHIN_ASSIGN_OR_RETURN(sys::Config config, sys::Config::Load(file));
  ANSHIN_ASSIGN_OR_RETURN(std::int64_t months,
                          config.Int(services::kRetentionMonthsKey, p.months, 1, 120));
  ANSHIN_ASSIGN_OR_RETURN(std::int64_t grace, config.Int(services::kRetentionGraceKey,
                                                         p.withdrawn_grace_days, 0, 3650));
  p.months = static_cast<int>(months);
  p.withdrawn_grace_days = static_cast<int>(grace);
  ANSHIN_RETURN_IF_ERROR(services::CheckRetentionPolicy(p));
  return p;
}

void RunRollover(Cli& cli, const YearOptions& o) {
  auto date = ParseDateOption(o.date);
  if (!date.ok()) return cli.Run(date.status());
  auto admin = cli.Open();
  if (!admin.ok()) return cli.Run(admin.status());
  services::RolloverOptions r;
  r.date = **date;
  r.leave_after_grade = o.leave_after_grade;
  r.dry_run = o.dry_run;
  std::shared_ptr<const TimeZone> zone = DeploymentZone(**admin);
  if (!o.facility.empty()) {
    auto f = (*admin)->inquiries().FacilityByCode(o.facility);
    if (!f.ok()) return cli.Run(f.status());
    r.facility = f->id;
    auto z = (*admin)->ZoneOf(*f);
    if (!z.ok()) return cli.Run(z.status());
    zone = *z;
  }
  r.at = zone->At(r.date, LocalTime{0});
  auto counts = services::Rollover((*admin)->store(), r, (*admin)->Who());
  if (!counts.ok()) return cli.Run(counts.status());
  cli.out() << (o.dry_run ? "dry run, nothing written: " : "") << "rollover " << o.date
            << (o.facility.empty() ? "" : " of " + o.facility) << ": "
            << services::RolloverCountsText(*counts) << "\n";
}

void RunPurge(Cli& cli, const YearOptions& o) {
  auto policy = HomeRetentionPolicy(cli.home());
  if (!policy.ok()) return cli.Run(policy.status());
  auto admin = cli.Open();
  if (!admin.ok()) return cli.Run(admin.status());
  TimePoint now = (*admin)->Who().at;
  if (!o.now.empty()) {
    auto t = ParseRfc3339(o.now);
    if (!t.ok()) return cli.Run(Status::InvalidArgument("--now: " + t.status().message()));
    now = *t;
  }
  std::shared_ptr<const TimeZone> zone = DeploymentZone(**admin);
  store::Actor who = (*admin)->Who();
  auto counts = services::Purge((*admin)->store(), *policy, now, *zone, o.dry_run, who);
  if (!counts.ok()) return cli.Run(counts.status());
  const services::PurgeCutoffs cut = services::CutoffsAt(*policy, now, *zone);
  cli.out() << (o.dry_run ? "dry run, nothing written: would purge " : "purged ")
            << services::PurgeCountsText(*counts) << " (kept: since " << cut.before_date.ToString()
            << ", " << policy->months << " months; withdrawn children for "
            << policy->withdrawn_grace_days << " days)\n";
}

}  // namespace

void AddYearCommands(Cli& cli) {
  auto& o = cli.Keep<YearOptions>();
  auto* rollover = cli.app().add_subcommand(
      "rollover",
      "the new school year: grades 1-5 move up, the leaving grade is withdrawn (cards retired); "
      "once per date");
  rollover->add_option("--date", o.date, "first day of the school year (YYYY-MM-DD)")->required();
  rollover
      ->add_option("--leave-after-grade", o.leave_after_grade,
                   "children in this grade leave (default 3)")
      ->check(CLI::Range(1, 6));
  rollover->add_option("--facility", o.facility,
                       "only this facility (code), e.g. one that keeps children longer");
  rollover->add_flag("--dry-run", o.dry_run, "print the counts, change nothing");
  rollover->callback([&cli, &o] { RunRollover(cli, o); });

  auto* purge = cli.app().add_subcommand(
      "purge",
      "delete taps, visits and send history older than retention.months and the personal data "
      "of children withdrawn longer than retention.withdrawn_grace_days (server.toml)");
  purge->add_flag("--dry-run", o.dry_run, "print what would go, change nothing");
  purge->add_option("--now", o.now, "purge as at this time (RFC 3339; default now)");
  purge->callback([&cli, &o] { RunPurge(cli, o); });
}

}  // namespace anshin::admin
